import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureTlsMaterial } from '../../server/src/tls/certificates';
import { DEFAULT_FOCUS_HOTKEY, electronFingerprint, PreferenceStore, resolveSettings } from './settings';

describe('desktop settings', () => {
  it('defaults to the local companion server and pins its generated CA', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-desk-'));
    await ensureTlsMaterial(join(dataDir, 'tls'), ['127.0.0.1']);
    const s = resolveSettings({ HUILIU_DATA_DIR: dataDir }, '/nowhere');
    expect(s.serverUrl.toString()).toBe('https://127.0.0.1:8443/');
    expect(s.caFingerprint).toBe(electronFingerprint(readFileSync(join(dataDir, 'tls', 'ca.pem'), 'utf8')));
    expect(s.caFingerprint).toMatch(/^sha256\/[A-Za-z0-9+/]{43}=$/);
  });

  it('uses the system trust store when there is no CA file, and refuses plain HTTP', () => {
    expect(resolveSettings({ HUILIU_SERVER_URL: 'https://cs.example.com' }, '/nowhere').caFingerprint).toBeNull();
    expect(() => resolveSettings({ HUILIU_SERVER_URL: 'http://cs.example.com' }, '/')).toThrow(/only talks HTTPS/);
  });
});

describe('remembered preferences (zoom, hotkey)', () => {
  const memoryFiles = (initial?: string) => {
    const files = new Map<string, string>(initial === undefined ? [] : [['/p.json', initial]]);
    return {
      files,
      read: (p: string) => {
        const v = files.get(p);
        if (v === undefined) throw new Error('ENOENT');
        return v;
      },
      write: (p: string, text: string) => void files.set(p, text),
    };
  };

  it('starts with defaults and writes through every change', () => {
    const fs = memoryFiles();
    const prefs = new PreferenceStore('/p.json', fs);
    expect(prefs.get()).toEqual({ zoomLevel: 0, focusHotkey: DEFAULT_FOCUS_HOTKEY });
    prefs.set({ zoomLevel: 1.5 });
    expect(new PreferenceStore('/p.json', fs).get().zoomLevel).toBe(1.5);
  });

  it('falls back per field on a damaged file, and refuses a bad value', () => {
    expect(new PreferenceStore('/p.json', memoryFiles('{"zoomLevel": 99, "focusHotkey": "Ctrl+Alt+K"}')).get()).toEqual({
      zoomLevel: 0,
      focusHotkey: 'Ctrl+Alt+K',
    });
    expect(new PreferenceStore('/p.json', memoryFiles('not json')).get().focusHotkey).toBe(DEFAULT_FOCUS_HOTKEY);
    const fs = memoryFiles();
    const prefs = new PreferenceStore('/p.json', fs);
    expect(() => prefs.set({ zoomLevel: Number.NaN, focusHotkey: 'rm -rf' })).toThrow();
    expect(fs.files.size).toBe(0);
    expect(new PreferenceStore('/p.json', memoryFiles('{"focusHotkey": "H"}')).get().focusHotkey).toBe(DEFAULT_FOCUS_HOTKEY);
  });

  it('writes a real file atomically', () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-prefs-'));
    const file = join(dir, 'preferences.json');
    new PreferenceStore(file).set({ focusHotkey: 'Alt+Shift+J' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ zoomLevel: 0, focusHotkey: 'Alt+Shift+J' });
    expect(new PreferenceStore(file).get().focusHotkey).toBe('Alt+Shift+J');
  });
});
