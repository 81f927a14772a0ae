import type { Metrics } from '../../metrics/metrics';
import type { ConversationSummary, Draft, Handover, Suggestion } from '../../../../common/ai/assist';
import type { KbEntry, Lang } from '../../../../common/ai/types';
import type { UserView } from '../../../../common/api/auth';
import type { FeedbackQuery, FeedbackReport } from '../../../../common/api/ai-feedback';
import type { SessionDetail } from '../../../../common/api/sessions';
import { HuiliuError } from '../../../../common/errors/codes';
import type { EventOf } from '../../../../common/events/events';
import { authorOf, textOf, type Envelope } from '../../../../common/message/envelope';
import { can, scopeOf } from '../../auth/policy';
import type { Bus, Subscription } from '../../bus/bus';
import { aiActed, onceById } from '../../bus/events';
import type { KeyProvider } from '../../keys/provider';
import type { Logger } from '../../logging/logger';
import type { SessionRecord, SessionStore } from '../../sessions/store';
import { emotionText } from '../../sessions/views';
import type { LanguageCore } from '../core';
import type { KnowledgeBase } from '../kb';
import { detectLang } from '../text';
import { depersonalize, normalizeWhitespace, usableName, type Addressee } from './adapt';
import { openAssistDb, type AssistDb } from './db';
import { chooseDraft, classifyOutcome } from './drafts';
import { createSqliteDraftStore, type DraftStore, type StoredDraft } from './drafts.sqlite';
import { extractDetailsAll } from './entities';
import { PAST_REPLIES_MAX, PastReplyMemory, type PastReply } from './replies';
import { createSqlitePastReplyStore, type PastReplyStore } from './replies.sqlite';
import { suggestReplies } from './suggest';
import { contentWordCount, summarize, summaryMessages, SUMMARY_MESSAGES_MAX } from './summary';
import { createLlmSummarizer, type LlmSummarizer, type LlmSummaryConfig } from './summary.llm';

/**
 * AI assistance for people (issue 10), one service: the assisted tier's drafts, suggested replies,
 * conversation summaries, the past-reply memory they draw on, and the drafts' feedback report. Its
 * use cases take the acting staff user and apply the same RBAC rules as the conversation use cases
 * (an unseen session is SESSION_NOT_FOUND, a seen but not handled one FORBIDDEN); the agent socket
 * and REST routes only translate. Every act is published as an `ai.acted` event (facts, no text).
 *
 * Two work consumers (one per event, whatever the node count):
 * - `session.changed` → a contact of the `assisted` tier was routed: its draft is made now, so it is
 *   in the composer when the agent opens the offer (opening it makes one too, should it come first);
 * - `message.out` → an agent's reply joins the past-reply memory, paired with the customer message
 *   before it (depersonalised, sealed at rest).
 */
