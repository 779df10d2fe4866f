// Exact money formatting: integer micro-USD to a decimal USD string, with no float arithmetic.

/** micro-USD per USD (USDC has 6 decimals, so one micro-USD is one USDC base unit). */
export const MICRO_PER_USD = 1_000_000;

/** 1250000 -> "1.250000", -5 -> "-0.000005". Exact for every safe integer. */
export function formatUsd(micro: number): string {
  if (!Number.isSafeInteger(micro)) throw new TypeError(`formatUsd: ${micro} is not a safe integer`);
  const digits = String(Math.abs(micro)).padStart(7, '0');
  return `${micro < 0 ? '-' : ''}${digits.slice(0, -6)}.${digits.slice(-6)}`;
}
