import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
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
    expect(config.mac.target.map((t: { target: string }) => t.target)).toEqual(['dmg']);
    expect(config.mac.hardenedRuntime).toBe(true);
    expect(readFileSync(join(ROOT, config.mac.entitlements), 'utf8')).toContain('com.apple.security.cs.allow-jit');
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
