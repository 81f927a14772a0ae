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
// better-sqlite3 is a native addon (rebuilt for Electron's ABI by electron-builder): it cannot be
// bundled, so it stays a require of node_modules/better-sqlite3 (unpacked from the asar).
await build({
  ...common,
  external: [...common.external, 'better-sqlite3'],
  entryPoints: ['app/main/index.ts'],
  outfile: 'app/main/dist/main.cjs',
});
await build({ ...common, entryPoints: ['app/main/preload.ts'], outfile: 'app/main/dist/preload.cjs' });
