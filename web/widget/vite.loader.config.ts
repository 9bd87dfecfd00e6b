// Builds the embed loader (dist/widget/loader.js). Runs after vite.config.ts and must not
// empty the output folder, or chat.js would be lost.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  publicDir: false,
  build: {
    outDir: here('../dist/widget'),
    emptyOutDir: false,
    target: 'es2019',
    minify: true,
    sourcemap: false,
    lib: {
      entry: here('src/loader.ts'),
      formats: ['iife'],
      name: 'ParleyLoader',
      fileName: () => 'loader.js',
    },
  },
});
