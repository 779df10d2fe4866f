// Memories as MCP resources (memory://<user>/<key>): listed and read through the memory_list and memory_retrieve tools' routes, metered as they are.
import type { McpCall } from './call.js';
import { USER_HEADER } from './call.js';
import type { Tool } from './tools.js';

type Json = Record<string, any>;

/** A route's error as the protocol error of a resources/* request (its body, a 402's `payment` included, as `data`). */
export class ResourceError extends Error {
  constructor(readonly code: number, message: string, readonly data: unknown) {
    super(message);
  }
}

/** -32002 is MCP's "resource not found"; a bad URI or argument is -32602; anything else a server error carrying the body. */
const codeOf = (errorCode: string | undefined) => (errorCode === 'not_found' ? -32002 : errorCode === 'invalid_request' ? -32602 : -32000);

export const TEMPLATE = { uriTemplate: 'memory://{user_id}/{key}', name: 'memory', title: 'A memory', description: "One memory of a user (its JSON value). Reading it is billed as memory_retrieve; listing, as memory_list.", mimeType: 'application/json' };

/** memory://<user_id>/<key>, each part percent-encoded (a key may hold "/"). */
export const uriOf = (userId: string, key: string) => `memory://${encodeURIComponent(userId)}/${encodeURIComponent(key)}`;

function parseUri(uri: string): { user_id: string; key: string } | undefined {
  if (!uri.startsWith('memory://')) return undefined;
  const rest = uri.slice('memory://'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return undefined;
  try {
    return { user_id: decodeURIComponent(rest.slice(0, slash)), key: decodeURIComponent(rest.slice(slash + 1)) };
  } catch {
    return undefined;
  }
}

/** Calls a tool; its structured answer, or the ResourceError of its error. */
type CallTool = (name: string, args: Json, call: McpCall) => Promise<Json> | undefined;

async function run(callTool: CallTool, name: string, args: Json, call: McpCall): Promise<Json> {
  const result = await callTool(name, args, call);
  const body = result?.structuredContent as Json | undefined;
  if (!result?.isError) return body ?? {};
  throw new ResourceError(codeOf(body?.error?.code), body?.error?.message ?? 'The call failed', body);
}

export interface McpResources {
  list(cursor: string | undefined, call: McpCall): Promise<Json>;
  read(uri: string, call: McpCall): Promise<Json>;
}

/** Resources of the connection's default user (X-Aipaygent-User): without one there is nothing to list; any memory:// URI can be read. */
export function memoryResources(tools: Tool[], callTool: CallTool): McpResources | undefined {
  if (!tools.some((t) => t.name === 'memory_list') || !tools.some((t) => t.name === 'memory_retrieve')) return undefined;
  return {
    async list(cursor, call) {
      const user = call.req.headers[USER_HEADER];
      if (typeof user !== 'string' || !user) return { resources: [] };
      const page = await run(callTool, 'memory_list', { user_id: user, ...(cursor !== undefined && { cursor }) }, call);
      return {
        resources: (page.keys as Json[]).map((k) => ({ uri: uriOf(user, k.key), name: k.key, mimeType: 'application/json', size: k.size })),
        ...(page.next_cursor && { nextCursor: page.next_cursor }),
      };
    },
    async read(uri, call) {
      const target = parseUri(uri);
      if (!target) throw new ResourceError(-32602, `Not a memory URI: ${uri.slice(0, 200)} (memory://<user_id>/<key>, each part percent-encoded)`, undefined);
      const got = await run(callTool, 'memory_retrieve', target, call);
      return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify(got.data) }] };
    },
  };
}
