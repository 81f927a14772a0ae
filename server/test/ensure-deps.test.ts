import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain JavaScript module (it runs before TypeScript tooling is installed)
import { installedMatchesLock } from '../scripts/ensure-deps.mjs';

/**
 * `npm start` / `npm test` install only when node_modules differs from package-lock.json. The check
 * compares contents: a worktree's fresh package-lock.json mtime once made quickstart run `npm ci`
 * through a node_modules link and empty the install it pointed to.
 */
describe('installedMatchesLock (server/scripts/ensure-deps.mjs)', () => {
  const roots: string[] = [];
  afterEach(() => {
    for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
  });

  function checkout(locked: Record<string, object>, installed: Record<string, object> | null): string {
    const root = mkdtempSync(join(tmpdir(), 'huiliu-deps-'));
    roots.push(root);
    writeFileSync(join(root, 'package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: { '': { name: 'x' }, ...locked } }));
    if (installed) {
      mkdirSync(join(root, 'node_modules'));
      writeFileSync(join(root, 'node_modules', '.package-lock.json'), JSON.stringify({ lockfileVersion: 3, packages: installed }));
    }
    return root;
  }

  const lock = {
    'node_modules/zod': { version: '4.1.12' },
    'node_modules/@esbuild/win32-x64': { version: '0.28.2', optional: true },
  };

  it('matches when every locked package is installed at its version, whatever the mtimes', () => {
    const root = checkout(lock, { 'node_modules/zod': { version: '4.1.12' } });
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(root, 'package-lock.json'), later, later);
    expect(installedMatchesLock(root)).toBe(true);
  });

  it('does not match a changed version, a missing package, an extra package or no install', () => {
    expect(installedMatchesLock(checkout(lock, { 'node_modules/zod': { version: '4.1.11' } }))).toBe(false);
    expect(
      installedMatchesLock(checkout({ ...lock, 'node_modules/ws': { version: '8.18.3' } }, { 'node_modules/zod': { version: '4.1.12' } })),
    ).toBe(false);
    expect(
      installedMatchesLock(checkout(lock, { 'node_modules/zod': { version: '4.1.12' }, 'node_modules/left-pad': { version: '1.3.0' } })),
    ).toBe(false);
    expect(installedMatchesLock(checkout(lock, null))).toBe(false);
  });

  it('matches this repository as installed', () => {
    expect(installedMatchesLock()).toBe(true);
  });
});
