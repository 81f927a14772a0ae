import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/logging/logger';
import type { KeyAdminStatus } from '../src/keys/rewrap';
import { startServer, type RunningServer } from '../src/main';
import { createSoftHsmToken } from './support/softhsm';

/**
 * The whole server on a PKCS#11 KEK (issue 14): SoftHSM2 from Debian, a token the test initialises,
 * `HUILIU_KEYS=pkcs11`. The server creates its KEK on the token at first start; messages are sealed
 * with data keys it wraps; after warm-up no message costs a call into the module; no secret is left
 * in a plain file; a restart reads everything back through the token.
 */
const token = createSoftHsmToken();
const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-pkcs11-'));
const MARKER = 'pkcs11-marker-7f3a91';
afterAll(() => {
  rmSync(dataDir, { recursive: true, force: true });
  token.cleanup();
});

async function start(): Promise<RunningServer> {
  const config = loadConfig({
    env: { HUILIU_DATA_DIR: dataDir, HUILIU_PORT: '0', HUILIU_LOG_LEVEL: 'silent', HUILIU_KEYS: 'pkcs11', ...token.env },
    argv: ['--demo'],
    cwd: process.cwd(),
  });
  return startServer(config, createLogger({ level: 'silent' }));
}

const providerCalls = async (s: RunningServer): Promise<number> => {
  const text = (await s.app.inject({ url: '/metrics' })).body;
  const line = text.split('\n').find((l) => l.startsWith('huiliu_key_provider_calls_total{provider="pkcs11"}'));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

const post = (s: RunningServer, externalId: string, text: string, id: string) =>
  s.app.inject({
    method: 'POST',
    url: '/api/v1/channels/app/messages',
    headers: { 'x-huiliu-key': 'demo-app-key' },
    payload: { customer: { externalId }, text, clientMessageId: id },
  });

const poll = async (s: RunningServer, externalId: string, conversationId: string) => {
  const res = await s.app.inject({
    url: `/api/v1/channels/app/messages?externalId=${externalId}&conversationId=${conversationId}&afterSeq=0`,
    headers: { 'x-huiliu-key': 'demo-app-key' },
  });
  expect(res.statusCode).toBe(200);
  // The customer's own messages (the poll also returns the server's replies and notices).
  return (res.json() as { messages: unknown[] }).messages.filter((m) => JSON.stringify(m).includes(MARKER));
};

describe('the server on a PKCS#11 KEK (SoftHSM2)', () => {
  let conversationId = '';

  it('seals messages with wrapped data keys and calls the module 0 times per message after warm-up', async () => {
    const s = await start();
    try {
      const first = await post(s, 'hsm-customer', `${MARKER} first`, 'hsm-0');
      expect(first.statusCode).toBe(202);
      conversationId = (first.json() as { conversationId: string }).conversationId;
      // Warm-up: the customer's data key is created by the writer thread, and unwrapped once by the
      // main thread at its first read of that customer (the poll, the AI's look at the message).
      await poll(s, 'hsm-customer', conversationId);
      expect((await post(s, 'hsm-customer', `${MARKER} warm`, 'hsm-warm')).statusCode).toBe(202);
      await poll(s, 'hsm-customer', conversationId);
      const warm = await providerCalls(s);
      expect(warm).toBeGreaterThan(0);
      for (let i = 1; i <= 30; i++) expect((await post(s, 'hsm-customer', `${MARKER} ${i}`, `hsm-${i}`)).statusCode).toBe(202);
      expect(await poll(s, 'hsm-customer', conversationId)).toHaveLength(32);
      expect(await providerCalls(s)).toBe(warm);
    } finally {
      await s.close();
    }
  });

  it('leaves no key or secret in a plain file (KEK, visitor-token key, TLS keys), and no message text in the database files', () => {
    const keysDir = join(dataDir, 'keys');
    expect(existsSync(join(keysDir, 'kek.key'))).toBe(false);
    expect(existsSync(join(keysDir, 'visitor.key'))).toBe(false);
    expect(existsSync(join(keysDir, 'visitor.key.wrapped'))).toBe(true);
    // The TLS private keys are sealed under a data key the token wraps; the certificates stay plain.
    const tlsDir = join(dataDir, 'tls');
    expect(readdirSync(tlsDir).sort()).toEqual(['ca-key.pem.sealed', 'ca.pem', 'server-key.pem.sealed', 'server.pem']);
    for (const f of ['ca-key.pem.sealed', 'server-key.pem.sealed'])
      expect(readFileSync(join(tlsDir, f)).includes('PRIVATE KEY')).toBe(false);
    for (const f of readdirSync(dataDir).filter((f) => f.startsWith('huiliu.db'))) {
      expect(readFileSync(join(dataDir, f)).includes(MARKER)).toBe(false);
    }
  });

  it('reads everything back after a restart, through the KEK on the token', async () => {
    const s = await start();
    try {
      const messages = await poll(s, 'hsm-customer', conversationId);
      expect(messages).toHaveLength(32);
      expect(JSON.stringify(messages)).toContain(`${MARKER} 30`);
    } finally {
      await s.close();
    }
  });

  it('rotates the KEK on the token, re-wraps every data key and wrapped file, retires the old KEK, and reads after a restart', async () => {
    let s = await start();
    let newKek: string;
    try {
      const login = await s.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { username: 'admin', password: 'huiliu-demo' },
      });
      const auth = { authorization: `Bearer ${(login.json() as { token: string }).token}` };
      const rotated = await s.app.inject({ method: 'POST', url: '/api/v1/admin/keys/rotate', headers: auth });
      expect(rotated.statusCode).toBe(202);
      const { current, keks } = rotated.json() as KeyAdminStatus;
      newKek = current;
      const old = keks.find((k) => !k.current)!;
      expect((await poll(s, 'hsm-customer', conversationId)).length).toBe(32);
      await s.services.keyRotation.settled();
      const done = (await s.app.inject({ url: '/api/v1/admin/keys', headers: auth })).json() as KeyAdminStatus;
      expect(done.keks.find((k) => k.kekId === old.kekId)!.wrappedKeys).toBe(0);
      expect(done.rewrap.failed).toBe(0);
      for (const f of ['visitor.key.wrapped', 'tls.key.wrapped']) {
        expect((JSON.parse(readFileSync(join(dataDir, 'keys', f), 'utf8')) as { kekId: string }).kekId).toBe(current);
      }
      const retired = await s.app.inject({ method: 'POST', url: `/api/v1/admin/keys/${old.kekId}/retire`, headers: auth });
      expect(retired.statusCode).toBe(200);
      expect((retired.json() as KeyAdminStatus).keks).toEqual([{ kekId: current, current: true, wrappedKeys: done.keks[0]!.wrappedKeys }]);
    } finally {
      await s.close();
    }
    s = await start();
    try {
      expect((await s.services.keyRotation.status()).current).toBe(newKek);
      expect(await poll(s, 'hsm-customer', conversationId)).toHaveLength(32);
    } finally {
      await s.close();
    }
  });
});
