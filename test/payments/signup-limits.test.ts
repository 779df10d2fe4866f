// Wallet sign-up limits and configuration: per-IP and per-wallet rate limits, nonce expiry, options, env, off stand-ins, /discover and OpenAPI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Address } from 'viem';
import { parseOptions, type AipaygentOptions } from '../../src/config.js';
import { optionsFromEnv } from '../../src/env.js';
import { SignedUp, SignupChallenge } from '../../src/http/openapi-schemas.js';
import { ipBucket, signupAccountId } from '../../src/payments/signup-ids.js';
import { startChain, type TestChain } from '../support/chain.js';
import { call, startMount, type Mounted } from '../support/mounts.js';
import { DOMAIN, nonceOf, postSignup, siweMessage, signUp } from './signup-support.js';

let chain: TestChain;
let receiver: Address;
const mounts: Mounted[] = [];
beforeAll(async () => {
  chain = await startChain();
  receiver = (await chain.newWallet()).address;
});
afterAll(async () => {
  for (const m of mounts) await m.close();
  await chain?.stop();
});

const payments = () => ({ rpcUrl: chain.rpcUrl, usdcAddress: chain.usdc, receiver, confirmations: 1 });
async function serve(signup: Partial<NonNullable<AipaygentOptions['signup']>>, extra: AipaygentOptions = {}): Promise<Mounted> {
  const m = await startMount('core', { parsed: false, prefix: '', options: { payments: payments(), signup: { domain: DOMAIN, ...signup }, ...extra } });
  mounts.push(m);
  return m;
}

