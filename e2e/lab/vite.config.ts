import {dirname} from 'node:path';
import {fileURLToPath} from 'node:url';
import {defaultClientConditions, defineConfig} from 'vite';

/** Serves the lab page (e2e/lab/index.html) with the kit's packages compiled from source. */
export default defineConfig({
  root: dirname(fileURLToPath(import.meta.url)),
  logLevel: 'warn',
  // The kit's packages from their TypeScript sources, as in the rest of the repository.
  resolve: {conditions: ['switchboard-source', ...defaultClientConditions]},
  server: {strictPort: true, host: '127.0.0.1'},
});
