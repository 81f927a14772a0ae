import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserView } from '../../../common/api/auth';
import { TRANSFER_EVENT_NAME } from '../../../common/api/transfers';
import type { EventOf } from '../../../common/events/events';
import { isStaffOnly } from '../../../common/message/envelope';
import { DEFAULT_ROUTING_CONFIG, type RoutingConfig } from '../../../common/routing/types';
import { summarize, summaryMessages } from '../ai/assist/summary';
import type { Bus } from '../bus/bus';
import { createMemoryBus } from '../bus/bus.memory';
import { Ingest } from '../gateway/ingest';
import type { KeyProvider } from '../keys/provider';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createLogger } from '../logging/logger';
import { AgentPool } from '../routing/agent-pool';
import { createRouter, type Router } from '../routing/router';
import { draft } from '../sessions/store.contract';
import type { SessionStore } from '../sessions/store';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { SessionViews } from '../sessions/views';
import { until } from '../../test/support/until';
import { createConversationService, type ConversationService } from './service';
import { createTransferService, type TransferService } from './transfers';

const staff = (id: string, roles: UserView['roles'], skillGroups: string[], expert = false): UserView => ({
  id,
  username: id,
  displayName: id.toUpperCase(),
  roles,
  skillGroups,
  expert,
});
const ann = staff('ann', ['agent'], ['general']);
const bob = staff('bob', ['agent'], ['general']);
const carl = staff('carl', ['agent'], ['general']);
const vera = staff('vera', ['agent'], ['vip']);
const xena = staff('xena', ['agent'], ['vip'], true);
const admin = staff('adm', ['admin'], ['general', 'vip']);
const USERS = new Map([ann, bob, carl, vera, xena, admin].map((u) => [u.id, u]));

