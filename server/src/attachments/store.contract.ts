import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionStore } from '../sessions/store';
import type { AttachmentStore, NewAttachment } from './store';

export interface AttachmentStoreHarness {
  store: AttachmentStore;
  /** The session store the customers and messages live in (the attachment store reads their data keys). */
  sessions: SessionStore;
  /** Every file the adapter keeps data in, to look for plaintext at rest (empty for a store with no files). */
  files(): string[];
  cleanup(): Promise<void>;
}

/** A distinctive run of bytes that must never appear in a file at rest. */
export const MARKER = 'HUILIU-PLAINTEXT-MARKER-7f3a9c';

let counter = 0;
const newId = () => randomBytes(16).toString('hex');

/** Stores a customer's image message in `sessions` and returns the attachment to put for it. */
export async function imageMessage(
  sessions: SessionStore,
  options: { externalId?: string; bytes?: Buffer; ocr?: 'pending' | 'skipped' } = {},
): Promise<NewAttachment> {
  const id = newId();
  const bytes = options.bytes ?? Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.from(MARKER), randomBytes(64)]);
  const t = new Date().toISOString();
  const { envelope } = await sessions.appendInbound(
    {
      identity: { channel: 'AP', externalId: options.externalId ?? `app:contract-${++counter}` },
      content: { kind: 'image', body: { attachmentId: id, mime: 'image/png', size: bytes.length } },
      critical: true,
      clientMessageId: `img-${counter}-${id.slice(0, 8)}`,
      sentAt: t,
      receivedAt: t,
      meta: {},
    },
    { skillGroup: 'general' },
  );
  return {
    id,
    customerId: envelope.customerId,
    sessionId: envelope.sessionId,
    conversationId: envelope.conversationId,
    messageId: envelope.id,
    mime: 'image/png',
    bytes,
    width: 7,
    height: 5,
    ocr: options.ocr ?? 'pending',
  };
}

