import { describe, expect, it } from 'vitest';
import { createBrowserLocalStore, type TabStorage } from './browser-local';

const S = 'WB176454720000000001';
const memory = (): TabStorage & { map: Map<string, string> } => {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => void map.set(k, v), removeItem: (k) => void map.delete(k) };
};
const reply = (key: string, text: string, customerId = 'cust-1') => ({
  kind: 'reply' as const,
  clientMessageId: key,
  conversationId: 'conv-1',
  customerId,
  payload: { sessionId: S, clientMessageId: key, text },
});

describe('browser local store (the desktop local contract in a browser, issue 15)', () => {
  it('answers UNAUTHENTICATED before open and VALIDATION_FAILED naming the field, never the value', async () => {
    const local = createBrowserLocalStore(memory());
    expect(await local.pending()).toMatchObject({ ok: false, error: { code: 'UNAUTHENTICATED' } });
    await local.open({ userId: 'u1' });
    const bad = await local.enqueue({
      ...reply('key-00001', 'x'),
      payload: { sessionId: 'nope', clientMessageId: 'key-00001', text: 'secret' },
    });
    expect(bad).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    expect(JSON.stringify(bad)).not.toContain('secret');
  });

  it('keeps the outbox in enqueue order, once per key, across a reload; failed keeps, sent and refused remove', async () => {
    const storage = memory();
    const a = createBrowserLocalStore(storage);
    await a.open({ userId: 'u1' });
    expect(await a.enqueue(reply('key-00001', 'one'))).toMatchObject({ ok: true, data: { id: 1, duplicate: false } });
    expect(await a.enqueue(reply('key-00002', 'two'))).toMatchObject({ ok: true, data: { id: 2, duplicate: false } });
    expect(await a.enqueue(reply('key-00001', 'one'))).toMatchObject({ ok: true, data: { id: 1, duplicate: true } });
    const b = createBrowserLocalStore(storage);
    await b.open({ userId: 'u1' });
    await b.settle({ id: 1, outcome: 'failed', code: 'INTERNAL' });
    const pending = await b.pending();
    expect(pending.ok && pending.data.map((e) => [e.clientMessageId, e.attempts])).toEqual([
      ['key-00001', 1],
      ['key-00002', 0],
    ]);
    await b.settle({ id: 1, outcome: 'sent' });
    await b.settle({ id: 2, outcome: 'refused', code: 'SESSION_CLOSED' });
    expect(await b.pending()).toEqual({ ok: true, data: [] });
  });

  it('keeps whether a draft was typed as an internal note, across a reload of the tab', async () => {
    const storage = memory();
    const a = createBrowserLocalStore(storage);
    await a.open({ userId: 'u1' });
    await a.saveDraft({ conversationId: 'conv-1', customerId: 'cust-1', text: 'VIP, be careful', note: true });
    await a.saveDraft({ conversationId: 'conv-2', customerId: 'cust-2', text: 'Hello!' });
    const reloaded = createBrowserLocalStore(storage);
    await reloaded.open({ userId: 'u1' });
    expect(await reloaded.draft({ conversationId: 'conv-1' })).toMatchObject({ ok: true, data: { text: 'VIP, be careful', note: true } });
    expect(await reloaded.draft({ conversationId: 'conv-2' })).toMatchObject({ ok: true, data: { text: 'Hello!', note: false } });
  });

  it("erases another agent's drafts and outbox when a different agent signs in on the tab", async () => {
    const storage = memory();
    const a = createBrowserLocalStore(storage);
    await a.open({ userId: 'u1' });
    await a.saveDraft({ conversationId: 'conv-1', customerId: 'cust-1', text: 'half' });
    await a.enqueue(reply('key-00001', 'one'));
    const b = createBrowserLocalStore(storage);
    expect(await b.open({ userId: 'u2' })).toEqual({ ok: true, data: { erasedPrevious: true } });
    expect(await b.draft({ conversationId: 'conv-1' })).toEqual({ ok: true, data: null });
    expect(await b.pending()).toEqual({ ok: true, data: [] });
  });

  it('keeps the last 10 interactions, a newer copy of a seq replacing the older', async () => {
    const local = createBrowserLocalStore(memory());
    await local.open({ userId: 'u1' });
    const m = (seq: number, text: string) => ({
      id: `m${seq}`,
      sessionId: S,
      conversationId: 'conv-1',
      seq,
      direction: 'in' as const,
      channel: 'WB' as const,
      authorId: null,
      author: 'customer' as const,
      sentAt: '2026-11-26T10:00:00Z',
      receivedAt: '2026-11-26T10:00:00Z',
      kind: 'text' as const,
      body: { text },
    });
    const saved = await local.saveHistory({
      conversationId: 'conv-1',
      customerId: 'cust-1',
      messages: Array.from({ length: 12 }, (_, i) => m(i + 1, `t${i + 1}`)),
    });
    expect(saved).toEqual({ ok: true, data: { kept: 10 } });
    await local.saveHistory({ conversationId: 'conv-1', customerId: 'cust-1', messages: [m(12, 'with OCR')] });
    const h = await local.history({ conversationId: 'conv-1' });
    expect(h.ok && h.data.map((x) => x.seq)).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(h.ok && (h.data.at(-1) as unknown as { body: { text: string } }).body.text).toBe('with OCR');
    await local.eraseCustomers({ customerIds: ['cust-1'] });
    expect(await local.history({ conversationId: 'conv-1' })).toEqual({ ok: true, data: [] });
  });
});
