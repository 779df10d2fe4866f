// A real local EVM for the payment tests: anvil from npm (chain id 8453), a USDC-like token compiled with solc-js, deployed per run.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createPublicClient, createTestClient, createWalletClient, defineChain, getAddress, http, parseSignature,
  type Abi, type Address, type Chain as ViemChain, type Hex, type PublicClient,
} from 'viem';
import { generatePrivateKey, privateKeyToAccount, type PrivateKeyAccount } from 'viem/accounts';

const require = createRequire(import.meta.url);
const here = dirname(fileURLToPath(import.meta.url));
const CONTRACT = join(here, '../chain/contracts/TestUSDC.sol');
/** Pinned so the bytecode does not change with solc's default target. */
export const EVM_VERSION = 'cancun';
/** anvil's first default account: the deployer and token owner. */
const DEPLOYER_KEY: Hex = '0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80';

export interface Wallet {
  account: PrivateKeyAccount;
  address: Address;
  key: Hex;
}

export interface TestChain {
  rpcUrl: string;
  chainId: number;
  chain: ViemChain;
  client: PublicClient;
  abi: Abi;
  /** The "USDC" the service is configured with. */
  usdc: Address;
  /** Same bytecode, another address: must never credit anything. */
  lookalike: Address;
  /** EIP-712 domain name/version of both tokens. */
  tokenName: string;
  tokenVersion: string;
  /** A fresh key with 10 ETH for gas. */
  newWallet(): Promise<Wallet>;
  mint(to: Address, amount: bigint, token?: Address): Promise<void>;
  /** Sends `amount` of `token` (default USDC) from `from` to `to`; resolves with the mined tx hash. */
  transfer(from: Wallet, to: Address, amount: bigint, token?: Address): Promise<Hex>;
  transferMany(from: Wallet, to: Address[], amounts: bigint[]): Promise<Hex>;
  /** A transfer beyond the sender's balance, mined with a fixed gas limit so it lands reverted. */
  revertedTransfer(from: Wallet, to: Address): Promise<Hex>;
  /** Sends a transaction and leaves it unmined: automine stays off until `mine` is called. */
  pendingTransfer(from: Wallet, to: Address, amount: bigint): Promise<Hex>;
  /** Mines `blocks` blocks (and turns automine back on). */
  mine(blocks: number): Promise<void>;
  balanceOf(address: Address, token?: Address): Promise<bigint>;
  /** Signs an EIP-3009 TransferWithAuthorization for the USDC token (the x402 `exact` payload). */
  signAuthorization(from: Wallet, auth: { to: Address; value: bigint; validAfter: bigint; validBefore: bigint; nonce?: Hex; token?: Address; name?: string }): Promise<{
    authorization: { from: Address; to: Address; value: string; validAfter: string; validBefore: string; nonce: Hex };
    signature: Hex;
  }>;
  /** Submits a signed authorization on-chain from `relayer` (what a facilitator does). */
  settleAuthorization(relayer: Wallet, auth: { from: Address; to: Address; value: string; validAfter: string; validBefore: string; nonce: Hex }, signature: Hex): Promise<Hex>;
  stop(): Promise<void>;
}

interface Compiled {
  abi: Abi;
  bytecode: Hex;
}

/** Compiles TestUSDC.sol offline with the solc-js in node_modules. */
export function compileToken(): Compiled {
  const solc = require('solc') as { compile(input: string): string };
  const input = {
    language: 'Solidity',
    sources: { 'TestUSDC.sol': { content: readFileSync(CONTRACT, 'utf8') } },
    settings: { evmVersion: EVM_VERSION, optimizer: { enabled: true, runs: 200 }, outputSelection: { '*': { TestUSDC: ['abi', 'evm.bytecode.object'] } } },
  };
  const out = JSON.parse(solc.compile(JSON.stringify(input))) as {
    errors?: { severity: string; formattedMessage: string }[];
    contracts: Record<string, Record<string, { abi: Abi; evm: { bytecode: { object: string } } }>>;
  };
  const errors = (out.errors ?? []).filter((e) => e.severity === 'error');
  if (errors.length) throw new Error(`solc: ${errors.map((e) => e.formattedMessage).join('\n')}`);
  const c = out.contracts['TestUSDC.sol']!.TestUSDC!;
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
}

/** Path of the anvil binary shipped in the platform package of @foundry-rs/anvil. */
export function anvilBinary(): string {
  const pkg = `@foundry-rs/anvil-${process.platform}-${process.arch === 'x64' ? 'amd64' : process.arch}`;
  return join(dirname(require.resolve(`${pkg}/package.json`)), 'bin', process.platform === 'win32' ? 'anvil.exe' : 'anvil');
}

