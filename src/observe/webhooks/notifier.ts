// Makes the outbox rows of an event: one per endpoint subscribed to its type, none (undefined) when nobody listens.
import { createHash, randomBytes } from 'node:crypto';
import type { OperationEvents, OutboxRow } from '../../storage/outbox.js';
import type { WebhookEvent, WebhooksConfig } from './config.js';

/** Event ids: a random prefix per process (72 bits) and a counter, unique without a syscall per event. */
const ID_PREFIX = `evt_${randomBytes(9).toString('base64url').replace(/-/g, 'x').replace(/_/g, 'y')}`;
let counter = 0;
export const newEventId = (): string => `${ID_PREFIX}${(counter++).toString(36)}`;

/** The id of an event that must exist once per `parts` (a cap reached in one period): the same parts, the same id. */
export const onceEventId = (...parts: string[]): string => `evt_${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 24)}`;

export class Notifier {
  /** Endpoint names by event type: what a row is made for. */
  private readonly byType = new Map<string, string[]>();

  constructor(readonly config: WebhooksConfig | undefined) {
    for (const e of config?.endpoints ?? []) {
      for (const type of e.events) this.byType.set(type, [...(this.byType.get(type) ?? []), e.name]);
    }
  }

  /** True when some endpoint receives `type`. */
  wants(type: WebhookEvent): boolean {
    return this.byType.has(type);
  }

  /** The rows of one event (data: its JSON object), or undefined when no endpoint receives its type. */
  rows(type: WebhookEvent, data: Record<string, unknown>, eventId: string = newEventId()): OutboxRow[] | undefined {
    const endpoints = this.byType.get(type);
    if (!endpoints) return undefined;
    const text = JSON.stringify(data);
    return endpoints.map((endpoint) => ({ id: `${eventId}.${endpoint}`, eventId, endpoint, type, data: text }));
  }

  /** `events.done` of an operation whose effect is the event, or undefined. */
  done(type: WebhookEvent, data: Record<string, unknown>): OperationEvents | undefined {
    const rows = this.rows(type, data);
    return rows && { done: rows };
  }
}
