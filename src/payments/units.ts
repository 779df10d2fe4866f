// Token base units <-> micro-USD with exact rational BigInt math: no float ever touches an amount.

/** micro-USD per token base unit, as the exact fraction num / den. */
export interface Rate {
  num: bigint;
  den: bigint;
  /** The rate as a plain decimal string, for the instructions. */
  text: string;
}

const DECIMAL = /^(\d+)(?:\.(\d+))?(?:e([+-]?\d+))?$/i;

/** Parses a positive decimal (1, "0.5", 1e-12) into an exact fraction; undefined when invalid. */
export function parseRate(value: number | string): Rate | undefined {
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return undefined;
    text = String(value);
  } else if (typeof value === 'string') text = value.trim();
  else return undefined;
  const m = DECIMAL.exec(text);
  if (!m) return undefined;
  const digits = (m[1] ?? '') + (m[2] ?? '');
  const exponent = Number(m[3] ?? 0) - (m[2]?.length ?? 0);
  if (Math.abs(exponent) > 60) return undefined;
  let num = BigInt(digits);
  let den = 1n;
  if (exponent >= 0) num *= 10n ** BigInt(exponent);
  else den = 10n ** BigInt(-exponent);
  if (num === 0n) return undefined;
  // The text is taken while den is still a power of ten, so that it terminates.
  const text10 = decimalText(num, den);
  const g = gcd(num, den);
  return { num: num / g, den: den / g, text: text10 };
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** num/den as a decimal string; den must be a power of ten. */
function decimalText(num: bigint, den: bigint): string {
  if (den === 1n) return num.toString();
  const places = den.toString().length - 1;
  const scaled = (num * 10n ** BigInt(places)) / den;
  const s = scaled.toString().padStart(places + 1, '0');
  return `${s.slice(0, -places)}.${s.slice(-places)}`.replace(/\.?0+$/, '');
}

/** micro-USD credited for `units` base units, rounded down; undefined when beyond Number.MAX_SAFE_INTEGER. */
export function unitsToMicroUsd(units: bigint, rate: Rate): number | undefined {
  const micro = (units * rate.num) / rate.den;
  return micro <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(micro) : undefined;
}

/** Base units a payer must send to be credited at least `microUsd`, rounded up. */
export function microUsdToUnits(microUsd: number, rate: Rate): bigint {
  const n = BigInt(microUsd) * rate.den;
  return (n + rate.num - 1n) / rate.num;
}

/** An integer amount of base units as a decimal string of whole tokens ("1.5" for 1500000 at 6 decimals). */
export function formatUnitsText(units: bigint, decimals: number): string {
  if (decimals === 0) return units.toString();
  const s = units.toString().padStart(decimals + 1, '0');
  return `${s.slice(0, -decimals)}.${s.slice(-decimals)}`.replace(/\.?0+$/, '');
}
