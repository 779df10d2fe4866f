// Admin routes of webhook deliveries (admin token): the outbox, newest first, and a retry of one delivery.
import { z } from 'zod';
import { AipaygentError, invalid } from '../../errors.js';
import type { WebhooksConfig } from '../../observe/webhooks/config.js';
import type { Store } from '../../storage/contract.js';
import { deliveryCursor, type OutboxDelivery } from '../../storage/outbox.js';
import { iso } from '../../time.js';
import { queryInt } from '../fields.js';
import { ok } from '../openapi-schemas.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';

const time = z.string().describe('ISO 8601 UTC');
const Delivery = z.object({
  id: z.string().describe('The delivery (one event to one endpoint): pass it to the retry route'),
  event_id: z.string().describe('The event: the webhook-id header of every attempt'),
  type: z.string(), account_id: z.string(), url: z.string().nullable().describe('The endpoint; null when no longer configured'),
  status: z.enum(['pending', 'delivered', 'failed']), attempts: z.number().int(),
  next_attempt_at: time.nullable().describe('When a pending delivery is tried next'), last_error: z.string().nullable(), created_at: time, updated_at: time,
});
const DeliveryList = z.object({ status: z.literal('success'), deliveries: z.array(Delivery).describe('Newest first'), next_cursor: z.string().nullable() });
const Retried = z.object({ status: z.literal('success'), delivery: Delivery });

/** A delivery's public id: its account (base64url, which has no '.') and its row id, so the store finds it in the account. */
const publicId = (d: Pick<OutboxDelivery, 'account' | 'id'>) => `${Buffer.from(d.account, 'utf8').toString('base64url')}.${d.id}`;
function parseId(id: string): { account: string; id: string } {
  const dot = id.indexOf('.');
  if (dot <= 0 || !/^[A-Za-z0-9_-]+$/.test(id.slice(0, dot))) throw new AipaygentError('not_found', `No webhook delivery "${id}"`);
  return { account: Buffer.from(id.slice(0, dot), 'base64url').toString('utf8'), id: id.slice(dot + 1) };
}

export function adminWebhookRoutes(deps: { store: Store; config: WebhooksConfig; nudge(): void }): Route[] {
  const urls = new Map(deps.config.endpoints.map((e) => [e.name, e.url.href]));
  const shown = (d: OutboxDelivery) => ({
    id: publicId(d), event_id: d.eventId, type: d.type, account_id: d.account, url: urls.get(d.endpoint) ?? null, status: d.status, attempts: d.attempts,
    next_attempt_at: d.status === 'pending' ? iso(Math.max(d.nextAt, d.leaseUntil)) : null, last_error: d.lastError, created_at: iso(d.createdAt), updated_at: iso(d.updatedAt),
  });
  const outbox = () => deps.store.outbox!;
  return [
    route({
      method: 'GET', path: '/admin/webhooks/deliveries', auth: 'admin', metered: false,
      summary: 'Webhook deliveries, newest first: pending (with their next try), delivered and failed (kept 7 days); paged with a cursor.',
      query: z.object({
        status: z.enum(['pending', 'delivered', 'failed'], { error: 'status must be pending, delivered or failed' }).optional(),
        limit: queryInt('limit', 1, 200).optional(),
        cursor: z.string().max(400, { error: 'cursor is not a cursor returned by this route' }).optional(),
      }),
      responses: { 200: ok('One page of deliveries', DeliveryList) },
      async handle({ query }) {
        let before: string | undefined;
        if (query.cursor !== undefined) {
          before = Buffer.from(query.cursor, 'base64url').toString('utf8');
          if (!/^\d+:\S+$/.test(before)) throw invalid('cursor is not a cursor returned by this route');
        }
        const limit = query.limit ?? 50;
        const page = await outbox().list({ limit, ...(query.status && { status: query.status }), ...(before !== undefined && { before }) });
        const next = page.length === limit ? Buffer.from(deliveryCursor(page.at(-1)!), 'utf8').toString('base64url') : null;
        return json(200, { status: 'success', deliveries: page.map(shown), next_cursor: next });
      },
    }),
    route({
      method: 'POST', path: '/admin/webhooks/deliveries/:delivery_id/retry', auth: 'admin', metered: false,
      summary: 'Sends a delivery again now, with its tries back (a failed one, or a pending one without waiting for its backoff).',
      responses: { 200: ok('The delivery, pending and due now', Retried) },
      errors: ['not_found'],
      async handle({ params, now }) {
        const { account, id } = parseId(params.delivery_id!);
        if (!(await outbox().retry(account, id, now))) throw new AipaygentError('not_found', `No webhook delivery "${params.delivery_id}"`);
        deps.nudge();
        const d = await outbox().get(account, id);
        return json(200, { status: 'success', delivery: shown(d!) });
      },
    }),
  ];
}
