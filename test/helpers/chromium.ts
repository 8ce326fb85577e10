/**
 * Debian's Chromium for the tests that drive a page (playwright-core, no browser download):
 * the binary and the flags of a headless, offline, profile-less run.
 */
import { execFileSync } from 'node:child_process';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
];

/** $CHROMIUM_PATH, else `chromium` on the PATH; throws saying how to install it. */
export function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  try {
    return execFileSync('which', ['chromium'], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error("no chromium on the PATH: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH");
  }
}