/** The AttachmentStore contract: every adapter passes the same suite. */
export function attachmentStoreContract(name: string, factory: () => Promise<AttachmentStoreHarness>): void {
  describe(`AttachmentStore contract: ${name}`, () => {
    let h: AttachmentStoreHarness;
    beforeEach(async () => {
      h = await factory();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('stores an image and gives back its record and exact bytes', async () => {
      const a = await imageMessage(h.sessions);
      const { record, created } = await h.store.put(a);
      expect(created).toBe(true);
      expect(record).toMatchObject({
        id: a.id,
        customerId: a.customerId,
        sessionId: a.sessionId,
        messageId: a.messageId,
        mime: 'image/png',
        size: a.bytes.length,
        width: 7,
        height: 5,
        ocr: { status: 'pending' },
      });
      expect((await h.store.bytes(a.id))!.equals(a.bytes)).toBe(true);
      expect(await h.store.get(a.id)).toEqual(record);
      expect(await h.store.ofMessage(a.messageId)).toEqual(record);
    });

    it('stores an id once: a retried put changes nothing and says so', async () => {
      const a = await imageMessage(h.sessions);
      const first = await h.store.put(a);
      const again = await h.store.put({ ...a, bytes: Buffer.from('other bytes') });
      expect(again.created).toBe(false);
      expect(again.record).toEqual(first.record);
      expect((await h.store.bytes(a.id))!.equals(a.bytes)).toBe(true);
    });

    it('derives the same id from the same parts, another from other parts, revealing none of them', () => {
      const id = h.store.idFor('AP', 'shop:user-1', 'cm-1', 'sha256-of-bytes');
      expect(id).toMatch(/^[0-9a-f]{32}$/);
      expect(h.store.idFor('AP', 'shop:user-1', 'cm-1', 'sha256-of-bytes')).toBe(id);
      expect(h.store.idFor('AP', 'shop:user-1', 'cm-2', 'sha256-of-bytes')).not.toBe(id);
      // Parts are joined unambiguously: moving a character between parts changes the id.
      expect(h.store.idFor('AP', 'shop:user-1c', 'm-1', 'sha256-of-bytes')).not.toBe(id);
    });

    it('answers null for an unknown id', async () => {
      expect(await h.store.get(newId())).toBeNull();
      expect(await h.store.bytes(newId())).toBeNull();
      expect(await h.store.ofMessage('00000000-0000-7000-8000-000000000000')).toBeNull();
    });

    it('keeps neither the image bytes nor the OCR text readable at rest', async () => {
      const a = await imageMessage(h.sessions);
      await h.store.put(a);
      await h.store.saveOcr(a.id, { status: 'done', text: `Receipt ${MARKER.toLowerCase()} 13812345678`, lang: 'en', confidence: 91 });
      for (const file of h.files()) {
        const { readFileSync } = await import('node:fs');
        const content = readFileSync(file);
        expect(content.includes(Buffer.from(MARKER)), file).toBe(false);
        expect(content.includes(Buffer.from(MARKER.toLowerCase())), file).toBe(false);
        expect(content.includes(Buffer.from('13812345678')), file).toBe(false);
      }
    });

    it('records OCR text, language and confidence, and gives the text back', async () => {
      const a = await imageMessage(h.sessions);
      await h.store.put(a);
      const saved = await h.store.saveOcr(a.id, { status: 'done', text: '我的订单 88990011', lang: 'zh', confidence: 88.5 });
      expect(saved.ocr).toMatchObject({ status: 'done', lang: 'zh', confidence: 88.5 });
      const texts = await h.store.ocrText([a.id, newId()]);
      expect([...texts.keys()]).toEqual([a.id]);
      expect(texts.get(a.id)).toMatchObject({ status: 'done', text: '我的订单 88990011', lang: 'zh', confidence: 88.5 });
    });

    it('records a failed or skipped read without text', async () => {
      const a = await imageMessage(h.sessions);
      await h.store.put(a);
      expect((await h.store.saveOcr(a.id, { status: 'failed' })).ocr.status).toBe('failed');
      expect((await h.store.ocrText([a.id])).get(a.id)).toEqual(expect.objectContaining({ status: 'failed' }));
      expect((await h.store.ocrText([a.id])).get(a.id)?.text).toBeUndefined();
      await expect(h.store.saveOcr(newId(), { status: 'failed' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    });

    it('finds images by every term of a query, newest first, and pages with a cursor', async () => {
      const texts = ['Order 88990011 charged twice', '订单 88990011 物流信息', 'Refund request for order 12345'];
      const stored = [];
      for (const text of texts) {
        const a = await imageMessage(h.sessions);
        await h.store.put(a);
        await h.store.saveOcr(a.id, { status: 'done', text, lang: 'en', confidence: 90 });
        stored.push(a.id);
        // Distinct creation times, so newest-first order is defined.
        await new Promise((r) => setTimeout(r, 5));
      }
      expect((await h.store.search('88990011', { limit: 10 })).map((r) => r.id)).toEqual([stored[1], stored[0]]);
      expect((await h.store.search('ORDER charged', { limit: 10 })).map((r) => r.id)).toEqual([stored[0]]);
      expect((await h.store.search('物流', { limit: 10 })).map((r) => r.id)).toEqual([stored[1]]);
      expect(await h.store.search('charge', { limit: 10 })).toEqual([]);
      expect(await h.store.search('!!', { limit: 10 })).toEqual([]);
      const [first] = await h.store.search('order', { limit: 1 });
      expect(first!.id).toBe(stored[2]);
      const next = await h.store.search('order', { limit: 10, before: { createdAt: first!.createdAt, id: first!.id } });
      expect(next.map((r) => r.id)).toEqual([stored[0]]);
    });

    it('forgets the old terms when an image is read again', async () => {
      const a = await imageMessage(h.sessions);
      await h.store.put(a);
      await h.store.saveOcr(a.id, { status: 'done', text: 'first reading', lang: 'en', confidence: 50 });
      await h.store.saveOcr(a.id, { status: 'done', text: 'second reading', lang: 'en', confidence: 80 });
      expect(await h.store.search('first', { limit: 10 })).toEqual([]);
      expect((await h.store.search('second', { limit: 10 })).map((r) => r.id)).toEqual([a.id]);
    });

    it('lists images still waiting for OCR, oldest first', async () => {
      const waiting = await imageMessage(h.sessions);
      const off = await imageMessage(h.sessions, { ocr: 'skipped' });
      const read = await imageMessage(h.sessions);
      for (const a of [waiting, off, read]) await h.store.put(a);
      await h.store.saveOcr(read.id, { status: 'done', text: 'x', lang: 'en', confidence: 1 });
      expect((await h.store.pendingOcr(10)).map((r) => r.id)).toEqual([waiting.id]);
    });
  });
}
