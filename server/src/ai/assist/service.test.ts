import { readFileSync, mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { UserView } from '../../../../common/api/auth';
import type { EventOf } from '../../../../common/events/events';
import { DEFAULT_ROUTING_CONFIG, type RoutingConfig } from '../../../../common/routing/types';
import { createMemoryBus } from '../../bus/bus.memory';
import type { Bus } from '../../bus/bus';
import { createConversationService, type ConversationService } from '../../conversations/service';
import { Ingest } from '../../gateway/ingest';
import type { KeyProvider } from '../../keys/provider';
import { createLocalKeyProvider } from '../../keys/provider.local';
import { createLogger } from '../../logging/logger';
import { AgentPool } from '../../routing/agent-pool';
import { createRouter, type Router } from '../../routing/router';
import { draft } from '../../sessions/store.contract';
import type { SessionStore } from '../../sessions/store';
import { createSqliteSessionStore } from '../../sessions/store.sqlite';
import { SessionViews } from '../../sessions/views';
import { demoCore } from '../../../test/support/demo-core';
import { until } from '../../../test/support/until';
import type { LanguageCore } from '../core';
import type { KnowledgeBase } from '../kb';
import { createAssistService, type AssistConfig, type AssistService } from './service';

const staff = (id: string, roles: UserView['roles'], skillGroups: string[]): UserView => ({
  id,
  username: id,
  displayName: id === 'ann' ? 'Ann Agent' : id,
  roles,
  skillGroups,
  expert: false,
});
const ann = staff('ann', ['agent'], ['general']);
const bob = staff('bob', ['agent'], ['general']);
const vera = staff('vera', ['agent'], ['vip']);
const lea = staff('lea', ['lead'], ['general']);
const admin = staff('adm', ['admin'], ['general', 'vip']);
const names: Record<string, string> = { ann: 'Ann Agent', bob: 'Bob', vera: 'Vera' };

describe('AI assistance with the real server pieces', () => {
  let core: LanguageCore;
  let kb: KnowledgeBase;
  let closeCore: () => Promise<void>;
  beforeAll(async () => {
    ({ core, kb, close: closeCore } = await demoCore());
  });
  afterAll(async () => closeCore());

  let dir: string;
  let keys: KeyProvider;
  let store: SessionStore;
  let bus: Bus;
  let pool: AgentPool;
  let router: Router;
  let ingest: Ingest;
  let routing: RoutingConfig;
  let conversations: ConversationService;
  let assist: AssistService;
  let acted: EventOf<'ai.acted'>[];
  const logger = createLogger({ level: 'silent' });

  const startAssist = async (config: Partial<AssistConfig> = {}) => {
    const service = createAssistService({
      store,
      kb,
      core,
      bus,
      db: { path: join(dir, 'db.sqlite'), keys },
      config: { drafts: true, pastReplies: true, summaryLlm: null, ...config },
      logger,
      agentName: (id) => names[id] ?? null,
      // These tests follow one reply from one customer to the next; the rule that a reply must have
      // gone to two customers first is the memory's own test (replies.test.ts).
      pastReplyMinCustomers: 1,
    });
    await service.start();
    return service;
  };

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-assist-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    store = await createSqliteSessionStore({ path: join(dir, 'db.sqlite'), keys });
    bus = createMemoryBus();
    pool = new AgentPool();
    // Every new contact scores above 1 and below 99: the assisted tier.
    routing = { ...DEFAULT_ROUTING_CONFIG, thresholds: { expert: 99, assisted: 1 }, offerTimeoutMs: 60_000 };
    router = createRouter({ store, bus, pool, config: () => routing, logger });
    ingest = new Ingest(store, bus);
    assist = await startAssist();
    const views = new SessionViews(store, { extras: (s, viewer) => assist.detailExtras(s, viewer) });
    conversations = createConversationService({ store, router, pool, bus, views, logger, drafts: assist });
    acted = [];
    await bus.subscribeAll('ai.acted', (e) => void acted.push(e));
    await router.start();
  });
  afterEach(async () => {
    await router.stop();
    await assist.close();
    await bus.close();
    await store.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const online = (user: UserView) =>
    pool.connect(
      { id: user.id, username: user.username, displayName: user.displayName, skillGroups: user.skillGroups, expert: false },
      0,
      0,
    );

  /** A customer writes on the app channel (name given) and the router decides. */
  const contact = async (externalId: string, text: string, options: { name?: string; skillGroup?: string } = {}) => {
    const { session } = await ingest.accept(
      draft({ identity: { channel: 'AP', externalId, displayName: options.name ?? 'Zhang Wei' }, text }),
      options.skillGroup ?? 'general',
    );
    await until(async () => (await store.getSession(session.id))?.routing !== null);
    return session.id;
  };
  const draftOf = async (sessionId: string) => {
    await until(async () => (await assist.drafts.forSession(sessionId)) !== null);
    return (await assist.drafts.forSession(sessionId))!;
  };

  it("puts a draft filled with the customer's name and order number in the offered contact, before it is opened", async () => {
    online(ann);
    const sessionId = await contact('zw-1', 'Where is my order 2024112900123? It has not arrived yet.');
    const made = await draftOf(sessionId);
    expect(made.text).toBe(
      `Hi Zhang Wei, about order 2024112900123:\n${(await kb.list({ intent: 'order_status', lang: 'en' }))[0]!.answer}`,
    );
    expect(made.source).toMatchObject({ kind: 'kb', intent: 'order_status' });
    const detail = await conversations.accept(ann, sessionId);
    expect(detail.tier).toBe('assisted');
    expect(detail.draft).toMatchObject({ id: made.id, text: made.text, source: made.source });
    expect(detail.draft?.forMessageId).toBe(detail.messages[0]?.id);
    await until(() => acted.some((e) => e.payload.action === 'drafted'));
    const drafted = acted.find((e) => e.payload.action === 'drafted')!;
    expect(drafted.payload).toMatchObject({ draftId: made.id, intent: 'order_status', source: { kind: 'kb' } });
    // Facts only: the event never carries the draft's words.
    expect(JSON.stringify(drafted)).not.toContain('2024112900123');
  });

  it('records an edited draft when the agent changes it and an accepted one when sent as drafted, once each', async () => {
    const edited = await contact('zw-2', '我的订单 2024112900123 到哪了？', { name: '王芳' });
    const accepted = await contact('zw-3', 'How do I cancel order 2024120300456?');
    const [d1, d2] = [await draftOf(edited), await draftOf(accepted)];
    expect(d1.text.startsWith('王芳，您好！关于订单 2024112900123：\n')).toBe(true);
    await conversations.accept(ann, edited);
    await conversations.accept(ann, accepted);
    const final = `${d1.text}\n另外，今天会有专人给您回电。`;
    const sent = await conversations.reply(ann, { sessionId: edited, clientMessageId: 'ann-edit-1', text: final, draftId: d1.id });
    // A retry of the same reply records nothing twice.
    await conversations.reply(ann, { sessionId: edited, clientMessageId: 'ann-edit-1', text: final, draftId: d1.id });
    await conversations.reply(ann, { sessionId: accepted, clientMessageId: 'ann-acc-1', text: `  ${d2.text}\n`, draftId: d2.id });
    // A draft named with another session's reply is not that reply's draft.
    await conversations.reply(ann, { sessionId: accepted, clientMessageId: 'ann-acc-2', text: 'ok', draftId: d1.id });

    expect(await assist.drafts.get(d1.id)).toMatchObject({ outcome: 'edited' });
    expect(await assist.drafts.get(d2.id)).toMatchObject({ outcome: 'accepted' });
    expect(await assist.drafts.finalText(d1.id)).toBe(final);
    await until(() => acted.filter((e) => e.payload.action === 'draft-used').length === 2);
    expect(acted.filter((e) => e.payload.action === 'draft-used').map((e) => [e.actor, e.payload.outcome, e.payload.messageId])).toEqual([
      ['ann', 'edited', sent.id],
      ['ann', 'accepted', expect.any(String)],
    ]);
    // Used drafts are no longer offered in the detail.
    expect((await conversations.open(ann, edited)).draft).toBeUndefined();

    const report = await assist.feedback(lea, {});
    expect(report).toMatchObject({
      skillGroups: ['general'],
      decided: 2,
      open: 0,
      byOutcome: { accepted: 1, edited: 1, discarded: 0 },
      bySource: { kb: { accepted: 1, edited: 1, discarded: 0 } },
    });
    expect(report.byIntent).toEqual(
      expect.arrayContaining([
        { intent: 'order_status', accepted: 0, edited: 1, discarded: 0 },
        { intent: 'cancel_order', accepted: 1, edited: 0, discarded: 0 },
      ]),
    );
    // accepted counts 0, edited its ratio: the mean is half of the edited draft's ratio.
    expect(report.meanEditRatio).toBeGreaterThan(0);
    expect(report.meanEditRatio).toBeLessThan(0.5);
    expect(JSON.stringify(report)).not.toMatch(/2024112900123|王芳|回电/);
  });

  it('records a discarded draft once, for the agent who has the contact only', async () => {
    const sessionId = await contact('zw-4', 'I want to return the shoes from order 2024112900123');
    const d = await draftOf(sessionId);
    await conversations.accept(ann, sessionId);
    await expect(assist.discardDraft(bob, sessionId, d.id)).rejects.toMatchObject({ code: 'NOT_ASSIGNED' });
    await expect(assist.discardDraft(vera, sessionId, d.id)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    await expect(assist.discardDraft(ann, sessionId, 'no-such-draft')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await assist.discardDraft(ann, sessionId, d.id)).toEqual({ discarded: true });
    expect(await assist.discardDraft(ann, sessionId, d.id)).toEqual({ discarded: false });
    // Sending after a discard records no second outcome.
    await conversations.reply(ann, { sessionId, clientMessageId: 'ann-disc-1', text: 'Let me look.', draftId: d.id });
    expect(await assist.drafts.get(d.id)).toMatchObject({ outcome: 'discarded' });
    expect((await assist.feedback(admin, { skillGroup: 'general' })).byOutcome).toEqual({ accepted: 0, edited: 0, discarded: 1 });
  });

  it('makes no draft for another tier, and none when nothing fits', async () => {
    routing = { ...routing, thresholds: { expert: 1, assisted: 0 } };
    const expert = await contact('zw-5', 'Where is my order 2024112900123?');
    expect((await store.getSession(expert))?.routing?.tier).toBe('expert');
    expect((await conversations.accept(ann, expert)).draft).toBeUndefined();
    routing = { ...routing, thresholds: { expert: 99, assisted: 1 } };
    const unclear = await contact('zw-6', 'asdf qwer zxcv');
    expect((await conversations.accept(ann, unclear)).draft).toBeUndefined();
    expect(await assist.drafts.forSession(expert)).toBeNull();
    expect(await assist.drafts.forSession(unclear)).toBeNull();
  });

  it('makes the draft when the contact is opened first, once however many ask', async () => {
    await assist.close();
    // Drafts on, but no consumer ran for these contacts: the first open makes the draft.
    const sessionId = await contact('zw-7', 'How long does delivery take to Shanghai?');
    assist = await startAssist();
    const details = await Promise.all([
      conversations.open(ann, sessionId),
      conversations.open(bob, sessionId),
      conversations.open(lea, sessionId),
    ]);
    const ids = new Set(details.map((d) => d.draft?.id));
    expect(ids.size).toBe(1);
    expect([...ids][0]).toBeDefined();
    // An admin supervises, never handles: no draft in their view.
    expect((await conversations.open(admin, sessionId)).draft).toBeUndefined();
  });

  it('suggests KB answers and past replies of the same group, never another group’s, and learns replies sealed', async () => {
    const first = await contact('zw-8', 'My parcel for order 2024112900123 was delivered to the wrong address, what now?');
    await conversations.accept(ann, first);
    const reply = 'Sorry about that, Zhang Wei! I have opened a claim with the courier for 2024112900123. — Ann Agent';
    await conversations.reply(ann, { sessionId: first, clientMessageId: 'ann-learn-1', text: reply });
    await until(() => assist.memory.size === 1);
    await assist.idle();

    const second = await contact('zw-9', 'The courier delivered order 2024120300456 to the wrong address', { name: 'Li Na' });
    await conversations.accept(bob, second);
    const suggestions = await assist.suggest(bob, second);
    expect(suggestions.length).toBeGreaterThan(0);
    expect(suggestions.length).toBeLessThanOrEqual(3);
    const past = suggestions.find((s) => s.source.kind === 'past-reply');
    expect(past?.text).toBe('Sorry about that, Li Na! I have opened a claim with the courier for 2024120300456. — Bob');
    expect(past?.source).toMatchObject({ kind: 'past-reply', sessionId: first });
    await until(() => acted.some((e) => e.payload.action === 'suggested'));
    expect(acted.find((e) => e.payload.action === 'suggested')?.payload.count).toBe(suggestions.length);

    const vip = await contact('zw-10', 'The courier delivered order 2024120300456 to the wrong address', { skillGroup: 'vip' });
    await conversations.accept(vera, vip);
    expect((await assist.suggest(vera, vip)).filter((s) => s.source.kind === 'past-reply')).toEqual([]);
    await expect(assist.suggest(ann, vip)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    await expect(assist.suggest(admin, second)).rejects.toMatchObject({ code: 'FORBIDDEN' });

    // At rest, nothing of it is readable: the pair is sealed with the customer's key.
    await assist.close();
    for (const f of readdirSync(dir).filter((n) => n.startsWith('db.sqlite'))) {
      const bytes = readFileSync(join(dir, f));
      for (const needle of ['opened a claim', 'wrong address', '2024112900123'])
        expect(bytes.includes(Buffer.from(needle)), `${f}: ${needle}`).toBe(false);
    }
    // And it comes back after a restart.
    assist = await startAssist();
    expect(assist.memory.size).toBe(1);
    expect(assist.memory.search('delivered to the wrong address', 'general')[0]?.reply.reply).toBe(
      'Sorry about that, {{name}}! I have opened a claim with the courier for {{order}}. — {{agent}}',
    );
  });

  it('backfills the memory once from conversations stored before it existed', async () => {
    await assist.close();
    const sessionId = await contact('zw-11', 'Can I pay with a credit card from abroad?');
    await store.claim(sessionId, 'ann');
    await store.appendOutbound({
      sessionId,
      authorId: 'ann',
      clientMessageId: 'old-reply-1',
      content: { kind: 'text', body: { text: 'Yes, Visa and Mastercard issued abroad both work at checkout.' } },
      critical: true,
    });
    // As on the first start after an upgrade: the assist tables are new, the conversations are not.
    const db = new Database(join(dir, 'db.sqlite'));
    db.prepare('DELETE FROM assist_meta').run();
    db.close();
    assist = await startAssist();
    await assist.idle();
    expect(assist.memory.search('pay with a foreign credit card', 'general')[0]?.reply.reply).toBe(
      'Yes, Visa and Mastercard issued abroad both work at checkout.',
    );
    await assist.close();
    assist = await startAssist();
    await assist.idle();
    // Loaded from the table, not backfilled a second time.
    expect(assist.memory.size).toBe(1);
  });

  it('summarizes for whoever may see the session, with the intent, the wants and what was done', async () => {
    const sessionId = await contact('zw-12', '你好');
    await ingest.accept(
      draft({
        identity: { channel: 'AP', externalId: 'zw-12', displayName: 'Zhang Wei' },
        text: '我的退款什么时候能到账？订单号2024112900123',
      }),
      'general',
    );
    await conversations.accept(ann, sessionId);
    await conversations.reply(ann, { sessionId, clientMessageId: 'ann-sum-1', text: '我帮您查一下退款进度。' });
    const summary = await assist.summaryFor(lea, sessionId);
    expect(summary).toMatchObject({ intent: 'refund_status', by: 'extractive', done: '客服已回复 1 次' });
    expect(summary.lines).toContain('关键信息：订单 2024112900123');
    await expect(assist.summaryFor(vera, sessionId)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    await until(() => acted.some((e) => e.payload.action === 'summarized'));
    expect(acted.find((e) => e.payload.action === 'summarized')?.payload).toMatchObject({ by: 'extractive', intent: 'refund_status' });
  });

  it('summarizes with the configured LLM endpoint, and without it when the endpoint fails', async () => {
    let status = 200;
    const llm: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        if (status !== 200) return void res.writeHead(status).end();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ choices: [{ message: { content: '{"wants":"Wants to know the refund date","done":"Nothing yet"}' } }] }));
      });
    });
    await new Promise<void>((resolve) => llm.listen(0, '127.0.0.1', resolve));
    try {
      await assist.close();
      assist = await startAssist({
        summaryLlm: { baseUrl: `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`, model: 'tiny', timeoutMs: 2000 },
      });
      const sessionId = await contact('zw-13', 'When will my refund arrive?');
      expect(await assist.summarize(sessionId)).toMatchObject({
        by: 'llm',
        wants: 'Wants to know the refund date',
        intent: 'refund_status',
      });
      status = 503;
      expect(await assist.summarize(sessionId)).toMatchObject({ by: 'extractive', intent: 'refund_status' });
    } finally {
      llm.closeAllConnections();
      await new Promise((resolve) => llm.close(resolve));
    }
  });

  it('reports feedback to leads of the group and admins only', async () => {
    await expect(assist.feedback(lea, { skillGroup: 'vip' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(assist.feedback(lea, { from: '2026-12-01T00:00:00Z', to: '2026-11-01T00:00:00Z' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect((await assist.feedback(ann, {})).skillGroups).toEqual([]);
    expect((await assist.feedback(admin, {})).skillGroups).toBeNull();
  });
});
