// The MCP door over HTTP: POST <mount>/mcp (Streamable HTTP, stateless, JSON answers); each tool call runs its route through the core.
import { z } from 'zod';
import { AipaygentError, invalid, unauthorized } from '../errors.js';
import { presentedToken } from '../http/core.js';
import { ok } from '../http/openapi-schemas.js';
import { json } from '../http/respond.js';
import { route, type Route } from '../http/route.js';
import type { CoreRequest } from '../http/types.js';
import type { KeyService } from '../keys/key-service.js';
import { routeRequest, toolResult, type Invoke, type McpCall } from './call.js';
import type { McpConfig } from './options.js';
import { memoryResources } from './resources.js';
import type { McpDoor, McpEngine } from './sdk-server.js';
import type { Tool } from './tools.js';

type Json = Record<string, any>;

/** Most messages one POST may carry (a JSON-RPC batch, as protocol 2025-03-26 allows). */
const MAX_BATCH = 32;

/**
 * A tool's arguments sit 2 levels inside the JSON-RPC message; the route checks them against the depth
 * limit itself. The rest of the allowance lets a body a little too deep reach the route, whose 400 becomes
 * a tool error the model can read (a transport 400 would only make its client throw).
 */
const ENVELOPE_DEPTH = 18;

export const MCP_INSTRUCTIONS =
  'Persistent JSON memory per user, kept across conversations: store, retrieve, list, append to, patch, delete and look back at ' +
  'versions of memories by key. Each memory tool call uses one of the free calls of today, then is paid from the prepaid balance ' +
  '(credits_balance is free and tells what is left). A call that cannot be paid is a tool error whose structured content carries ' +
  "a `payment` object (price, balance, how to buy)" + '. When the connection sends an X-Aipaygent-User header, tools act for that user unless user_id is given.';

/** The door the protocol engine serves: the tool list and each call translated to its route. */
export function mcpDoor(tools: Tool[], invoke: Invoke, version: string): McpDoor {
  const byName = new Map(tools.map((t) => [t.name, t]));
  const callTool: McpDoor['callTool'] = (name, args, meta, call) => {
    const tool = byName.get(name);
    if (!tool) return undefined;
    const { req, query } = routeRequest(tool, args, meta, call);
    return invoke(tool.route, req, query).then((res) => toolResult(res, call));
  };
  return {
    name: 'aipaygent', version, instructions: MCP_INSTRUCTIONS,
    tools: tools.map((t) => t.listing),
    callTool,
    resources: memoryResources(tools, (name, args, call) => callTool(name, args, undefined, call)),
  };
}

function header(req: CoreRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/**
 * The checks of the Streamable HTTP transport before any message is read, refused in the one error shape. Accept
 * is not checked: every answer is JSON, which any MCP client accepts (it must list application/json).
 */
function transportProblem(req: CoreRequest, engine: McpEngine): AipaygentError | undefined {
  const type = header(req, 'content-type');
  if (type !== undefined && type !== 'application/json' && !JSON_TYPE.test(type)) return new AipaygentError('unsupported_media_type', 'Content-Type must be application/json (a JSON-RPC message)');
  const version = header(req, 'mcp-protocol-version');
  if (version !== undefined && !engine.protocolVersions.includes(version)) {
    return invalid(`Unsupported MCP-Protocol-Version ${version.slice(0, 40)} (supported: ${engine.protocolVersions.join(', ')})`);
  }
  return undefined;
}

export interface McpRouteDeps {
  config: McpConfig;
  /** Made once `ready` loaded the SDK (no route runs before). */
  engine(): McpEngine;
  keys: Pick<KeyService, 'authenticate'>;
  /** Whether a tool of this name exists: its call verifies the key itself, within its charge. */
  hasTool(name: string): boolean;
}

export function mcpRoutes(deps: McpRouteDeps): Route[] {
  const { keys } = deps;
  return [
    route({
      method: 'POST', path: deps.config.path, auth: 'key', metered: false, ownKeyCheck: true, envelopeDepth: ENVELOPE_DEPTH, tags: ['MCP'],
      errors: ['unsupported_media_type'],
      summary: 'The MCP endpoint (Streamable HTTP, stateless): memory tools for agents, each call metered as its HTTP route.',
      description:
        'JSON-RPC 2.0 messages of the Model Context Protocol (`initialize`, `tools/list`, `tools/call`, `ping`), answered as JSON ' +
        '(no session id: any process may answer any request; GET and DELETE are 405). Each tool runs the memory route it names, ' +
        'with the same validation, limits, free calls, debit and refunds; a call that cannot be paid is a tool result with ' +
        '`isError: true` carrying the 402 body (and, with x402, `_meta["x402/payment"]` pays it). `X-Aipaygent-User` sets the ' +
        'default `user_id` of the tool calls. A missing or invalid key is a 401 at the HTTP level.',
      body: z.unknown(),
      responses: {
        200: ok('The JSON-RPC answer (an array for a batch)', z.looseObject({ jsonrpc: z.literal('2.0') })),
        202: ok('Notifications only: accepted, no body'),
      },
      async handle({ req, body, now }) {
        const engine = deps.engine();
        const problem = transportProblem(req, engine);
        if (problem) throw problem;
        const batch = Array.isArray(body);
        const raw: unknown[] = batch ? body : [body];
        if (raw.length === 0 || raw.length > MAX_BATCH) throw invalid(`Send one JSON-RPC 2.0 message (or a batch of 1 to ${MAX_BATCH})`);
        const messages: Json[] = [];
        for (const r of raw) {
          const m = engine.parse(r);
          if (!m) throw invalid('The body is not a JSON-RPC 2.0 message (jsonrpc "2.0", method, params, id) of the Model Context Protocol');
          messages.push(m);
        }
        // A tool call verifies the key within its own charge (as its route does): no store read of its own.
        // Anything else (initialize, tools/list, ping, a notification) is verified here, once.
        const toolCallsOnly = messages.every((m) => m.method === 'tools/call' && typeof m.params?.name === 'string' && deps.hasTool(m.params.name));
        if (!toolCallsOnly && !(await keys.authenticate(presentedToken(req.headers)!, now))) throw unauthorized('Invalid or revoked API key');
        const call: McpCall = { req };
        const answers = (await Promise.all(messages.map((m) => engine.deliver(m, call)))).filter((a): a is Json => a !== undefined);
        if (call.refused) return call.refused;
        if (!answers.length) return { status: 202, headers: {}, body: null };
        return json(200, batch ? answers : answers[0]);
      },
    }),
  ];
}

