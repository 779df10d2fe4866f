// MCP test helpers: the official SDK client connected to a mount's /mcp with an API key, and a raw JSON-RPC POST.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** An SDK Client over Streamable HTTP to `<url>/mcp`, sending the key (and `headers`) on every request. */
export async function mcpClient(url: string, key: string, headers: Record<string, string> = {}): Promise<Client> {
  const client = new Client({ name: 'aipaygent-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${key}`, ...headers } } });
  await client.connect(transport);
  return client;
}

/** One JSON-RPC message POSTed as an MCP client would (Accept both types), answer parsed when JSON. */
export async function rpc(url: string, message: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; body: any; text: string }> {
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
    body: JSON.stringify(message),
  });
  const text = await res.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** The structured content of a tool result (typed loosely for assertions). */
export const sc = (r: unknown): any => (r as { structuredContent?: unknown }).structuredContent;
