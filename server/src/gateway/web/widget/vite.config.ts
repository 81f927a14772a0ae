import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The customer widget: built to server/dist/widget, served at /widget by the web channel plugin.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/widget/',
  build: {
    outDir: fileURLToPath(new URL('../../../../dist/widget', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
});
