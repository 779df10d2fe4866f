// Helpers of the memory tests: a fresh API key per test, and short calls to the memory endpoints.
import { expect } from 'vitest';
import { ADMIN_TOKEN, call, type Mounted } from '../support/mounts.js';

export async function newKey(m: Mounted): Promise<string> {
  const r = await call(`${m.url}/admin/keys`, { key: ADMIN_TOKEN, body: {} });
  expect(r.status).toBe(201);
  return r.body.api_key as string;
}

type Call = Awaited<ReturnType<typeof call>>;

/** The memory endpoints of one mount, called with one API key. */
export function client(m: Mounted, key: string) {
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();
  return {
    store: (body: object, headers?: Record<string, string>): Promise<Call> => call(`${m.url}/memory/store`, { key, body, headers }),
    retrieve: (userId: string, k: string, headers?: Record<string, string>, extra: Record<string, string> = {}): Promise<Call> =>
      call(`${m.url}/memory/retrieve?${q({ user_id: userId, key: k, ...extra })}`, { key, headers }),
    append: (body: object, headers?: Record<string, string>): Promise<Call> => call(`${m.url}/memory/append`, { key, body, headers }),
    merge: (body: object, headers?: Record<string, string>): Promise<Call> => call(`${m.url}/memory/patch`, { key, body, headers, method: 'PATCH' }),
    patch: (body: object, headers?: Record<string, string>): Promise<Call> => call(`${m.url}/memory/patch`, { key, body, headers }),
    history: (userId: string, k: string, extra: Record<string, string> = {}): Promise<Call> =>
      call(`${m.url}/memory/history?${q({ user_id: userId, key: k, ...extra })}`, { key }),
    restore: (body: object, headers?: Record<string, string>): Promise<Call> => call(`${m.url}/memory/restore`, { key, body, headers }),
    remove: (userId: string, k: string, headers?: Record<string, string>): Promise<Call> =>
      call(`${m.url}/memory/delete?${q({ user_id: userId, key: k })}`, { key, headers, method: 'DELETE' }),
    erase: (userId: string): Promise<Call> => call(`${m.url}/memory/user?${q({ user_id: userId })}`, { key, method: 'DELETE' }),
    list: (userId: string): Promise<Call> => call(`${m.url}/memory/list?${q({ user_id: userId })}`, { key }),
    exportText: async (userId: string): Promise<{ status: number; type: string | null; text: string }> => {
      const res = await fetch(`${m.url}/memory/export?${q({ user_id: userId })}`, { headers: { authorization: `Bearer ${key}` } });
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    },
    importText: (userId: string, ndjson: string, type = 'application/x-ndjson', extra: Record<string, string> = {}): Promise<Call> =>
      call(`${m.url}/memory/import?${q({ user_id: userId, ...extra })}`, { key, raw: ndjson, headers: { 'content-type': type } }),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Keys no URL, Redis key or SQL row should mangle. */
export const ODD_KEYS = ['plain', 'with space', 'slash/and\\back', 'percent%41{tag}:colon', 'quote"\'', 'émoji 🧠', '日本語', '~0~1', '-'];
