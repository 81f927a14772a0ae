import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { open, seal } from '../crypto/aead';
import { ensureTlsMaterial, type SecretBox } from './certificates';

const dirs: string[] = [];
const fresh = () => {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-tls-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const boxOf = (key: Buffer): SecretBox => ({ seal: (p, aad) => seal(key, p, aad), open: (s, aad) => open(key, s, aad) });

describe('TLS material', () => {
  it('keeps the private keys in 0600 PEM files without a box, and the same material on the next start', async () => {
    const dir = fresh();
    const first = await ensureTlsMaterial(dir, ['127.0.0.1']);
    expect(first.keyPem).toContain('PRIVATE KEY');
    expect(statSync(join(dir, 'server-key.pem')).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'ca-key.pem')).mode & 0o777).toBe(0o600);
    const again = await ensureTlsMaterial(dir, ['127.0.0.1']);
    expect(again.caFingerprint256).toBe(first.caFingerprint256);
    expect(again.keyPem).toBe(first.keyPem);
  });

  it('with a box keeps them sealed only, and reads them back', async () => {
    const dir = fresh();
    const box = boxOf(randomBytes(32));
    const first = await ensureTlsMaterial(dir, ['127.0.0.1'], box);
    expect(existsSync(join(dir, 'server-key.pem'))).toBe(false);
    expect(existsSync(join(dir, 'ca-key.pem'))).toBe(false);
    expect(readFileSync(join(dir, 'server-key.pem.sealed')).includes('PRIVATE KEY')).toBe(false);
    const again = await ensureTlsMaterial(dir, ['127.0.0.1'], box);
    expect(again.keyPem).toBe(first.keyPem);
    expect(again.caFingerprint256).toBe(first.caFingerprint256);
  });

  it('seals the plain keys of an earlier start and removes them, keeping the same CA (pinned clients go on)', async () => {
    const dir = fresh();
    const plain = await ensureTlsMaterial(dir, ['127.0.0.1']);
    const sealed = await ensureTlsMaterial(dir, ['127.0.0.1'], boxOf(randomBytes(32)));
    expect(sealed.caFingerprint256).toBe(plain.caFingerprint256);
    expect(sealed.keyPem).toBe(plain.keyPem);
    expect(existsSync(join(dir, 'server-key.pem'))).toBe(false);
    expect(existsSync(join(dir, 'ca-key.pem'))).toBe(false);
  });

  it('refuses a sealed key that was altered or sealed under another key', async () => {
    const dir = fresh();
    const key = randomBytes(32);
    await ensureTlsMaterial(dir, ['127.0.0.1'], boxOf(key));
    await expect(ensureTlsMaterial(dir, ['127.0.0.1'], boxOf(randomBytes(32)))).rejects.toThrow();
    const path = join(dir, 'server-key.pem.sealed');
    const bytes = readFileSync(path);
    bytes[bytes.length - 5] = bytes[bytes.length - 5]! ^ 0x01;
    writeFileSync(path, bytes);
    await expect(ensureTlsMaterial(dir, ['127.0.0.1'], boxOf(key))).rejects.toThrow();
  });
});
