import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sealText, TamperError } from '../crypto/aead';
import { createLocalKeyProvider } from '../keys/provider.local';
import { messageAad, openMessage, sealMessage, type MessageHeader } from './sqlite-rows';
import { draft } from './store.contract';
import { createSqliteSessionStore } from './store.sqlite';

/** Header values a channel can hand the store: each must read back as written (format 2 binds them into the AAD). */
const odd = {
  quotes: `"\\'"\`${'界'.repeat(20)}😀\u2028\u0085`.padEnd(128, 'é'),
  long: 'x'.repeat(4096),
  nul: 'id-\u0000-end',
};

describe('message record format 2: odd header values round-trip (SQLite)', () => {
  for (const writer of ['inline', 'worker'] as const)
    for (const [name, clientMessageId] of Object.entries(odd))
      it(`reads back a message whose client id is ${name} (${writer} writer)`, async () => {
        const dir = mkdtempSync(join(tmpdir(), 'huiliu-odd-'));
        const keys = createLocalKeyProvider(join(dir, 'keys'));
        const store = await createSqliteSessionStore({ path: join(dir, 'huiliu.db'), keys, writer });
        try {
          const sentAt = '2026-12-01T08:00:00.123+08:00';
          const { envelope } = await store.appendInbound(draft({ text: 'hi', clientMessageId, sentAt }), { skillGroup: 'general' });
          const [read] = await store.listMessages(envelope.conversationId);
          expect(read!.body).toEqual({ text: 'hi' });
          expect(read!.clientMessageId).toBe(envelope.clientMessageId);
          expect(read!.sentAt).toBe(envelope.sentAt);
        } finally {
          await store.shutdown();
          await keys.close();
          rmSync(dir, { recursive: true, force: true });
        }
      });

  // SQLite keeps a lone surrogate as other characters (three U+FFFD on read): sealed over the one, read
  // over the others, the row failed its integrity check and took its conversation's history down with it.
  for (const writer of ['inline', 'worker'] as const)
    it(`refuses a header with a lone surrogate and keeps the conversation readable (${writer} writer)`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'huiliu-odd-'));
      const keys = createLocalKeyProvider(join(dir, 'keys'));
      const store = await createSqliteSessionStore({ path: join(dir, 'huiliu.db'), keys, writer });
      try {
        const { envelope } = await store.appendInbound(draft({ text: 'first' }), { skillGroup: 'general' });
        await expect(
          store.appendInbound(draft({ text: 'second', clientMessageId: 'id-\ud800-end' }), { skillGroup: 'general' }),
        ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
        expect((await store.listMessages(envelope.conversationId)).map((m) => m.body)).toEqual([{ text: 'first' }]);
      } finally {
        await store.shutdown();
        await keys.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });
});

describe('message record format byte', () => {
  const header: MessageHeader = {
    id: 'm-1',
    conversationId: 'c-1',
    sessionId: 's-1',
    customerId: 'u-1',
    channel: 'WB',
    direction: 'in',
    kind: 'text',
    critical: true,
    clientMessageId: 'cm-1',
    authorId: null,
    authorKind: null,
    sentAt: '2026-12-01T00:00:00.000Z',
    receivedAt: '2026-12-01T00:00:00.000Z',
  };
  const withByte = (sealed: Buffer, v: number) => {
    const out = Buffer.from(sealed);
    out[0] = v;
    return out;
  };

  it('reads format 1 and 2 as sealed; any other byte, an upgrade 1 → 2, a downgrade 2 → 1 or a truncated record is refused', () => {
    const key = randomBytes(32);
    const v1 = sealText(key, '{"body":1}', messageAad(header.id));
    const v2 = sealMessage(key, '{"body":2}', header);
    expect([v1[0], v2[0]]).toEqual([1, 2]);
    expect(openMessage(key, v1, header)).toBe('{"body":1}');
    expect(openMessage(key, v2, header)).toBe('{"body":2}');
    for (const bad of [
      withByte(v1, 2),
      withByte(v2, 1),
      withByte(v1, 0),
      withByte(v2, 3),
      withByte(v2, 255),
      v2.subarray(0, 28),
      Buffer.alloc(0),
    ])
      expect(() => openMessage(key, bad, header)).toThrow(TamperError);
  });
});
