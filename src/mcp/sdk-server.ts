// The MCP protocol through the official SDK's Server (loaded on demand): one long-lived server, fed by a transport that carries each HTTP request's messages.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema, ErrorCode, JSONRPCMessageSchema, ListResourcesRequestSchema, ListResourceTemplatesRequestSchema, ListToolsRequestSchema,
  McpError, ReadResourceRequestSchema, SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage, type MessageExtraInfo,
} from '@modelcontextprotocol/sdk/types.js';
import type { McpCall } from './call.js';
import { ResourceError, TEMPLATE, type McpResources } from './resources.js';

type Json = Record<string, any>;

/** What the MCP door gives the protocol engine: who it is, its tools, and how a tool is called. */
export interface McpDoor {
  name: string;
  version: string;
  instructions: string;
  /** tools/list entries. */
  tools: Json[];
  /** A tool call's result; undefined for a tool that does not exist. Never throws. */
  callTool(name: string, args: Json, meta: Json | undefined, call: McpCall): Promise<Json> | undefined;
  /** Memories as resources, when the tools they go through are served. */
  resources: McpResources | undefined;
}

/** The JSON-RPC side of the endpoint, as the HTTP door uses it (no SDK type crosses this line). */
export interface McpEngine {
  /** A JSON-RPC message, or undefined when `raw` is none. */
  parse(raw: unknown): Json | undefined;
  readonly protocolVersions: readonly string[];
  /** Delivers a client message; resolves with the answer to a request, or undefined for a notification or a response. */
  deliver(message: Json, call: McpCall): Promise<Json | undefined>;
}

/**
 * Carries the messages of many concurrent HTTP requests to one Server. Stateless: each request's id is
 * replaced by one of ours on the way in (two clients may both send id 1) and given back on the answer.
 */
class RequestTransport implements Transport {
  onmessage?: (message: JSONRPCMessage, extra?: MessageExtraInfo) => void;
  onclose?: () => void;
  onerror?: (error: Error) => void;
  private seq = 0;
  private readonly waiting = new Map<number, (answer: Json) => void>();

  async start(): Promise<void> {}
  async close(): Promise<void> {
    this.onclose?.();
  }
  async send(message: JSONRPCMessage): Promise<void> {
    // Server-initiated requests and notifications have no stream to go on (JSON answers, no session): dropped.
    const id = (message as { id?: unknown }).id;
    if (typeof id !== 'number') return;
    const done = this.waiting.get(id);
    if (done) {
      this.waiting.delete(id);
      done(message as Json);
    }
  }
  request(message: Json, extra: MessageExtraInfo): Promise<Json> {
    const own = ++this.seq;
    const theirs = message.id;
    return new Promise((resolve) => {
      this.waiting.set(own, (answer) => resolve({ ...answer, id: theirs }));
      this.onmessage!({ ...message, id: own } as JSONRPCMessage, extra);
    });
  }
  notify(message: Json, extra: MessageExtraInfo): void {
    this.onmessage!(message as JSONRPCMessage, extra);
  }
}

const callOf = (extra: { authInfo?: { extra?: Record<string, unknown> } }) => (extra.authInfo!.extra as { call: McpCall }).call;

/** A resource request's route error as the protocol error it is (its body as `data`). */
async function asProtocolError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof ResourceError) throw new McpError(error.code, error.message, error.data);
    throw error;
  }
}

export async function createEngine(door: McpDoor): Promise<McpEngine> {
  const { resources } = door;
  const capabilities = { tools: { listChanged: false }, ...(resources && { resources: { listChanged: false } }) };
  const server = new Server({ name: door.name, version: door.version }, { capabilities, instructions: door.instructions });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: door.tools }) as never);
  if (resources) {
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: [TEMPLATE] }));
    server.setRequestHandler(ListResourcesRequestSchema, (request, extra) => asProtocolError(resources.list(request.params?.cursor, callOf(extra))) as never);
    server.setRequestHandler(ReadResourceRequestSchema, (request, extra) => asProtocolError(resources.read(request.params.uri, callOf(extra))) as never);
  }
  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const { name, arguments: args, _meta } = request.params;
    const call = callOf(extra);
    const result = door.callTool(name, args ?? {}, _meta as Json | undefined, call);
    if (!result) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name} (tools/list names the tools of this server)`);
    return (await result) as never;
  });
  const transport = new RequestTransport();
  await server.connect(transport);
  /**
   * tools/call, the call agents make all day, is checked with the SDK's own schema and answered here: through the
   * Server it would pay six more schema parses (the Protocol's message type guards, the request twice, the result)
   * and an AbortController per call (bench/mcp.ts). A call that names no tool goes through the Server, which words
   * the error; one whose params fail the check is answered -32602 as the Server's tools/call wrapper words it (the
   * Server itself would let the schema's exception through as -32603, an internal error).
   */
  async function toolCall(message: Json, call: McpCall): Promise<Json | undefined> {
    const checked = CallToolRequestSchema.safeParse(message);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      const why = issue ? `${issue.path.join('.') || 'request'}: ${issue.message}` : 'malformed';
      return { jsonrpc: '2.0', id: message.id, error: { code: ErrorCode.InvalidParams, message: `Invalid tools/call request: ${why}` } };
    }
    const { name, arguments: args, _meta } = message.params as Json;
    const result = door.callTool(name, args ?? {}, _meta, call);
    return result && { jsonrpc: '2.0', id: message.id, result: await result };
  }

  return {
    protocolVersions: SUPPORTED_PROTOCOL_VERSIONS,
    parse(raw) {
      // A tools/call request (checked in full below): the JSON-RPC frame only, rather than the union of every message type.
      const m = raw as Json;
      if (m?.method === 'tools/call' && m.jsonrpc === '2.0' && (typeof m.id === 'string' || Number.isSafeInteger(m.id)) && Object.keys(m).length <= 4) return m;
      const parsed = JSONRPCMessageSchema.safeParse(raw);
      return parsed.success ? (parsed.data as Json) : undefined;
    },
    async deliver(message, call) {
      const extra: MessageExtraInfo = { authInfo: { token: '', clientId: 'aipaygent', scopes: [], extra: { call } } };
      if (message.method === 'tools/call' && 'id' in message) {
        const answered = await toolCall(message, call);
        if (answered) return answered;
      }
      if ('method' in message && 'id' in message) return transport.request(message, extra);
      // A cancellation names a request of another HTTP request (or of nobody): each request here ends with its own answer.
      if (message.method === 'notifications/cancelled') return undefined;
      if ('method' in message) transport.notify(message, extra);
      return undefined;
    },
  };
}