async function startAnvil(chainId: number): Promise<{ child: ChildProcess; rpcUrl: string }> {
  const child = spawn(anvilBinary(), ['--host', '127.0.0.1', '--port', '0', '--chain-id', String(chainId), '--hardfork', EVM_VERSION], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // A crashed test worker must not leave anvil running.
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  child.once('exit', () => process.off('exit', kill));
  const rpcUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`anvil did not start within 20s:\n${out}`)), 20_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /Listening on ([\d.]+:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`http://${m[1]}`);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`anvil exited with ${code}:\n${out}`));
    });
  });
  child.stdout!.resume();
  return { child, rpcUrl };
}

/** Starts anvil, compiles and deploys two copies of the token (USDC and its look-alike). */
export async function startChain(options: { chainId?: number; tokenName?: string; tokenVersion?: string } = {}): Promise<TestChain> {
  const chainId = options.chainId ?? 8453;
  const tokenName = options.tokenName ?? 'USD Coin';
  const tokenVersion = options.tokenVersion ?? '2';
  const { abi, bytecode } = compileToken();
  const { child, rpcUrl } = await startAnvil(chainId);
  const chain = defineChain({ id: chainId, name: 'anvil', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 }, rpcUrls: { default: { http: [rpcUrl] } } });
  const transport = http(rpcUrl);
  const client = createPublicClient({ chain, transport, pollingInterval: 50 }) as PublicClient;
  const testClient = createTestClient({ chain, mode: 'anvil', transport });
  const walletOf = (w: Wallet) => createWalletClient({ account: w.account, chain, transport });
  const deployer: Wallet = { key: DEPLOYER_KEY, account: privateKeyToAccount(DEPLOYER_KEY), address: privateKeyToAccount(DEPLOYER_KEY).address };

  const mined = async (hash: Hex) => {
    await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    return hash;
  };
  const deploy = async (): Promise<Address> => {
    const hash = await walletOf(deployer).deployContract({ abi, bytecode, args: [tokenName, tokenVersion] });
    const receipt = await client.waitForTransactionReceipt({ hash, pollingInterval: 50 });
    return getAddress(receipt.contractAddress!);
  };
  const usdc = await deploy();
  const lookalike = await deploy();

  const write = (from: Wallet, functionName: string, args: unknown[], extra: { address?: Address; gas?: bigint } = {}) =>
    walletOf(from).writeContract({ address: extra.address ?? usdc, abi, functionName, args, gas: extra.gas } as never);

  return {
    rpcUrl, chainId, chain, client, abi, usdc, lookalike, tokenName, tokenVersion,
    async newWallet() {
      const key = generatePrivateKey();
      const account = privateKeyToAccount(key);
      await testClient.setBalance({ address: account.address, value: 10n ** 19n });
      return { key, account, address: account.address };
    },
    async mint(to, amount, token = usdc) {
      await mined(await write(deployer, 'mint', [to, amount], { address: token }));
    },
    async transfer(from, to, amount, token = usdc) {
      return mined(await write(from, 'transfer', [to, amount], { address: token }));
    },
    async transferMany(from, to, amounts) {
      return mined(await write(from, 'transferMany', [to, amounts]));
    },
    async revertedTransfer(from, to) {
      return mined(await write(from, 'transfer', [to, 10n ** 30n], { gas: 100_000n }));
    },
    async pendingTransfer(from, to, amount) {
      await testClient.setAutomine(false);
      return write(from, 'transfer', [to, amount], { gas: 100_000n });
    },
    async mine(blocks) {
      await testClient.mine({ blocks });
      await testClient.setAutomine(true);
    },
    async balanceOf(address, token = usdc) {
      return (await client.readContract({ address: token, abi, functionName: 'balanceOf', args: [address] })) as bigint;
    },
    async signAuthorization(from, a) {
      const authorization = {
        from: from.address, to: a.to, value: a.value, validAfter: a.validAfter, validBefore: a.validBefore,
        nonce: a.nonce ?? (`0x${randomBytes(32).toString('hex')}` as Hex),
      };
      const signature = await from.account.signTypedData({
        domain: { name: a.name ?? tokenName, version: tokenVersion, chainId, verifyingContract: a.token ?? usdc },
        types: {
          TransferWithAuthorization: [
            { name: 'from', type: 'address' }, { name: 'to', type: 'address' }, { name: 'value', type: 'uint256' },
            { name: 'validAfter', type: 'uint256' }, { name: 'validBefore', type: 'uint256' }, { name: 'nonce', type: 'bytes32' },
          ],
        },
        primaryType: 'TransferWithAuthorization',
        message: authorization,
      });
      return {
        authorization: { ...authorization, value: String(a.value), validAfter: String(a.validAfter), validBefore: String(a.validBefore) },
        signature,
      };
    },
    async settleAuthorization(relayer, a, signature) {
      const { v, r, s, yParity } = parseSignature(signature);
      const args = [a.from, a.to, BigInt(a.value), BigInt(a.validAfter), BigInt(a.validBefore), a.nonce, Number(v ?? BigInt(yParity + 27)), r, s];
      return mined(await write(relayer, 'transferWithAuthorization', args));
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}