describe('transfers', () => {
  let dir: string;
  let keys: KeyProvider;
  let store: SessionStore;
  let bus: Bus;
  let pool: AgentPool;
  let router: Router;
  let ingest: Ingest;
  let config: RoutingConfig;
  let service: ConversationService;
  let transfers: TransferService;
  let changes: EventOf<'session.changed'>[];
  let transferEvents: EventOf<'transfer.changed'>[];
  let outbound: EventOf<'message.out'>[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-transfers-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    store = await createSqliteSessionStore({ path: join(dir, 'db.sqlite'), keys });
    bus = createMemoryBus();
    pool = new AgentPool();
    config = { ...DEFAULT_ROUTING_CONFIG, offerTimeoutMs: 60_000, capacity: { ...DEFAULT_ROUTING_CONFIG.capacity, chat: 3 } };
    const logger = createLogger({ level: 'silent' });
    router = createRouter({ store, bus, pool, config: () => config, logger });
    ingest = new Ingest(store, bus);
    let transfersRef: TransferService | null = null;
    const views = new SessionViews(store, { extras: async (s, viewer) => (transfersRef ? transfersRef.detailExtras(s, viewer) : {}) });
    service = createConversationService({ store, router, pool, bus, views, logger, routingConfig: () => config });
    transfers = createTransferService({
      store,
      router,
      pool,
      bus,
      views,
      directory: { userById: (id) => USERS.get(id) ?? null },
      skillGroups: [
        { id: 'general', name: 'General' },
        { id: 'vip', name: 'VIP' },
      ],
      routingConfig: () => config,
      // The real extractive summarizer over the stored conversation (what the assist service does with the LLM off).
      summarize: async (s) =>
        summarize(
          { messages: summaryMessages((await store.recentMessages(s.conversationId)).messages) },
          { analyze: () => ({ intent: { label: 'order_status', confidence: 0.9, outOfScope: false } }) },
        ),
      logger,
    });
    transfersRef = transfers;
    changes = [];
    transferEvents = [];
    outbound = [];
    await bus.subscribeAll('session.changed', (e) => void changes.push(e));
    await bus.subscribeAll('transfer.changed', (e) => void transferEvents.push(e));
    await bus.subscribeAll('message.out', (e) => void outbound.push(e));
    await router.start();
    await transfers.start();
  });
  afterEach(async () => {
    await transfers.stop();
    await router.stop();
    await bus.close();
    await store.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const online = (user: UserView, idleSince = 0) =>
    pool.connect(
      { id: user.id, username: user.username, displayName: user.displayName, skillGroups: user.skillGroups, expert: user.expert },
      0,
      idleSince,
    );

  /** A customer contact (in Chinese or English) that `agent` has accepted. */
  const held = async (agent: UserView, externalId: string, text = 'My parcel 2024112900123 has not arrived, where is it?') => {
    const r = await ingest.accept(draft({ identity: { channel: 'WB', externalId }, text }), agent.skillGroups[0]!);
    await until(async () => (await store.getSession(r.session.id))?.routing !== null);
    await service.accept(agent, r.session.id);
    return r.session.id;
  };
  const session = async (id: string) => (await store.getSession(id))!;
  const eventOf = async (transferId: string, status: string) => {
    const find = () => transferEvents.find((e) => e.payload.transferId === transferId && e.payload.status === status);
    await until(() => find() !== undefined);
    return find()!;
  };
  const noticesTo = (sessionId: string) =>
    outbound.filter((e) => e.sessionId === sessionId && e.payload.envelope.authorKind === 'system').map((e) => e.payload.envelope);
  const staffRecords = async (sessionId: string) =>
    (await store.listMessages((await session(sessionId)).conversationId)).filter((m) => isStaffOnly(m));

  describe('cold', () => {
    it('to an agent: leaves the sender at once, is offered to that agent alone, and the customer is told', async () => {
      online(ann);
      online(bob, 1);
      online(carl, 2);
      const sessionId = await held(ann, 'cold-agent');
      const view = await transfers.transfer(ann, {
        sessionId,
        to: { kind: 'agent', agentId: 'carl' },
        mode: 'cold',
        note: 'Wants a refund',
      });
      expect(view).toMatchObject({
        status: 'routed',
        mode: 'cold',
        from: { id: 'ann', name: 'ANN' },
        targetLabel: 'CARL',
        note: 'Wants a refund',
      });
      expect(view.summary?.lines.length).toBeGreaterThan(0);
      // Carl, though Bob has been idle longer: the sender named Carl.
      expect(await session(sessionId)).toMatchObject({
        status: 'offered',
        offeredAgentId: 'carl',
        assignedAgentId: null,
        skillGroup: 'general',
      });
      expect(pool.get('ann')?.activeChats).toBe(0);
      const logged = (await store.decisions(sessionId)).at(-1)!.decision;
      expect(logged).toMatchObject({ trigger: 'transferred', offeredTo: 'carl', transfer: { from: 'ann', to: 'carl', mode: 'cold' } });
      expect(logged.candidates?.find((c) => c.agentId === 'ann')?.codes).toEqual(['transfer-source']);
      expect(logged.reasons.at(-1)).toMatchObject({ factor: 'transfer', note: 'cold transfer by ANN to agent CARL' });
      expect((await eventOf(view.id, 'routed')).actor).toBe('ann');
      // The customer hears of the colleague once; the agents' record of it never leaves the server.
      await until(() => noticesTo(sessionId).length === 1);
      expect(noticesTo(sessionId)[0]!.body).toMatchObject({ text: expect.stringContaining('colleague') });
      const records = await staffRecords(sessionId);
      expect(records).toHaveLength(1);
      expect(records[0]!.body).toMatchObject({ name: TRANSFER_EVENT_NAME, data: { transferId: view.id, mode: 'cold' } });
      expect(outbound.some((e) => e.payload.envelope.kind === 'event')).toBe(false);
      // The sender can no longer act on it; the receiver sees the note and summary at the top.
      await expect(service.reply(ann, { sessionId, clientMessageId: 'ann-late-01', text: 'still there?' })).rejects.toMatchObject({
        code: 'NOT_ASSIGNED',
      });
      const detail = await service.accept(carl, sessionId);
      expect(detail.transfer).toMatchObject({ id: view.id, note: 'Wants a refund', from: { name: 'ANN' } });
      expect(detail.messages.some((m) => m.kind === 'event')).toBe(true);
    });

    it("to an agent who lets it lapse: after the offer time-out it goes to the agent's skill group, the sender last", async () => {
      config = { ...config, offerTimeoutMs: 300 };
      online(ann);
      online(bob, 1);
      const sessionId = await held(ann, 'cold-lapse');
      // Carl is not signed in: the contact waits for him, then goes to the group.
      await transfers.transfer(ann, { sessionId, to: { kind: 'agent', agentId: 'carl' }, mode: 'cold' });
      expect((await session(sessionId)).offeredAgentId).toBe('carl');
      await until(async () => (await session(sessionId)).offeredAgentId === 'bob', 3000);
      const timeout = (await store.decisions(sessionId)).at(-1)!.decision;
      expect(timeout).toMatchObject({ trigger: 'timeout', offeredTo: 'bob', transfer: { from: 'ann', to: 'carl' } });
    });

    it('to a skill group: the contact moves to that group and is routed there', async () => {
      online(ann);
      online(vera);
      const sessionId = await held(ann, 'cold-group');
      const view = await transfers.transfer(ann, { sessionId, to: { kind: 'skill-group', skillGroup: 'vip' }, mode: 'cold' });
      expect(view).toMatchObject({ skillGroup: 'vip', targetLabel: 'VIP', status: 'routed' });
      expect(await session(sessionId)).toMatchObject({ status: 'offered', skillGroup: 'vip', offeredAgentId: 'vera' });
      const logged = (await store.decisions(sessionId)).at(-1)!.decision;
      // Ann is not in the group the contact moved to.
      expect(logged.candidates?.find((c) => c.agentId === 'ann')?.codes).toEqual(['not-in-skill-group']);
      expect(logged).toMatchObject({
        trigger: 'transferred',
        skillGroup: 'vip',
        transfer: { to: 'skill-group:vip', mode: 'cold' },
      });
      // Ann is no longer in the contact's group: she does not even see it.
      await expect(service.open(ann, sessionId)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
      expect((await changes.find((e) => e.sessionId === sessionId && e.payload.reason === 'released'))?.payload.trigger).toBe(
        'transferred',
      );
    });

    it('to the expert tier: tier expert with its priority unchanged, offered to an expert first', async () => {
      online(ann);
      online(vera, 0);
      online(xena, 5);
      const sessionId = await held(ann, 'cold-expert');
      const before = (await session(sessionId)).routing!;
      expect(before.tier).not.toBe('expert');
      await transfers.transfer(ann, { sessionId, to: { kind: 'expert', skillGroup: 'vip' }, mode: 'cold' });
      const after = await session(sessionId);
      expect(after).toMatchObject({ skillGroup: 'vip', offeredAgentId: 'xena' });
      expect(after.routing).toMatchObject({ tier: 'expert', priority: before.priority, transfer: { to: 'expert:vip' } });
      expect(after.routing!.reasons.at(-1)!.note).toContain(`tier ${before.tier} → expert, priority unchanged`);
    });

    it("to the expert tier of the contact's own group when none is named: it waits for the expert tier's first ring", async () => {
      online(ann);
      online(bob);
      const sessionId = await held(ann, 'cold-expert-own');
      const view = await transfers.transfer(ann, { sessionId, to: { kind: 'expert' }, mode: 'cold' });
      expect(view.skillGroup).toBe('general');
      // No expert in general: the expert tier's first widening ring (proficiency 4 and up) has nobody yet.
      const after = await session(sessionId);
      expect(after).toMatchObject({ skillGroup: 'general', status: 'queued', offeredAgentId: null });
      expect(after.routing).toMatchObject({ tier: 'expert', trigger: 'transferred', ring: { index: 0, minProficiency: 4 } });
      // Issue 18: kept beside the session row.
      const candidates = (await store.routingCandidates!(sessionId))!;
      expect(candidates.find((c) => c.agentId === 'bob')?.codes).toEqual(['below-ring-proficiency']);
      expect(candidates.find((c) => c.agentId === 'ann')?.codes).toContain('transfer-source');
    });
  });

  describe('cold, undone (issue 18: a blind transfer on the phone whose new call failed)', () => {
    it('puts a contact offered to the target group back with its sender, in its first group, the offer withdrawn', async () => {
      online(ann);
      online(vera);
      const sessionId = await held(ann, 'undo-group');
      const before = await session(sessionId);
      // What the voice service hands the undo: the decision with its candidates (issue 18: kept beside the row).
      const candidatesBefore = (await store.routingCandidates!(sessionId))!;
      expect(candidatesBefore.length).toBeGreaterThan(0);
      const view = await transfers.transfer(ann, { sessionId, to: { kind: 'skill-group', skillGroup: 'vip' }, mode: 'cold' });
      expect(await session(sessionId)).toMatchObject({ status: 'offered', skillGroup: 'vip', offeredAgentId: 'vera' });
      expect(await store.routingCandidates!(sessionId)).not.toEqual(candidatesBefore);
      const undone = await transfers.undoCold(view.id, {
        skillGroup: before.skillGroup,
        routing: { ...before.routing!, candidates: candidatesBefore },
      });
      expect(await store.routingCandidates!(sessionId)).toEqual(candidatesBefore);
      expect(undone.to).toBe('sender');
      expect(undone.session).toMatchObject({ status: 'active', assignedAgentId: 'ann', offeredAgentId: null, skillGroup: 'general' });
      expect(await session(sessionId)).toMatchObject({ status: 'active', assignedAgentId: 'ann', skillGroup: 'general' });
      expect(pool.get('ann')?.activeChats).toBe(1);
      // Vera's desk drops the offer; the transfer is over.
      const back = changes.find((e) => e.sessionId === sessionId && e.payload.reason === 'accepted' && e.actor === 'system')!;
      expect(back.payload).toMatchObject({ assignedAgentId: 'ann', offerWithdrawnFrom: 'vera', trigger: 'transferred' });
      expect((await transfers.view(view.id))?.status).toBe('cancelled');
      expect((await eventOf(view.id, 'cancelled')).actor).toBe('system');
      expect((await store.decisions(sessionId)).at(-1)!.decision).toMatchObject({ skillGroup: 'general', offeredTo: 'ann' });
      // Ann handles it as before: she replies and closes it; Vera cannot take it.
      await expect(service.accept(vera, sessionId)).rejects.toBeDefined();
      await service.reply(ann, { sessionId, clientMessageId: 'ann-after-undo', text: 'still here' });
      // Idempotent: a second undo changes nothing.
      expect((await transfers.undoCold(view.id, { skillGroup: before.skillGroup, routing: before.routing })).to).toBeNull();
    });

    it('puts it in the queue of its first group when the sender is not signed in any more', async () => {
      online(ann);
      online(carl, 1);
      const sessionId = await held(ann, 'undo-offline');
      const before = await session(sessionId);
      // Nobody of vip is signed in: the contact waits there.
      const view = await transfers.transfer(ann, { sessionId, to: { kind: 'skill-group', skillGroup: 'vip' }, mode: 'cold' });
      expect(await session(sessionId)).toMatchObject({ status: 'queued', skillGroup: 'vip' });
      pool.disconnect('ann');
      const undone = await transfers.undoCold(view.id, { skillGroup: before.skillGroup, routing: before.routing });
      expect(undone.to).toBe('queue');
      // Back in general, offered to the one agent of that group signed in.
      await until(async () => (await session(sessionId)).offeredAgentId === 'carl');
      expect(await session(sessionId)).toMatchObject({ status: 'offered', skillGroup: 'general', assignedAgentId: null });
    });

    it('does nothing once someone took the contact', async () => {
      online(ann);
      online(carl, 1);
      const sessionId = await held(ann, 'undo-taken');
      const before = await session(sessionId);
      const view = await transfers.transfer(ann, { sessionId, to: { kind: 'agent', agentId: 'carl' }, mode: 'cold' });
      await service.accept(carl, sessionId);
      const undone = await transfers.undoCold(view.id, { skillGroup: before.skillGroup, routing: before.routing });
      expect(undone).toMatchObject({ to: null, session: { status: 'active', assignedAgentId: 'carl' } });
      expect((await transfers.view(view.id))?.status).toBe('routed');
      await expect(
        transfers.undoCold('0190d000-0000-7000-8000-000000000000', { skillGroup: 'general', routing: null }),
      ).rejects.toMatchObject({
        code: 'TRANSFER_NOT_FOUND',
      });
    });
  });

  describe('warm', () => {
    it('to an agent: the sender keeps the chat until the receiver accepts, then it moves in one write', async () => {
      online(ann);
      online(bob);
      const sessionId = await held(ann, 'warm-agent');
      const pending = await transfers.transfer(ann, {
        sessionId,
        to: { kind: 'agent', agentId: 'bob' },
        mode: 'warm',
        note: 'VIP, be kind',
      });
      expect(pending).toMatchObject({ status: 'pending', offeredTo: { id: 'bob', name: 'BOB' }, expiresAt: expect.any(String) });
      expect(await session(sessionId)).toMatchObject({ status: 'active', assignedAgentId: 'ann' });
      // Still Ann's: she can reply while Bob decides; the customer has not been told anything yet.
      await service.reply(ann, { sessionId, clientMessageId: 'ann-wait-01', text: 'One moment please.' });
      expect(noticesTo(sessionId)).toEqual([]);
      expect((await eventOf(pending.id, 'pending')).payload).toMatchObject({ offeredAgentId: 'bob', fromAgentId: 'ann' });
      // What Bob's offer card shows.
      const [offer] = await transfers.offersFor('bob');
      expect(offer).toMatchObject({
        transfer: { id: pending.id, note: 'VIP, be kind', from: { name: 'ANN' } },
        session: { id: sessionId },
      });
      expect(offer!.transfer.summary?.lines.length).toBeGreaterThan(0);
      // Ann sees her pending transfer in the conversation; Bob's detail is the same session with its history.
      expect((await service.open(ann, sessionId)).transfer).toMatchObject({ id: pending.id, status: 'pending' });

      const detail = await transfers.accept(bob, pending.id);
      expect(detail).toMatchObject({ id: sessionId, status: 'active', assignedAgentId: 'bob', transfer: { status: 'accepted' } });
      expect(detail.messages.map((m) => m.kind === 'text' && m.body.text)).toContain('One moment please.');
      expect(detail.routing).toMatchObject({
        trigger: 'transferred',
        offeredTo: 'bob',
        transfer: { from: 'ann', to: 'bob', mode: 'warm' },
      });
      expect([pool.get('ann')?.activeChats, pool.get('bob')?.activeChats]).toEqual([0, 1]);
      expect((await eventOf(pending.id, 'accepted')).actor).toBe('bob');
      await until(() => noticesTo(sessionId).length === 1);
      expect((await staffRecords(sessionId)).map((m) => m.body)).toEqual([
        expect.objectContaining({ data: expect.objectContaining({ status: 'accepted', to: { id: 'bob', name: 'BOB' } }) }),
      ]);
      await expect(service.reply(ann, { sessionId, clientMessageId: 'ann-late-02', text: 'hello?' })).rejects.toMatchObject({
        code: 'NOT_ASSIGNED',
      });
      expect((await service.reply(bob, { sessionId, clientMessageId: 'bob-hi-001', text: 'Hi, Bob here.' })).authorId).toBe('bob');
    });

    it('to a skill group: offered to the agent the router picks there; accepting moves the contact to that group', async () => {
      online(ann);
      online(vera, 0);
      online(xena, 5);
      const sessionId = await held(ann, 'warm-group');
      const pending = await transfers.transfer(ann, { sessionId, to: { kind: 'skill-group', skillGroup: 'vip' }, mode: 'warm' });
      // As the router ranks: the higher proficiency first (an expert counts 5), though Vera has been idle longer.
      expect(pending.offeredTo?.id).toBe('xena');
      const logged = (await store.decisions(sessionId)).at(-1)!.decision;
      expect(logged).toMatchObject({ trigger: 'transferred', offeredTo: 'xena', skillGroup: 'vip', transfer: { mode: 'warm' } });
      expect(logged.candidates?.find((c) => c.chosen)?.agentId).toBe('xena');
      expect(logged.candidates?.find((c) => c.agentId === 'vera')?.codes).toEqual(['lower-proficiency']);
      const detail = await transfers.accept(xena, pending.id);
      expect(detail).toMatchObject({ skillGroup: 'vip', assignedAgentId: 'xena' });
    });

    it('to the expert tier: offered to an expert of the group', async () => {
      online(ann);
      online(vera, 0);
      online(xena, 5);
      const sessionId = await held(ann, 'warm-expert');
      const pending = await transfers.transfer(ann, { sessionId, to: { kind: 'expert', skillGroup: 'vip' }, mode: 'warm' });
      expect(pending.offeredTo?.id).toBe('xena');
      const detail = await transfers.accept(xena, pending.id);
      expect(detail.routing?.tier).toBe('expert');
    });

    it('declined: the sender keeps the chat and is told why', async () => {
      online(ann);
      online(bob);
      const sessionId = await held(ann, 'warm-decline');
      const pending = await transfers.transfer(ann, { sessionId, to: { kind: 'agent', agentId: 'bob' }, mode: 'warm' });
      const declined = await transfers.decline(bob, pending.id, 'On a call');
      expect(declined).toMatchObject({ status: 'declined', declineReason: 'On a call', decidedBy: 'bob' });
      expect(await session(sessionId)).toMatchObject({ status: 'active', assignedAgentId: 'ann' });
      expect((await eventOf(pending.id, 'declined')).payload.fromAgentId).toBe('ann');
      await expect(transfers.accept(bob, pending.id)).rejects.toMatchObject({ code: 'TRANSFER_NOT_PENDING' });
      expect(await transfers.offersFor('bob')).toEqual([]);
      expect(noticesTo(sessionId)).toEqual([]);
      // A new transfer may start.
      expect((await transfers.transfer(ann, { sessionId, to: { kind: 'agent', agentId: 'bob' }, mode: 'warm' })).status).toBe('pending');
    });

    it('cancelled by the sender: the receiver can no longer accept it', async () => {
      online(ann);
      online(bob);
      const sessionId = await held(ann, 'warm-cancel');
      const pending = await transfers.transfer(ann, { sessionId, to: { kind: 'agent', agentId: 'bob' }, mode: 'warm' });
      await expect(transfers.cancel(bob, pending.id)).rejects.toMatchObject({ code: 'TRANSFER_NOT_FOUND' });
      expect(await transfers.cancel(ann, pending.id)).toMatchObject({ status: 'cancelled', decidedBy: 'ann' });
      await expect(transfers.accept(bob, pending.id)).rejects.toMatchObject({ code: 'TRANSFER_NOT_PENDING' });
      await expect(transfers.cancel(ann, pending.id)).rejects.toMatchObject({ code: 'TRANSFER_NOT_PENDING' });
      expect((await session(sessionId)).assignedAgentId).toBe('ann');
    });

    it('expires after the offer time-out: the sender keeps the chat and is told', async () => {
      config = { ...config, offerTimeoutMs: 1000 };
      online(ann);
      online(bob);
      const sessionId = await held(ann, 'warm-expire');
      const pending = await transfers.transfer(ann, { sessionId, to: { kind: 'agent', agentId: 'bob' }, mode: 'warm' });
      const expired = await eventOf(pending.id, 'expired');
      expect(expired.actor).toBe('system');
      expect(expired.payload.session).toMatchObject({ status: 'active', assignedAgentId: 'ann' });
      await expect(transfers.accept(bob, pending.id)).rejects.toMatchObject({ code: 'TRANSFER_NOT_PENDING' });
    });

    it('is cancelled when the sender closes the contact meanwhile', async () => {
      online(ann);
      online(bob);
      const sessionId = await held(ann, 'warm-closed');
      const pending = await transfers.transfer(ann, { sessionId, to: { kind: 'agent', agentId: 'bob' }, mode: 'warm' });
      await service.close(ann, { sessionId, wrapUpCode: 'resolved' });
      expect((await eventOf(pending.id, 'cancelled')).actor).toBe('system');
      await expect(transfers.accept(bob, pending.id)).rejects.toMatchObject({ code: 'TRANSFER_NOT_PENDING' });
    });

    it('lets exactly one of concurrent accepts take the contact', async () => {
      online(ann);
      online(bob);
      const sessionId = await held(ann, 'warm-race');
      const pending = await transfers.transfer(ann, { sessionId, to: { kind: 'agent', agentId: 'bob' }, mode: 'warm' });
      const answers = await Promise.allSettled([
        transfers.accept(bob, pending.id),
        transfers.accept(bob, pending.id),
        transfers.accept(bob, pending.id),
      ]);
      expect(answers.filter((a) => a.status === 'fulfilled')).toHaveLength(1);
      for (const a of answers) if (a.status === 'rejected') expect(a.reason).toMatchObject({ code: 'TRANSFER_NOT_PENDING' });
      expect(await store.activeChatCount('bob')).toBe(1);
      await until(() => noticesTo(sessionId).length === 1);
      expect(transferEvents.filter((e) => e.payload.transferId === pending.id && e.payload.status === 'accepted')).toHaveLength(1);
    });
  });

  describe('refusals', () => {
    it('refuses what is not the sender to transfer', async () => {
      online(ann);
      online(bob);
      const sessionId = await held(ann, 'refuse-1');
      // Not theirs, another group's, or seen but not handled.
      await expect(transfers.transfer(bob, { sessionId, to: { kind: 'agent', agentId: 'carl' }, mode: 'cold' })).rejects.toMatchObject({
        code: 'NOT_ASSIGNED',
      });
      await expect(transfers.transfer(vera, { sessionId, to: { kind: 'expert' }, mode: 'cold' })).rejects.toMatchObject({
        code: 'SESSION_NOT_FOUND',
      });
      await expect(transfers.transfer(admin, { sessionId, to: { kind: 'expert' }, mode: 'cold' })).rejects.toMatchObject({
        code: 'FORBIDDEN',
      });
      await expect(transfers.targets(vera, sessionId)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
      expect((await session(sessionId)).assignedAgentId).toBe('ann');
    });

    it('refuses unknown targets, oneself, an agent of another group named for the contact, and a second pending transfer', async () => {
      online(ann);
      online(bob);
      const sessionId = await held(ann, 'refuse-2');
      const cases = [
        [{ kind: 'agent', agentId: 'ann' }, 'TRANSFER_TO_SELF'],
        [{ kind: 'agent', agentId: 'nobody' }, 'TRANSFER_TARGET_NOT_FOUND'],
        // An admin supervises; they take no contacts.
        [{ kind: 'agent', agentId: 'adm' }, 'TRANSFER_TARGET_NOT_FOUND'],
        [{ kind: 'agent', agentId: 'vera', skillGroup: 'general' }, 'TRANSFER_TARGET_NOT_IN_GROUP'],
        [{ kind: 'agent', agentId: 'vera', skillGroup: 'billing' }, 'TRANSFER_TARGET_NOT_FOUND'],
        [{ kind: 'skill-group', skillGroup: 'billing' }, 'TRANSFER_TARGET_NOT_FOUND'],
        [{ kind: 'expert', skillGroup: 'billing' }, 'TRANSFER_TARGET_NOT_FOUND'],
      ] as const;
      for (const [to, code] of cases) {
        for (const mode of ['warm', 'cold'] as const) {
          await expect(transfers.transfer(ann, { sessionId, to, mode }), `${JSON.stringify(to)} ${mode}`).rejects.toMatchObject({ code });
        }
      }
      await transfers.transfer(ann, { sessionId, to: { kind: 'agent', agentId: 'bob' }, mode: 'warm' });
      await expect(
        transfers.transfer(ann, { sessionId, to: { kind: 'skill-group', skillGroup: 'vip' }, mode: 'cold' }),
      ).rejects.toMatchObject({
        code: 'TRANSFER_PENDING',
      });
      expect(await session(sessionId)).toMatchObject({ status: 'active', assignedAgentId: 'ann' });
    });

    it('refuses a warm transfer to an agent who is offline, away or at capacity, or to a group with nobody free', async () => {
      config = { ...config, capacity: { ...config.capacity, chat: 1 } };
      online(ann);
      const sessionId = await held(ann, 'refuse-3');
      const toBob = { sessionId, to: { kind: 'agent', agentId: 'bob' }, mode: 'warm' } as const;
      await expect(transfers.transfer(ann, toBob)).rejects.toMatchObject({
        code: 'TRANSFER_TARGET_UNAVAILABLE',
        details: { reason: 'offline' },
      });
      online(bob);
      pool.setPresence('bob', 'away', Date.now());
      await expect(transfers.transfer(ann, toBob)).rejects.toMatchObject({
        code: 'TRANSFER_TARGET_UNAVAILABLE',
        details: { reason: 'presence' },
      });
      pool.setPresence('bob', 'available', Date.now());
      await held(bob, 'bobs-own');
      await expect(transfers.transfer(ann, toBob)).rejects.toMatchObject({
        code: 'TRANSFER_TARGET_UNAVAILABLE',
        details: { reason: 'at-capacity' },
      });
      await expect(
        transfers.transfer(ann, { sessionId, to: { kind: 'skill-group', skillGroup: 'vip' }, mode: 'warm' }),
      ).rejects.toMatchObject({
        code: 'TRANSFER_TARGET_UNAVAILABLE',
      });
      // Cold still works: the contact waits for them.
      expect((await transfers.transfer(ann, { ...toBob, mode: 'cold' })).status).toBe('routed');
    });

    it('answers TRANSFER_NOT_FOUND to anyone but its parties', async () => {
      online(ann);
      online(bob);
      const sessionId = await held(ann, 'refuse-4');
      const pending = await transfers.transfer(ann, { sessionId, to: { kind: 'agent', agentId: 'bob' }, mode: 'warm' });
      for (const [who, act] of [
        [carl, 'accept'],
        [ann, 'accept'],
        [carl, 'decline'],
        [carl, 'cancel'],
      ] as const) {
        const call =
          act === 'accept'
            ? transfers.accept(who, pending.id)
            : act === 'decline'
              ? transfers.decline(who, pending.id)
              : transfers.cancel(who, pending.id);
        await expect(call, `${who.id} ${act}`).rejects.toMatchObject({ code: 'TRANSFER_NOT_FOUND' });
      }
      await expect(transfers.accept(bob, '01900000-0000-7000-8000-000000000000')).rejects.toMatchObject({ code: 'TRANSFER_NOT_FOUND' });
    });
  });

  it('lists the agents signed in (own groups first, with presence) and every skill group', async () => {
    online(ann);
    online(bob);
    online(vera);
    online(xena);
    pool.setPresence('bob', 'busy', Date.now());
    const sessionId = await held(ann, 'targets');
    const targets = await transfers.targets(ann, sessionId);
    expect(targets.agents.map((a) => [a.id, a.sharesGroup, a.presence])).toEqual([
      ['bob', true, 'busy'],
      ['vera', false, 'available'],
      ['xena', false, 'available'],
    ]);
    expect(targets.agents.find((a) => a.id === 'xena')?.expert).toBe(true);
    expect(targets.skillGroups).toEqual([
      { id: 'general', name: 'General' },
      { id: 'vip', name: 'VIP' },
    ]);
  });

  it('warm-transfers across groups to a named agent: the contact moves to their group', async () => {
    online(ann);
    online(vera);
    const sessionId = await held(ann, 'cross-group');
    const pending = await transfers.transfer(ann, { sessionId, to: { kind: 'agent', agentId: 'vera' }, mode: 'warm' });
    expect(pending.skillGroup).toBe('vip');
    // Vera cannot open another group's contact before accepting; the offer carries what she needs.
    await expect(service.open(vera, sessionId)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    const detail = await transfers.accept(vera, pending.id);
    expect(detail).toMatchObject({ skillGroup: 'vip', assignedAgentId: 'vera' });
  });
});
