import { existsSync, readFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type * as esbuild from 'esbuild';
import YAML from 'yaml';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(import.meta.url);
const config = YAML.parse(readFileSync(join(ROOT, 'electron-builder.yml'), 'utf8')) as Record<string, any>;
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Record<string, any>;

describe('electron-builder.yml (Windows nsis, macOS dmg)', () => {
  it("passes electron-builder's own schema validation", async () => {
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
      validateConfiguration: (c: unknown, logger: { isEnabled: boolean; add(): void }) => Promise<void>;
    };
    await expect(validateConfiguration(config, { isEnabled: false, add: () => undefined })).resolves.toBeUndefined();
    await expect(
      validateConfiguration({ ...config, mac: { ...config.mac, hardendRuntime: true } }, { isEnabled: false, add: () => undefined }),
    ).rejects.toThrow();
  });

  it('targets nsis on Windows and a hardened-runtime dmg on macOS', () => {
    expect(config.win.target.map((t: { target: string }) => t.target)).toEqual(['nsis']);
    // zip next to the dmg: electron-updater installs macOS updates from the zip.
    expect(config.mac.target.map((t: { target: string }) => t.target)).toEqual(['dmg', 'zip']);
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(readFileSync(join(ROOT, config.mac.entitlements), 'utf8')).toContain('com.apple.security.cs.allow-jit');
  });

  it('targets x64 and arm64 on both platforms', () => {
    for (const t of [...config.win.target, ...config.mac.target]) expect(t.arch).toEqual(['x64', 'arm64']);
  });

  it('packages the bundled main process that package.json names', () => {
    expect(pkg.main).toBe('app/main/dist/main.cjs');
    expect(config.files).toContain('app/main/dist/**/*');
    expect(config.files).toContain('!node_modules/**');
    // The Windows taskbar badge image is loaded from app/main/assets at run time.
    expect(config.files).toContain('app/main/assets/**/*');
    expect(existsSync(join(ROOT, 'app', 'main', 'assets', 'badge.png'))).toBe(true);
  });

  it('has an icon large enough for both platforms (≥ 512 px PNG)', () => {
    for (const icon of [config.win.icon, config.mac.icon]) {
      const png = readFileSync(join(ROOT, icon));
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(512);
      expect(png.readUInt32BE(20)).toBeGreaterThanOrEqual(512);
    }
    expect(existsSync(join(ROOT, 'build', 'icon.svg'))).toBe(true);
  });
});

describe("electron-builder.yml: the local store's native module (issue 15)", () => {
  // electron-builder's own matcher, fed the yml's `files`, decides what goes into the package.
  const { FileMatcher } = require('app-builder-lib/out/fileMatcher') as {
    FileMatcher: new (
      from: string,
      to: string,
      expand: (s: string) => string,
      patterns: string[],
    ) => {
      createFilter(): (file: string, stat: { isDirectory(): boolean }) => boolean;
    };
  };
  const packaged = new FileMatcher(ROOT, '/package', (s) => s, config.files).createFilter();
  const isPackaged = (rel: string) => packaged(join(ROOT, rel), { isDirectory: () => false });

  it('ships better-sqlite3 (binding, JS, package.json) with bindings and file-uri-to-path, and no other module', () => {
    for (const rel of [
      'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      'node_modules/better-sqlite3/lib/index.js',
      'node_modules/better-sqlite3/package.json',
      'node_modules/bindings/bindings.js',
      'node_modules/file-uri-to-path/index.js',
      'app/main/dist/main.cjs',
      'app/main/assets/tray.png',
    ])
      expect(isPackaged(rel), rel).toBe(true);
    for (const rel of [
      'node_modules/fastify/package.json',
      'node_modules/better-sqlite3/src/better_sqlite3.cpp',
      'node_modules/better-sqlite3/deps/sqlite3/sqlite3.c',
      'server/src/main.ts',
      'app/main/dist/main.cjs.map',
    ])
      expect(isPackaged(rel), rel).toBe(false);
    // The modules main.cjs requires at run time are exactly the ones shipped.
    for (const dep of Object.keys(require(join(ROOT, 'node_modules/better-sqlite3/package.json')).dependencies))
      if (dep !== 'prebuild-install') expect(isPackaged(`node_modules/${dep}/package.json`), dep).toBe(true);
  });

  it('unpacks it from the asar and rebuilds it for Electron', () => {
    expect(config.asarUnpack).toContain('node_modules/better-sqlite3/**/*');
    expect(config.npmRebuild).toBe(true);
    expect(readFileSync(join(ROOT, 'app/main/build.mjs'), 'utf8')).toMatch(/external: \[\.\.\.common\.external, 'better-sqlite3'\]/);
  });

  it('has tray icons for Windows and a macOS template image', () => {
    for (const icon of ['tray.png', 'trayTemplate.png', 'trayTemplate@2x.png'])
      expect(
        readFileSync(join(ROOT, 'app/main/assets', icon))
          .subarray(1, 4)
          .toString(),
        icon,
      ).toBe('PNG');
  });

  it('writes a generic update feed for electron-updater', () => {
    expect(config.publish).toMatchObject({ provider: 'generic' });
    expect(new URL(config.publish.url).protocol).toBe('https:');
  });

  it('bundles electron-updater into main.cjs: the only packages left to require are electron and better-sqlite3', async () => {
    const { build } = require('esbuild') as typeof esbuild;
    const result = await build({
      absWorkingDir: ROOT,
      entryPoints: ['app/main/index.ts'],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['electron', 'better-sqlite3'],
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.some((f) => f.includes('node_modules/electron-updater/'))).toBe(true);
    expect(inputs).toContain('app/main/updater.ts');

    // Every require() left in the bundle is a Node built-in, electron or better-sqlite3.
    const required = new Set([...result.outputFiles[0]!.text.matchAll(/\brequire\("([^"]+)"\)/g)].map((m) => m[1]!.replace(/^node:/, '')));
    expect([...required].filter((p) => !builtinModules.includes(p)).sort()).toEqual(['better-sqlite3', 'electron']);
    // main.cjs is built with the same externals.
    expect(readFileSync(join(ROOT, 'app/main/build.mjs'), 'utf8')).not.toMatch(/electron-updater/);
  });
});
