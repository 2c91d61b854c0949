import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { precompress } from './build/precompress';

const outDir = fileURLToPath(new URL('../static', import.meta.url));

// Build output goes to ../static, which the server embeds and serves at `/`.
// Content hashes in file names keep the build deterministic for CI's diff check.
export default defineConfig({
  base: '/',
  plugins: [precompress(outDir)],
  esbuild: {
    jsx: 'automatic',
    jsxImportSource: 'preact',
  },
  build: {
    outDir,
    emptyOutDir: true,
    sourcemap: false,
    target: 'es2020',
    reportCompressedSize: false,
  },
  server: {
    proxy: {
      '/api': { target: 'http://127.0.0.1:8080', ws: true },
      '/healthz': 'http://127.0.0.1:8080',
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
  },
});