export interface AssistService {
  /** Loads the memory and the KB, subscribes the consumers, and starts the one-time backfill in the background. */
  start(): Promise<void>;
  /** Stops the consumers, writes pending pairs, closes the tables. */
  close(): Promise<void>;
  /**
   * A summary of the session's conversation (extractive, or the LLM adapter's when configured), for
   * the AI tier's hand-over (`handover`: the one being made, before it is stored). No RBAC: the
   * caller is the server. Publishes `ai.acted` `summarized`. SESSION_NOT_FOUND.
   */
  summarize(sessionId: string, options?: { handover?: Handover }): Promise<ConversationSummary>;
  /** `session:summary`: the same, for a staff user who may see the session (wrap-up note). SESSION_NOT_FOUND. */
  summaryFor(actor: UserView, sessionId: string): Promise<ConversationSummary>;
  /**
   * `ai:suggest`: up to 3 replies for the session's latest customer message, with their source; for
   * a user who may handle the session. SESSION_NOT_FOUND, FORBIDDEN.
   */
  suggest(actor: UserView, sessionId: string): Promise<Suggestion[]>;
  /**
   * `draft:discard`: the agent threw the draft away (recorded as feedback). `discarded` is false when
   * it had already been used or discarded. SESSION_NOT_FOUND, FORBIDDEN, NOT_ASSIGNED (not offered to
   * or handled by the actor), NOT_FOUND (no such draft in this session).
   */
  discardDraft(actor: UserView, sessionId: string, draftId: string): Promise<{ discarded: boolean }>;
  /**
   * The conversation service calls this after storing a reply sent with `draftId`: the outcome
   * (`accepted` / `edited`, decided from the texts) is recorded once. A draft of another session or
   * one already decided records nothing.
   */
  draftUsed(actor: UserView, session: SessionRecord, used: { draftId: string; text: string; messageId: string }): Promise<void>;
  /**
   * The AI texts staff were last shown masked for a session (issue 17): its open draft and the last
   * suggestions made for it, unmasked. The conversation service puts their values back into a reply
   * written from them, so the customer gets the real text. Kept in memory (SHOWN_SESSIONS sessions).
   */
  shownTexts(sessionId: string): Promise<string[]>;
  /**
   * What a session's detail carries besides the conversation: the hand-over summary, and for a user
   * who may handle it the open draft (made now if the assisted-tier contact has none yet).
   */
  detailExtras(session: SessionRecord, viewer: UserView): Promise<Pick<SessionDetail, 'summary' | 'draft'>>;
  /** The session's draft, made if it is an open assisted-tier contact without one; null otherwise. */
  ensureDraft(session: SessionRecord): Promise<StoredDraft | null>;
  /** `GET /api/v1/ai/feedback` for a lead or admin (their groups). FORBIDDEN, VALIDATION_FAILED. */
  feedback(actor: UserView, query: FeedbackQuery): Promise<FeedbackReport>;
  /** Resolves when the backfill and pending writes are done (tests, shutdown). */
  idle(): Promise<void>;
  /** The draft store (tests and reports read outcomes through it). */
  readonly drafts: DraftStore;
  /** The in-memory past-reply index. */
  readonly memory: PastReplyMemory;
}

export interface AssistConfig {
  /** Make drafts for assisted-tier contacts. */
  drafts: boolean;
  /** Learn and suggest agents' past replies. */
  pastReplies: boolean;
  /** The optional OpenAI-compatible summary writer. */
  summaryLlm: LlmSummaryConfig | null;
}

export interface AssistServiceDeps {
  store: SessionStore;
  kb: Pick<KnowledgeBase, 'list' | 'onChange'>;
  core: Pick<LanguageCore, 'analyze' | 'ready'>;
  bus: Bus;
  /** The server's database file (the session store's) and the key provider its data keys are wrapped by. */
  db: { path: string; keys: KeyProvider };
  config: AssistConfig;
  logger: Logger;
  /** A staff user's display name (their name in a past reply becomes `{{agent}}`; a suggestion fills it with the sender's). */
  agentName?: (userId: string) => string | null;
  /** Where the LLM adapter reads its key; `process.env` by default. */
  env?: Record<string, string | undefined>;
  fetch?: typeof fetch;
  now?: () => number;
  /** Pairs the memory keeps (default PAST_REPLIES_MAX). */
  pastRepliesMax?: number;
  /** `huiliu_ai_assist_seconds{kind}` (issue 16): how long each draft, set of suggestions and summary took. */
  metrics?: Pick<Metrics, 'aiAssistSeconds'>;
  /** Customers a past reply must have been sent to before it is suggested (default STOCK_REPLY_MIN_CUSTOMERS). */
  pastReplyMinCustomers?: number;
}

/** New pairs are written to the table in one transaction at most this often (ms). */
const FLUSH_MS = 1000;
/** The one-time backfill reads at most this many stored sessions. */
export const BACKFILL_SESSIONS = 2000;
/** Messages read per conversation for drafts' customer details. */
const DETAIL_MESSAGES = 50;
/** Past replies asked of the memory for a draft or suggestions (the rankers keep the best). */
const PAST_REPLY_CANDIDATES = 5;
const DAY_MS = 86_400_000;

/** Sessions whose last suggestions are remembered for `shownTexts` (a few hundred bytes each). */
const SHOWN_SESSIONS = 2000;

