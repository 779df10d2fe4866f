// Routes of features that are off on this server: a 404 naming the option that turns them on, never the host's HTML 404.
import { AipaygentError } from '../../errors.js';
import type { Config } from '../../config.js';
import { TURN_ON_USAGE } from '../../meter/usage.js';
import type { Method, Route } from '../route.js';
import { toAnthropicError } from './claude.js';

/** How an operator turns each feature on: the option, and the variable of the standalone server. */
export const TURN_ON = {
  claude: 'the claude.apiKey option (ANTHROPIC_API_KEY for the standalone server)',
  payments: 'the payments.receiver option (AIPAYGENT_RECEIVER for the standalone server)',
  x402: 'payments.x402 with a relayerKey or facilitatorUrl (AIPAYGENT_RELAYER_KEY or AIPAYGENT_FACILITATOR_URL)',
  signup: 'the signup option with payments (AIPAYGENT_SIGNUP_DOMAIN and AIPAYGENT_RECEIVER for the standalone server)',
  admin: 'the adminToken option (AIPAYGENT_ADMIN_TOKEN for the standalone server)',
  metrics: 'the adminToken or metricsToken option (AIPAYGENT_ADMIN_TOKEN or AIPAYGENT_METRICS_TOKEN)',
  search: 'the search option (it is on unless set to false)',
  mcp: 'npm install @modelcontextprotocol/sdk: on by default once installed, unless the mcp option is false',
  usage: TURN_ON_USAGE,
} as const;

const off = (method: Method, path: string, what: string, turnOn: string, anthropic = false): Route => ({
  method, path, auth: 'none', metered: false, hidden: true, summary: `${what} (off)`,
  async handle() {
    throw new AipaygentError('not_found', `${what} is not enabled on this server; its operator turns it on with ${turnOn}.`);
  },
  ...(anthropic && { renderError: toAnthropicError }),
});

/** Stand-ins, not documented (OpenAPI and /discover describe what is served), for every route of a feature that is off. */
export function offRoutes(config: Config): Route[] {
  const routes: Route[] = [];
  if (!config.claude) {
    routes.push(off('POST', '/claude/message', 'The Claude proxy', TURN_ON.claude));
    for (const [method, path] of [['POST', '/v1/messages'], ['POST', '/v1/messages/count_tokens'], ['GET', '/v1/models'], ['GET', '/v1/models/:model_id']] as const) {
      routes.push(off(method, path, 'The Claude proxy', TURN_ON.claude, true));
    }
  }
  if (!config.payments) {
    const what = 'Buying credits';
    routes.push(off('GET', '/buy-credits', what, TURN_ON.payments), off('POST', '/buy-credits', what, TURN_ON.payments));
    for (const [method, path] of [['GET', '/wallets/challenge'], ['POST', '/wallets/link'], ['GET', '/wallets']] as const) {
      routes.push(off(method, path, 'Wallet linking (for USDC purchases)', TURN_ON.payments));
    }
  }
  if (!config.signup) routes.push(off('GET', '/signup/challenge', 'Wallet sign-up', TURN_ON.signup), off('POST', '/signup', 'Wallet sign-up', TURN_ON.signup));
  if (config.adminToken === undefined) {
    const adminPaths = [
      ['POST', '/admin/keys'], ['GET', '/admin/keys'], ['POST', '/admin/keys/:key_id/rotate'], ['DELETE', '/admin/keys/:key_id'], ['POST', '/admin/credits'],
      ['GET', '/admin/accounts'], ['GET', '/admin/accounts/:account_id'],
    ] as const;
    for (const [method, path] of adminPaths) {
      routes.push(off(method, path, 'The admin API', TURN_ON.admin));
    }
    routes.push(off('GET', '/console', 'The console', TURN_ON.admin), off('GET', '/console/:asset', 'The console', TURN_ON.admin));
  }
  // Usage needs the admin token and the usage option (a Store that does not count usage is told at run time).
  if (config.adminToken === undefined) routes.push(off('GET', '/admin/usage', 'The admin API', TURN_ON.admin));
  else if (!config.usage) routes.push(off('GET', '/admin/usage', 'Usage counting', TURN_ON.usage));
  if (!config.search) routes.push(off('GET', '/memory/search', 'Memory search', TURN_ON.search), off('POST', '/memory/search', 'Memory search', TURN_ON.search));
  if (config.adminToken === undefined && config.metricsToken === undefined) routes.push(off('GET', '/metrics', 'The metrics endpoint', TURN_ON.metrics));
  return routes;
}
