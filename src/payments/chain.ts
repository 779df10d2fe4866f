// The chain as the payment services see it: a viem public client over an explicit HTTP transport, faults mapped to 502.
import {
  createPublicClient, defineChain, http, parseEventLogs, erc20Abi,
  TransactionNotFoundError, TransactionReceiptNotFoundError,
  type Address, type Hex, type PublicClient, type TransactionReceipt,
} from 'viem';
import { AipaygentError } from '../errors.js';
import type { PaymentsConfig } from './config.js';

/** One Transfer of the configured token to the receiver, read from a receipt. */
export interface IncomingTransfer {
  logIndex: number;
  from: Address;
  value: bigint;
}

/** What the chain says about a transaction hash, as far as a purchase is concerned. */
export type TxInspection =
  | { kind: 'unknown' }
  | { kind: 'unmined' }
  | { kind: 'reverted' }
  | { kind: 'no_token_transfer' }
  | { kind: 'wrong_receiver' }
  | { kind: 'mined'; blockNumber: bigint; transfers: IncomingTransfer[] };

const upstream = (what: string, cause: unknown) => {
  const e = new AipaygentError('upstream_error', `The chain RPC failed while ${what}; nothing was credited. Retry shortly.`);
  (e as { cause?: unknown }).cause = cause;
  return e;
};

/** What is wrong with a receipt as viem formatted it (a field the RPC left out comes back null or undefined), or null. */
function receiptProblem(r: TransactionReceipt | null | undefined, hash: Hex): string | null {
  if (!r || typeof r !== 'object') return 'no receipt object';
  if (typeof r.transactionHash !== 'string' || r.transactionHash.toLowerCase() !== hash.toLowerCase()) return 'a receipt of another transaction hash';
  if (r.status !== 'success' && r.status !== 'reverted') return 'a receipt without a status';
  if (typeof r.blockNumber !== 'bigint' || r.blockNumber <= 0n) return 'a receipt without a block number';
  if (!Array.isArray(r.logs)) return 'a receipt without logs';
  for (const l of r.logs) {
    // Each field a credit depends on: the emitter, the event itself, and the log index that keys the credit once.
    if (!l || typeof l.address !== 'string' || !Array.isArray(l.topics) || typeof l.data !== 'string' || !Number.isSafeInteger(l.logIndex) || l.logIndex! < 0) {
      return 'a receipt with a malformed log';
    }
  }
  return null;
}

/**
 * The receipt of `hash` when the RPC answered one that can be relied on; else a 502 (fail closed:
 * a missing status must not read as "reverted", a missing log index must never key a credit).
 */
export function checkReceipt(receipt: TransactionReceipt, hash: Hex, what: string): TransactionReceipt {
  const problem = receiptProblem(receipt, hash);
  if (problem) throw upstream(`${what} (it answered ${problem})`, receipt);
  return receipt;
}

export class ChainClient {
  readonly client: PublicClient;
  readonly network: string;
  private chainChecked: Promise<void> | undefined;

  constructor(private readonly config: PaymentsConfig) {
    const chain = defineChain({
      id: config.chainId,
      name: `eip155:${config.chainId}`,
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [config.rpcUrl] } },
    });
    // One retry at most: a client waits for our answer, and a purchase can always be resubmitted.
    this.client = createPublicClient({ chain, transport: http(config.rpcUrl, { timeout: config.rpcTimeoutMs, retryCount: 1 }), cacheTime: 0 }) as PublicClient;
    this.network = `eip155:${config.chainId}`;
  }

  /** Runs an RPC call; any transport or node fault becomes a 502 (fail closed: nothing credited). */
  async rpc<T>(what: string, fn: (client: PublicClient) => Promise<T>): Promise<T> {
    try {
      return await fn(this.client);
    } catch (error) {
      if (error instanceof AipaygentError) throw error;
      throw upstream(what, error);
    }
  }

  /** The RPC must serve the configured chain: receipts carry no chain id, so this is where it is enforced. */
  ensureChain(): Promise<void> {
    this.chainChecked ??= (async () => {
      const served = await this.rpc('reading its chain id', (c) => c.getChainId());
      if (served !== this.config.chainId) {
        throw new AipaygentError('upstream_error', `The configured RPC serves chain ${served}, not chain ${this.config.chainId}; nothing was credited.`);
      }
    })();
    // Only a success is remembered: a transient fault is retried on the next request.
    this.chainChecked.catch(() => (this.chainChecked = undefined));
    return this.chainChecked;
  }

  /** Latest block number, never from a cache (confirmations must be fresh). */
  async blockNumber(): Promise<bigint> {
    return this.rpc('reading the block number', (c) => c.getBlockNumber({ cacheTime: 0 }));
  }

  /** Reads the receipt of `hash` and keeps the Transfers of the configured token to the receiver. */
  async inspect(hash: Hex): Promise<TxInspection> {
    await this.ensureChain();
    let receipt: TransactionReceipt;
    try {
      receipt = await this.client.getTransactionReceipt({ hash });
    } catch (error) {
      if (!(error instanceof TransactionReceiptNotFoundError)) throw upstream('reading the transaction receipt', error);
      return this.unminedOrUnknown(hash);
    }
    checkReceipt(receipt, hash, 'reading the transaction receipt');
    if (receipt.status !== 'success') return { kind: 'reverted' };
    return classifyTransfers(receipt, this.config.usdc, this.config.receiver);
  }

  private async unminedOrUnknown(hash: Hex): Promise<TxInspection> {
    try {
      const tx = await this.client.getTransaction({ hash });
      return tx.blockNumber === null ? { kind: 'unmined' } : { kind: 'unknown' };
    } catch (error) {
      if (error instanceof TransactionNotFoundError) return { kind: 'unknown' };
      throw upstream('reading the transaction', error);
    }
  }
}

/** Keeps Transfer logs emitted by `token` (the address, never the bytecode, is what counts) to `receiver`. */
export function classifyTransfers(receipt: Pick<TransactionReceipt, 'logs' | 'blockNumber'>, token: Address, receiver: Address): TxInspection {
  const tokenLower = token.toLowerCase();
  const fromToken = receipt.logs.filter((l) => l.address.toLowerCase() === tokenLower);
  const transfers = parseEventLogs({ abi: erc20Abi, eventName: 'Transfer', logs: fromToken, strict: true });
  if (transfers.length === 0) return { kind: 'no_token_transfer' };
  const receiverLower = receiver.toLowerCase();
  const mine = transfers.filter((t) => t.args.to.toLowerCase() === receiverLower && t.args.value > 0n);
  if (mine.length === 0) return { kind: 'wrong_receiver' };
  return {
    kind: 'mined',
    blockNumber: receipt.blockNumber,
    transfers: mine.map((t) => ({ logIndex: t.logIndex, from: t.args.from, value: t.args.value })),
  };
}
