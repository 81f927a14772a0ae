import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyAdminStatus } from '../src/keys/rewrap';
import { startTestServer, type TestServer } from './support/harness';

/**
 * KEK rotation without downtime on the embedded default (local key file, issue 14): an admin rotates
 * while customers write and the app reads their conversations; every read succeeds throughout, every
 * data key ends wrapped by the new KEK, the old one can then be retired, and nothing is lost.
 */
describe('KEK rotation (local key file)', () => {
  let s: TestServer;
  let admin: string;
  const conversations = new Map<string, string>();

  const post = (externalId: string, text: string, id: string) =>
    s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId }, text, clientMessageId: id },
    });
  const read = async (externalId: string) => {
    const res = await s.app.inject({
      url: `/api/v1/channels/app/messages?externalId=${externalId}&conversationId=${conversations.get(externalId)}&afterSeq=0`,
      headers: { 'x-huiliu-key': 'demo-app-key' },
    });
    return { status: res.statusCode, texts: JSON.stringify(res.json()) };
  };
  const status = async (token = admin) => s.app.inject({ url: '/api/v1/admin/keys', headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    // The local key file's rotation (files kek.key, kek-<id>.key): pinned in every lane; the PKCS#11
    // rotation is the case in keys-pkcs11.test.ts.
    s = await startTestServer({ HUILIU_KEYS: 'local' });
    admin = await s.login('admin');
    for (let i = 0; i < 40; i++) {
      const res = await post(`rot-${i}`, `rotation text ${i}`, `rot-${i}-a`);
      expect(res.statusCode).toBe(202);
      conversations.set(`rot-${i}`, (res.json() as { conversationId: string }).conversationId);
    }
  });
  afterAll(() => s.cleanup());

  it('shows admins the current KEK and how many data keys it wraps; agents and leads get 403', async () => {
    const res = await status();
    expect(res.statusCode).toBe(200);
    const body = res.json() as KeyAdminStatus;
    expect(body.provider).toBe('local');
    expect(body.keks).toEqual([{ kekId: body.current, current: true, wrappedKeys: expect.any(Number) }]);
    // 40 customers, the blind index, the demo channel accounts' secrets, the visitor-token key...
    expect(body.keks[0]!.wrappedKeys).toBeGreaterThanOrEqual(40);
    expect(body.orphaned).toBe(0);
    for (const user of ['agent1', 'lead']) {
      const token = await s.login(user);
      expect((await status(token)).statusCode).toBe(403);
      const rotate = await s.app.inject({
        method: 'POST',
        url: '/api/v1/admin/keys/rotate',
        headers: { authorization: `Bearer ${token}` },
      });
      expect(rotate.statusCode).toBe(403);
    }
  });

  it('rotates while customers write and read: every read succeeds, every data key moves to the new KEK', async () => {
    const before = (await status()).json() as KeyAdminStatus;
    const rotated = await s.app.inject({ method: 'POST', url: '/api/v1/admin/keys/rotate', headers: { authorization: `Bearer ${admin}` } });
    expect(rotated.statusCode).toBe(202);
    const after = rotated.json() as KeyAdminStatus;
    expect(after.current).not.toBe(before.current);
    // Meanwhile: reads of every conversation and new messages (new customers get keys under the new KEK).
    const reads = await Promise.all([...conversations.keys()].map((id) => read(id)));
    for (const [i, r] of reads.entries()) {
      expect(r.status).toBe(200);
      expect(r.texts).toContain(`rotation text ${i}`);
    }
    for (let i = 0; i < 5; i++) expect((await post(`rot-new-${i}`, `after rotation ${i}`, `rot-new-${i}`)).statusCode).toBe(202);
    await s.services.keyRotation.settled();
    const done = (await status()).json() as KeyAdminStatus;
    expect(done.rewrap).toMatchObject({ running: false, failed: 0 });
    expect(done.keks).toEqual([
      { kekId: after.current, current: true, wrappedKeys: before.keks[0]!.wrappedKeys + 5 },
      { kekId: before.current, current: false, wrappedKeys: 0 },
    ]);
  });

  it('refuses to retire the current KEK or a malformed id, then retires the old one; everything still reads', async () => {
    const current = ((await status()).json() as KeyAdminStatus).keks;
    const retire = (kekId: string) =>
      s.app.inject({
        method: 'POST',
        url: `/api/v1/admin/keys/${encodeURIComponent(kekId)}/retire`,
        headers: { authorization: `Bearer ${admin}` },
      });
    expect((await retire(current[0]!.kekId)).json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    expect((await retire('../../kek.key')).statusCode).toBe(400);
    const res = await retire(current[1]!.kekId);
    expect(res.statusCode).toBe(200);
    expect((res.json() as KeyAdminStatus).keks).toHaveLength(1);
    expect(readdirSync(join(s.dataDir, 'keys')).filter((f) => f.startsWith('kek'))).toEqual(['kek.key']);
    for (const id of conversations.keys()) expect((await read(id)).status).toBe(200);
  });

  it('ends with every data key under the newest KEK after rotations in quick succession, and refuses to retire while re-wrapping', async () => {
    const rotate = () => s.app.inject({ method: 'POST', url: '/api/v1/admin/keys/rotate', headers: { authorization: `Bearer ${admin}` } });
    const answers = await Promise.all([rotate(), rotate(), rotate()]);
    expect(answers.map((r) => r.statusCode)).toEqual([202, 202, 202]);
    const during = (await status()).json() as KeyAdminStatus;
    if (during.rewrap.running) {
      const old = during.keks.find((k) => !k.current)!;
      const res = await s.app.inject({
        method: 'POST',
        url: `/api/v1/admin/keys/${old.kekId}/retire`,
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(res.json()).toMatchObject({ error: { code: 'KEK_IN_USE' } });
    }
    await s.services.keyRotation.settled();
    const done = (await status()).json() as KeyAdminStatus;
    expect(done.rewrap).toMatchObject({ running: false, failed: 0 });
    for (const k of done.keks.filter((k) => !k.current)) expect(k.wrappedKeys, k.kekId).toBe(0);
    // Retire them all: what is left reads.
    for (const k of done.keks.filter((k) => !k.current)) {
      const res = await s.app.inject({
        method: 'POST',
        url: `/api/v1/admin/keys/${k.kekId}/retire`,
        headers: { authorization: `Bearer ${admin}` },
      });
      expect(res.statusCode).toBe(200);
    }
    for (const id of conversations.keys()) expect((await read(id)).status).toBe(200);
  });

  it('refuses to retire a KEK that still wraps data keys (KEK_IN_USE)', async () => {
    // Rotate and retire before the background re-wrap could start its work is impossible to time,
    // so stop it first: then the old KEK still wraps everything.
    await s.services.keyRotation.stop();
    const rotated = (
      await s.app.inject({ method: 'POST', url: '/api/v1/admin/keys/rotate', headers: { authorization: `Bearer ${admin}` } })
    ).json() as KeyAdminStatus;
    await s.services.keyRotation.settled();
    const old = rotated.keks.find((k) => !k.current)!;
    expect(old.wrappedKeys).toBeGreaterThan(0);
    const res = await s.app.inject({
      method: 'POST',
      url: `/api/v1/admin/keys/${old.kekId}/retire`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ error: { code: 'KEK_IN_USE' } });
    expect(existsSync(join(s.dataDir, 'keys', `kek-${old.kekId.slice('local:'.length)}.key`))).toBe(true);
  });
});
