// The `mcp` option: where the MCP endpoint is served, and whether it is on (by default: when its SDK is installed).
import { createRequire } from 'node:module';

/** Where the MCP endpoint is served. */
export interface McpOptions {
  /** Path of the endpoint, relative to the mount. @default "/mcp" */
  path?: string;
}

export interface McpConfig {
  path: string;
  /** Asked for explicitly: a missing SDK fails `ready` rather than leaving the endpoint off. */
  required: boolean;
}

export const MCP_SDK = '@modelcontextprotocol/sdk';

/** Whether the MCP SDK can be loaded from here (resolved, not loaded: no cost but a file lookup, once at startup). */
export function mcpSdkInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve(`${MCP_SDK}/server/index.js`);
    return true;
  } catch {
    return false;
  }
}

/**
 * undefined (the default): on when the SDK is installed, else off (the feature line says how to turn it on);
 * true or an object: on (a missing SDK is a startup error naming it); false: off.
 */
export function parseMcp(option: boolean | McpOptions | undefined, problems: string[]): McpConfig | undefined {
  if (option === false) return undefined;
  if (option === undefined) return mcpSdkInstalled() ? { path: '/mcp', required: false } : undefined;
  if (option === true) return { path: '/mcp', required: true };
  if (typeof option !== 'object' || option === null) {
    problems.push('mcp must be true, false or { path }');
    return undefined;
  }
  const path = option.path ?? '/mcp';
  if (typeof path !== 'string' || !/^(\/[A-Za-z0-9._~-]+)+$/.test(path)) problems.push(`mcp.path must be a path such as "/mcp" (got ${JSON.stringify(path)})`);
  return { path, required: true };
}
