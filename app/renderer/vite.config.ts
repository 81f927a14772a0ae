import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The workstation renderer: the same build runs in Electron and, served at /app/, in a browser.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/app/',
  build: {
    outDir: fileURLToPath(new URL('./dist', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 1024,
  },
  oxc: { jsx: { runtime: 'automatic' } },
});
