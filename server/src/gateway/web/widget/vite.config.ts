import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The customer widget: built to server/dist/widget, served at /widget by the web channel plugin; the
// embed loader (loader.ts) is built beside it as `loader.js` (no hash, no imports), served at /widget.js.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/widget/',
  build: {
    outDir: fileURLToPath(new URL('../../../../dist/widget', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    rollupOptions: {
      input: {
        index: fileURLToPath(new URL('./index.html', import.meta.url)),
        loader: fileURLToPath(new URL('./loader.ts', import.meta.url)),
      },
      output: {
        entryFileNames: (chunk) => (chunk.name === 'loader' ? 'loader.js' : 'assets/[name]-[hash].js'),
      },
    },
  },
});
