import {existsSync} from 'node:fs';
import {chromium} from '@playwright/test';

/**
 * Flags for Chromium on these machines: root (no sandbox), no GPU, and none of Chromium's own calls
 * home, which a closed network refuses many at a time.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * The browser: $CHROMIUM_PATH, else Debian's /usr/bin/chromium, else a browser Playwright installed
 * itself. Nothing here downloads one; without any, the process stops with one line saying how to
 * get one.
 */
export function findChromium(): string {
  const candidates = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  try {
    candidates.push(chromium.executablePath());
  } catch {
    // Playwright has no browser of its own here.
  }
  const found = candidates.find((path) => path !== undefined && path !== '' && existsSync(path));
  if (found === undefined) {
    console.error('No Chromium found: install one (Debian: apt-get install -y chromium) or set CHROMIUM_PATH to its executable.');
    process.exit(1);
  }
  return found;
}
