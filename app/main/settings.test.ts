import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureTlsMaterial } from '../../server/src/tls/certificates';
import { electronFingerprint, resolveSettings } from './settings';

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
