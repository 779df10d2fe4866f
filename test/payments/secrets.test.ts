// The chain path scrubs what it relays and logs: RPC URL credentials, facilitator credentials, never in a response or a log line.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address, Hex } from 'viem';
import { startChain, type TestChain } from '../support/chain.js';
import { call, startMount } from '../support/mounts.js';
import { decodeHeader, topUp } from '../support/x402.js';

const RPC_KEY = 'AbCdEfGh0123456789rpcKeyXyZ';
const RPC_PASSWORD = 'rpc-password-0123456789';
const FACILITATOR_KEY = 'fac_live_0123456789abcdefSECRET';
const SECRETS = [RPC_KEY, RPC_PASSWORD, FACILITATOR_KEY];
const TX = `0x${'ab'.repeat(32)}`;

/** No piece of any secret (12 characters or more) anywhere in `text`. */
function clean(text: string): void {
  for (const s of SECRETS) for (let i = 0; i + 12 <= s.length; i++) expect(text).not.toContain(s.slice(i, i + 12));
}

function capture() {
  const lines: unknown[][] = [];
  const logger = { warn: (...a: unknown[]) => void lines.push(a), error: (...a: unknown[]) => void lines.push(a) };
  const text = () => JSON.stringify(lines, (_k, v) => (v instanceof Error ? { ...v, message: v.message, stack: v.stack } : typeof v === 'bigint' ? String(v) : v));
  return { lines, logger, text };
}

/** A port nothing listens on (a server's, once closed). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('payments: secrets of the chain path', () => {
  // viem quotes the RPC URL in its errors (user:password it moves to a header, and never quotes).
  for (const [what, url, quoted] of [
    ['an API key in its path', (port: number) => `http://127.0.0.1:${port}/v2/${RPC_KEY}`, true],
    ['user:password credentials', (port: number) => `http://rpcuser:${RPC_PASSWORD}@127.0.0.1:${port}/`, false],
  ] as const) {
    it(`an unreachable RPC URL with ${what} is a 502 whose logged cause is scrubbed`, async () => {
      const { logger, lines, text } = capture();
      const rpcUrl = url(await closedPort());
      const m = await startMount('core', { parsed: false, prefix: '', options: { logger, payments: { rpcUrl, receiver: `0x${'11'.repeat(20)}`, rpcTimeoutMs: 1000 } } });
      try {
        const key = (await m.ai.api.keys.create()).api_key;
        const r = await call(`${m.url}/buy-credits`, { key, body: { tx_hash: TX } });
        expect([r.status, r.body.error.code]).toEqual([502, 'upstream_error']);
        clean(r.text);
        expect(lines.length).toBeGreaterThan(0);
        if (quoted) expect(text()).toContain('[REDACTED]');
        clean(text());
      } finally {
        await m.close();
      }
    });
  }

  describe('with a facilitator that quotes its credentials', () => {
    let chain: TestChain;
    let facilitator: Server;
    let facilitatorUrl: string;
    beforeAll(async () => {
      chain = await startChain();
      facilitator = createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          res.setHeader('content-type', 'application/json');
          res.end(JSON.stringify({ success: false, errorReason: `unauthorized: api key "${req.headers['x-api-key']}" rejected`, transaction: '' }));
        });
      });
      await new Promise<void>((r) => facilitator.listen(0, '127.0.0.1', r));
      facilitatorUrl = `http://127.0.0.1:${(facilitator.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      facilitator?.closeAllConnections();
      await new Promise<void>((r) => (facilitator ? facilitator.close(() => r()) : r()));
      await chain?.stop();
    });

    it("the facilitator's reason reaches the client (body and PAYMENT-REQUIRED) scrubbed of the facilitator key", async () => {
      const receiver = (await chain.newWallet()).address as Address;
      const m = await startMount('core', {
        parsed: false, prefix: '',
        options: { payments: { rpcUrl: chain.rpcUrl, usdcAddress: chain.usdc, receiver, minAmount: 0, x402: { facilitatorUrl, facilitatorHeaders: { 'x-api-key': FACILITATOR_KEY } } } },
      });
      try {
        const key = (await m.ai.api.keys.create()).api_key;
        const wallet = await chain.newWallet();
        await chain.mint(wallet.address, 1_000_000n);
        const first = await topUp(m.url, key, 10_000);
        const pr = decodeHeader(first.headers.get('payment-required'));
        const accepted = pr.accepts[0];
        const now = BigInt(Math.floor(Date.now() / 1000));
        const { authorization, signature } = await chain.signAuthorization(wallet, { to: accepted.payTo, value: BigInt(accepted.amount), validAfter: now - 60n, validBefore: now + 300n });
        const header = Buffer.from(JSON.stringify({ x402Version: 2, resource: pr.resource, accepted, payload: { signature: signature as Hex, authorization } })).toString('base64');
        const r = await topUp(m.url, key, 10_000, header);
        expect([r.status, r.body.reason]).toEqual([402, 'settlement_failed']);
        expect(r.body.error.message).toContain('unauthorized: api key "[REDACTED]" rejected');
        clean(r.text);
        clean(JSON.stringify(decodeHeader(r.headers.get('payment-required'))));
      } finally {
        await m.close();
      }
    });
  });
});
