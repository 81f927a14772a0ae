import { randomInt, randomUUID } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSessionId, type ChannelCode } from '../../../common/message/session-id';
import type { ConversationStore } from './conversations';

/** What a contract run needs from an adapter: a store, and how to close it and drop its data. */
export interface ConversationHarness {
  store: ConversationStore;
  cleanup(): Promise<void>;
}

let counter = 0;
const base = Date.now();
/** A fresh session ID whose epoch part grows with each call (so ids sort in the order they were made). */
export function nextSessionId(channel: ChannelCode = 'WB'): string {
  counter += 1;
  return formatSessionId(channel, base + counter, randomInt(100_000));
}

const text = (t: string) => ({ kind: 'text' as const, body: { text: t } });

/**
 * The conversations port's contract (conversations.ts), run against every adapter: SQLite
 * (conversations.sqlite.test.ts) and Redis Cluster (conversations.redis-cluster.test.ts).
 */
export function conversationContract(name: string, open: () => Promise<ConversationHarness>): void {
  describe(`ConversationStore contract: ${name}`, () => {
    let h: ConversationHarness;
    beforeAll(async () => {
      h = await open();
    }, 60_000);
    afterAll(async () => {
      await h?.cleanup();
    });

    const newSession = async (opts: { channel?: ChannelCode; group?: string; conversationId?: string; customerId?: string } = {}) => {
      const { session, created } = await h.store.openSession({
        sessionId: nextSessionId(opts.channel ?? 'WB'),
        conversationId: opts.conversationId ?? uuidv7(),
        customerId: opts.customerId ?? uuidv7(),
        channel: opts.channel ?? 'WB',
        skillGroup: opts.group ?? `g-${randomUUID()}`,
      });
      expect(created).toBe(true);
      return session;
    };
    const say = (sessionId: string, t: string, clientMessageId: string = randomUUID(), direction: 'in' | 'out' = 'in') =>
      h.store.append({
        sessionId,
        direction,
        content: text(t),
        clientMessageId,
        critical: true,
        ...(direction === 'out' ? { authorId: 'agent-1' } : {}),
      });

    it('opens a queued session in a new conversation, and answers the same session when opened again', async () => {
      const input = {
        sessionId: nextSessionId('AP'),
        conversationId: uuidv7(),
        customerId: uuidv7(),
        channel: 'AP' as const,
        skillGroup: 'general',
      };
      const first = await h.store.openSession(input);
      expect(first.created).toBe(true);
      expect(first.session).toMatchObject({
        id: input.sessionId,
        conversationId: input.conversationId,
        customerId: input.customerId,
        channel: 'AP',
        status: 'queued',
        skillGroup: 'general',
        assignedAgentId: null,
        closedAt: null,
      });
      const again = await h.store.openSession(input);
      expect(again).toEqual({ session: first.session, created: false });
      expect(await h.store.getSession(input.sessionId)).toEqual(first.session);
      expect(await h.store.getSession(nextSessionId())).toBeNull();
      await expect(h.store.openSession({ ...input, sessionId: 'WB123' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    });

    it('appends with gap-free seq from 1 and reads the history back decrypted, in order', async () => {
      const s = await newSession();
      const a = await say(s.id, '你好，我的订单没到');
      const b = await say(s.id, 'We are checking it', randomUUID(), 'out');
      const c = await say(s.id, 'thanks 👍');
      expect([a, b, c].map((r) => [r.envelope.seq, r.duplicate])).toEqual([
        [1, false],
        [2, false],
        [3, false],
      ]);
      expect(a.envelope).toMatchObject({
        sessionId: s.id,
        conversationId: s.conversationId,
        customerId: s.customerId,
        channel: 'WB',
        direction: 'in',
        kind: 'text',
        critical: true,
        authorKind: 'customer',
      });
      expect(b.envelope).toMatchObject({ direction: 'out', authorId: 'agent-1', authorKind: 'agent' });
      const all = await h.store.listMessages(s.conversationId);
      expect(all).toEqual([a.envelope, b.envelope, c.envelope]);
      expect((await h.store.listMessages(s.conversationId, { afterSeq: 1, limit: 1 })).map((m) => m.body)).toEqual([
        { text: 'We are checking it' },
      ]);
      expect(await h.store.lastMessage(s.conversationId)).toEqual(c.envelope);
      expect(await h.store.lastSeq(s.conversationId)).toBe(3);
      expect(await h.store.listMessages(uuidv7())).toEqual([]);
      expect(await h.store.lastMessage(uuidv7())).toBeNull();
      expect(await h.store.lastSeq(uuidv7())).toBe(0);
    });

    it("stores the receive time it is given (the gateway's), else its own clock", async () => {
      const s = await newSession();
      const at = '2026-01-02T03:04:05.678Z';
      const given = await h.store.append({
        sessionId: s.id,
        direction: 'in',
        content: { kind: 'text', body: { text: 'from the future' } },
        clientMessageId: randomUUID(),
        critical: true,
        sentAt: at,
        receivedAt: at,
      });
      expect(given.envelope).toMatchObject({ sentAt: at, receivedAt: at });
      const before = Date.now();
      const own = await say(s.id, 'now');
      expect(Date.parse(own.envelope.receivedAt)).toBeGreaterThanOrEqual(before - 1_000);
      expect((await h.store.listMessages(s.conversationId)).map((m) => [m.sentAt === at, m.receivedAt === at])).toEqual([
        [true, true],
        [false, false],
      ]);
    });

    it('pages the newest messages back with hasOlder', async () => {
      const s = await newSession();
      for (let i = 1; i <= 7; i++) await say(s.id, `m${i}`);
      const newest = await h.store.recentMessages(s.conversationId, { limit: 3 });
      expect(newest.messages.map((m) => m.seq)).toEqual([5, 6, 7]);
      expect(newest.hasOlder).toBe(true);
      const older = await h.store.recentMessages(s.conversationId, { beforeSeq: 5, limit: 3 });
      expect(older.messages.map((m) => m.body)).toEqual([{ text: 'm2' }, { text: 'm3' }, { text: 'm4' }]);
      const oldest = await h.store.recentMessages(s.conversationId, { beforeSeq: 2, limit: 3 });
      expect(oldest).toMatchObject({ hasOlder: false });
      expect(oldest.messages.map((m) => m.seq)).toEqual([1]);
    });

    it('is idempotent on clientMessageId: a retry answers the stored message, other content is a conflict', async () => {
      const s = await newSession();
      const first = await say(s.id, 'refund please', 'cm-1');
      const retry = await say(s.id, 'refund please', 'cm-1');
      expect(retry).toEqual({ envelope: first.envelope, duplicate: true });
      await expect(say(s.id, 'something else', 'cm-1')).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
      // The same id in the other direction is another message.
      expect((await say(s.id, 'refund please', 'cm-1', 'out')).envelope.seq).toBe(2);
      expect(await h.store.lastSeq(s.conversationId)).toBe(2);
    });

    it('compares a retry on the request it names (idempotencyContent) when what is stored depends on more', async () => {
      const s = await newSession();
      const request = JSON.stringify({ text: 'see photo', imageUrl: 'https://img.example/a.png' });
      const append = (t: string, idempotencyContent: string) =>
        h.store.append({
          sessionId: s.id,
          direction: 'in',
          content: text(t),
          clientMessageId: 'cm-url',
          critical: true,
          idempotencyContent,
        });
      // The first try's fetch failed ("[image] host" stored); the retry's fetch worked: the same request.
      const first = await append('see photo\n[image] img.example', request);
      expect(await append('see photo', request)).toEqual({ envelope: first.envelope, duplicate: true });
      const other = JSON.stringify({ text: 'see photo', imageUrl: 'https://img.example/b.png' });
      await expect(append('see photo\n[image] img.example', other)).rejects.toMatchObject({ code: 'IDEMPOTENCY_CONFLICT' });
      expect(await h.store.lastSeq(s.conversationId)).toBe(1);
    });

    it('gives 40 concurrent appends (10 of them retries) distinct, gap-free seqs', async () => {
      const s = await newSession();
      const ids = Array.from({ length: 30 }, () => randomUUID());
      const results = await Promise.all([...ids, ...ids.slice(0, 10)].map((id) => say(s.id, `text of ${id}`, id)));
      const fresh = results.filter((r) => !r.duplicate).map((r) => r.envelope.seq);
      expect(fresh.sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      const stored = await h.store.listMessages(s.conversationId);
      expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      expect(new Set(stored.map((m) => m.clientMessageId))).toEqual(new Set(ids));
    });

    it('continues the seq when the customer goes on in the same conversation from another channel', async () => {
      const wechat = await newSession({ channel: 'WX' });
      await say(wechat.id, 'from WeChat');
      const app = await newSession({ channel: 'AP', conversationId: wechat.conversationId, customerId: wechat.customerId });
      expect(app.conversationId).toBe(wechat.conversationId);
      const next = await say(app.id, 'now from the app');
      expect(next.envelope).toMatchObject({ seq: 2, sessionId: app.id, channel: 'AP' });
      expect((await h.store.listMessages(wechat.conversationId)).map((m) => [m.seq, m.channel])).toEqual([
        [1, 'WX'],
        [2, 'AP'],
      ]);
      expect(await h.store.getSession(app.id)).toMatchObject({ id: app.id, conversationId: wechat.conversationId });
    });

    it('refuses appends to unknown and closed sessions', async () => {
      await expect(say(nextSessionId(), 'hello?')).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
      const s = await newSession();
      await h.store.claim(s.id, 'agent-1');
      await h.store.close(s.id, 'agent-1', 'resolved');
      await expect(say(s.id, 'too late')).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    });

    it('keeps queues by skill group and status, longest-waiting first, through claim and close', async () => {
      const group = `g-${randomUUID()}`;
      const other = `g-${randomUUID()}`;
      const a = await newSession({ group });
      const b = await newSession({ group });
      const c = await newSession({ group });
      const elsewhere = await newSession({ group: other });
      expect((await h.store.queue(group, 'queued')).map((s) => s.id)).toEqual([a.id, b.id, c.id]);
      expect(await h.store.queueSize(group, 'queued')).toBe(3);
      expect((await h.store.queue(group, 'queued', { limit: 2 })).map((s) => s.id)).toEqual([a.id, b.id]);
      expect((await h.store.queue(other, 'queued')).map((s) => s.id)).toEqual([elsewhere.id]);

      const claimed = await h.store.claim(b.id, 'agent-7');
      expect(claimed).toMatchObject({ changed: true, session: { status: 'active', assignedAgentId: 'agent-7' } });
      expect(await h.store.claim(b.id, 'agent-7')).toMatchObject({ changed: false });
      await expect(h.store.claim(b.id, 'agent-8')).rejects.toMatchObject({ code: 'OFFER_TAKEN' });
      expect((await h.store.queue(group, 'queued')).map((s) => s.id)).toEqual([a.id, c.id]);
      expect((await h.store.queue(group, 'active')).map((s) => s.id)).toEqual([b.id]);
      expect(await h.store.queueSize(group, 'active')).toBe(1);

      await expect(h.store.close(b.id, 'agent-8', 'resolved')).rejects.toMatchObject({ code: 'NOT_ASSIGNED' });
      const closed = await h.store.close(b.id, 'agent-7', 'resolved');
      expect(closed).toMatchObject({ status: 'closed', wrapUpCode: 'resolved' });
      expect(closed.closedAt).not.toBeNull();
      await expect(h.store.close(b.id, 'agent-7', 'resolved')).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
      await expect(h.store.claim(b.id, 'agent-7')).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
      expect(await h.store.queueSize(group, 'active')).toBe(0);
      expect(await h.store.queue(group, 'offered')).toEqual([]);
      await expect(h.store.claim(nextSessionId(), 'agent-7')).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    });

    it('lets exactly one of five concurrent claims take a contact', async () => {
      const group = `g-${randomUUID()}`;
      const s = await newSession({ group });
      const outcomes = await Promise.allSettled(['a1', 'a2', 'a3', 'a4', 'a5'].map((agent) => h.store.claim(s.id, agent)));
      const won = outcomes.filter((o) => o.status === 'fulfilled' && o.value.changed);
      expect(won).toHaveLength(1);
      expect(outcomes.filter((o) => o.status === 'rejected').map((o) => (o as PromiseRejectedResult).reason.code)).toEqual(
        Array(4).fill('OFFER_TAKEN'),
      );
      expect(await h.store.queueSize(group, 'active')).toBe(1);
      expect(await h.store.queueSize(group, 'queued')).toBe(0);
    });

    it('follows state decided elsewhere: release, offer, transfer to another group, bot, abandon — queues follow', async () => {
      const group = `g-${randomUUID()}`;
      const other = `g-${randomUUID()}`;
      const s = await newSession({ group });
      await say(s.id, 'first');
      await h.store.claim(s.id, 'agent-1');
      const state = (over: Partial<Parameters<ConversationStore['follow']>[0]>) => ({
        id: s.id,
        status: 'queued' as const,
        skillGroup: group,
        assignedAgentId: null,
        offeredAgentId: null,
        offerExpiresAt: null,
        waitingSince: new Date(Date.now() + 1000).toISOString(),
        wrapUpCode: null,
        closedAt: null,
        ...over,
      });
      // Released by its agent: back in the queue, nobody assigned.
      const released = await h.store.follow(state({}));
      expect(released).toMatchObject({ status: 'queued', assignedAgentId: null, skillGroup: group });
      expect((await h.store.queue(group, 'queued')).map((x) => x.id)).toEqual([s.id]);
      expect(await h.store.queueSize(group, 'active')).toBe(0);
      // Offered to an agent, then moved (cold transfer) to another group while offered.
      const expires = new Date(Date.now() + 30_000).toISOString();
      await h.store.follow(state({ status: 'offered', offeredAgentId: 'agent-2', offerExpiresAt: expires }));
      expect((await h.store.queue(group, 'offered')).map((x) => x.id)).toEqual([s.id]);
      expect(await h.store.getSession(s.id)).toMatchObject({ offeredAgentId: 'agent-2', offerExpiresAt: expires });
      const moved = await h.store.follow(state({ skillGroup: other }));
      expect(moved).toMatchObject({ skillGroup: other, status: 'queued', offeredAgentId: null, offerExpiresAt: null });
      expect(await h.store.queueSize(group, 'offered')).toBe(0);
      expect(await h.store.queueSize(group, 'queued')).toBe(0);
      expect((await h.store.queue(other, 'queued')).map((x) => x.id)).toEqual([s.id]);
      // The same state again changes nothing visible.
      await h.store.follow(state({ skillGroup: other }));
      expect((await h.store.queue(other, 'queued')).map((x) => x.id)).toEqual([s.id]);
      // With the AI tier (bot): in no index; still takes messages.
      await h.store.follow(state({ skillGroup: other, status: 'bot' }));
      expect(await h.store.queueSize(other, 'queued')).toBe(0);
      expect((await say(s.id, 'to the bot')).envelope.seq).toBe(2);
      // Abandoned (closed with no agent): in no index, appends refused, history kept.
      const closedAt = new Date().toISOString();
      const abandoned = await h.store.follow(state({ skillGroup: other, status: 'closed', wrapUpCode: 'no-response', closedAt }));
      expect(abandoned).toMatchObject({ status: 'closed', wrapUpCode: 'no-response', closedAt });
      await expect(say(s.id, 'late')).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
      for (const st of ['queued', 'offered', 'active'] as const) expect(await h.store.queueSize(other, st)).toBe(0);
      expect((await h.store.listMessages(s.conversationId)).map((m) => m.seq)).toEqual([1, 2]);
      await expect(h.store.follow({ ...state({}), id: nextSessionId() })).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    });

    it('keeps the session context sealed and reads it back', async () => {
      const s = await newSession();
      expect(await h.store.getContext(s.id)).toBeNull();
      const context = {
        profile: { name: '王小明', phone: '+8613800138000' },
        issue: { status: 'refund-requested' },
        aiScripts: ['Offer a refund'],
      };
      await h.store.putContext(s.id, context);
      expect(await h.store.getContext(s.id)).toEqual(context);
      await h.store.putContext(s.id, { issue: { status: 'solved' } });
      expect(await h.store.getContext(s.id)).toEqual({ issue: { status: 'solved' } });
      await expect(h.store.putContext(nextSessionId(), context)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    });

    it('answers ping', async () => {
      await expect(h.store.ping()).resolves.toBeUndefined();
    });
  });
}
