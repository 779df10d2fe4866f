// Sign-In with Ethereum (EIP-4361) for wallet sign-up: parse and check each field with a precise reason, then verify the signature with viem.
import type { Address, Hex } from 'viem';
import { createSiweMessage, parseSiweMessage, verifySiweMessage } from 'viem/siwe';
import type { ChainClient } from './chain.js';
import type { SignupConfig } from './signup-config.js';
import { checksummed } from './wallets.js';

/** A message that is not EIP-4361 (400): what is wrong, in words. */
export type SiweMalformed = { ok: false; reason: 'malformed_message'; message: string };
/** A well-formed message that does not prove a sign-up here (401). */
export type SiweRefusal = { ok: false; reason: 'wrong_domain' | 'wrong_uri' | 'wrong_chain' | 'expired' | 'not_yet_valid'; message: string };

export interface SiweFields {
  address: Address;
  nonce: string;
  domain: string;
  uri: string;
  chainId: number;
  issuedAt: Date;
  expirationTime: Date | undefined;
}

const NONCE = /^[a-zA-Z0-9]{8,}$/;
const REQUIRED = ['domain', 'address', 'uri', 'version', 'chainId', 'nonce', 'issuedAt'] as const;
/** How each required field is written in the message, for the 400 that names a missing one. */
const LINE: Record<(typeof REQUIRED)[number], string> = {
  domain: '"<domain> wants you to sign in with your Ethereum account:" first line',
  address: 'address line (0x + 40 hex, the line after the first)',
  uri: '"URI:" line',
  version: '"Version: 1" line',
  chainId: '"Chain ID:" line',
  nonce: '"Nonce:" line (8 or more letters and digits)',
  issuedAt: '"Issued At:" line (RFC 3339 date-time)',
};

const malformed = (message: string): SiweMalformed => ({ ok: false, reason: 'malformed_message', message });
const refused = (reason: SiweRefusal['reason'], message: string): SiweRefusal => ({ ok: false, reason, message });

/** The authority of a URI ("host:port" when a port is written), or undefined when it has none. */
function authorityOf(uri: string): string | undefined {
  try {
    const u = new URL(uri);
    return u.host || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Parses `text` and checks every field this server decides on: format first (400), then whether it is
 * meant for this server, this chain, and now (401). The nonce's state and the signature are checked by
 * the caller (the store, then `verify`).
 */
export function checkSiwe(text: string, config: SignupConfig, now: number): { ok: true; fields: SiweFields } | SiweMalformed | SiweRefusal {
  const m = parseSiweMessage(text);
  const missing = REQUIRED.filter((f) => m[f] === undefined || m[f] === '');
  if (missing.length) return malformed(`message is not an EIP-4361 (Sign-In with Ethereum) message: no ${missing.map((f) => LINE[f]).join(', no ')}`);
  const address = checksummed(m.address!);
  if (!address) return malformed('message: the address is mixed-case with a wrong EIP-55 checksum');
  if (m.version !== '1') return malformed(`message: Version must be 1 (got "${m.version}")`);
  if (!NONCE.test(m.nonce!)) return malformed('message: Nonce must be 8 or more letters and digits');
  if (!Number.isSafeInteger(m.chainId)) return malformed('message: Chain ID must be an integer');
  for (const f of ['issuedAt', 'expirationTime', 'notBefore'] as const) {
    const d = m[f];
    if (d !== undefined && Number.isNaN(d.getTime())) return malformed(`message: ${f === 'issuedAt' ? 'Issued At' : f === 'expirationTime' ? 'Expiration Time' : 'Not Before'} must be an RFC 3339 date-time`);
  }
  if (m.domain !== config.domain) return refused('wrong_domain', `The message is for the domain "${m.domain}"; this server signs up on "${config.domain}" only`);
  if (config.uri !== undefined ? m.uri !== config.uri : authorityOf(m.uri!) !== config.domain) {
    return refused('wrong_uri', `The message's URI must be ${config.uri ?? `a URI of ${config.domain} (e.g. https://${config.domain})`}`);
  }
  if (m.chainId !== config.chainId) return refused('wrong_chain', `The message names chain ${m.chainId}; this server's wallets are on chain ${config.chainId}`);
  if (m.expirationTime && now >= m.expirationTime.getTime()) return refused('expired', `The message expired at ${m.expirationTime.toISOString()}: sign a new one`);
  if (m.notBefore && now < m.notBefore.getTime()) return refused('not_yet_valid', `The message is not valid before ${m.notBefore.toISOString()}`);
  return {
    ok: true,
    fields: { address, nonce: m.nonce!, domain: m.domain!, uri: m.uri!, chainId: m.chainId!, issuedAt: m.issuedAt!, expirationTime: m.expirationTime },
  };
}

/**
 * Whether `signature` signs `text` by the message's address, through viem's verifySiweMessage (which
 * checks domain, nonce and time again). An EOA signature is recovered locally; anything else is asked
 * of the chain (ERC-1271 / ERC-6492 smart wallets). An RPC fault is a 502, never a "no".
 */
export async function verifySiwe(chain: ChainClient, text: string, signature: Hex, fields: SiweFields, now: number): Promise<boolean> {
  return chain.rpc('verifying the sign-up signature', (client) =>
    verifySiweMessage(client, {
      message: text, signature, address: fields.address, domain: fields.domain, nonce: fields.nonce, time: new Date(now), mode: 'eoa',
    } as Parameters<typeof verifySiweMessage>[1]),
  );
}

/** A ready-to-sign message for `address` with a fresh nonce, as an agent would write it. */
export function signupMessage(config: SignupConfig, address: Address, nonce: string, issuedAt: number, expiresAt: number): string {
  return createSiweMessage({
    address, chainId: config.chainId, domain: config.domain, nonce, uri: config.uri ?? `https://${config.domain}`, version: '1',
    statement: 'Sign up to aipaygent with this wallet: it opens (or signs in to) the account linked to it and issues an API key.',
    issuedAt: new Date(issuedAt), expirationTime: new Date(expiresAt),
  });
}
