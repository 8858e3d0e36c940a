import {defineConfig} from 'vite';

export default defineConfig({
  // Relative URLs and a stable entry name (index.js): the built folder works wherever it is
  // deployed, and a shell can mount the element from <where>/index.js.
  base: './',
  build: {target: 'es2022', rollupOptions: {output: {entryFileNames: '[name].js'}}},
});
