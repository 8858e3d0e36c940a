import {defaultClientConditions, defaultServerConditions} from 'vite';
import {defineConfig} from 'vitest/config';

/** Unit and integration tests in Node. Playwright specs (e2e/) are not vitest's: `include` keeps them out. */
export default defineConfig({
  // The kit's packages from their TypeScript sources (the `switchboard-source` export condition), no build needed.
  resolve: {conditions: ['switchboard-source', ...defaultClientConditions]},
  ssr: {resolve: {conditions: ['switchboard-source', ...defaultServerConditions]}},
  test: {
    include: ['packages/*/test/**/*.test.ts', 'server/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'scripts/test/**/*.test.ts', 'scripts/docs/test/**/*.test.ts'],
    environment: 'node',
    // Test servers started as child processes run from one bundle made here, not through tsx each start.
    globalSetup: ['scripts/test-servers.ts'],
    // Vitest's default on 2 cores is one worker (cores - 1), and most files here wait on sockets,
    // child processes and timers: three workers overlap those waits (measured: docs/reference/tests.md).
    maxWorkers: 3,
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
