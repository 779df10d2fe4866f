// Headless Chromium for the page tests (/docs, /console): the system browser driven by playwright-core, skipped when absent unless REQUIRE_BACKENDS=1.
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Chromium is a system package (.ci/run installs it): without it a browser test skips, or fails with REQUIRE_BACKENDS=1. */
export function chromiumOrSkip(what: string): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.REQUIRE_BACKENDS === '1') throw new Error(`${CHROMIUM} is missing; REQUIRE_BACKENDS=1 forbids skipping the ${what}`);
  console.warn(`${CHROMIUM} is missing: skipping the ${what} (apt-get install chromium)`);
  return false;
}
