import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { UserView } from '../../../common/api/auth';
import type { EventOf } from '../../../common/events/events';
import { DEFAULT_ROUTING_CONFIG, type RoutingConfig } from '../../../common/routing/types';
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

const staff = (id: string, roles: UserView['roles'], skillGroups: string[]): UserView => ({
  id,
  username: id,
  displayName: id,
  roles,
  skillGroups,
  expert: false,
});
const ann = staff('ann', ['agent'], ['general']);
const bob = staff('bob', ['agent'], ['general']);
const vera = staff('vera', ['agent'], ['vip']);
const lead = staff('lea', ['lead'], ['general', 'vip']);
const admin = staff('adm', ['admin'], ['general', 'vip']);

describe('conversation service', () => {
  let dir: string;
  let keys: KeyProvider;
  let store: SessionStore;
  let bus: Bus;
  let pool: AgentPool;
  let router: Router;
  let ingest: Ingest;
  let config: RoutingConfig;
  let service: ConversationService;
  let changes: EventOf<'session.changed'>[];
  let outbound: EventOf<'message.out'>[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-conversations-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    store = await createSqliteSessionStore({ path: join(dir, 'db.sqlite'), keys });
    bus = createMemoryBus();
    pool = new AgentPool();
    config = { ...DEFAULT_ROUTING_CONFIG, offerTimeoutMs: 60_000, capacity: { ...DEFAULT_ROUTING_CONFIG.capacity, chat: 3 } };
    const logger = createLogger({ level: 'silent' });
    router = createRouter({ store, bus, pool, config: () => config, logger });
    ingest = new Ingest(store, bus);
    service = createConversationService({ store, router, pool, bus, views: new SessionViews(store), logger });
    changes = [];
    outbound = [];
    await bus.subscribeAll('session.changed', (e) => void changes.push(e));
    await bus.subscribeAll('message.out', (e) => void outbound.push(e));
  });
  afterEach(async () => {
    await router.stop();
    await bus.close();
    await store.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const online = (user: UserView, idleSince = 0) =>
    pool.connect(
      { id: user.id, username: user.username, displayName: user.displayName, skillGroups: user.skillGroups, expert: false },
      0,
      idleSince,
    );

  /** Waits for a `session.changed` of the session for `reason` (the bus delivers after publish resolves). */
  const changeOf = async (sessionId: string, reason: string, trigger?: string) => {
    const find = () =>
      changes.find((e) => e.sessionId === sessionId && e.payload.reason === reason && (!trigger || e.payload.trigger === trigger));
    await until(() => find() !== undefined);
    return find()!;
  };

  /** A customer contact waiting in `skillGroup` (routed only when the router was started). */
  const contact = async (externalId: string, skillGroup = 'general') =>
    (await ingest.accept(draft({ identity: { channel: 'WB', externalId }, text: 'Where is my parcel?' }), skillGroup)).session.id;

  it('accepts an offer once however many times it is asked, and counts the chat once', async () => {
    online(ann);
    const sessionId = await contact('c-1');
    const answers = await Promise.all(Array.from({ length: 5 }, () => service.accept(ann, sessionId)));
    expect(answers.map((a) => [a.status, a.assignedAgentId])).toEqual(Array.from({ length: 5 }, () => ['active', 'ann']));
    await service.accept(ann, sessionId);
    expect(pool.get('ann')?.activeChats).toBe(1);
    expect(await store.activeChatCount('ann')).toBe(1);
    // Events of one session arrive in order: once the close is seen, a second accept would have been too.
    await service.close(ann, { sessionId, wrapUpCode: 'resolved' });
    await changeOf(sessionId, 'closed');
    expect(changes.filter((e) => e.payload.reason === 'accepted').map((e) => e.actor)).toEqual(['ann']);
  });

  it("carries the agent's resolved-on-first-contact word on the close event, defaulting to the code", async () => {
    const marked = await contact('c-fcr-1');
    await service.accept(ann, marked);
    await service.close(ann, { sessionId: marked, wrapUpCode: 'follow-up', resolvedOnFirstContact: true });
    expect((await changeOf(marked, 'closed')).payload).toMatchObject({ wrapUpCode: 'follow-up', resolvedOnFirstContact: true });
    const unticked = await contact('c-fcr-2');
    await service.accept(ann, unticked);
    await service.close(ann, { sessionId: unticked, wrapUpCode: 'resolved', resolvedOnFirstContact: false });
    expect((await changeOf(unticked, 'closed')).payload).toMatchObject({ wrapUpCode: 'resolved', resolvedOnFirstContact: false });
    const byCode = await contact('c-fcr-3');
    await service.accept(ann, byCode);
    await service.close(ann, { sessionId: byCode, wrapUpCode: 'resolved' });
    expect((await changeOf(byCode, 'closed')).payload).toMatchObject({ resolvedOnFirstContact: true });
  });

  it('answers OFFER_TAKEN to a second agent and leaves the contact with the first', async () => {
    const sessionId = await contact('c-2');
    await service.accept(ann, sessionId);
    await expect(service.accept(bob, sessionId)).rejects.toMatchObject({ code: 'OFFER_TAKEN' });
    expect((await store.getSession(sessionId))?.assignedAgentId).toBe('ann');
  });

  it("refuses to accept another group's session with SESSION_NOT_FOUND and changes nothing", async () => {
    const sessionId = await contact('c-3', 'vip');
    await expect(service.accept(ann, sessionId)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    await expect(service.open(ann, sessionId)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    await expect(service.history(ann, { sessionId })).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    expect((await store.getSession(sessionId))?.status).toBe('queued');
    expect((await service.accept(vera, sessionId)).assignedAgentId).toBe('vera');
    await changeOf(sessionId, 'accepted');
    expect(changes.filter((e) => e.sessionId === sessionId && e.payload.reason === 'accepted').map((e) => e.actor)).toEqual(['vera']);
  });

  it('lets an admin see a session but not handle it (FORBIDDEN)', async () => {
    const sessionId = await contact('c-4');
    expect((await service.open(admin, sessionId)).id).toBe(sessionId);
    await expect(service.accept(admin, sessionId)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await service.accept(ann, sessionId);
    await expect(service.reply(admin, { sessionId, clientMessageId: 'admin-0001', text: 'hi' })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    await expect(service.close(admin, { sessionId, wrapUpCode: 'resolved' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
  });

  it('refuses a reply from an agent the contact is not assigned to with NOT_ASSIGNED', async () => {
    const sessionId = await contact('c-5');
    await expect(service.reply(bob, { sessionId, clientMessageId: 'bob-00001', text: 'hi' })).rejects.toMatchObject({
      code: 'NOT_ASSIGNED',
    });
    await service.accept(ann, sessionId);
    await expect(service.reply(bob, { sessionId, clientMessageId: 'bob-00002', text: 'hi' })).rejects.toMatchObject({
      code: 'NOT_ASSIGNED',
    });
    await expect(service.close(bob, { sessionId, wrapUpCode: 'resolved' })).rejects.toMatchObject({ code: 'NOT_ASSIGNED' });
    const mine = await service.reply(ann, { sessionId, clientMessageId: 'ann-00001', text: 'hello' });
    await until(() => outbound.length > 0);
    expect(outbound.map((e) => e.payload.envelope.id)).toEqual([mine.id]);
  });

  it('sends the customer the real values of an AI draft the agent saw masked, and shows staff the reply masked (issue 17)', async () => {
    const aiDraft = 'Our courier will call you at 13812345678 today.';
    const used: string[] = [];
    service = createConversationService({
      store,
      router,
      pool,
      bus,
      views: new SessionViews(store),
      logger: createLogger({ level: 'silent' }),
      drafts: {
        draftUsed: async (_actor, _session, u) => void used.push(u.text),
        shownTexts: async () => [aiDraft],
      },
    });
    const sessionId = await contact('c-pii');
    await service.accept(ann, sessionId);
    // The composer held the masked draft; the agent added a greeting and sent it.
    const shown = await service.reply(ann, {
      sessionId,
      clientMessageId: 'ann-pii-01',
      text: 'Hello! Our courier will call you at *******5678 today.',
      draftId: 'd1',
    });
    expect(shown).toMatchObject({ kind: 'text', body: { text: 'Hello! Our courier will call you at *******5678 today.' } });
    await until(() => outbound.length > 0);
    const sent = outbound[0]!.payload.envelope;
    expect(sent.kind === 'text' && sent.body.text).toBe('Hello! Our courier will call you at 13812345678 today.');
    expect(used).toEqual(['Hello! Our courier will call you at 13812345678 today.']);
    // A masked number typed or pasted from elsewhere is not the draft's: it goes as it is.
    await service.reply(ann, { sessionId, clientMessageId: 'ann-pii-02', text: 'Or at *******0000?' });
    await until(() => outbound.length > 1);
    const other = outbound[1]!.payload.envelope;
    expect(other.kind === 'text' && other.body.text).toBe('Or at *******0000?');
  });

  it('stores a retried reply once and hands it to the channel once', async () => {
    const sessionId = await contact('c-6');
    await service.accept(ann, sessionId);
    const first = await service.reply(ann, { sessionId, clientMessageId: 'ann-00001', text: 'on it' });
    const again = await service.reply(ann, { sessionId, clientMessageId: 'ann-00001', text: 'on it' });
    expect(again).toEqual(first);
    expect(first).toMatchObject({ seq: 2, direction: 'out', authorId: 'ann' });
    // A later reply marks the end: the bus delivers in order, so a second copy of the first would show.
    const second = await service.reply(ann, { sessionId, clientMessageId: 'ann-00002', text: 'found it' });
    await until(() => outbound.length >= 2);
    expect(outbound.map((e) => [e.actor, e.payload.envelope.id])).toEqual([
      ['ann', first.id],
      ['ann', second.id],
    ]);
    const page = await service.history(ann, { sessionId });
    expect(page.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('closes with a wrap-up, frees the slot, and then refuses a reply with SESSION_CLOSED', async () => {
    online(ann);
    const sessionId = await contact('c-7');
    await service.accept(ann, sessionId);
    const closed = await service.close(ann, { sessionId, wrapUpCode: 'resolved', note: 'sent tracking link' });
    expect(closed).toMatchObject({ id: sessionId, status: 'closed' });
    expect((await store.getSession(sessionId))?.wrapUpCode).toBe('resolved');
    expect(pool.get('ann')?.activeChats).toBe(0);
    expect((await changeOf(sessionId, 'closed')).payload).toMatchObject({ status: 'closed', assignedAgentId: 'ann' });
    await expect(service.reply(ann, { sessionId, clientMessageId: 'ann-00002', text: 'late' })).rejects.toMatchObject({
      code: 'SESSION_CLOSED',
    });
    // The same wrap-up again (its ack was lost; the outbox sends it again) answers the same and publishes nothing.
    const closedChanges = changes.filter((c) => c.sessionId === sessionId && c.payload.reason === 'closed').length;
    await expect(service.close(ann, { sessionId, wrapUpCode: 'resolved' })).resolves.toMatchObject({ id: sessionId, status: 'closed' });
    expect(changes.filter((c) => c.sessionId === sessionId && c.payload.reason === 'closed').length).toBe(closedChanges);
    await expect(service.close(ann, { sessionId, wrapUpCode: 'spam' })).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    await expect(service.close(bob, { sessionId, wrapUpCode: 'resolved' })).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    await expect(service.release(ann, sessionId)).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
  });

  it('releases an active chat back to the queue and offers it to another agent first', async () => {
    await router.start();
    online(ann, 0);
    online(bob, 1);
    const sessionId = await contact('c-8');
    await until(async () => (await store.getSession(sessionId))?.offeredAgentId === 'ann');
    await service.accept(ann, sessionId);
    await expect(service.release(bob, sessionId)).rejects.toMatchObject({ code: 'NOT_ASSIGNED' });
    const released = await service.release(ann, sessionId);
    expect(released).toMatchObject({ status: 'offered', offeredAgentId: 'bob', assignedAgentId: null });
    expect(pool.get('ann')?.activeChats).toBe(0);
    expect((await changeOf(sessionId, 'released')).actor).toBe('ann');
    expect((await changeOf(sessionId, 'routed', 'released')).payload).toMatchObject({ offeredAgentId: 'bob' });
    // Handed back once: asking again finds it no longer theirs.
    await expect(service.release(ann, sessionId)).rejects.toMatchObject({ code: 'NOT_ASSIGNED' });
  });

  it("names the agent whose pending offer a colleague took, so that agent's offer can be revoked", async () => {
    await router.start();
    online(ann);
    const sessionId = await contact('c-9');
    await until(async () => (await store.getSession(sessionId))?.offeredAgentId === 'ann');
    await service.accept(lead, sessionId);
    expect((await changeOf(sessionId, 'accepted')).payload).toMatchObject({ assignedAgentId: 'lea', offerWithdrawnFrom: 'ann' });
  });

  it('names no withdrawn offer when the offered agent accepts it themselves', async () => {
    await router.start();
    online(ann);
    const sessionId = await contact('c-10');
    await until(async () => (await store.getSession(sessionId))?.offeredAgentId === 'ann');
    await service.accept(ann, sessionId);
    const accepted = await changeOf(sessionId, 'accepted');
    expect(accepted.payload).toMatchObject({ assignedAgentId: 'ann' });
    expect(accepted.payload.offerWithdrawnFrom).toBeUndefined();
  });

  it('names the agent whose offer timed out and went to the next agent', async () => {
    config = { ...config, offerTimeoutMs: 100 };
    await router.start();
    online(ann, 0);
    online(bob, 1);
    const sessionId = await contact('c-11');
    const timedOut = await changeOf(sessionId, 'routed', 'timeout');
    expect(timedOut.payload).toMatchObject({ offeredAgentId: 'bob', offerWithdrawnFrom: 'ann' });
  });

  it('names the agent who went away as losing their offer, even when nobody else can take it yet', async () => {
    await router.start();
    online(ann);
    const sessionId = await contact('c-12');
    await until(async () => (await store.getSession(sessionId))?.offeredAgentId === 'ann');
    pool.setPresence('ann', 'away', Date.now());
    await router.agentGone('ann');
    const gone = await changeOf(sessionId, 'routed', 'agent-gone');
    expect(gone.payload).toMatchObject({ status: 'queued', offeredAgentId: null, offerWithdrawnFrom: 'ann' });
  });
});
