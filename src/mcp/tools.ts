// The MCP tool table: each tool names the HTTP route it runs, and its schemas are derived from that route's own.
import { z } from 'zod';
import { tidy } from '../http/openapi.js';
import { ErrorBody } from '../http/openapi-schemas.js';
import type { Method, Route } from '../http/route.js';

type Json = Record<string, any>;

/** One tool as the table declares it. */
interface ToolSpec {
  name: string;
  title: string;
  /** Written for a model: what the tool does, when to use it, what it costs. */
  description: string;
  method: Method;
  path: string;
  /** Arguments sent as request headers (conditional writes), by argument name. */
  headers?: Record<string, { header: string; schema: Json }>;
  /** Argument schemas replacing the derived ones: a query string carries text, a tool argument is typed JSON. */
  typed?: Record<string, Json>;
  readOnly: boolean;
  destructive?: boolean;
  idempotent?: boolean;
}

/** A tool ready to list and call. */
export interface Tool {
  name: string;
  route: Route;
  /** Where the route takes its input: the query string or the JSON body. */
  input: 'query' | 'body';
  headers: Record<string, string>;
  /** The entry of tools/list. */
  listing: Json;
}

const etag = { type: 'string', description: 'An etag returned by an earlier call for this memory ("\\"…\\""): the write applies only if the memory still has it' };
const IF_MATCH = { if_match: { header: 'if-match', schema: etag } };
const PRICE = 'Billed like its HTTP route: one of the free calls of today, else its price from the prepaid balance.';
const USER =
  'user_id: whose memory (an end user of your app, or yourself). Optional when the connection sends an X-Aipaygent-User header: that user is the default.';

const SPECS: ToolSpec[] = [
  {
    name: 'memory_store', title: 'Store a memory', method: 'POST', path: '/memory/store', readOnly: false, idempotent: true,
    description: `Save any JSON value under a key for a user, creating or replacing it. Use it to remember facts, preferences or state across conversations. ttl_days sets when it expires. ${USER} ${PRICE}`,
    headers: { ...IF_MATCH, if_none_match: { header: 'if-none-match', schema: { type: 'string', enum: ['*'], description: '"*": create only when the key does not exist yet' } } },
  },
  {
    name: 'memory_retrieve', title: 'Retrieve a memory', method: 'GET', path: '/memory/retrieve', readOnly: true,
    description: `Read the JSON value stored under a key for a user, with its version and etag. A missing or expired key is an error (not_found). ${USER} ${PRICE}`,
    typed: { refresh_on_read: { type: 'boolean', description: "true: push the expiry forward by the memory's own TTL" } },
  },
  {
    name: 'memory_list', title: "List a user's memories", method: 'GET', path: '/memory/list', readOnly: true,
    description: `List the keys a user has (no values), in key order, optionally by prefix; pass next_cursor back as cursor for the next page. ${USER} ${PRICE}`,
    typed: { limit: { type: 'integer', minimum: 1, maximum: 1000, description: 'Keys per page (default 100)' } },
  },
  {
    name: 'memory_search', title: "Search a user's memories", method: 'POST', path: '/memory/search', readOnly: true,
    description: `Find a user's memories by what they say when you do not know the key: q is words (any may match; the more and the rarer, the better), "a quoted phrase", or prefix*. Results come best first with their values (include_data: false leaves them out). mode: lexical (words), semantic or hybrid (by meaning, when the server has an embedder; hybrid is then the default). Call it at the start of a task with the task's words to recall what you know. ${USER} ${PRICE}`,
  },
  {
    name: 'memory_append', title: 'Append to a list in a memory', method: 'POST', path: '/memory/append', readOnly: false,
    description: `Append items to an array inside a memory, atomically: concurrent appends never lose items. path is a JSON Pointer to the array ("/messages"; empty: the whole value); the memory and the array are created when absent; max_items keeps only the last N. ${USER} ${PRICE}`,
    headers: IF_MATCH,
  },
  {
    name: 'memory_patch', title: 'Merge-patch a memory', method: 'PATCH', path: '/memory/patch', readOnly: false,
    description: `Change part of a memory with a JSON Merge Patch (RFC 7396), atomically: members set to null are removed, objects merge recursively, anything else replaces. Creates the memory when absent. ${USER} ${PRICE}`,
    headers: IF_MATCH,
  },
  {
    name: 'memory_delete', title: 'Delete a memory', method: 'DELETE', path: '/memory/delete', readOnly: false, destructive: true, idempotent: true,
    description: `Delete one memory and its version history. A missing key is an error (not_found). ${USER} ${PRICE}`,
    headers: IF_MATCH,
  },
  {
    name: 'memory_history', title: "A memory's past versions", method: 'GET', path: '/memory/history', readOnly: true,
    description: `The last versions of a memory, newest first, each with the operation that made it; include_data adds each version's value. ${USER} ${PRICE}`,
    typed: { include_data: { type: 'boolean', description: "true: include each version's data" } },
  },
  {
    name: 'credits_balance', title: 'Credits and free calls left', method: 'GET', path: '/credits/balance', readOnly: true,
    description: "The account's prepaid balance and its free calls left today, with when they come back. Free: never billed.",
  },
];

