import {defineConfig} from '@playwright/test';

// CHROMIUM_PATH runs the tests in a Chromium you already have (e.g. /usr/bin/chromium); without it
// Playwright uses its own (`npx playwright install chromium` once). As root, Chromium needs --no-sandbox.
const executablePath = process.env['CHROMIUM_PATH'] || undefined;
const asRoot = process.getuid?.() === 0;

export default defineConfig({
  testDir: 'tests',
  timeout: 30_000,
  reporter: process.env['CI'] ? 'list' : 'line',
  use: {
    browserName: 'chromium',
    launchOptions: {...(executablePath === undefined ? {} : {executablePath}), args: asRoot ? ['--no-sandbox'] : []},
  },
});
