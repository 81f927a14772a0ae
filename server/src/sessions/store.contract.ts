import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HuiliuError } from '../../../common/errors/codes';
import { SESSION_ID_PATTERN } from '../../../common/message/session-id';
import type { InboundDraft } from '../../../common/message/envelope';
import type { RoutingCandidate, RoutingDecision } from '../../../common/routing/types';
import type { SessionStore } from './store';

export interface StoreHarness {
  store: SessionStore;
  /** Moves the store's clock forward. */
  advance: (ms: number) => void;
  cleanup: () => Promise<void>;
}

let counter = 0;
export function draft(overrides: Partial<InboundDraft> & { text?: string } = {}): InboundDraft {
  const { text, ...rest } = overrides;
  const t = new Date().toISOString();
  return {
    identity: { channel: 'WB', externalId: 'visitor-1', displayName: 'Li Lei' },
    content: { kind: 'text', body: { text: text ?? 'Where is my parcel?' } },
    critical: true,
    clientMessageId: `cm-${++counter}-${Math.random().toString(36).slice(2)}`,
    sentAt: t,
    receivedAt: t,
    meta: {},
    ...rest,
  };
}

const decision = (tier: RoutingDecision['tier'] = 'assisted'): RoutingDecision => ({
  valueScore: 50,
  difficultyScore: 60,
  priority: 54,
  tier,
  configVersion: 1,
  weights: { value: 0.6, difficulty: 0.4 },
  thresholds: { expert: 80, assisted: 50 },
  skillGroup: 'general',
  reasons: [{ factor: 'test', note: 'fixture' }],
  offeredTo: 'agent-a',
  assignment: 'longest idle',
  decidedAt: new Date().toISOString(),
});

