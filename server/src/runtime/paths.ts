import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Where the server's files are, from TypeScript sources (tsx, vitest) or from the build
 * (`npm run build:server` → `server/dist/server/`). A bundle has one `import.meta.url` for every module
 * in it, so no module may find its files relative to itself: they ask here.
 *
 * Build layout (server/scripts/build-server.mjs):
 *   server/dist/server/main.js                        the server
 *   server/dist/server/workers/<a>.<b>.worker.js      each `server/src/<a>/<b>.worker.ts`
 *   server/dist/server/migrations/<capability>/*.sql  each `server/src/<capability>/migrations/`
 */

const HERE = dirname(fileURLToPath(import.meta.url));

/** True in the built server (plain JavaScript under server/dist/server), false from TypeScript sources. */
export const RUNNING_COMPILED = !import.meta.url.endsWith('.ts');

/** `server/src/` (only meaningful from sources). */
const SOURCE_DIR = join(HERE, '..');

/** `server/dist/server/`: the bundle's own folder, or its parent for a worker bundle in `workers/`. */
export const BUILD_DIR = RUNNING_COMPILED
  ? basename(HERE) === 'workers'
    ? dirname(HERE)
    : HERE
  : join(SOURCE_DIR, '..', 'dist', 'server');

/** The repository (or installation) root: the folder with package.json, node_modules, app/ and build/. */
export const REPO_ROOT = RUNNING_COMPILED ? join(BUILD_DIR, '..', '..', '..') : join(SOURCE_DIR, '..', '..');

/**
 * The folder of a capability's numbered migrations (`db/sqlite.ts` `migrate`): `server/src/<capability>/migrations`
 * from sources, its copy `server/dist/server/migrations/<capability>` when compiled.
 * `capability`: the folder name under server/src, e.g. `sessions`, `auth`.
 */
export function migrationsDir(capability: string): string {
  return RUNNING_COMPILED ? join(BUILD_DIR, 'migrations', capability) : join(SOURCE_DIR, capability, 'migrations');
}
