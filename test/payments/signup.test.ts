// Wallet sign-up over real HTTP on every mount, wallets verified against a real anvil chain: accounts, keys, and every refusal.
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Address } from 'viem';
import { startChain, type TestChain } from '../support/chain.js';
import { ADMIN_TOKEN, call, describeMounts, type Mounted } from '../support/mounts.js';
import { DOMAIN, nonceOf, postSignup, siweMessage, signUp } from './signup-support.js';
import { linkWallet } from './support.js';

let chain: TestChain;
let receiver: Address;
beforeAll(async () => {
  chain = await startChain();
  receiver = (await chain.newWallet()).address;
});
afterAll(async () => {
  await chain?.stop();
});

describeMounts(
  'wallet sign-up',
  () => ({
    payments: { rpcUrl: chain.rpcUrl, usdcAddress: chain.usdc, receiver, confirmations: 1 },
    signup: { domain: DOMAIN, perIpPerHour: 1000, perWalletPerHour: 50 },
  }),
  (m: () => Mounted) => {
    const expectRefused = (r: { status: number; body: any; headers: Headers }, status: number, reason: string) => {
      expect(r.status, JSON.stringify(r.body)).toBe(status);
      expect(r.body).toMatchObject({ status: 'error', error: { code: status === 401 ? 'unauthorized' : 'invalid_request', message: expect.any(String) }, reason });
      if (status === 401) expect(r.headers.get('www-authenticate')).toBe('SIWE realm="aipaygent"');
    };

    it('GET /signup/challenge: a fresh nonce and what to sign; with ?address=, the message ready to sign', async () => {
      const a = await call(`${m().url}/signup/challenge`);
      const b = await call(`${m().url}/signup/challenge`);
      expect(a.status).toBe(200);
      expect(a.body).toMatchObject({ status: 'success', domain: DOMAIN, uri: `https://${DOMAIN}`, chain_id: 8453, version: '1', expires_at: expect.any(String) });
      expect(a.body.nonce).toMatch(/^[a-f0-9]{32}$/);
      expect(b.body.nonce).not.toBe(a.body.nonce);
      expect(a.body.message).toBeUndefined();

      const wallet = await chain.newWallet();
      const ready = await call(`${m().url}/signup/challenge?address=${wallet.address.toLowerCase()}`);
      expect(ready.body.message).toContain(`${DOMAIN} wants you to sign in with your Ethereum account:\n${wallet.address}\n`);
      expect(ready.body.message).toContain(`Nonce: ${ready.body.nonce}`);
      // The message as served is enough: sign it, post it.
      const { res } = await postSignup(m().url, ready.body.message, wallet);
      expect(res.status).toBe(201);
      const bad = await call(`${m().url}/signup/challenge?address=0x${'aB'.repeat(20)}`);
      expect([bad.status, bad.body.reason]).toEqual([400, 'bad_checksum']);
      expect((await call(`${m().url}/signup/challenge?address=0x12`)).body.error.message).toMatch(/address must be an EVM address/);
    });

    it('a new wallet opens an account, linked to the wallet, with a working API key; signing again gives the same account a new key', async () => {
      const wallet = await chain.newWallet();
      const first = (await signUp(m().url, wallet)).res;
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ status: 'success', address: wallet.address, created: true, previous_keys: [], fee_micro_usd: 0 });
      expect(first.body.account_id).toMatch(/^acct_[a-z2-7]{16}$/);
      expect(first.headers.get('cache-control')).toBe('no-store');
      const key = first.body.api_key as string;
      expect((await call(`${m().url}/credits/balance`, { key })).body).toMatchObject({ account_id: first.body.account_id, balance_micro_usd: 0 });
      expect((await call(`${m().url}/wallets`, { key })).body.wallets).toEqual([{ address: wallet.address, linked_at: expect.any(String) }]);
      const stored = await call(`${m().url}/memory/store`, { key, body: { user_id: 'u', key: 'k', data: { hello: 'agent' } } });
      expect(stored.status).toBe(200);

      const second = (await signUp(m().url, wallet)).res;
      expect(second.status).toBe(200);
      expect(second.body).toMatchObject({ account_id: first.body.account_id, created: false });
      expect(second.body.key_id).not.toBe(first.body.key_id);
      expect(second.body.previous_keys).toEqual([{ key_id: first.body.key_id, active: true, created_at: expect.any(String) }]);
      // Both keys work, on the same memories.
      const read = await call(`${m().url}/memory/retrieve?user_id=u&key=k`, { key: second.body.api_key });
      expect(read.body.data).toEqual({ hello: 'agent' });
      expect((await call(`${m().url}/credits/balance`, { key })).status).toBe(200);

      const keys = await call(`${m().url}/admin/keys?account_id=${first.body.account_id}`, { key: ADMIN_TOKEN });
      expect(keys.body.keys.map((k: { key_id: string }) => k.key_id)).toEqual([first.body.key_id, second.body.key_id]);
    });

    it('a nonce is single use: the same signed message again is 401 nonce_used, and so is a made-up nonce (unknown_nonce)', async () => {
      const wallet = await chain.newWallet();
      const { message, signature, res } = await signUp(m().url, wallet);
      expect(res.status).toBe(201);
      expectRefused(await call(`${m().url}/signup`, { body: { message, signature } }), 401, 'nonce_used');
      expectRefused((await postSignup(m().url, siweMessage(wallet, 'madeup12345678'), wallet)).res, 401, 'unknown_nonce');
    });

    it('a signature by another wallet, or of another message, is 401 bad_signature; nothing is opened and the nonce stays usable', async () => {
      const wallet = await chain.newWallet();
      const other = await chain.newWallet();
      const message = siweMessage(wallet, await nonceOf(m().url));
      expectRefused((await postSignup(m().url, message, other)).res, 401, 'bad_signature');
      const otherMessage = await other.account.signMessage({ message: `${message}\n` });
      expectRefused(await call(`${m().url}/signup`, { body: { message, signature: otherMessage } }), 401, 'bad_signature');
      const ok = (await postSignup(m().url, message, wallet)).res;
      expect(ok.status).toBe(201);
    });

    it('a message for another domain, URI or chain, expired or not yet valid is 401 with its reason', async () => {
      const wallet = await chain.newWallet();
      const cases: Array<[Parameters<typeof siweMessage>[2], string]> = [
        [{ domain: 'evil.example' }, 'wrong_domain'],
        [{ domain: '127.0.0.1' }, 'wrong_domain'],
        [{ uri: 'https://evil.example/signup' }, 'wrong_uri'],
        [{ chainId: 1 }, 'wrong_chain'],
        [{ issuedAt: new Date(Date.now() - 600_000), expirationTime: new Date(Date.now() - 1000) }, 'expired'],
        [{ notBefore: new Date(Date.now() + 600_000) }, 'not_yet_valid'],
      ];
      for (const [over, reason] of cases) {
        const message = siweMessage(wallet, await nonceOf(m().url), over);
        expectRefused((await postSignup(m().url, message, wallet)).res, 401, reason);
      }
      // None of them opened anything: the wallet's first good sign-up creates the account.
      expect((await signUp(m().url, wallet)).res.status).toBe(201);
    });

    it('what is not an EIP-4361 message or a signature is a 400 naming the fault', async () => {
      const wallet = await chain.newWallet();
      const nonce = await nonceOf(m().url);
      const good = siweMessage(wallet, nonce);
      const signature = await wallet.account.signMessage({ message: good });
      const post = (body: unknown) => call(`${m().url}/signup`, { body });
      const plain = await post({ message: 'please sign me up', signature });
      expectRefused(plain, 400, 'malformed_message');
      expect(plain.body.error.message).toMatch(/not an EIP-4361 .*no "URI:" line/);
      expectRefused(await post({ message: good.replace('Version: 1', 'Version: 2'), signature }), 400, 'malformed_message');
      expectRefused(await post({ message: good.replace(/Issued At: .*/, 'Issued At: yesterday'), signature }), 400, 'malformed_message');
      const noSig = await post({ message: good });
      expect(noSig.status).toBe(400);
      expect(noSig.body.error.message).toMatch(/signature is required/);
      expect((await post({ message: good, signature: '0x1234' })).body.error.message).toMatch(/signature must be hex/);
      expect((await post({ message: 'x'.repeat(9000), signature })).status).toBe(400);
      // None of these used the nonce.
      expect((await call(`${m().url}/signup`, { body: { message: good, signature } })).status).toBe(201);
    });

    it('a wallet linked to an account that sign-up did not open is 409 linked_elsewhere: no key for that account', async () => {
      const key = (await m().ai.api.keys.create()).api_key;
      const wallet = await chain.newWallet();
      expect((await linkWallet(m().url, key, wallet)).status).toBe(201);
      const r = (await signUp(m().url, wallet)).res;
      expect(r.status).toBe(409);
      expect(r.body).toMatchObject({ error: { code: 'conflict' }, reason: 'linked_elsewhere' });
      expect(r.body.api_key).toBeUndefined();
    });

    it('one signed message posted 8 times at once: one key, the others 401 nonce_used', async () => {
      const wallet = await chain.newWallet();
      const message = siweMessage(wallet, await nonceOf(m().url));
      const signature = await wallet.account.signMessage({ message });
      const answers = await Promise.all(Array.from({ length: 8 }, () => call(`${m().url}/signup`, { body: { message, signature } })));
      expect(answers.filter((a) => a.status === 201)).toHaveLength(1);
      for (const a of answers.filter((x) => x.status !== 201)) expectRefused(a, 401, 'nonce_used');
    });

    it('concurrent first sign-ups of one wallet open one account: every answer names it, one says created', async () => {
      const wallet = await chain.newWallet();
      const messages = await Promise.all(Array.from({ length: 12 }, async () => siweMessage(wallet, await nonceOf(m().url))));
      const answers = await Promise.all(messages.map(async (msg) => (await postSignup(m().url, msg, wallet)).res));
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
      const accounts = new Set(answers.map((a) => a.body.account_id));
      expect(accounts.size).toBe(1);
      expect(answers.filter((a) => a.body.created)).toHaveLength(1);
      const [account] = accounts;
      const keys = await call(`${m().url}/admin/keys?account_id=${account}`, { key: ADMIN_TOKEN });
      expect(new Set(keys.body.keys.map((k: { key_id: string }) => k.key_id))).toEqual(new Set(answers.map((a) => a.body.key_id)));
    });
  },
);
