// Admin routes (admin token): create and revoke API keys. Not served when no admin token is set.
import { z } from 'zod';
import { AipaygentError } from '../../errors.js';
import type { KeyService } from '../../keys/key-service.js';
import { isAccountId } from '../../keys/api-key.js';
import { json } from '../respond.js';
import { route, type Route } from '../route.js';

export function adminRoutes(deps: { keys: KeyService }): Route[] {
  return [
    route({
      method: 'POST', path: '/admin/keys', auth: 'admin', metered: false,
      summary: 'Create an API key, for a new account or an existing one. The key is shown only here.',
      body: z
        .object({
          account_id: z.string().refine(isAccountId, { error: 'account_id is not an account id (acct_…)' }).optional(),
          label: z.string().max(200, { error: 'label must be at most 200 characters' }).optional(),
        })
        .optional(),
      async handle({ body }) {
        return json(201, await deps.keys.create({ accountId: body?.account_id, label: body?.label }));
      },
    }),
    route({
      method: 'DELETE', path: '/admin/keys/:key_id', auth: 'admin', metered: false,
      summary: 'Revoke an API key at once.',
      async handle({ params }) {
        const keyId = params.key_id!;
        if (!(await deps.keys.revoke(keyId))) throw new AipaygentError('not_found', `No API key "${keyId}"`);
        return json(200, { status: 'success', key_id: keyId, revoked: true });
      },
    }),
  ];
}