describe('wallet sign-up: rate limits and nonce expiry', () => {
  it('per IP: challenges and sign-ups are counted apart, each 429 past the limit with Retry-After', async () => {
    const m = await serve({ perIpPerHour: 3 });
    const wallets = await Promise.all([0, 1, 2].map(() => chain.newWallet()));
    const nonces = [await nonceOf(m.url), await nonceOf(m.url), await nonceOf(m.url)];
    const fourth = await call(`${m.url}/signup/challenge`);
    expect(fourth.status).toBe(429);
    expect(fourth.body).toMatchObject({ error: { code: 'rate_limited' }, reason: 'rate_limited_ip' });
    expect(Number(fourth.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(Number(fourth.headers.get('retry-after'))).toBeLessThanOrEqual(3600);
    for (let i = 0; i < 3; i++) expect((await postSignup(m.url, siweMessage(wallets[i]!, nonces[i]!), wallets[i]!)).res.status).toBe(201);
    // The limit comes before any work: even a message that would be a 400 is a 429 now.
    const over = await call(`${m.url}/signup`, { body: { message: 'hello', signature: `0x${'11'.repeat(65)}` } });
    expect(over.status).toBe(429);
    expect(over.body.reason).toBe('rate_limited_ip');
  });

  it('per wallet: the third sign-up of one wallet within the hour is 429; another wallet is not limited by it', async () => {
    const m = await serve({ perWalletPerHour: 2, perIpPerHour: 100 });
    const wallet = await chain.newWallet();
    const other = await chain.newWallet();
    // Only proven wallets are counted: someone else's signatures for this wallet do not spend its budget.
    for (let i = 0; i < 3; i++) expect((await postSignup(m.url, siweMessage(wallet, await nonceOf(m.url)), other)).res.body.reason).toBe('bad_signature');
    expect((await signUp(m.url, wallet)).res.status).toBe(201);
    expect((await signUp(m.url, wallet)).res.status).toBe(200);
    const third = (await signUp(m.url, wallet)).res;
    expect(third.status).toBe(429);
    expect(third.body).toMatchObject({ error: { code: 'rate_limited', message: expect.stringMatching(/at most 2 an hour/) }, reason: 'rate_limited_wallet' });
    expect(third.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await signUp(m.url, other)).res.status).toBe(201);
  });

  it('a nonce expires after challengeTtlSeconds: 401 nonce_expired', async () => {
    const m = await serve({ challengeTtlSeconds: 1 });
    const wallet = await chain.newWallet();
    const nonce = await nonceOf(m.url);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const r = (await postSignup(m.url, siweMessage(wallet, nonce), wallet)).res;
    expect(r.status).toBe(401);
    expect(r.body.reason).toBe('nonce_expired');
  });
});

describe('wallet sign-up: configuration, documentation, off', () => {
  it('options: needs payments and a domain; the fee needs x402; enabled:false is off', () => {
    const receiverOpt = { receiver: `0x${'1'.repeat(40)}` };
    expect(() => parseOptions({ signup: { domain: 'a.example' } })).toThrow(/signup needs payments/);
    expect(() => parseOptions({ payments: receiverOpt, signup: {} as never })).toThrow(/signup\.domain .* it is required/);
    expect(() => parseOptions({ payments: receiverOpt, signup: { domain: 'https://a.example/' } })).toThrow(/signup\.domain must be the host/);
    expect(() => parseOptions({ payments: receiverOpt, signup: { domain: 'a.example', feeMicroUsd: 1000 } })).toThrow(/feeMicroUsd is paid with x402/);
    expect(() => parseOptions({ payments: receiverOpt, signup: { domain: 'a.example', perIpPerHour: 0 } })).toThrow(/perIpPerHour must be an integer between 1/);
    expect(parseOptions({ payments: receiverOpt, signup: { domain: 'a.example', enabled: false } }).signup).toBeUndefined();
    expect(parseOptions({ payments: { ...receiverOpt, chainId: 84532 }, signup: { domain: 'localhost:3000' } }).signup).toMatchObject({
      domain: 'localhost:3000', chainId: 84532, challengeTtlMs: 600_000, perIpPerHour: 10, perWalletPerHour: 5, feeMicroUsd: undefined,
    });
  });

  it('environment: AIPAYGENT_SIGNUP_DOMAIN turns it on; its other variables alone are refused', () => {
    const env = { AIPAYGENT_SIGNUP_DOMAIN: 'api.example.com', AIPAYGENT_SIGNUP_PER_IP_PER_HOUR: '20', AIPAYGENT_SIGNUP_FEE_MICRO_USD: '50000' };
    expect(optionsFromEnv(env).signup).toEqual({
      domain: 'api.example.com', uri: undefined, challengeTtlSeconds: undefined, perIpPerHour: 20, perWalletPerHour: undefined, feeMicroUsd: 50000,
    });
    expect(optionsFromEnv({}).signup).toBeUndefined();
    expect(() => optionsFromEnv({ AIPAYGENT_SIGNUP_FEE_MICRO_USD: '1' })).toThrow(/AIPAYGENT_SIGNUP_DOMAIN/);
    expect(() => optionsFromEnv({ AIPAYGENT_SIGNUP_DOMAIN: 'a.example', AIPAYGENT_SIGNUP_PER_IP_PER_HOUR: 'ten' })).toThrow(/must be an integer/);
  });

  it('off by default: both routes answer 404 naming the option, and are not documented', async () => {
    const m = await startMount('core', { parsed: false, prefix: '', options: { payments: payments() } });
    mounts.push(m);
    for (const r of [await call(`${m.url}/signup/challenge`), await call(`${m.url}/signup`, { body: {} })]) {
      expect(r.status).toBe(404);
      expect(r.body.error.message).toMatch(/Wallet sign-up is not enabled .*signup option .*AIPAYGENT_SIGNUP_DOMAIN/);
    }
    expect(Object.keys((await call(`${m.url}/openapi.json`)).body.paths)).not.toContain('/signup');
    expect((await call(`${m.url}/discover`)).body.signup).toBeUndefined();
    expect(m.ai.features()).toContain('signup: off (set the signup option with payments (AIPAYGENT_SIGNUP_DOMAIN and AIPAYGENT_RECEIVER for the standalone server))');
  });

  it('/discover, OpenAPI and real answers agree', async () => {
    const m = await serve({ perIpPerHour: 50 });
    const d = (await call(`${m.url}/discover`)).body;
    expect(d.signup).toMatchObject({
      challenge: { method: 'GET', path: '/signup/challenge' }, sign_up: { method: 'POST', path: '/signup' },
      message: { domain: DOMAIN, chain_id: 8453, version: '1' }, rate_limits: { per_ip_per_hour: 50, per_wallet_per_hour: 5 }, fee_micro_usd: 0,
    });
    expect(d.endpoints).toEqual(expect.arrayContaining([expect.objectContaining({ method: 'POST', path: '/signup', auth: 'none', billing: 'free' })]));
    const doc = (await call(`${m.url}/openapi.json`)).body;
    const post = doc.paths['/signup'].post;
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['200', '201', '400', '401', '402', '409', '429']));
    expect(doc.paths['/signup/challenge'].get.responses['429']).toBeDefined();
    expect(m.ai.features()).toContain(`signup: on (wallets sign up on ${DOMAIN})`);

    const c = (await call(`${m.url}/signup/challenge`)).body;
    expect(SignupChallenge.parse(c)).toEqual(c);
    const r = (await signUp(m.url, await chain.newWallet())).res.body;
    expect(SignedUp.parse(r)).toEqual(r);
  });

  it('ids: the account id is derived from the wallet, whatever its case; IPv6 clients are counted per /64', () => {
    const a = '0xAbCdEf0123456789abcdef0123456789ABCDEF01';
    expect(signupAccountId(a)).toBe(signupAccountId(a.toLowerCase()));
    expect(signupAccountId(a)).toMatch(/^acct_[a-z2-7]{16}$/);
    expect(signupAccountId(a)).not.toBe(signupAccountId(`0x${'0'.repeat(40)}`));
    expect(ipBucket('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(ipBucket('2001:db8:1:2::99')).toBe('2001:db8:1:2::/64');
    expect(ipBucket('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(ipBucket('::ffff:10.0.0.7')).toBe('10.0.0.7');
    expect(ipBucket('10.0.0.7')).toBe('10.0.0.7');
    expect(ipBucket(undefined)).toBe('unknown');
  });
});
