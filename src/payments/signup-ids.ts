// Names of wallet sign-up state: the account id a wallet opens, the shard of a nonce or IP counter, the IP bucket a limit counts.
import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';

const B32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * The account a wallet's sign-up opens: `acct_` + 16 base32 characters (80 bits) of a hash of the
 * lower-case address. Derived, not random, so that concurrent first sign-ups of one wallet all name
 * the same account, and an account linked to the wallet by another way (POST /wallets/link) is told
 * apart: its id is not this one. Account ids are not secrets (every API key carries its own).
 */
export function signupAccountId(address: string): string {
  const digest = createHash('sha256').update(`aipaygent wallet sign-up\u0000${address.toLowerCase()}`).digest();
  let bits = 0;
  let acc = 0;
  let out = '';
  for (const byte of digest) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 16) {
      out += B32[(acc >>> (bits - 5)) & 31];
      bits -= 5;
    }
    if (out.length === 16) break;
    acc &= 0xff;
  }
  return `acct_${out}`;
}

/**
 * The pseudo-account that holds sign-up state of `what` (nonces, per-IP counters): 256 of them, chosen
 * by a hash, so that on Redis Cluster this state spreads over the slots instead of weighing on one.
 * Never an account id (those start with "acct_"), so never anyone's.
 */
export function shardOf(what: 'nonce' | 'ip', id: string): string {
  return `_signup-${what}-${createHash('sha256').update(id).digest('hex').slice(0, 2)}`;
}

/**
 * What a per-IP limit counts: the IPv4 address, or the /64 of an IPv6 address (one host usually holds a
 * whole /64, so counting single addresses would not limit it). "unknown" when the host gave no address.
 */
export function ipBucket(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (isIPv4(ip)) return ip;
  const bare = ip.replace(/%.*$/, '');
  if (!isIPv6(bare)) return ip;
  const [head = '', tail = ''] = bare.split('::');
  const left = head ? head.split(':') : [];
  const right = bare.includes('::') ? (tail ? tail.split(':') : []) : [];
  // A trailing dotted quad (::ffff:1.2.3.4, 64:ff9b::1.2.3.4) stands for two groups.
  const width = (gs: string[]) => gs.reduce((n, g) => n + (g.includes('.') ? 2 : 1), 0);
  const groups = bare.includes('::') ? [...left, ...Array(8 - width(left) - width(right)).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(':')}::/64`;
}
