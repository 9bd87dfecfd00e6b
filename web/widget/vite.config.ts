// Builds the chat UI (dist/widget/chat.js): one self-contained IIFE with its CSS inlined.
// The loader is built separately by vite.loader.config.ts into the same folder.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  publicDir: false,
  build: {
    outDir: here('../dist/widget'),
    emptyOutDir: true,
    target: 'es2019',
    minify: true,
    sourcemap: false,
    reportCompressedSize: true,
    lib: {
      entry: here('src/chat/main.ts'),
      formats: ['iife'],
      name: 'ParleyChat',
      fileName: () => 'chat.js',
    },
  },
});
