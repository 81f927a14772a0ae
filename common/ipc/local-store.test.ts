import { describe, expect, it } from 'vitest';
import { fail, ok, type Result } from '../errors/codes';
import { AcceleratorSchema, OfferNotifySchema } from './desktop-bridge';
import { drainOutbox, isRetryableCode, OutboxEnqueueSchema, type OutboxEntry, type OutboxPort, type OutboxSettle } from './local-store';

const SESSION = 'WB169208100012348213';
const reply = (id: number, text = `reply ${id}`): OutboxEntry => ({
  id,
  kind: 'reply',
  clientMessageId: `cmid-000${id}`,
  conversationId: 'conv-1',
  customerId: 'cust-1',
  payload: { sessionId: SESSION, clientMessageId: `cmid-000${id}`, text },
  enqueuedAt: 1000 + id,
  attempts: 0,
});

/** An in-memory outbox that records every settle, in order. */
function memoryPort(entries: OutboxEntry[]): OutboxPort & { settles: OutboxSettle[]; left: () => number[] } {
  const rows = new Map(entries.map((e) => [e.id, e]));
  const settles: OutboxSettle[] = [];
  return {
    settles,
    left: () => [...rows.keys()],
    pending: async () => [...rows.values()].sort((a, b) => a.id - b.id),
    settle: async (s) => {
      settles.push(s);
      if (s.outcome !== 'failed') rows.delete(s.id);
    },
  };
}

describe('drainOutbox (critical messages after a reconnect, DESIGN §7)', () => {
  it('sends oldest first with each entry’s own idempotency key', async () => {
    const port = memoryPort([reply(3), reply(1), reply(2)]);
    const seen: string[] = [];
    const report = await drainOutbox(port, async (e) => (seen.push(e.clientMessageId), ok({})));
    expect(seen).toEqual(['cmid-0001', 'cmid-0002', 'cmid-0003']);
    expect(report).toMatchObject({ sent: [1, 2, 3], refused: [], stoppedAt: null, remaining: 0 });
    expect(port.left()).toEqual([]);
  });

  it('stops at the first retryable failure and keeps it and everything after it', async () => {
    const port = memoryPort([reply(1), reply(2), reply(3)]);
    const answers: Result<unknown>[] = [ok({}), fail('OVERLOADED')];
    const report = await drainOutbox(port, async () => answers.shift()!);
    expect(report.sent).toEqual([1]);
    expect(report.stoppedAt).toMatchObject({ entry: { id: 2 }, code: 'OVERLOADED' });
    expect(report.remaining).toBe(2);
    expect(port.left()).toEqual([2, 3]);
    expect(port.settles.at(-1)).toEqual({ id: 2, outcome: 'failed', code: 'OVERLOADED' });
  });

  it('treats no answer (timeout, disconnect) as retryable', async () => {
    const port = memoryPort([reply(1), reply(2)]);
    const report = await drainOutbox(port, async () => Promise.reject(new Error('ack timeout')));
    expect(report.stoppedAt).toMatchObject({ entry: { id: 1 }, code: 'NO_ANSWER' });
    expect(port.left()).toEqual([1, 2]);
  });

  it('drops and reports a permanently refused entry, then goes on', async () => {
    const port = memoryPort([reply(1), reply(2), reply(3)]);
    const answers: Result<unknown>[] = [ok({}), fail('SESSION_CLOSED'), ok({})];
    const report = await drainOutbox(port, async () => answers.shift()!);
    expect(report.sent).toEqual([1, 3]);
    expect(report.refused.map((r) => [r.entry.id, r.code])).toEqual([[2, 'SESSION_CLOSED']]);
    expect(port.left()).toEqual([]);
  });

  it('classifies codes by the registry: server trouble and lapsed sign-in retry, refusals do not', () => {
    expect(['INTERNAL', 'OVERLOADED', 'RATE_LIMITED', 'SHUTTING_DOWN', 'UNAUTHENTICATED'].every((c) => isRetryableCode(c as never))).toBe(
      true,
    );
    expect(
      ['VALIDATION_FAILED', 'SESSION_CLOSED', 'NOT_ASSIGNED', 'CUSTOMER_ERASED', 'OFFER_TAKEN'].some((c) => isRetryableCode(c as never)),
    ).toBe(false);
  });
});

describe('bridge schemas of issue 15', () => {
  it('refuses a reply whose outbox key is not its clientMessageId, and unknown kinds', () => {
    const e = reply(1);
    expect(OutboxEnqueueSchema.safeParse({ ...e, clientMessageId: 'cmid-other' }).success).toBe(false);
    expect(OutboxEnqueueSchema.safeParse({ ...e, kind: 'typing' }).success).toBe(false);
    expect(OutboxEnqueueSchema.safeParse(e).success).toBe(true);
    expect(
      OutboxEnqueueSchema.safeParse({
        ...e,
        kind: 'wrap-up',
        clientMessageId: 'wrap-0001',
        payload: { sessionId: SESSION, wrapUpCode: 'resolved' },
      }).success,
    ).toBe(true);
  });

  it('takes accelerators with a modifier and one key only', () => {
    for (const ok of ['CommandOrControl+Shift+H', 'Alt+F4', 'Ctrl+Alt+Space', 'CmdOrCtrl+='])
      expect(AcceleratorSchema.safeParse(ok).success).toBe(true);
    for (const bad of ['H', 'Shift+', 'Ctrl+Shift+HH', 'Ctrl+Shift+H; rm -rf', ''])
      expect(AcceleratorSchema.safeParse(bad).success).toBe(false);
  });

  it('needs a session ID and an expiry on offer notifications', () => {
    expect(
      OfferNotifySchema.safeParse({ title: 'New', body: 'hi', sessionId: SESSION, expiresAt: '2026-11-30T10:00:20.000Z' }).success,
    ).toBe(true);
    expect(OfferNotifySchema.safeParse({ title: 'New', body: 'hi', sessionId: SESSION }).success).toBe(false);
  });
});