const CONVERT = { target: 'draft-7', unrepresentable: 'any' } as const;

/** A zod schema as a plain JSON Schema (draft 7, which MCP clients validate with), without `$schema`. */
const jsonSchema = (schema: z.ZodType, io: 'input' | 'output'): Json => tidy(z.toJSONSchema(schema, { ...CONVERT, io }) as Json);

/** An answer may carry fields a later version adds: a client validating it must not fail on them. */
function open(schema: Json): Json {
  if (schema.additionalProperties === false) delete schema.additionalProperties;
  return schema;
}

function inputSchema(route: Route, spec: ToolSpec): Json {
  const source = route.query ?? route.body;
  const js: Json = source ? jsonSchema(source, 'input') : { type: 'object', properties: {} };
  js.properties = { ...js.properties, ...spec.typed };
  for (const [name, h] of Object.entries(spec.headers ?? {})) js.properties[name] = h.schema;
  // The connection's default user (X-Aipaygent-User) stands in for a missing user_id: the route still requires one.
  js.required = (js.required ?? []).filter((n: string) => n !== 'user_id');
  if (!js.required.length) delete js.required;
  delete js.additionalProperties;
  return js;
}

/** What the tool answers: the route's success body, or the error body every route shares (a tool error carries it too). */
function outputSchema(route: Route): Json {
  const success = route.responses?.[200]?.schema;
  const error = open(jsonSchema(ErrorBody, 'output'));
  return { type: 'object', anyOf: [success ? open(jsonSchema(success, 'output')) : { type: 'object' }, error] };
}

/**
 * The tools of the routes this server serves (a route that is off, say search without its feature, has no
 * tool). `find` looks a route up by method and path in the live table.
 */
export function buildTools(find: (method: Method, path: string) => Route | undefined): Tool[] {
  const tools: Tool[] = [];
  for (const spec of SPECS) {
    const route = find(spec.method, spec.path);
    if (!route || route.hidden) continue;
    tools.push({
      name: spec.name,
      route,
      input: route.body ? 'body' : 'query',
      headers: Object.fromEntries(Object.entries(spec.headers ?? {}).map(([arg, h]) => [arg, h.header])),
      listing: {
        name: spec.name,
        title: spec.title,
        description: spec.description,
        inputSchema: inputSchema(route, spec),
        outputSchema: outputSchema(route),
        annotations: { title: spec.title, readOnlyHint: spec.readOnly, destructiveHint: spec.destructive ?? false, idempotentHint: spec.idempotent ?? spec.readOnly, openWorldHint: false },
      },
    });
  }
  return tools;
}
