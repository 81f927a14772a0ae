// @ts-check
/**
 * Installs the npm dependencies when they are missing or differ from package-lock.json. Shared by
 * `npm start` (quickstart.mjs) and `npm test` (pretest), so either README command works first on a
 * fresh clone. Plain JavaScript: it runs before TypeScript tooling exists.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
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

/**
 * Whether `node_modules` holds what package-lock.json names: npm's hidden lockfile
 * (`node_modules/.package-lock.json`, written by every install) is compared entry by entry with the
 * lockfile — same package paths, same versions; optional packages the platform skipped may be absent.
 * Contents, not modification times: a checkout or a `git worktree add` rewrites package-lock.json's
 * mtime without changing what it names. Returns `false` when either file is missing or unreadable.
 */
export function installedMatchesLock(root = ROOT) {
  /** @param {string} p */
  const packages = (p) => {
    try {
      return /** @type {Record<string, {version?: string, optional?: boolean}>} */ (JSON.parse(readFileSync(p, 'utf8')).packages ?? {});
    } catch {
      return null;
    }
  };
  const locked = packages(join(root, 'package-lock.json'));
  const installed = packages(join(root, 'node_modules', '.package-lock.json'));
  if (!locked || !installed) return false;
  for (const [path, entry] of Object.entries(locked)) {
    if (!path.startsWith('node_modules/')) continue;
    const have = installed[path];
    if (!have) {
      if (entry.optional) continue;
      return false;
    }
    if (have.version !== entry.version) return false;
  }
  return Object.keys(installed).every((path) => !path.startsWith('node_modules/') || path in locked);
}

export function ensureDependencies() {
  ensureNode();
  if (installedMatchesLock()) return;
  const modules = join(ROOT, 'node_modules');
  if (existsSync(modules) && lstatSync(modules).isSymbolicLink()) {
    // A worktree that borrows another checkout's install: `npm ci` here would empty that install
    // through the link (it did once, under every other worktree's feet). Leave it to its owner.
    say(`node_modules is a link (${realpathSync(modules)}) that does not match package-lock.json: run npm ci where it points.`);
    process.exit(1);
  }
  say('installing dependencies (npm ci)…');
  // Electron's binary is fetched separately (quickstart), so an offline machine still installs.
  run(NPM, ['ci', '--no-audit', '--no-fund'], { ELECTRON_SKIP_BINARY_DOWNLOAD: '1' });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) ensureDependencies();
