// Wallet sign-up by a smart contract wallet (ERC-1271), deployed on anvil: its signature is verified through the chain.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWalletClient, getAddress, http, type Abi, type Address, type Hex } from 'viem';
import { EVM_VERSION, startChain, type TestChain, type Wallet } from '../support/chain.js';
import { call, startMount, type Mounted } from '../support/mounts.js';
import { DOMAIN, nonceOf, siweMessage } from './signup-support.js';

const require = createRequire(import.meta.url);

/** Compiles and deploys TestSmartWallet owned by `owner`; resolves with its address. */
async function deploySmartWallet(chain: TestChain, owner: Wallet): Promise<Address> {
  const solc = require('solc') as { compile(input: string): string };
  const source = readFileSync(new URL('../chain/contracts/TestSmartWallet.sol', import.meta.url), 'utf8');
  const out = JSON.parse(solc.compile(JSON.stringify({
    language: 'Solidity',
    sources: { 'TestSmartWallet.sol': { content: source } },
    settings: { evmVersion: EVM_VERSION, outputSelection: { '*': { TestSmartWallet: ['abi', 'evm.bytecode.object'] } } },
  })));
  const c = out.contracts['TestSmartWallet.sol'].TestSmartWallet as { abi: Abi; evm: { bytecode: { object: string } } };
  const wallet = createWalletClient({ account: owner.account, chain: chain.chain, transport: http(chain.rpcUrl) });
  const hash = await wallet.deployContract({ abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` as Hex, args: [owner.address] });
  const receipt = await chain.client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
  return getAddress(receipt.contractAddress!);
}

let chain: TestChain;
let m: Mounted;
beforeAll(async () => {
  chain = await startChain();
  const receiver = (await chain.newWallet()).address;
  m = await startMount('core', {
    parsed: false, prefix: '',
    options: { payments: { rpcUrl: chain.rpcUrl, usdcAddress: chain.usdc, receiver, confirmations: 1 }, signup: { domain: DOMAIN } },
  });
});
afterAll(async () => {
  await m?.close();
  await chain?.stop();
});

describe('wallet sign-up by a smart contract wallet', () => {
  it('an ERC-1271 wallet signs up with its owner\'s signature; a stranger\'s signature for it is 401 bad_signature', async () => {
    const owner = await chain.newWallet();
    const contract = await deploySmartWallet(chain, owner);
    // The message names the contract's address; the owner's key signs it.
    const asContract = { ...owner, address: contract };
    const stranger = await chain.newWallet();
    const forged = siweMessage(asContract, await nonceOf(m.url));
    const refused = await call(`${m.url}/signup`, { body: { message: forged, signature: await stranger.account.signMessage({ message: forged }) } });
    expect([refused.status, refused.body.reason]).toEqual([401, 'bad_signature']);

    const message = siweMessage(asContract, await nonceOf(m.url));
    const ok = await call(`${m.url}/signup`, { body: { message, signature: await owner.account.signMessage({ message }) } });
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    expect(ok.body).toMatchObject({ address: contract, created: true });
    expect((await call(`${m.url}/wallets`, { key: ok.body.api_key })).body.wallets).toEqual([{ address: contract, linked_at: expect.any(String) }]);
  });
});
