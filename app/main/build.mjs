// Bundles the Electron main process and the preload into CommonJS (a sandboxed preload cannot be
// an ES module). Run by `npm run build:main`; electron-builder packages app/main/dist.
import { build } from 'esbuild';

const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['electron'],
  sourcemap: true,
  logLevel: 'info',
};
await build({ ...common, entryPoints: ['app/main/index.ts'], outfile: 'app/main/dist/main.cjs' });
await build({ ...common, entryPoints: ['app/main/preload.ts'], outfile: 'app/main/dist/preload.cjs' });