export function createAssistService(deps: AssistServiceDeps): AssistService {
  const suggested = new Map<string, string[]>();
  const now = deps.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const log = deps.logger.child({ component: 'assist' });
  const { store, bus, config } = deps;
  const assistDb: AssistDb = openAssistDb(deps.db);
  const drafts = createSqliteDraftStore(assistDb);
  const pairs: PastReplyStore = createSqlitePastReplyStore(assistDb);
  const memory = new PastReplyMemory(deps.pastRepliesMax ?? PAST_REPLIES_MAX, deps.pastReplyMinCustomers);
  const llm: LlmSummarizer | null = config.summaryLlm
    ? createLlmSummarizer(config.summaryLlm, { env: deps.env ?? process.env, logger: log, ...(deps.fetch ? { fetch: deps.fetch } : {}) })
    : null;
  const subs: Subscription[] = [];
  let stopKb: () => void = () => undefined;

  // ── the knowledge base, cached: entries by intent/lang, and intents by answer text ──────────────
  let entries = new Map<string, KbEntry>();
  let answers: { text: string; intent: string }[] = [];
  async function loadKb(): Promise<void> {
    const list = await deps.kb.list();
    entries = new Map(list.map((e) => [`${e.intent}/${e.lang}`, e]));
    answers = list.map((e) => ({ text: normalizeWhitespace(e.answer), intent: e.intent }));
  }
  const entryFor = (intent: string, lang: Lang): KbEntry | null =>
    entries.get(`${intent}/${lang}`) ?? entries.get(`${intent}/${lang === 'zh' ? 'en' : 'zh'}`) ?? null;
  /** The intent an AI message answers: the KB answer it is, or holds (an answer with a greeting before it). */
  const intentOfAnswer = (text: string): string | null => {
    const t = normalizeWhitespace(text);
    return answers.find((a) => a.text === t)?.intent ?? answers.find((a) => a.text.length >= 20 && t.includes(a.text))?.intent ?? null;
  };
  const analysisOf = (text: string) => (deps.core.ready ? deps.core.analyze(text) : null);

  // ── RBAC (the conversation use cases' rules) ────────────────────────────────────────────────────
  async function seen(actor: UserView, sessionId: string): Promise<SessionRecord> {
    const session = await store.getSession(sessionId);
    if (!session || !can(actor, 'session.view', { skillGroup: session.skillGroup })) throw new HuiliuError('SESSION_NOT_FOUND');
    return session;
  }
  async function handled(actor: UserView, sessionId: string): Promise<SessionRecord> {
    const session = await seen(actor, sessionId);
    if (!can(actor, 'session.handle', { skillGroup: session.skillGroup })) throw new HuiliuError('FORBIDDEN');
    return session;
  }

  async function acted(session: SessionRecord, actor: string, payload: Omit<EventOf<'ai.acted'>['payload'], 'session'>) {
    await bus.publish(aiActed(session, actor, payload, now));
  }

  /**
   * The customer a text is adapted for: their name, the numbers in their recent messages, their
   * language; and what the AI and agents said in those messages (`answered`).
   */
  async function addressee(session: SessionRecord, latest: string, agentId?: string): Promise<Addressee & { answered: string[] }> {
    const [customer, page] = await Promise.all([
      store.getCustomer(session.customerId),
      store.recentMessages(session.conversationId, { limit: DETAIL_MESSAGES }),
    ]);
    const answered = page.messages.filter((m) => m.direction === 'out' && m.kind === 'text').map((m) => textOf(m));
    const said = page.messages
      .filter((m) => m.direction === 'in')
      .map((m) => emotionText(m))
      .filter((t): t is string => !!t)
      .reverse();
    return {
      name: usableName(customer?.name),
      agentName: agentId ? (deps.agentName?.(agentId) ?? null) : null,
      details: extractDetailsAll(said),
      lang: detectLang(latest),
      answered,
    };
  }

  /** The customer's newest words in the conversation (a text, an image caption, a transcript), or null. */
  async function latestCustomerWords(session: SessionRecord): Promise<{ message: Envelope; text: string } | null> {
    const message = await store.lastMessage(session.conversationId, { direction: 'in' });
    const text = message && emotionText(message);
    return message && text ? { message, text } : null;
  }

  // ── drafts ──────────────────────────────────────────────────────────────────────────────────────
  const making = new Map<string, Promise<StoredDraft | null>>();
  async function makeDraft(session: SessionRecord): Promise<StoredDraft | null> {
    const existing = await drafts.forSession(session.id);
    if (existing) return existing;
    const open = session.status === 'queued' || session.status === 'offered' || session.status === 'active';
    if (!config.drafts || session.routing?.tier !== 'assisted' || !open) return null;
    const latest = await latestCustomerWords(session);
    if (!latest) return null;
    const to = await addressee(session, latest.text);
    const choice = chooseDraft({
      analysis: analysisOf(latest.text),
      entryFor,
      pastReplies: config.pastReplies ? memory.search(latest.text, session.skillGroup, PAST_REPLY_CANDIDATES) : [],
      to,
    });
    if (!choice) return null;
    const { draft, created } = await drafts.create({
      sessionId: session.id,
      conversationId: session.conversationId,
      customerId: session.customerId,
      skillGroup: session.skillGroup,
      forMessageId: latest.message.id,
      text: choice.text,
      source: choice.source,
      createdAt: iso(),
    });
    if (created) {
      await acted(session, 'ai', {
        action: 'drafted',
        draftId: draft.id,
        source: draft.source,
        ...(draft.source.kind === 'kb'
          ? { intent: draft.source.intent, confidence: draft.source.confidence, entryId: draft.source.entryId }
          : {}),
      });
    }
    return draft;
  }
  function ensureDraft(session: SessionRecord): Promise<StoredDraft | null> {
    let pending = making.get(session.id);
    if (!pending) {
      pending = timed('draft', () => makeDraft(session)).finally(() => making.delete(session.id));
      making.set(session.id, pending);
    }
    return pending;
  }
  const draftView = (d: StoredDraft): Draft => ({
    id: d.id,
    text: d.text,
    source: d.source,
    forMessageId: d.forMessageId,
    createdAt: d.createdAt,
  });

  // ── the past-reply memory ───────────────────────────────────────────────────────────────────────
  let pendingPairs: PastReply[] = [];
  let pendingRemovals: string[] = [];
  let flushTimer: NodeJS.Timeout | null = null;
  let flushing: Promise<void> = Promise.resolve();
  function scheduleFlush() {
    flushTimer ??= setTimeout(() => {
      flushTimer = null;
      void flush();
    }, FLUSH_MS);
    flushTimer.unref();
  }
  function flush(): Promise<void> {
    const add = pendingPairs;
    const remove = pendingRemovals;
    pendingPairs = [];
    pendingRemovals = [];
    flushing = flushing
      .then(async () => {
        if (add.length) await pairs.add(add);
        if (remove.length) pairs.remove(remove);
      })
      .catch((error: unknown) => log.error({ err: error }, 'writing past replies failed'));
    return flushing;
  }
  function remember(pair: PastReply) {
    const dropped = memory.add(pair);
    // A pair dropped before it was written is simply not written.
    const unwritten = new Set(pendingPairs.map((p) => p.id));
    pendingPairs = pendingPairs.filter((p) => !dropped.includes(p.id));
    pendingRemovals.push(...dropped.filter((id) => !unwritten.has(id)));
    pendingPairs.push(pair);
    scheduleFlush();
  }

  /** A text worth remembering or answering from: a few content words, not "OK, thanks!". */
  const substantial = (text: string) => contentWordCount(text) >= 2 && text.trim().length >= 6;

  /** The pair an agent's reply makes with the customer message before it, depersonalised; null when there is none worth keeping. */
  function pairOf(reply: Envelope, question: Envelope, skillGroup: string, customerName: string | null): PastReply | null {
    if (authorOf(reply) !== 'agent' || reply.kind !== 'text') return null;
    const replyText = reply.body.text;
    const questionText = emotionText(question);
    if (!questionText || !substantial(replyText) || !substantial(questionText)) return null;
    const people = { customerName, agentName: reply.authorId ? (deps.agentName?.(reply.authorId) ?? null) : null };
    return {
      id: reply.id,
      skillGroup,
      question: depersonalize(questionText, people),
      reply: depersonalize(replyText, people),
      sessionId: reply.sessionId,
      customerId: reply.customerId,
      at: reply.receivedAt,
    };
  }

  async function learn(event: EventOf<'message.out'>): Promise<void> {
    const { envelope, session } = event.payload;
    if (authorOf(envelope) !== 'agent' || envelope.kind !== 'text') return;
    const page = await store.recentMessages(envelope.conversationId, { beforeSeq: envelope.seq, limit: 10 });
    const question = [...page.messages].reverse().find((m) => m.direction === 'in' && emotionText(m));
    if (!question) return;
    const customer = await store.getCustomer(envelope.customerId);
    const pair = pairOf(envelope, question, session.skillGroup, customer?.name ?? null);
    if (pair) remember(pair);
  }

  let backfilling: Promise<void> = Promise.resolve();
  /** Once per database: pairs from conversations stored before the memory existed (bounded, in the background). */
  async function backfill(): Promise<void> {
    if (pairs.flag('backfill') !== null) return;
    const sessions = await store.listSessions({ status: ['active', 'closed'], limit: BACKFILL_SESSIONS });
    const groupOf = new Map(sessions.map((s) => [s.id, s.skillGroup]));
    const conversations = new Map<string, string>();
    for (const s of sessions) conversations.set(s.conversationId, s.customerId);
    let learned = 0;
    for (const [conversationId, customerId] of conversations) {
      if (closed) return;
      const [messages, customer] = await Promise.all([store.listMessages(conversationId, { limit: 500 }), store.getCustomer(customerId)]);
      let question: Envelope | null = null;
      for (const m of messages) {
        if (m.direction === 'in') {
          if (emotionText(m)) question = m;
          continue;
        }
        const group = groupOf.get(m.sessionId);
        const pair = question && group ? pairOf(m, question, group, customer?.name ?? null) : null;
        if (pair) {
          remember(pair);
          learned++;
        }
      }
      // One conversation at a time, so the event loop serves sockets between them.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await flush();
    pairs.setFlag('backfill', iso());
    log.info({ sessions: sessions.length, pairs: learned }, 'past-reply memory backfilled from stored conversations');
  }

  async function summarizeSession(sessionId: string, options: { handover?: Handover } = {}): Promise<ConversationSummary> {
    const session = await store.getSession(sessionId);
    if (!session) throw new HuiliuError('SESSION_NOT_FOUND');
    const page = await store.recentMessages(session.conversationId, { limit: SUMMARY_MESSAGES_MAX });
    const input = { messages: summaryMessages(page.messages), handover: options.handover ?? session.handover };
    const extractive = summarize(input, {
      analyze: (text) => analysisOf(text) ?? { intent: { label: 'oos', confidence: 0, outOfScope: true } },
      intentOfAnswer,
      now,
    });
    const summary = llm ? await llm(input, extractive) : extractive;
    await acted(session, 'ai', { action: 'summarized', by: summary.by, intent: summary.intent });
    return summary;
  }

  let closed = false;

  /** Runs `work`, observing its duration under `huiliu_ai_assist_seconds{kind}` (also when it throws). */
  async function timed<T>(kind: 'draft' | 'suggestions' | 'summary', work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      deps.metrics?.aiAssistSeconds.observe({ kind }, (performance.now() - started) / 1000);
    }
  }

  async function suggestFor(actor: Parameters<AssistService['suggest']>[0], sessionId: string): Promise<Suggestion[]> {
    const session = await handled(actor, sessionId);
    const [latest, draft] = await Promise.all([latestCustomerWords(session), drafts.forSession(session.id)]);
    if (!latest) return [];
    const to = await addressee(session, latest.text, actor.id);
    const suggestions = suggestReplies({
      analysis: analysisOf(latest.text),
      entryFor,
      pastReplies: config.pastReplies ? memory.search(latest.text, session.skillGroup, PAST_REPLY_CANDIDATES) : [],
      to,
      draft: draft?.outcome === null ? draft : null,
      alreadySaid: to.answered,
    });
    await acted(session, 'ai', { action: 'suggested', count: suggestions.length });
    suggested.delete(session.id);
    suggested.set(
      session.id,
      suggestions.map((x) => x.text),
    );
    if (suggested.size > SHOWN_SESSIONS) suggested.delete(suggested.keys().next().value!);
    return suggestions;
  }

  return {
    drafts,
    memory,

    async start() {
      await loadKb();
      stopKb = deps.kb.onChange(() => {
        loadKb().catch((error: unknown) => log.error({ err: error }, 'reloading the knowledge base for assistance failed'));
      });
      if (config.pastReplies) {
        const max = deps.pastRepliesMax ?? PAST_REPLIES_MAX;
        const removed = pairs.prune(max);
        for (const pair of await pairs.newest(max)) memory.add(pair);
        log.info({ pairs: memory.size, pruned: removed }, 'past-reply memory loaded');
        subs.push(await bus.subscribe('message.out', 'assist-replies', onceById(learn)));
        backfilling = backfill().catch((error: unknown) => log.error({ err: error }, 'backfilling the past-reply memory failed'));
      }
      if (config.drafts) {
        subs.push(
          await bus.subscribe(
            'session.changed',
            'assist-drafts',
            onceById(async ({ sessionId, payload }) => {
              if (payload.tier !== 'assisted' || payload.reason !== 'routed') return;
              if (payload.status !== 'offered' && payload.status !== 'queued') return;
              const session = await store.getSession(sessionId);
              if (session) await ensureDraft(session);
            }),
          ),
        );
      }
    },

    async close() {
      closed = true;
      stopKb();
      await Promise.all(subs.map((s) => s.unsubscribe()));
      await backfilling;
      await Promise.allSettled([...making.values()]);
      if (flushTimer) clearTimeout(flushTimer);
      flushTimer = null;
      await flush();
      assistDb.close();
    },

    summarize: (sessionId, options) => timed('summary', () => summarizeSession(sessionId, options)),

    async summaryFor(actor, sessionId) {
      await seen(actor, sessionId);
      return timed('summary', () => summarizeSession(sessionId));
    },

    suggest: (actor, sessionId) => timed('suggestions', () => suggestFor(actor, sessionId)),

    async discardDraft(actor, sessionId, draftId) {
      const session = await handled(actor, sessionId);
      if (session.assignedAgentId !== actor.id && session.offeredAgentId !== actor.id) throw new HuiliuError('NOT_ASSIGNED');
      const draft = await drafts.get(draftId);
      if (!draft || draft.sessionId !== session.id) throw new HuiliuError('NOT_FOUND', 'No such draft in this session.');
      const discarded = await drafts.decide(draft.id, { outcome: 'discarded', by: actor.id, at: iso() });
      if (discarded)
        await acted(session, actor.id, { action: 'draft-used', draftId: draft.id, outcome: 'discarded', source: draft.source });
      return { discarded };
    },

    async shownTexts(sessionId) {
      const draft = await drafts.forSession(sessionId);
      return [...(draft ? [draft.text] : []), ...(suggested.get(sessionId) ?? [])];
    },

    async draftUsed(actor, session, used) {
      const draft = await drafts.get(used.draftId);
      if (!draft || draft.sessionId !== session.id || draft.outcome !== null) return;
      const measure = classifyOutcome(draft.text, used.text);
      const recorded = await drafts.decide(draft.id, { ...measure, by: actor.id, at: iso(), final: used.text, messageId: used.messageId });
      if (recorded) {
        await acted(session, actor.id, {
          action: 'draft-used',
          draftId: draft.id,
          outcome: measure.outcome,
          source: draft.source,
          messageId: used.messageId,
        });
      }
    },

    async detailExtras(session, viewer) {
      const [summary, draft] = await Promise.all([
        session.handover
          ? store.handoverSummary(session.id).catch((error: unknown) => {
              log.warn({ err: error, sessionId: session.id }, 'reading the hand-over summary failed');
              return null;
            })
          : null,
        session.status !== 'closed' && can(viewer, 'session.handle', { skillGroup: session.skillGroup })
          ? ensureDraft(session).catch((error: unknown) => {
              log.error({ err: error, sessionId: session.id }, 'making a draft failed');
              return null;
            })
          : null,
      ]);
      return { ...(summary ? { summary } : {}), ...(draft && draft.outcome === null ? { draft: draftView(draft) } : {}) };
    },

    ensureDraft,

    async feedback(actor, query) {
      const to = query.to ? new Date(query.to) : new Date(now());
      const from = query.from ? new Date(query.from) : new Date(to.getTime() - 30 * DAY_MS);
      if (from.getTime() >= to.getTime()) {
        throw new HuiliuError('VALIDATION_FAILED', 'from must be before to.', [{ path: 'from', message: 'must be before to' }]);
      }
      const scope = scopeOf(actor, 'ai.feedback');
      let groups: readonly string[] | null = scope;
      if (query.skillGroup) {
        if (scope && !scope.includes(query.skillGroup)) throw new HuiliuError('FORBIDDEN');
        groups = [query.skillGroup];
      }
      return drafts.report({ from: from.toISOString(), to: to.toISOString(), skillGroups: groups });
    },

    async idle() {
      await backfilling;
      await Promise.allSettled([...making.values()]);
      if (flushTimer) {
        clearTimeout(flushTimer);
        flushTimer = null;
      }
      await flush();
    },
  };
}
