// @ts-check
/**
 * Installs the npm dependencies when they are missing or older than package-lock.json. Shared by
 * `npm start` (quickstart.mjs) and `npm test` (pretest), so either README command works first on a
 * fresh clone. Plain JavaScript: it runs before TypeScript tooling exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
export const say = (/** @type {string} */ m) => process.stdout.write(`[huiliu] ${m}\n`);

/** Runs a command in the repository and exits with its status if it fails. */
export function run(/** @type {string} */ cmd, /** @type {string[]} */ args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', env: { ...process.env, ...env }, shell: process.platform === 'win32' });
  if (r.status !== 0) {
    say(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(r.status ?? 1);
  }
}

export function ensureNode() {
  const [major, minor] = process.versions.node.split('.').map(Number);
  if (major < 20 || (major === 20 && minor < 19)) {
    say(`Node ${process.versions.node} is too old: Huiliu needs Node 20.19+ (or 22.12+).`);
    process.exit(1);
  }
}

export function ensureDependencies() {
  ensureNode();
  const installed = join(ROOT, 'node_modules', '.package-lock.json');
  if (!existsSync(installed) || statSync(installed).mtimeMs < statSync(join(ROOT, 'package-lock.json')).mtimeMs) {
    say('installing dependencies (npm ci)…');
    // Electron's binary is fetched separately (quickstart), so an offline machine still installs.
    run(NPM, ['ci', '--no-audit', '--no-fund'], { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) ensureDependencies();