/** The SessionStore contract: SQLite now, Redis Cluster later, the same suite. */
export function sessionStoreContract(name: string, factory: () => Promise<StoreHarness>): void {
  describe(`SessionStore contract: ${name}`, () => {
    let h: StoreHarness;
    beforeEach(async () => {
      h = await factory();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('opens a session with a well-formed ID and seq 1 for a first message', async () => {
      const r = await h.store.appendInbound(draft(), { skillGroup: 'general' });
      expect(r.newSession).toBe(true);
      expect(r.duplicate).toBe(false);
      expect(r.session.id).toMatch(SESSION_ID_PATTERN);
      expect(r.session.id.startsWith('WB')).toBe(true);
      expect(r.envelope.seq).toBe(1);
      expect(r.envelope.sessionId).toBe(r.session.id);
      expect(r.session.status).toBe('queued');
      expect(r.session.skillGroup).toBe('general');
    });

    it('keeps seq gap-free across inbound and outbound messages', async () => {
      const first = await h.store.appendInbound(draft(), { skillGroup: 'general' });
      const second = await h.store.appendInbound(draft({ text: 'and the invoice' }), { skillGroup: 'general' });
      expect(second.newSession).toBe(false);
      expect(second.session.id).toBe(first.session.id);
      const reply = await h.store.appendOutbound({
        sessionId: first.session.id,
        authorId: 'agent-a',
        clientMessageId: 'agent-msg-1',
        content: { kind: 'text', body: { text: 'Let me check.' } },
        critical: true,
      });
      expect(reply.envelope.seq).toBe(3);
      const history = await h.store.listMessages(first.session.conversationId);
      expect(history.map((m) => m.seq)).toEqual([1, 2, 3]);
      expect(history.map((m) => m.direction)).toEqual(['in', 'in', 'out']);
      expect(history[2]!.authorId).toBe('agent-a');
      expect((await h.store.listMessages(first.session.conversationId, { afterSeq: 2 })).map((m) => m.seq)).toEqual([3]);
    });

    it("finds a conversation's newest message, and its newest customer message behind the agent's replies", async () => {
      const first = await h.store.appendInbound(draft({ text: 'first' }), { skillGroup: 'general' });
      const conversationId = first.session.conversationId;
      const second = await h.store.appendInbound(draft({ text: 'second' }), { skillGroup: 'general' });
      for (const n of [1, 2]) {
        await h.store.appendOutbound({
          sessionId: first.session.id,
          authorId: 'agent-a',
          clientMessageId: `agent-reply-${n}`,
          content: { kind: 'text', body: { text: `reply ${n}` } },
          critical: true,
        });
      }
      expect((await h.store.lastMessage(conversationId))?.seq).toBe(4);
      expect(await h.store.lastMessage(conversationId, { direction: 'in' })).toMatchObject({ id: second.envelope.id, seq: 2 });
      expect((await h.store.lastMessage(conversationId, { direction: 'out' }))?.seq).toBe(4);
      expect(await h.store.lastMessage('00000000-0000-7000-8000-000000000000', { direction: 'in' })).toBeNull();
    });

    it('answers a repeated clientMessageId with the stored message and stores nothing new', async () => {
      const d = draft();
      const a = await h.store.appendInbound(d, { skillGroup: 'general' });
      const b = await h.store.appendInbound(d, { skillGroup: 'general' });
      expect(b.duplicate).toBe(true);
      expect(b.envelope.id).toBe(a.envelope.id);
      expect(b.envelope.seq).toBe(a.envelope.seq);
      expect(await h.store.listMessages(a.session.conversationId)).toHaveLength(1);
    });

    it('rejects a reused clientMessageId with different content', async () => {
      const d = draft();
      await h.store.appendInbound(d, { skillGroup: 'general' });
      const err = await h.store
        .appendInbound({ ...d, content: { kind: 'text', body: { text: 'something else' } } }, { skillGroup: 'general' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HuiliuError);
      expect((err as HuiliuError).code).toBe('IDEMPOTENCY_CONFLICT');
    });

    it('is idempotent for concurrent duplicates of a first message', async () => {
      const d = draft({ identity: { channel: 'AP', externalId: 'app-user-9' } });
      const results = await Promise.all(Array.from({ length: 5 }, () => h.store.appendInbound(d, { skillGroup: 'general' })));
      expect(new Set(results.map((r) => r.envelope.id)).size).toBe(1);
      expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    });

    it('keeps customers apart by channel identity', async () => {
      const a = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'v-a' } }), { skillGroup: 'general' });
      const b = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'v-b' } }), { skillGroup: 'general' });
      expect(a.envelope.customerId).not.toBe(b.envelope.customerId);
      expect(a.session.id).not.toBe(b.session.id);
      expect((await h.store.findCustomerByIdentity('WB', 'v-a'))?.id).toBe(a.envelope.customerId);
      expect(await h.store.findCustomerByIdentity('WB', 'nobody')).toBeNull();
    });

    it('decrypts the customer profile it stored', async () => {
      const r = await h.store.appendInbound(draft({ identity: { channel: 'AP', externalId: 'u-1', displayName: '王芳' } }), {
        skillGroup: 'vip',
      });
      const c = await h.store.getCustomer(r.envelope.customerId);
      expect(c).toMatchObject({ name: '王芳', channels: ['AP'] });
    });

    it('records routing, lets one agent claim, and refuses a second', async () => {
      const r = await h.store.appendInbound(draft(), { skillGroup: 'general' });
      const { session: offered } = await h.store.saveRouting(r.session.id, decision(), {
        agentId: 'agent-a',
        expiresAt: new Date().toISOString(),
      });
      expect(offered.status).toBe('offered');
      expect(offered.routing?.tier).toBe('assisted');
      const claimed = await h.store.claim(r.session.id, 'agent-a');
      expect(claimed).toMatchObject({ changed: true, session: { status: 'active', assignedAgentId: 'agent-a', offeredAgentId: null } });
      expect(await h.store.claim(r.session.id, 'agent-a')).toMatchObject({ changed: false, session: { status: 'active' } });
      await expect(h.store.claim(r.session.id, 'agent-b')).rejects.toMatchObject({ code: 'OFFER_TAKEN' });
    });

    it('lets exactly one of two simultaneous claims by the same agent change the session, and counts it once', async () => {
      const r = await h.store.appendInbound(draft(), { skillGroup: 'general' });
      const both = await Promise.all([h.store.claim(r.session.id, 'agent-a'), h.store.claim(r.session.id, 'agent-a')]);
      expect(both.map((c) => c.changed).sort()).toEqual([false, true]);
      expect(await h.store.activeChatCount('agent-a')).toBe(1);
      await h.store.close(r.session.id, 'agent-a', 'resolved');
      expect(await h.store.activeChatCount('agent-a')).toBe(0);
    });

    it('gives the newest page of a long conversation and pages back to the oldest without gaps', async () => {
      const first = await h.store.appendInbound(draft({ text: 'm1' }), { skillGroup: 'general' });
      for (let i = 2; i <= 1051; i++) await h.store.appendInbound(draft({ text: `m${i}` }), { skillGroup: 'general' });
      const newest = await h.store.recentMessages(first.envelope.conversationId, { limit: 100 });
      expect(newest.messages.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => 952 + i));
      expect(newest.hasOlder).toBe(true);
      const seen: number[] = [...newest.messages.map((m) => m.seq)];
      let before = newest.messages[0]!.seq;
      for (;;) {
        const page = await h.store.recentMessages(first.envelope.conversationId, { beforeSeq: before, limit: 200 });
        seen.unshift(...page.messages.map((m) => m.seq));
        if (!page.hasOlder) break;
        before = page.messages[0]!.seq;
      }
      expect(seen).toEqual(Array.from({ length: 1051 }, (_, i) => i + 1));
    });

    it('updates a returning customer to their newest name and phone and keeps the history of changes', async () => {
      const identity = { channel: 'AP' as const, externalId: 'app:lin', displayName: 'Lin Mei' };
      const first = await h.store.appendInbound(draft({ identity }), { skillGroup: 'general' });
      await h.store.appendInbound(draft({ identity }), { skillGroup: 'general' }); // same details: no change recorded
      await h.store.appendInbound(draft({ identity: { ...identity, displayName: 'Lin Mei (Gold member)', phone: '+8613800138000' } }), {
        skillGroup: 'general',
      });
      await h.store.appendInbound(draft({ identity: { channel: 'AP', externalId: 'app:lin' } }), { skillGroup: 'general' }); // absent: kept
      const customer = await h.store.getCustomer(first.envelope.customerId);
      expect(customer?.name).toBe('Lin Mei (Gold member)');
      const changes = await h.store.profileChanges(first.envelope.customerId);
      expect(changes).toMatchObject([
        { field: 'name', channel: 'AP', previous: 'Lin Mei', value: 'Lin Mei (Gold member)' },
        { field: 'phone', channel: 'AP', previous: null, value: '+8613800138000' },
      ]);
    });

    it('closes with a wrap-up code, then refuses replies, and the next contact opens a new session', async () => {
      const r = await h.store.appendInbound(draft(), { skillGroup: 'general' });
      await h.store.claim(r.session.id, 'agent-a');
      await expect(h.store.close(r.session.id, 'agent-b', 'resolved')).rejects.toMatchObject({ code: 'NOT_ASSIGNED' });
      const closed = await h.store.close(r.session.id, 'agent-a', 'resolved', 'refund issued');
      expect(closed).toMatchObject({ status: 'closed', wrapUpCode: 'resolved' });
      await expect(
        h.store.appendOutbound({
          sessionId: r.session.id,
          authorId: 'agent-a',
          clientMessageId: 'late-1',
          content: { kind: 'text', body: { text: 'late' } },
          critical: true,
        }),
      ).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
      const next = await h.store.appendInbound(draft({ text: 'one more thing' }), { skillGroup: 'general' });
      expect(next.newSession).toBe(true);
      expect(next.session.id).not.toBe(r.session.id);
      expect(next.envelope.seq).toBe(1);
      expect((await h.store.latestSession(r.envelope.customerId, 'WB'))?.id).toBe(next.session.id);
    });

    const event = (name: string, clientMessageId = `${name}:${Math.random().toString(36).slice(2)}`) => ({
      authorId: null,
      authorKind: 'system' as const,
      clientMessageId,
      content: { kind: 'event' as const, body: { name, data: {} } },
      critical: false,
    });
    const names = (messages: { body: unknown }[]) => messages.map((m) => (m.body as { name?: string; text?: string }).name ?? 'text');

    it('appendAndClose stores the lines in order before the close, in one write', async () => {
      const r = await h.store.appendInbound(draft(), { skillGroup: 'general' });
      await h.store.claim(r.session.id, 'agent-a');
      const closed = await h.store.appendAndClose(r.session.id, 'agent-a', 'resolved', 'all done', [
        event('call.ringing'),
        event('call.ended'),
      ]);
      expect(closed).toMatchObject({ id: r.session.id, status: 'closed', wrapUpCode: 'resolved' });
      const messages = await h.store.listMessages(r.session.conversationId);
      expect(names(messages)).toEqual(['text', 'call.ringing', 'call.ended']);
      expect(messages.map((m) => m.seq)).toEqual([1, 2, 3]);
      expect((await h.store.getSession(r.session.id))?.status).toBe('closed');
    });

    it('appendAndClose leaves the session open when a line fails, and closes nothing it may not', async () => {
      const r = await h.store.appendInbound(draft(), { skillGroup: 'general' });
      await h.store.claim(r.session.id, 'agent-a');
      await h.store.appendOutbound({ ...event('call.ringing', 'ring-1'), sessionId: r.session.id });
      // The same idempotency key with other content: the line fails, so the close does not happen.
      const conflicting = { ...event('call.ringing', 'ring-1'), content: { kind: 'event' as const, body: { name: 'other', data: {} } } };
      await expect(h.store.appendAndClose(r.session.id, 'agent-a', 'resolved', undefined, [conflicting])).rejects.toMatchObject({
        code: 'IDEMPOTENCY_CONFLICT',
      });
      expect((await h.store.getSession(r.session.id))?.status).toBe('active');
      await expect(h.store.appendAndClose(r.session.id, 'agent-b', 'resolved', undefined, [event('call.ended')])).rejects.toMatchObject({
        code: 'NOT_ASSIGNED',
      });
      expect(names(await h.store.listMessages(r.session.conversationId))).toEqual(['text', 'call.ringing']);
      // A line stored before (same key, same content) is not stored twice.
      await h.store.appendAndClose(r.session.id, 'agent-a', 'resolved', undefined, [event('call.ringing', 'ring-1'), event('call.ended')]);
      expect(names(await h.store.listMessages(r.session.conversationId))).toEqual(['text', 'call.ringing', 'call.ended']);
      await expect(h.store.appendAndClose(r.session.id, 'agent-a', 'resolved', undefined, [])).rejects.toMatchObject({
        code: 'SESSION_CLOSED',
      });
    });

    it('appendAndClaim claims and stores the lines together; a claim that fails stores no line', async () => {
      const r = await h.store.appendInbound(draft(), { skillGroup: 'general' });
      const taken = await h.store.appendAndClaim(r.session.id, 'agent-a', [event('call.ringing'), event('call.answered')]);
      expect(taken.changed).toBe(true);
      expect(taken.session).toMatchObject({ status: 'active', assignedAgentId: 'agent-a' });
      expect(names(await h.store.listMessages(r.session.conversationId))).toEqual(['text', 'call.ringing', 'call.answered']);
      await expect(h.store.appendAndClaim(r.session.id, 'agent-b', [event('call.answered')])).rejects.toMatchObject({
        code: 'OFFER_TAKEN',
      });
      expect(names(await h.store.listMessages(r.session.conversationId))).toEqual(['text', 'call.ringing', 'call.answered']);
      // Idempotent per agent, as `claim`.
      expect((await h.store.appendAndClaim(r.session.id, 'agent-a', [])).changed).toBe(false);
    });

    it("releases an agent's active session back to the queue, once, and only theirs", async () => {
      const r = await h.store.appendInbound(draft(), { skillGroup: 'general' });
      await h.store.claim(r.session.id, 'agent-a');
      expect(await h.store.release(r.session.id, 'agent-b')).toBeNull();
      h.advance(5000);
      const released = await h.store.release(r.session.id, 'agent-a');
      expect(released).toMatchObject({ status: 'queued', assignedAgentId: null });
      expect(Date.parse(released!.waitingSince)).toBeGreaterThan(Date.parse(r.session.waitingSince));
      expect(await h.store.release(r.session.id, 'agent-a')).toBeNull();
      expect((await h.store.claim(r.session.id, 'agent-b')).session.assignedAgentId).toBe('agent-b');
    });

    it('lists waiting sessions by priority when asked, unscored last, and counts them', async () => {
      const ids: string[] = [];
      for (const [i, priority] of [10, 90, null, 50].entries()) {
        const r = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: `prio-${i}` } }), { skillGroup: 'general' });
        if (priority !== null) await h.store.saveRouting(r.session.id, { ...decision(), priority }, null);
        ids.push(r.session.id);
        h.advance(1000);
      }
      const byPriority = await h.store.listSessions({ status: ['queued'], order: 'priority' });
      expect(byPriority.map((s) => s.id)).toEqual([ids[1], ids[3], ids[0], ids[2]]);
      expect(await h.store.countSessions({ status: ['queued'], skillGroups: ['general'] })).toBe(4);
      expect(await h.store.countSessions({ status: [] })).toBe(0);
    });

    it('lists sessions by status and skill group, oldest waiting first', async () => {
      const a = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'l-1' } }), { skillGroup: 'general' });
      h.advance(1000);
      const b = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'l-2' } }), { skillGroup: 'vip' });
      h.advance(1000);
      const c = await h.store.appendInbound(draft({ identity: { channel: 'AP', externalId: 'l-3' } }), { skillGroup: 'general' });
      const general = await h.store.listSessions({ status: ['queued', 'offered'], skillGroups: ['general'] });
      expect(general.map((s) => s.id)).toEqual([a.session.id, c.session.id]);
      expect((await h.store.listSessions({ skillGroups: ['vip'] })).map((s) => s.id)).toEqual([b.session.id]);
      expect((await h.store.listSessions({ channel: 'AP' })).map((s) => s.id)).toEqual([c.session.id]);
      expect(await h.store.listSessions({ skillGroups: [] })).toEqual([]);
    });

    it('starts a new conversation when the customer returns after the last one was closed', async () => {
      const r = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'cw' } }), { skillGroup: 'general' });
      await h.store.claim(r.session.id, 'agent-a');
      await h.store.close(r.session.id, 'agent-a', 'resolved');
      h.advance(31 * 60_000);
      const later = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'cw' } }), { skillGroup: 'general' });
      expect(later.session.conversationId).not.toBe(r.session.conversationId);
    });

    it('appends every routing decision to the log, a re-offer as a new entry, and pages a time range', async () => {
      const r = await h.store.appendInbound(draft(), { skillGroup: 'general' });
      const expiresAt = new Date().toISOString();
      const first = { ...decision(), trigger: 'new' as const, offeredTo: 'agent-a' };
      await h.store.saveRouting(r.session.id, first, { agentId: 'agent-a', expiresAt });
      h.advance(20_000);
      const again = { ...first, trigger: 'timeout' as const, offeredTo: 'agent-b', offerConfigVersion: 2 };
      await h.store.saveRouting(r.session.id, again, { agentId: 'agent-b', expiresAt });
      const log = await h.store.decisions(r.session.id);
      expect(log.map((e) => [e.decision.offeredTo, e.decision.trigger, e.configVersion])).toEqual([
        ['agent-a', 'new', 1],
        ['agent-b', 'timeout', 2],
      ]);
      expect(log[1]!.seq).toBeGreaterThan(log[0]!.seq);
      expect(Date.parse(log[1]!.at) - Date.parse(log[0]!.at)).toBe(20_000);
      // A write that no longer applies (claimed meanwhile) is not logged.
      await h.store.claim(r.session.id, 'agent-b');
      expect((await h.store.saveRouting(r.session.id, again, null)).applied).toBe(false);
      expect(await h.store.decisions(r.session.id)).toHaveLength(2);
      const day = await h.store.decisionsBetween(log[0]!.at, new Date(Date.parse(log[1]!.at) + 1).toISOString());
      expect(day.map((e) => e.seq)).toEqual(log.map((e) => e.seq));
      expect(await h.store.decisionsBetween(log[0]!.at, log[1]!.at)).toHaveLength(1);
      expect(await h.store.decisionsBetween(log[0]!.at, '9999-01-01T00:00:00.000Z', { afterSeq: log[0]!.seq })).toHaveLength(1);
    });

    it("keeps a decision's candidates beside the session: session reads carry none, routingCandidates and the log do", async () => {
      const r = await h.store.appendInbound(draft(), { skillGroup: 'general' });
      const candidates: RoutingCandidate[] = [
        { agentId: 'agent-a', chosen: true, reasons: ['idle longest'], codes: ['chosen'] },
        { agentId: 'agent-z', chosen: false, reasons: ['at capacity: 3/3 chats'], codes: ['at-capacity'] },
      ];
      const whole: RoutingDecision = { ...decision(), trigger: 'new', candidates };
      const { candidates: _c, ...rest } = whole;
      const saved = await h.store.saveRouting(r.session.id, whole, { agentId: 'agent-a', expiresAt: new Date().toISOString() });
      expect(saved.session.routing).toEqual(rest);
      expect((await h.store.getSession(r.session.id))!.routing).toEqual(rest);
      expect((await h.store.listSessions({ customerId: r.session.customerId }))[0]!.routing).toEqual(rest);
      expect(await h.store.routingCandidates!(r.session.id)).toEqual(candidates);
      expect((await h.store.decisions(r.session.id))[0]!.decision).toEqual(whole);
      // The next decision's candidates replace them; a decision without any leaves none.
      const next = [{ agentId: 'agent-b', chosen: true, reasons: ['idle longest'] }];
      await h.store.saveRouting(r.session.id, { ...whole, trigger: 'timeout', offeredTo: 'agent-b', candidates: next }, null);
      expect(await h.store.routingCandidates!(r.session.id)).toEqual(next);
      await h.store.saveRouting(r.session.id, { ...rest, trigger: 'timeout', offeredTo: null }, null);
      expect(await h.store.routingCandidates!(r.session.id)).toBeNull();
      expect((await h.store.decisions(r.session.id)).map((e) => e.decision.candidates)).toEqual([candidates, next, undefined]);
      expect(await h.store.routingCandidates!('WB000000000000000000')).toBeNull();
    });

    it('reads a window for the what-if replay: first decisions with their session and candidates, offers, paged', async () => {
      // The store's clock started when the harness did (a test clock in some harnesses).
      const from = new Date(Date.now() - 3_600_000).toISOString();
      const expiresAt = new Date().toISOString();
      const ids: string[] = [];
      for (const externalId of ['rp-1', 'rp-2', 'rp-3']) {
        const r = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId } }), { skillGroup: 'general' });
        const first: RoutingDecision = {
          ...decision(),
          decidedAt: new Date().toISOString(),
          trigger: 'new',
          facts: { value: { spend: 120, csat: null, contacts30d: 2 }, difficulty: { messageId: 'm', channel: 'WB', contacts30d: 2 } },
          candidates: [
            { agentId: 'agent-a', chosen: true, reasons: ['chosen'] },
            { agentId: 'agent-z', chosen: false, reasons: ['at capacity: 3/3 chats'] },
          ],
        };
        await h.store.saveRouting(r.session.id, first, { agentId: 'agent-a', expiresAt });
        ids.push(r.session.id);
        h.advance(1000);
      }
      await h.store.saveRouting(ids[0]!, { ...decision(), trigger: 'timeout', offeredTo: 'agent-b' }, { agentId: 'agent-b', expiresAt });
      await h.store.claim(ids[0]!, 'agent-b');
      await h.store.close(ids[0]!, 'agent-b', 'resolved');
      const to = new Date(Date.now() + 60_000).toISOString();

      const all = await h.store.replayContacts(from, to);
      expect(all.map((c) => c.sessionId)).toEqual(ids);
      expect(all[0]).toMatchObject({
        channel: 'WB',
        status: 'closed',
        skillGroup: 'general',
        valueScore: 50,
        difficultyScore: 60,
        valueFacts: { spend: 120, csat: null, contacts30d: 2 },
        assignedAgentId: 'agent-b',
        closedAt: expect.any(String),
        handover: null,
      });
      const firstPage = await h.store.replayContacts(from, to, { limit: 2 });
      expect(firstPage).toHaveLength(2);
      const rest = await h.store.replayContacts(from, to, { after: { at: firstPage[1]!.at, seq: firstPage[1]!.seq } });
      expect(rest.map((c) => c.sessionId)).toEqual([ids[2]]);
      const offers = await h.store.offersBetween(from, to);
      expect(offers.map((o) => [o.sessionId, o.agentId])).toEqual([
        [ids[0], 'agent-a'],
        [ids[1], 'agent-a'],
        [ids[2], 'agent-a'],
        [ids[0], 'agent-b'],
      ]);
      expect(all[1]!.candidateIds).toEqual(['agent-a', 'agent-z']);
      expect(await h.store.replayContacts(to, '9999-01-01T00:00:00.000Z')).toEqual([]);
      // [from, to): offers logged before the window are not in it (the what-if counted their agents).
      expect(await h.store.offersBetween(to, '9999-01-01T00:00:00.000Z')).toEqual([]);
    });

    it("writes an offer with a capacity only while the agent's active chats and pending offers leave room", async () => {
      const [a, b, c] = await Promise.all(
        ['cap-a', 'cap-b', 'cap-c'].map((externalId) =>
          h.store.appendInbound(draft({ identity: { channel: 'WB', externalId } }), { skillGroup: 'general' }),
        ),
      );
      const offer = {
        agentId: 'agent-a',
        expiresAt: new Date().toISOString(),
        capacity: { kind: 'chat' as const, limits: { chat: 2, voice: 1, chatsDuringVoice: 0 } },
      };
      expect((await h.store.saveRouting(a!.session.id, decision(), offer)).applied).toBe(true);
      await h.store.claim(a!.session.id, 'agent-a');
      expect((await h.store.saveRouting(b!.session.id, decision(), offer)).applied).toBe(true);
      // Re-offering the same session to the same agent does not count its own offer against them.
      expect((await h.store.saveRouting(b!.session.id, decision(), offer)).applied).toBe(true);
      const refused = await h.store.saveRouting(c!.session.id, decision(), offer);
      expect(refused).toMatchObject({ applied: false, session: { status: 'queued', offeredAgentId: null } });
      expect(await h.store.agentLoad('agent-a')).toEqual({ active: 1, offered: 1, byKind: { chat: 2, voice: 0 } });
      expect((await h.store.listSessions({ status: ['offered'], offeredAgentId: 'agent-a' })).map((s) => s.id)).toEqual([b!.session.id]);
    });

    it('counts calls and chats apart under the mixed-load rule, in the same write as the offer', async () => {
      const [call, chatA, chatB] = await Promise.all([
        h.store.appendInbound(draft({ identity: { channel: 'SP', externalId: 'mix-call' } }), { skillGroup: 'general' }),
        h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'mix-a' } }), { skillGroup: 'general' }),
        h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'mix-b' } }), { skillGroup: 'general' }),
      ]);
      const expiresAt = new Date().toISOString();
      const limits = { chat: 3, voice: 1, chatsDuringVoice: 0 };
      const offer = (kind: 'chat' | 'voice', l = limits) => ({ agentId: 'agent-m', expiresAt, capacity: { kind, limits: l } });
      expect((await h.store.saveRouting(call!.session.id, decision(), offer('voice'))).applied).toBe(true);
      await h.store.claim(call!.session.id, 'agent-m');
      expect(await h.store.agentLoad('agent-m')).toEqual({ active: 1, offered: 0, byKind: { chat: 0, voice: 1 } });
      // On a call: a chat is refused while chatsDuringVoice is 0, written when the rule allows one.
      expect((await h.store.saveRouting(chatA!.session.id, decision(), offer('chat'))).applied).toBe(false);
      const loose = { ...limits, chatsDuringVoice: 1 };
      expect((await h.store.saveRouting(chatA!.session.id, decision(), offer('chat', loose))).applied).toBe(true);
      expect((await h.store.saveRouting(chatB!.session.id, decision(), offer('chat', loose))).applied).toBe(false);
      await h.store.close(call!.session.id, 'agent-m', 'resolved');
      // A call is offered only to an agent with at most chatsDuringVoice chats.
      const call2 = await h.store.appendInbound(draft({ identity: { channel: 'SP', externalId: 'mix-call-2' } }), {
        skillGroup: 'general',
      });
      expect((await h.store.saveRouting(call2.session.id, decision(), offer('voice'))).applied).toBe(false);
      expect((await h.store.saveRouting(call2.session.id, decision(), offer('voice', loose))).applied).toBe(true);
    });

    it('applies a decision made on a stale view of the offer neither as a withdrawal nor as a replacement', async () => {
      const r = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'cas' } }), { skillGroup: 'general' });
      const expiresAt = new Date().toISOString();
      // Router 1 offers to agent-a; router 2 decided while the session was still queued (seen: no offer).
      expect(
        (await h.store.saveRouting(r.session.id, decision(), { agentId: 'agent-a', expiresAt }, { offeredAgentId: null })).applied,
      ).toBe(true);
      const queued = await h.store.saveRouting(r.session.id, decision(), null, { offeredAgentId: null });
      expect(queued).toMatchObject({ applied: false, session: { status: 'offered', offeredAgentId: 'agent-a' } });
      const other = await h.store.saveRouting(
        r.session.id,
        decision(),
        { agentId: 'agent-b', expiresAt, capacity: { kind: 'chat', limits: { chat: 5, voice: 1, chatsDuringVoice: 0 } } },
        { offeredAgentId: null },
      );
      expect(other).toMatchObject({ applied: false, session: { offeredAgentId: 'agent-a' } });
      // The router that saw agent-a's offer (its expiry) may withdraw it; only the applied decisions are logged.
      expect((await h.store.saveRouting(r.session.id, decision(), null, { offeredAgentId: 'agent-a' })).session.status).toBe('queued');
      expect(await h.store.decisions(r.session.id)).toHaveLength(2);
    });

    it('gives a new contact to the AI once, hands it to people once, and never back to the AI', async () => {
      const { session } = await h.store.appendInbound(draft(), { skillGroup: 'general' });
      const bot = await h.store.startBot(session.id, { ...decision('ai'), offeredTo: null });
      expect(bot.applied).toBe(true);
      expect(bot.session.status).toBe('bot');
      expect(await h.store.decisions(session.id)).toHaveLength(1);
      // An AI answer is marked ai; a notice system.
      const answer = await h.store.appendOutbound({
        sessionId: session.id,
        authorId: null,
        authorKind: 'ai',
        clientMessageId: 'ai-1',
        content: { kind: 'text', body: { text: 'Your parcel ships in 2 days.' } },
        critical: true,
      });
      expect(answer.envelope.authorKind).toBe('ai');
      const [first, second] = await h.store.listMessages(session.conversationId);
      expect(first!.authorKind).toBe('customer');
      expect(second!.authorKind).toBe('ai');

      const summary = {
        intent: 'order_status',
        wants: 'Where is my parcel?',
        done: 'AI answered once',
        lines: ['x'],
        by: 'extractive' as const,
        at: new Date().toISOString(),
      };
      const handover = {
        at: new Date().toISOString(),
        reason: 'customer-asked' as const,
        by: 'customer',
        intent: 'order_status',
        confidence: 0.4,
        noAgentOnline: false,
      };
      const [a, b] = await Promise.all([
        h.store.handOver(session.id, { handover, summary }),
        h.store.handOver(session.id, { handover: { ...handover, reason: 'button' }, summary }),
      ]);
      expect([a.changed, b.changed].sort()).toEqual([false, true]);
      const after = (await h.store.getSession(session.id))!;
      expect(after.status).toBe('queued');
      expect(after.handover?.by).toBe('customer');
      expect(await h.store.handoverSummary(session.id)).toEqual(summary);
      // Nothing brings it back to the AI: not a second startBot, not a hand-over of a queued contact.
      expect((await h.store.startBot(session.id, decision('ai'))).applied).toBe(false);
      expect((await h.store.handOver(session.id, { handover })).changed).toBe(false);
      expect((await h.store.getSession(session.id))!.status).toBe('queued');
    });

    it('lets an agent take a contact over from the AI in one write, and only from the AI', async () => {
      const { session } = await h.store.appendInbound(draft(), { skillGroup: 'general' });
      // Routed to people first: the AI can no longer get it.
      await h.store.saveRouting(session.id, decision('assisted'), null);
      expect((await h.store.startBot(session.id, decision('ai'))).applied).toBe(false);
      const other = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'visitor-9' } }), { skillGroup: 'general' });
      await h.store.startBot(other.session.id, decision('ai'));
      const handover = {
        at: new Date().toISOString(),
        reason: 'agent-took-over' as const,
        by: 'agent-a',
        intent: null,
        confidence: null,
        noAgentOnline: false,
      };
      const taken = await h.store.handOver(other.session.id, { handover, claimBy: 'agent-a' });
      expect(taken.changed).toBe(true);
      expect(taken.session).toMatchObject({ status: 'active', assignedAgentId: 'agent-a' });
      expect(await h.store.activeChatCount('agent-a')).toBe(1);
      expect(await h.store.handoverSummary(other.session.id)).toBeNull();
    });

    it('creates a customer from an identity once, and their first message joins that customer', async () => {
      const identity = { channel: 'AP' as const, externalId: 'crm:wang-fang', displayName: 'Wang Fang' };
      const [first, again] = await h.store.ensureCustomers([identity, identity]);
      expect(first).toMatchObject({ created: true });
      expect(again).toEqual({ customerId: first!.customerId, created: false });
      expect(await h.store.ensureCustomers([{ channel: 'AP', externalId: 'crm:wang-fang' }])).toEqual([
        { customerId: first!.customerId, created: false },
      ]);
      expect(await h.store.getCustomer(first!.customerId)).toMatchObject({ name: 'Wang Fang', channels: ['AP'] });
      const r = await h.store.appendInbound(draft({ identity: { channel: 'AP', externalId: 'crm:wang-fang' } }), { skillGroup: 'vip' });
      expect(r.envelope.customerId).toBe(first!.customerId);
      // An existing customer met through a message is found, not created.
      const other = await h.store.appendInbound(draft({ identity: { channel: 'WX', externalId: 'openid-1' } }), { skillGroup: 'general' });
      expect(await h.store.ensureCustomers([{ channel: 'WX', externalId: 'openid-1', displayName: 'Ignored' }])).toEqual([
        { customerId: other.envelope.customerId, created: false },
      ]);
      expect((await h.store.getCustomer(other.envelope.customerId))?.name).not.toBe('Ignored');
    });

    it('stores value facts field by field, with their source and time, and refuses an unknown customer', async () => {
      const [created] = await h.store.ensureCustomers([{ channel: 'AP', externalId: 'crm:li-na' }]);
      const customerId = created!.customerId;
      expect(await h.store.customerFacts(customerId)).toBeNull();
      await h.store.putCustomerFacts([{ customerId, spend: 100_000, csat: 1, source: 'import' }]);
      await h.store.putCustomerFacts([{ customerId, spend: 120_000, source: 'app' }]);
      const facts = await h.store.customerFacts(customerId);
      expect(facts).toMatchObject({ spend: { value: 120_000, source: 'app' }, csat: { value: 1, source: 'import' } });
      expect(Date.parse(facts!.spend!.at)).not.toBeNaN();
      await expect(
        h.store.putCustomerFacts([
          { customerId, spend: 1, source: 'import' },
          { customerId: '00000000-0000-7000-8000-000000000000', spend: 5, source: 'import' },
        ]),
      ).rejects.toMatchObject({ code: 'NOT_FOUND' });
      // Nothing of a refused batch was written.
      expect((await h.store.customerFacts(customerId))?.spend?.value).toBe(120_000);
    });

    it("takes one rating of a customer's closed session, and refuses an open one, a second one and another customer's", async () => {
      const mine = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'rater' } }), { skillGroup: 'general' });
      const theirs = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId: 'other' } }), { skillGroup: 'general' });
      const customerId = mine.envelope.customerId;
      const sessionId = mine.session.id;
      await expect(h.store.rateSession({ sessionId, customerId, score: 5 })).rejects.toMatchObject({ code: 'SESSION_NOT_CLOSED' });
      await h.store.claim(sessionId, 'agent-a');
      await h.store.close(sessionId, 'agent-a', 'resolved');
      await expect(h.store.rateSession({ sessionId, customerId: theirs.envelope.customerId, score: 1 })).rejects.toMatchObject({
        code: 'SESSION_NOT_FOUND',
      });
      await expect(h.store.rateSession({ sessionId: 'WB000000000000000000', customerId, score: 1 })).rejects.toMatchObject({
        code: 'SESSION_NOT_FOUND',
      });
      const rated = await h.store.rateSession({ sessionId, customerId, score: 4, comment: '很快，谢谢' });
      expect(rated).toMatchObject({ sessionId, customerId, score: 4, comment: '很快，谢谢' });
      const twice = await Promise.allSettled([
        h.store.rateSession({ sessionId, customerId, score: 1 }),
        h.store.rateSession({ sessionId, customerId, score: 2 }),
      ]);
      for (const o of twice) expect(o).toMatchObject({ status: 'rejected', reason: { code: 'CSAT_ALREADY_GIVEN' } });
      expect(await h.store.sessionRating(sessionId)).toMatchObject({ score: 4, comment: '很快，谢谢' });
      expect(await h.store.sessionRating(theirs.session.id)).toBeNull();
    });

    it("lists a customer's ratings newest first, from a time on, and counts their sessions opened since a time", async () => {
      const identity = { channel: 'AP' as const, externalId: 'app:ratings' };
      const scores = [2, 3, 5];
      const sessions: string[] = [];
      for (const score of scores) {
        const r = await h.store.appendInbound(draft({ identity }), { skillGroup: 'general' });
        sessions.push(r.session.id);
        await h.store.claim(r.session.id, 'agent-a');
        await h.store.close(r.session.id, 'agent-a', 'resolved');
        await h.store.rateSession({ sessionId: r.session.id, customerId: r.envelope.customerId, score });
        h.advance(60_000);
      }
      const customerId = (await h.store.findCustomerByIdentity('AP', 'app:ratings'))!.id;
      const all = await h.store.customerRatings(customerId);
      expect(all.map((r) => r.score)).toEqual([5, 3, 2]);
      expect(all.map((r) => r.sessionId)).toEqual([...sessions].reverse());
      expect((await h.store.customerRatings(customerId, { since: all[1]!.ratedAt })).map((r) => r.score)).toEqual([5, 3]);
      expect((await h.store.customerRatings(customerId, { limit: 1 })).map((r) => r.score)).toEqual([5]);
      const second = (await h.store.getSession(sessions[1]!))!;
      expect(await h.store.countSessions({ customerId })).toBe(3);
      expect(await h.store.countSessions({ customerId, createdSince: second.createdAt })).toBe(2);
      // A time window: createdBefore is exclusive (the archive sweep pages by such windows).
      const third = (await h.store.getSession(sessions[2]!))!;
      expect(await h.store.countSessions({ customerId, createdBefore: second.createdAt })).toBe(1);
      const window = await h.store.listSessions({ customerId, createdSince: second.createdAt, createdBefore: third.createdAt });
      expect(window.map((s) => s.id)).toEqual([sessions[1]]);
    });

    // ── Transfers (issue 11) ──────────────────────────────────────────────────────────────────
    /** A contact active with `agentId`, as an agent's accept leaves it. */
    const activeWith = async (agentId: string, externalId = `transfer-${Math.random().toString(36).slice(2)}`) => {
      const r = await h.store.appendInbound(draft({ identity: { channel: 'WB', externalId } }), { skillGroup: 'general' });
      await h.store.saveRouting(r.session.id, decision(), { agentId, expiresAt: new Date(Date.now() + 60_000).toISOString() });
      return (await h.store.claim(r.session.id, agentId)).session;
    };
    const transferred = (from: string, to: string, mode: 'warm' | 'cold'): RoutingDecision => ({
      ...decision(),
      trigger: 'transferred',
      offeredTo: mode === 'warm' ? to : null,
      transfer: { from, to, mode },
    });
    const summary = {
      intent: 'order_status',
      wants: 'the parcel',
      done: 'checked the tracking',
      lines: ['Wants: the parcel'],
      by: 'extractive' as const,
      at: new Date().toISOString(),
    };
    const inAMinute = () => new Date(Date.now() + 60_000).toISOString();

    it('undoes a cold transfer nobody took yet in one write (issue 18): back with its sender in its first group, or queued; once', async () => {
      const session = await activeWith('agent-a');
      const { transfer } = await h.store.startTransfer({
        ...transferInput(session.id, 'agent-a', 'agent-b'),
        mode: 'cold',
        skillGroup: 'vip',
      });
      await h.store.saveRouting(session.id, transferred('agent-a', 'agent-b', 'cold'), { agentId: 'agent-b', expiresAt: inAMinute() });
      const restored = { ...decision(), offeredTo: 'agent-a' };
      const undone = await h.store.undoTransfer(transfer.id, { to: 'sender', skillGroup: 'general', decision: restored });
      expect(undone.changed).toBe(true);
      expect(undone.transfer).toMatchObject({ status: 'cancelled', decidedBy: 'system' });
      expect(undone.session).toMatchObject({ status: 'active', assignedAgentId: 'agent-a', offeredAgentId: null, skillGroup: 'general' });
      expect(undone.session.routing).toEqual(restored);
      expect((await h.store.decisions(session.id)).at(-1)?.decision).toEqual(restored);
      expect(await h.store.activeChatCount('agent-a')).toBe(1);
      // Once: a second undo changes nothing.
      const again = await h.store.undoTransfer(transfer.id, { to: 'sender', skillGroup: 'general', decision: restored });
      expect(again.changed).toBe(false);

      // To the queue (the sender signed out); and not once someone took the contact.
      const queued = await activeWith('agent-a');
      const t2 = (await h.store.startTransfer({ ...transferInput(queued.id, 'agent-a', 'agent-b'), mode: 'cold' })).transfer;
      const back = await h.store.undoTransfer(t2.id, { to: 'queue', skillGroup: 'general', decision: null });
      expect(back.session).toMatchObject({ status: 'queued', assignedAgentId: null, skillGroup: 'general' });
      const taken = await activeWith('agent-a');
      const t3 = (await h.store.startTransfer({ ...transferInput(taken.id, 'agent-a', 'agent-b'), mode: 'cold' })).transfer;
      await h.store.claim(taken.id, 'agent-b');
      const refused = await h.store.undoTransfer(t3.id, { to: 'sender', skillGroup: 'general', decision: null });
      expect(refused).toMatchObject({
        changed: false,
        transfer: { status: 'routed' },
        session: { status: 'active', assignedAgentId: 'agent-b' },
      });
      await expect(
        h.store.undoTransfer('0190d000-0000-7000-8000-000000000000', { to: 'queue', skillGroup: 'general', decision: null }),
      ).rejects.toMatchObject({
        code: 'TRANSFER_NOT_FOUND',
      });
    });

    it('starts a cold transfer in one write: the contact leaves its agent and waits in its new group', async () => {
      const session = await activeWith('agent-a');
      const { transfer, session: after } = await h.store.startTransfer({
        sessionId: session.id,
        fromAgentId: 'agent-a',
        mode: 'cold',
        target: { kind: 'skill-group', skillGroup: 'vip' },
        skillGroup: 'vip',
        decision: transferred('agent-a', 'skill-group:vip', 'cold'),
        note: 'Gold member, wants a refund',
        summary,
      });
      expect(transfer).toMatchObject({ status: 'routed', mode: 'cold', fromAgentId: 'agent-a', offeredAgentId: null, skillGroup: 'vip' });
      expect(transfer.note).toBe('Gold member, wants a refund');
      expect(transfer.summary).toEqual(summary);
      expect(after).toMatchObject({ status: 'queued', assignedAgentId: null, skillGroup: 'vip' });
      expect(after.routing?.transfer).toEqual({ from: 'agent-a', to: 'skill-group:vip', mode: 'cold' });
      expect(await h.store.activeChatCount('agent-a')).toBe(0);
      expect((await h.store.transfers(session.id)).map((t) => t.id)).toEqual([transfer.id]);
      expect(await h.store.getTransfer(transfer.id)).toEqual(transfer);
      // Nothing pending for a cold transfer; the router logs its offer.
      expect(await h.store.pendingTransfers()).toEqual([]);
      // The contact is no longer the agent's: a second transfer by them is refused.
      await expect(h.store.startTransfer({ ...transferInput(session.id, 'agent-a', 'agent-b'), mode: 'cold' })).rejects.toMatchObject({
        code: 'NOT_ASSIGNED',
      });
    });

    const transferInput = (sessionId: string, from: string, to: string, capacity?: number) => ({
      sessionId,
      fromAgentId: from,
      mode: 'warm' as const,
      target: { kind: 'agent' as const, agentId: to },
      skillGroup: 'general',
      decision: transferred(from, to, 'warm'),
      offer: {
        agentId: to,
        expiresAt: inAMinute(),
        ...(capacity !== undefined ? { capacity: { chat: capacity, voice: 1, chatsDuringVoice: 0 } } : {}),
      },
    });

    it('keeps a warm transfer pending with the session unchanged, one at a time, and logs its offer', async () => {
      const session = await activeWith('agent-a');
      const before = (await h.store.decisions(session.id)).length;
      const { transfer, session: after } = await h.store.startTransfer({ ...transferInput(session.id, 'agent-a', 'agent-b'), note: 'VIP' });
      expect(transfer).toMatchObject({ status: 'pending', offeredAgentId: 'agent-b', note: 'VIP', summary: null });
      expect(after).toMatchObject({ status: 'active', assignedAgentId: 'agent-a', skillGroup: 'general' });
      const log = await h.store.decisions(session.id);
      expect(log).toHaveLength(before + 1);
      expect(log.at(-1)!.decision).toMatchObject({ trigger: 'transferred', offeredTo: 'agent-b', transfer: { mode: 'warm' } });
      expect((await h.store.pendingTransfers({ offeredAgentId: 'agent-b' })).map((t) => t.id)).toEqual([transfer.id]);
      expect(await h.store.pendingTransfers({ offeredAgentId: 'agent-c' })).toEqual([]);
      await expect(h.store.startTransfer(transferInput(session.id, 'agent-a', 'agent-c'))).rejects.toMatchObject({
        code: 'TRANSFER_PENDING',
      });
      await expect(h.store.startTransfer(transferInput(session.id, 'agent-x', 'agent-c'))).rejects.toMatchObject({ code: 'NOT_ASSIGNED' });
    });

    it("refuses a warm offer beyond the receiving agent's capacity, counting their chats, offers and transfers", async () => {
      await activeWith('agent-b');
      const first = await activeWith('agent-a');
      await expect(h.store.startTransfer(transferInput(first.id, 'agent-a', 'agent-b', 1))).rejects.toMatchObject({
        code: 'TRANSFER_TARGET_UNAVAILABLE',
      });
      await h.store.startTransfer(transferInput(first.id, 'agent-a', 'agent-b', 2));
      const second = await activeWith('agent-a');
      // One chat and one pending transfer: full at 2.
      await expect(h.store.startTransfer(transferInput(second.id, 'agent-a', 'agent-b', 2))).rejects.toMatchObject({
        code: 'TRANSFER_TARGET_UNAVAILABLE',
      });
      expect((await h.store.transfers(second.id)).length).toBe(0);
    });

    it('lets exactly one of concurrent accepts of a warm transfer move the contact', async () => {
      const session = await activeWith('agent-a');
      const { transfer } = await h.store.startTransfer(transferInput(session.id, 'agent-a', 'agent-b'));
      const outcomes = await Promise.all([
        h.store.decideTransfer(transfer.id, { outcome: 'accepted', by: 'agent-b' }),
        h.store.decideTransfer(transfer.id, { outcome: 'accepted', by: 'agent-b' }),
        h.store.decideTransfer(transfer.id, { outcome: 'cancelled', by: 'agent-a' }),
        h.store.decideTransfer(transfer.id, { outcome: 'accepted', by: 'agent-b' }),
      ]);
      expect(outcomes.filter((o) => o.changed)).toHaveLength(1);
      const final = (await h.store.getTransfer(transfer.id))!;
      const winner = outcomes.find((o) => o.changed)!;
      expect(final.status).toBe(winner.transfer.status);
      const after = (await h.store.getSession(session.id))!;
      if (final.status === 'accepted') {
        expect(after).toMatchObject({ status: 'active', assignedAgentId: 'agent-b' });
        expect(after.routing?.transfer).toEqual({ from: 'agent-a', to: 'agent-b', mode: 'warm' });
        expect(await h.store.activeChatCount('agent-b')).toBe(1);
        expect(await h.store.activeChatCount('agent-a')).toBe(0);
      } else {
        expect(after).toMatchObject({ status: 'active', assignedAgentId: 'agent-a' });
      }
      expect(final.decidedBy).toBe(final.status === 'accepted' ? 'agent-b' : 'agent-a');
    });

    it("moves the contact on accept to the transfer's skill group with its decision, and only for the agent offered it", async () => {
      const session = await activeWith('agent-a');
      const { transfer } = await h.store.startTransfer({ ...transferInput(session.id, 'agent-a', 'agent-b'), skillGroup: 'vip' });
      expect((await h.store.decideTransfer(transfer.id, { outcome: 'accepted', by: 'agent-c' })).changed).toBe(false);
      expect((await h.store.decideTransfer(transfer.id, { outcome: 'cancelled', by: 'agent-b' })).changed).toBe(false);
      const accepted = await h.store.decideTransfer(transfer.id, { outcome: 'accepted', by: 'agent-b' });
      expect(accepted).toMatchObject({ changed: true, transfer: { status: 'accepted', decidedBy: 'agent-b' } });
      expect(accepted.session).toMatchObject({ status: 'active', assignedAgentId: 'agent-b', skillGroup: 'vip' });
      // Over: nothing applies any more, and another transfer may start (by its new agent).
      expect((await h.store.decideTransfer(transfer.id, { outcome: 'declined', by: 'agent-b' })).changed).toBe(false);
      const next = await h.store.startTransfer({ ...transferInput(session.id, 'agent-b', 'agent-a'), skillGroup: 'vip' });
      expect(next.transfer.status).toBe('pending');
    });

    it('declines with a sealed reason, cancels only for the sender or the system, and refuses an unknown transfer', async () => {
      const session = await activeWith('agent-a');
      const { transfer } = await h.store.startTransfer(transferInput(session.id, 'agent-a', 'agent-b'));
      const declined = await h.store.decideTransfer(transfer.id, { outcome: 'declined', by: 'agent-b', reason: 'on a call' });
      expect(declined).toMatchObject({ changed: true, transfer: { status: 'declined', declineReason: 'on a call' } });
      expect(declined.session).toMatchObject({ status: 'active', assignedAgentId: 'agent-a' });
      const again = await h.store.startTransfer(transferInput(session.id, 'agent-a', 'agent-c'));
      expect((await h.store.decideTransfer(again.transfer.id, { outcome: 'cancelled', by: 'system' })).transfer.status).toBe('cancelled');
      await expect(h.store.decideTransfer('01900000-0000-7000-8000-000000000000', { outcome: 'expired' })).rejects.toMatchObject({
        code: 'TRANSFER_NOT_FOUND',
      });
    });

    it('expires a warm transfer only after its time, and refuses accepting it then', async () => {
      const session = await activeWith('agent-a');
      const input = transferInput(session.id, 'agent-a', 'agent-b');
      const { transfer } = await h.store.startTransfer(input);
      expect((await h.store.decideTransfer(transfer.id, { outcome: 'expired' })).changed).toBe(false);
      h.advance(5 * 60_000); // well past expiresAt (set from the wall clock; the store clock stood still)
      expect((await h.store.decideTransfer(transfer.id, { outcome: 'accepted', by: 'agent-b' })).changed).toBe(false);
      const expired = await h.store.decideTransfer(transfer.id, { outcome: 'expired' });
      expect(expired).toMatchObject({ changed: true, transfer: { status: 'expired', decidedBy: 'system' } });
      expect(expired.session).toMatchObject({ status: 'active', assignedAgentId: 'agent-a' });
    });

    it('accepts nothing once the contact closed or left its sender', async () => {
      const session = await activeWith('agent-a');
      const { transfer } = await h.store.startTransfer(transferInput(session.id, 'agent-a', 'agent-b'));
      await h.store.close(session.id, 'agent-a', 'resolved');
      const late = await h.store.decideTransfer(transfer.id, { outcome: 'accepted', by: 'agent-b' });
      expect(late).toMatchObject({ changed: false, transfer: { status: 'pending' }, session: { status: 'closed' } });
      expect(await h.store.activeChatCount('agent-b')).toBe(0);
      await expect(h.store.startTransfer(transferInput(session.id, 'agent-a', 'agent-b'))).rejects.toMatchObject({
        code: 'SESSION_CLOSED',
      });
    });

    // ── Continuity (issue 12) ─────────────────────────────────────────────────────────────────
    // WeChat vouches for what it links (its unionid): trusted, like the adapter's drafts.
    const wx = (openid: string, text: string, links?: InboundDraft['identity']['links']) =>
      draft({
        identity: { channel: 'WX', externalId: openid, ...(links ? { links: links.map((l) => ({ merge: true, ...l })) } : {}) },
        text,
      });
    const app = (userId: string, text: string, links?: InboundDraft['identity']['links']) =>
      draft({ identity: { channel: 'AP', externalId: `shop:${userId}`, ...(links ? { links } : {}) }, text });

    it('links two channels of one person by a verified link and carries the active conversation on with the same agent', async () => {
      const first = await h.store.appendInbound(wx('o-wang', 'my order is late', [{ kind: 'wechat-unionid', value: 'union-wang-0001' }]), {
        skillGroup: 'general',
      });
      await h.store.saveRouting(first.session.id, decision(), null);
      await h.store.claim(first.session.id, 'agent-a');
      // The same person opens the app, signed in with WeChat: the app passes the verified unionid.
      const second = await h.store.appendInbound(
        app('u-77', 'I am in the app now', [{ kind: 'wechat-unionid', value: 'union-wang-0001', merge: true }]),
        {
          skillGroup: 'vip',
        },
      );
      expect(second.merges).toHaveLength(1);
      expect(second.merges[0]).toMatchObject({
        survivorId: first.session.customerId,
        mergedId: second.session.customerId,
        by: 'system',
        reason: 'link:wechat-unionid',
      });
      expect(second.newSession).toBe(true);
      expect(second.session.id.startsWith('AP')).toBe(true);
      expect(second.session).toMatchObject({
        conversationId: first.session.conversationId,
        status: 'active',
        assignedAgentId: 'agent-a',
        skillGroup: 'general',
        movedFrom: first.session.id,
      });
      expect(second.moved).toMatchObject({ id: first.session.id, status: 'closed', movedTo: second.session.id });
      expect(await h.store.getSession(first.session.id)).toMatchObject({ status: 'closed', movedTo: second.session.id });
      // One conversation, gap-free, each message on its own channel; the agent still holds one chat.
      const messages = await h.store.listMessages(first.session.conversationId);
      expect(messages.map((m) => [m.seq, m.channel])).toEqual([
        [1, 'WX'],
        [2, 'AP'],
      ]);
      // What each identity's channel may show it: its own messages, `limit` counting those only.
      const own = await h.store.listMessages(first.session.conversationId, { customerId: second.session.customerId, limit: 1 });
      expect(own.map((m) => [m.seq, m.channel])).toEqual([[2, 'AP']]);
      expect(await h.store.activeChatCount('agent-a')).toBe(1);
      // Moving channel is not another contact (routing's contacts-in-30-days).
      expect(await h.store.countSessions({ customerId: second.session.customerId, contactsOnly: true })).toBe(1);
      // The person's sessions, identities and timeline read across both customers.
      expect((await h.store.listSessions({ customerId: second.session.customerId })).map((x) => x.id).sort()).toEqual(
        [first.session.id, second.session.id].sort(),
      );
      const { identities, links } = await h.store.customerIdentities(second.session.customerId);
      expect(identities.map((x) => [x.channel, x.externalId])).toEqual([
        ['WX', 'o-wang'],
        ['AP', 'shop:u-77'],
      ]);
      expect(links).toMatchObject([
        { kind: 'wechat-unionid', value: 'union-wang-0001', customerId: first.session.customerId, source: 'WX' },
      ]);
      const timeline = await h.store.timeline(first.session.customerId);
      expect(timeline.messages.map((m) => (m.kind === 'text' ? m.body.text : ''))).toEqual(['I am in the app now', 'my order is late']);
      expect((await h.store.getCustomer(second.session.customerId))?.groupId).toBe(first.session.customerId);
    });

    it('moves a waiting contact with its decision and place in the queue, and a pending offer back to the queue', async () => {
      const first = await h.store.appendInbound(wx('o-li', 'hello?', [{ kind: 'phone', value: '+86 138-0013-8000' }]), {
        skillGroup: 'general',
      });
      const candidates = [{ agentId: 'agent-b', chosen: true, reasons: ['idle longest'] }];
      await h.store.saveRouting(
        first.session.id,
        { ...decision('expert'), candidates },
        {
          agentId: 'agent-b',
          expiresAt: new Date(Date.now() + 20_000).toISOString(),
        },
      );
      h.advance(1000);
      // The app vouches for the same phone number in another form: the same link.
      const second = await h.store.appendInbound(app('u-li', 'still waiting', [{ kind: 'phone', value: '+8613800138000', merge: true }]), {
        skillGroup: 'general',
      });
      expect(second.session).toMatchObject({
        status: 'queued',
        assignedAgentId: null,
        offeredAgentId: null,
        waitingSince: first.session.waitingSince,
        movedFrom: first.session.id,
      });
      expect(second.session.routing?.tier).toBe('expert');
      // Its candidates go with it (issue 18: kept beside the session row).
      expect(await h.store.routingCandidates!(second.session.id)).toEqual(candidates);
      // The old session's offer is named on the closed row (so the push can withdraw it) and counts for nobody.
      expect(second.moved).toMatchObject({ status: 'closed', offeredAgentId: 'agent-b' });
      expect((await h.store.agentLoad('agent-b')).offered).toBe(0);
    });

    it('keeps separate people apart: no link, another link, or a window that ran out', async () => {
      const a = await h.store.appendInbound(wx('o-zhao', 'hi', [{ kind: 'email', value: 'Zhao@Example.com' }]), { skillGroup: 'general' });
      const b = await h.store.appendInbound(app('u-qian', 'hi'), { skillGroup: 'general' });
      const c = await h.store.appendInbound(app('u-sun', 'hi', [{ kind: 'email', value: 'sun@example.com' }]), { skillGroup: 'general' });
      expect(new Set([a, b, c].map((r) => r.session.conversationId)).size).toBe(3);
      expect([b.merges, c.merges]).toEqual([[], []]);
      // The same e-mail, another case: one link; but the conversation went quiet beyond the window.
      h.advance(31 * 60_000);
      const d = await h.store.appendInbound(app('u-zhao', 'back again', [{ kind: 'email', value: 'zhao@example.com ', merge: true }]), {
        skillGroup: 'general',
      });
      expect(d.merges).toHaveLength(1);
      expect(d.moved).toBeNull();
      expect(d.session.conversationId).not.toBe(a.session.conversationId);
      expect(d.session.status).toBe('queued');
      // Malformed link values are ignored, never stored.
      const e = await h.store.appendInbound(app('u-odd', 'x', [{ kind: 'phone', value: 'call me maybe' }]), { skillGroup: 'general' });
      expect(e.merges).toEqual([]);
      expect((await h.store.customerIdentities(e.session.customerId)).links).toEqual([]);
    });

    it('lets a link from a source not trusted to merge claim nobody: a held link changes nothing', async () => {
      const victim = await h.store.appendInbound(
        wx('o-victim', 'my card was charged twice', [{ kind: 'phone', value: '+8613700000001' }]),
        {
          skillGroup: 'general',
        },
      );
      const claimer = await h.store.appendInbound(app('u-claimer', 'hi it is me', [{ kind: 'phone', value: '+8613700000001' }]), {
        skillGroup: 'general',
      });
      expect(claimer.merges).toEqual([]);
      expect(claimer.moved).toBeNull();
      expect(claimer.session.conversationId).not.toBe(victim.session.conversationId);
      expect(await h.store.customerGroup(claimer.session.customerId)).toEqual([claimer.session.customerId]);
      // The link stays with its holder.
      expect((await h.store.findCustomerByLink('phone', '+8613700000001'))?.id).toBe(victim.session.customerId);
    });

    it('lets a trusted voucher take a link an untrusted source recorded first, never merging into the squatter', async () => {
      const squatter = await h.store.appendInbound(app('u-squat', 'hello', [{ kind: 'phone', value: '+8613700000009' }]), {
        skillGroup: 'general',
      });
      const owner = await h.store.appendInbound(
        app('u-owner', 'my card ends 4242', [{ kind: 'phone', value: '+8613700000009', merge: true }]),
        {
          skillGroup: 'general',
        },
      );
      expect(owner.merges).toEqual([]);
      expect(owner.session.conversationId).not.toBe(squatter.session.conversationId);
      expect((await h.store.findCustomerByLink('phone', '+8613700000009'))?.id).toBe(owner.session.customerId);
      expect((await h.store.customerIdentities(owner.session.customerId)).links).toMatchObject([{ value: '+8613700000009' }]);
      expect((await h.store.customerIdentities(squatter.session.customerId)).links).toEqual([]);
      // An agent who checked a number with their customer takes it from an untrusted holder too.
      const third = await h.store.appendInbound(app('u-third', 'hi', [{ kind: 'email', value: 'x@example.com' }]), {
        skillGroup: 'general',
      });
      const agentLinked = await h.store.linkIdentity(
        squatter.session.customerId,
        { kind: 'email', value: 'X@example.com' },
        'agent:agent-a',
      );
      expect(agentLinked.customerId).toBe(squatter.session.customerId);
      expect((await h.store.customerIdentities(third.session.customerId)).links).toEqual([]);
    });

    it('merges two customers on request, undoes it exactly, and a shared link does not merge them again', async () => {
      const a = await h.store.appendInbound(wx('o-a', 'first person'), { skillGroup: 'general' });
      const b = await h.store.appendInbound(app('u-b', 'second person'), { skillGroup: 'general' });
      const merge = await h.store.mergeCustomers({
        survivorId: a.session.customerId,
        mergedId: b.session.customerId,
        by: 'agent-a',
        reason: 'agent',
      });
      expect(merge).toMatchObject({ survivorId: a.session.customerId, mergedId: b.session.customerId, by: 'agent-a', undoneAt: null });
      expect(await h.store.customerGroup(b.session.customerId)).toEqual([a.session.customerId, b.session.customerId]);
      expect((await h.store.timeline(a.session.customerId)).messages).toHaveLength(2);
      await expect(
        h.store.mergeCustomers({ survivorId: b.session.customerId, mergedId: a.session.customerId, by: 'agent-a', reason: 'agent' }),
      ).rejects.toMatchObject({ code: 'MERGE_SAME_CUSTOMER' });
      expect((await h.store.merges(b.session.customerId)).map((m) => m.id)).toEqual([merge.id]);

      const { merge: undone, detached } = await h.store.undoMerge(merge.id, 'lead-1');
      expect(undone).toMatchObject({ undoneBy: 'lead-1' });
      expect(undone.undoneAt).not.toBeNull();
      // Each had its own conversation: nothing to detach.
      expect(detached).toEqual([]);
      await expect(h.store.undoMerge(merge.id, 'lead-1')).rejects.toMatchObject({ code: 'MERGE_ALREADY_UNDONE' });
      await expect(h.store.undoMerge('0190a0a0-0000-7000-8000-000000000000', 'x')).rejects.toMatchObject({ code: 'NOT_FOUND' });
      expect(await h.store.customerGroup(a.session.customerId)).toEqual([a.session.customerId]);
      expect(await h.store.customerGroup(b.session.customerId)).toEqual([b.session.customerId]);
      expect((await h.store.timeline(b.session.customerId)).messages.map((m) => m.channel)).toEqual(['AP']);
      expect((await h.store.listSessions({ customerId: a.session.customerId })).map((x) => x.channel)).toEqual(['WX']);
      expect((await h.store.getCustomer(b.session.customerId))?.mergedInto).toBeNull();

      // Both then show the same verified link: the undone merge stands, the link stays with its first holder.
      await h.store.appendInbound(wx('o-a', 'me again', [{ kind: 'phone', value: '+4915112345678' }]), { skillGroup: 'general' });
      const again = await h.store.appendInbound(app('u-b', 'me again', [{ kind: 'phone', value: '+4915112345678', merge: true }]), {
        skillGroup: 'general',
      });
      expect(again.merges).toEqual([]);
      expect(await h.store.customerGroup(b.session.customerId)).toEqual([b.session.customerId]);
    });

    it("closes, on undo, a session one person had opened inside the other's conversation, so neither goes on in the other's", async () => {
      const a = await h.store.appendInbound(wx('o-det-a', 'my order', [{ kind: 'phone', value: '+8613600000001' }]), {
        skillGroup: 'general',
      });
      await h.store.saveRouting(a.session.id, decision(), null);
      await h.store.claim(a.session.id, 'agent-a');
      const b = await h.store.appendInbound(app('u-det-b', 'it is me', [{ kind: 'phone', value: '+8613600000001', merge: true }]), {
        skillGroup: 'general',
      });
      expect(b.session).toMatchObject({ conversationId: a.session.conversationId, status: 'active' });
      const { detached } = await h.store.undoMerge(b.merges[0]!.id, 'lead-1');
      expect(detached.map((x) => [x.id, x.status])).toEqual([[b.session.id, 'closed']]);
      // The conversation is the first person's; the other's next message starts their own.
      const next = await h.store.appendInbound(app('u-det-b', 'hello again'), { skillGroup: 'general' });
      expect(next.session.conversationId).not.toBe(a.session.conversationId);
      expect(next.moved).toBeNull();
      // The first person's conversation had gone on in the detached session: it closed with it, and
      // their next message starts anew in their own group (the timeline keeps all of it).
      const back = await h.store.appendInbound(wx('o-det-a', 'anyone?'), { skillGroup: 'general' });
      expect([back.newSession, back.moved]).toEqual([true, null]);
      expect(back.session.conversationId).not.toBe(next.session.conversationId);
      expect(await h.store.customerGroup(back.session.customerId)).toEqual([a.session.customerId]);
    });

    it("undoes one merge of a chain and leaves the others: each group's tree splits where it joined", async () => {
      const ids: string[] = [];
      for (const who of ['m1', 'm2', 'm3'])
        ids.push((await h.store.appendInbound(app(who, 'hi'), { skillGroup: 'general' })).session.customerId);
      const [c1, c2, c3] = ids as [string, string, string];
      const m12 = await h.store.mergeCustomers({ survivorId: c1, mergedId: c2, by: 'x', reason: 'agent' });
      // Merging a member merges its whole group at the root.
      await h.store.mergeCustomers({ survivorId: c3, mergedId: c2, by: 'x', reason: 'agent' });
      expect((await h.store.customerGroup(c1)).sort()).toEqual([c1, c2, c3].sort());
      expect((await h.store.customerGroup(c1))[0]).toBe(c3);
      await h.store.undoMerge(m12.id, 'x');
      expect(await h.store.customerGroup(c2)).toEqual([c2]);
      expect((await h.store.customerGroup(c1)).sort()).toEqual([c1, c3].sort());
    });

    it('links a phone an agent verified, and refuses one another customer holds, naming them', async () => {
      const a = await h.store.appendInbound(wx('o-p1', 'hi'), { skillGroup: 'general' });
      const b = await h.store.appendInbound(app('u-p2', 'hi', [{ kind: 'phone', value: '+8613900000000', merge: true }]), {
        skillGroup: 'general',
      });
      const link = await h.store.linkIdentity(a.session.customerId, { kind: 'phone', value: '+86 139 1111 2222' }, 'agent:agent-a');
      expect(link).toMatchObject({ kind: 'phone', value: '+8613911112222', source: 'agent:agent-a' });
      // Linking it again changes nothing.
      await h.store.linkIdentity(a.session.customerId, { kind: 'phone', value: '+8613911112222' }, 'agent:agent-a');
      expect((await h.store.customerIdentities(a.session.customerId)).links).toHaveLength(1);
      const conflict = await h.store
        .linkIdentity(a.session.customerId, { kind: 'phone', value: '+8613900000000' }, 'agent:agent-a')
        .catch((e: unknown) => e);
      expect(conflict).toBeInstanceOf(HuiliuError);
      expect(conflict).toMatchObject({ code: 'LINK_CONFLICT', details: { customerId: b.session.customerId } });
      await expect(h.store.linkIdentity(a.session.customerId, { kind: 'email', value: 'not-an-email' }, 'agent:x')).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(
        h.store.linkIdentity('0190a0a0-0000-7000-8000-000000000000', { kind: 'phone', value: '+861' + '3'.repeat(9) }, 'agent:x'),
      ).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });

    it("pages a customer's timeline newest first across conversations", async () => {
      for (let i = 1; i <= 5; i++) {
        await h.store.appendInbound(app('u-page', `message ${i}`), { skillGroup: 'general' });
        // Each in its own conversation: the previous one closed.
        const [open] = await h.store.listSessions({
          status: ['queued'],
          customerId: (await h.store.findCustomerByIdentity('AP', 'shop:u-page'))!.id,
        });
        if (open) {
          await h.store.claim(open.id, 'agent-a');
          await h.store.close(open.id, 'agent-a', 'resolved');
        }
      }
      const customerId = (await h.store.findCustomerByIdentity('AP', 'shop:u-page'))!.id;
      const first = await h.store.timeline(customerId, { limit: 2 });
      expect(first.messages.map((m) => (m.kind === 'text' ? m.body.text : ''))).toEqual(['message 5', 'message 4']);
      expect(first.hasOlder).toBe(true);
      const rest = await h.store.timeline(customerId, { before: first.messages[1]!.id, limit: 10 });
      expect(rest.messages.map((m) => (m.kind === 'text' ? m.body.text : ''))).toEqual(['message 3', 'message 2', 'message 1']);
      expect(rest.hasOlder).toBe(false);
      expect(new Set([...first.messages, ...rest.messages].map((m) => m.conversationId)).size).toBe(5);
    });

    it('answers a ping while open', async () => {
      await expect(h.store.ping()).resolves.toBeUndefined();
    });

    it('returns null or NOT_FOUND for unknown sessions', async () => {
      expect(await h.store.getSession('WB000000000000000000')).toBeNull();
      await expect(h.store.claim('WB000000000000000000', 'x')).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    });
  });
}
