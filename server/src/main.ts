import { createPgAuditLog } from './audit/audit.pg';
import { createSqliteAuditLog } from './audit/audit.sqlite';
import { auditBusEvents, AuditRecorder, scheduleAuditRetention } from './audit/recorder';
import { KeyRotation, sqliteKeyHolders, wrappedSecretFiles } from './keys/rewrap';
import { createSqliteKpiEventLog, type KpiEventLog } from './kpis/log.sqlite';
import { tapRatings } from './kpis/ratings-tap';
import { createKpiRecorder, type KpiRecorder } from './kpis/recorder';
import { createSqliteSlaPolicyStore } from './sla/policy-store';
import { createSlaTracker, type SlaTracker } from './sla/tracker';
import { createSqlitePrivacyStore } from './privacy/privacy.sqlite';
import { DataKeyRing } from './sessions/data-keys';
import { PrivacyService, schedulePrivacyJobs } from './privacy/service';
import { appExternalId } from './gateway/app/normalize';
import type { ChannelCode } from '../../common/message/session-id';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import type { Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { createAgentHub, type AgentHub } from './agent/hub';
import { createLiveBoard } from './board/service';
import type { KnowledgeBase } from './ai/kb';
import { setUpOcr, type Ocr } from './ai/ocr/setup';
import { messagesOcr } from './attachments/ocr-view';
import type { AttachmentStore } from './attachments/store';
import { createSqliteAttachmentStore } from './attachments/store.sqlite';
import { createSqliteKnowledgeBase } from './ai/kb.sqlite';
import { LanguageCore } from './ai/core';
import { createAssistService, type AssistService } from './ai/assist/service';
import { KbAnswerBook } from './ai/tier/answers';
import { createAiTier } from './ai/tier/ai-tier';
import { TokenBucket } from './http/token-bucket';
import { buildApp } from './app';
import { createVoiceApi } from './voice/plugin';
import { AuthService } from './auth/auth';
import { OidcSignIn } from './auth/oidc';
import type { Bus, BusOptions } from './bus/bus';
import { createMemoryBus } from './bus/bus.memory';
import { createRedisBus, redisConnector } from './bus/bus.redis';
import { busLagReporter, deadLetterReporter } from './bus/dead-letters';
import { ConfigError, loadConfig, type ServerConfig } from './config/config';
import { createConversationService } from './conversations/service';
import { createTransferService } from './conversations/transfers';
import { createSupervisionService } from './conversations/supervision';
import { openDatabase } from './db/sqlite';
import { createStoreCustomerFacts } from './customers/facts.store';
import { seedDemoKnowledgeBase, DEMO_PASSWORD, DEMO_USERS, seedDemo, seedDemoCannedReplies, seedDemoCustomerFacts } from './demo/seed';
import { CannedReplies } from './canned/plugin';
import { createSqliteCannedReplyStore } from './canned/store.sqlite';
import { ChannelAdapters } from './gateway/channel-adapter';
import type { ChannelStore } from './gateway/channels';
import { createSqliteChannelStore } from './gateway/channels.sqlite';
import { createOutboundDispatcher } from './gateway/dispatcher';
import { createSqliteWebhookOutbox } from './gateway/app/webhook-outbox.sqlite';
import { createAppWebhooks } from './gateway/app/webhooks';
import { createCsatSurveyor, createSqliteCsatSurveys } from './gateway/csat-survey';
import { createSqliteAppKeyStore } from './gateway/app/app-keys.sqlite';
import { Ingest } from './gateway/ingest';
import { createXmppChannel, type XmppChannel } from './gateway/xmpp/adapter';
import { Limits } from './http/limits';
import { registerLiveGauges } from './metrics/live';
import { createMetrics, registerDataKeyCache, registerKeyProviderCalls } from './metrics/metrics';
import { createLocalKeyProvider } from './keys/provider.local';
import { createPgSessionArchive } from './sessions/archive.pg';
import { createArchiver, pruneExpiredArchive, sweepUnarchived, type Archiver } from './sessions/archiver';
import { SharedKeyState } from './keys/provider';
import { loadOrCreateWrappedSecret, tlsKeyBox } from './keys/secret-file';
import { createPkcs11KeyProvider } from './keys/provider.pkcs11';
import { VisitorTokens } from './gateway/web/visitor-token';
import { createSqliteWidgetState } from './gateway/web/state.sqlite';
import { createAgentReceipts } from './gateway/web/receipts';
import { createLogger, type Logger } from './logging/logger';
import { AgentPool } from './routing/agent-pool';
import { createSqliteRoutingConfigStore } from './routing/config-store.sqlite';
import { connectClusterDecisions } from './routing/decisions.connect';
import { routeDecisions } from './routing/decisions.ported';
import { createRouter, type Router } from './routing/router';
import { createVoiceChannelAdapter } from './voice/adapter';
import { voiceEdgeReader } from './voice/edge';
import {
  rememberedVoiceEdgeApiPort,
  rememberVoiceEdgeApiPort,
  removeVoiceEdgeApiFile,
  startVoiceEdgeApi,
  writeVoiceEdgeApiFile,
} from './voice/edge-api';
import { createQueueAnnouncement } from './voice/queue-announcement';
import { createCallLiveness } from './voice/liveness';
import { loadVoiceSecrets } from './voice/secrets';
import { createVoiceService, type VoiceService } from './voice/service';
import { callTranscriber } from './voice/transcripts';
import { startRecordingSweeper } from './voice/recording-sweep';
import { createSpeechEngines } from './ai/speech';
import { createAfterCallWork } from './routing/after-call-work';
import { scoreContact, type ContactFacts } from './routing/score';
import { createCpuPool } from './workers/pool';
import { HuiliuError } from '../../common/errors/codes';
import type { SessionStore } from './sessions/store';
import { createSqliteSessionStore } from './sessions/store.sqlite';
import { routeConversations } from './sessions/store.ported';
import { connectConversationCluster } from './sessions/conversations.redis.connect';
import { createRedisCustomerStore } from './customers/customers.redis';
import { routeCustomers } from './customers/customers.route';
import { copyCustomersToPort } from './customers/port-copy';
import { createSharedErasureLog, ErasureLogGapError, type SharedErasureLog } from './privacy/erasure-log.redis';
import { REPO_ROOT } from './runtime/paths';
import { SessionViews, emotionErrorReporter, messageEmotions } from './sessions/views';
import { ensureTlsMaterial, type TlsMaterial } from './tls/certificates';

/** How long start-up waits for the first intent model before it listens anyway (ms). */
const CORE_START_WAIT_MS = 10_000;
/** Start-up waits for the first intent model only for a KB of at most this many questions. */
const CORE_START_WAIT_MAX_QUESTIONS = 2_000;
/** First messages longer than this (UTF-16 units) are scored in the CPU pool (see `startServer`). */
const POOL_SCORE_MIN_CHARS = 2000;

export interface RunningServer {
  url: string;
  config: ServerConfig;
  tls: TlsMaterial;
  app: FastifyInstance;
  /** The wired services, for operators' scripts and tests (the composition root hands them out). */
  services: {
    auth: AuthService;
    store: SessionStore;
    channels: ChannelStore;
    adapters: ChannelAdapters;
    bus: Bus;
    kb: KnowledgeBase;
    assist: AssistService;
    /** The one inbound path every channel adapter ends in (issue 12: tests feed channel drafts through it). */
    ingest: Ingest;
    /** The XMPP channel's component links (issue 12). */
    xmpp: XmppChannel;
    /** KEK rotation and the background re-wrap of data keys (issue 14). */
    keyRotation: KeyRotation;
    /** The audit log and its recorder (issue 17). */
    audit: AuditRecorder;
    /** The contact event log the KPIs are computed from, and its recorder (issue 16). */
    kpis: { log: KpiEventLog; recorder: KpiRecorder };
    /** The agents signed in on this node (issue 18: voice tests wait for an agent to be online). */
    pool: AgentPool;
    /** Data-subject requests (export, erasure) and conversation retention (issue 17). */
    privacy: PrivacyService;
    /** Runs the privacy jobs (export expiry, retention) now; they also run hourly. */
    privacyJobs: { run(): Promise<void> };
    /** Issue 14: closed sessions copied to PostgreSQL (HUILIU_STORE=redis with HUILIU_PG_URL), else null. */
    archiver: Archiver | null;
    /**
     * Issue 14: the sweep at start that queues sessions closed while no archiver ran (resolves with how
     * many it queued; never rejects — a failure is logged), else null.
     */
    archiveSweep: Promise<{ queued: number; truncated: boolean }> | null;
    /** Issue 18: the voice use cases Kamailio's posts reach (`/api/v1/voice/route`, `/events`). */
    voice: VoiceService;
  };
  /** Customers' images and their OCR (issue 10), for tests and operators' scripts. */
  images: { attachments: AttachmentStore; ocr: Ocr };
  close(): Promise<void>;
}

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The composition root (DESIGN §2): reads nothing global itself beyond what it is given, picks the
 * adapters the configuration names, wires them, and starts listening.
 */
export async function startServer(
  config: ServerConfig,
  logger: Logger = createLogger({ level: config.logLevel, dir: config.paths.logs }),
  /** `bus`: this node's bus on a backend shared with other nodes (tests of several nodes in one process). */
  wiring: { bus?: Bus } = {},
): Promise<RunningServer> {
  // Issue 14: the KEK in a local key file (embedded) or on a PKCS#11 token (scale-out, DESIGN §2);
  // with the token, the TLS private keys are kept sealed too (no secret in a plain file).
  const keys = config.keys.mode === 'pkcs11' ? createPkcs11KeyProvider(config.keys) : createLocalKeyProvider(config.paths.keys);
  const tls = await ensureTlsMaterial(config.paths.tls, [config.host], await tlsKeyBox(keys, config.paths.keys));
  // Issue 16: every CSAT rating stored is also a fact of the KPI log (`kpiRecorder`, wired below).
  let onRated: (rating: { sessionId: string; customerId: string; score: number; ratedAt: string }) => void = () => undefined;
  // Issue 14: HUILIU_STORE=redis — conversations (messages, session state mirror, queue index),
  // customers and identities, and the routing decision log on the Redis Cluster of HUILIU_REDIS_NODES;
  // routing state, transfers and merges stay in SQLite
  // (docs/store.md). Unreachable nodes stop the start with STORE_UNREACHABLE.
  const conversationCluster =
    config.store === 'redis' ? await connectConversationCluster({ nodes: config.redisNodes, keys, prefix: config.redisPrefix }) : null;
  // Issue 14: customers and identities on the same cluster (shared by every node: one customer per
  // identity whichever node a message reaches); merges, facts and ratings stay in SQLite (docs/store.md).
  const customerPort = conversationCluster
    ? await createRedisCustomerStore({ redis: conversationCluster.cluster, keys, prefix: config.redisPrefix })
    : null;
  // Issue 14: with the Redis Cluster as the hot store, closed sessions are archived (sealed, byte for
  // byte) to PostgreSQL when HUILIU_PG_URL is set (docs/store.md "Archive").
  const sessionArchive = conversationCluster && config.pgUrl ? await createPgSessionArchive({ url: config.pgUrl }) : null;
  // History of conversations trimmed from the cluster after archiving reads the archive (docs/store.md).
  if (conversationCluster && sessionArchive) conversationCluster.store.useArchive(sessionArchive);
  const archiver: Archiver | null =
    conversationCluster && sessionArchive
      ? createArchiver({
          source: conversationCluster.store,
          archive: sessionArchive,
          onError: (error, sessionId) => logger.error({ err: error, sessionId }, 'archiving a closed session to PostgreSQL failed'),
        })
      : null;
  const wideStore = await createSqliteSessionStore({
    path: config.paths.db,
    keys,
    continuityMs: config.continuity.windowMinutes * 60_000,
    onWriterError: (error) => logger.error({ err: error }, 'session writer thread failed; restarted it'),
  });
  // Issue 14: routing decisions too — SQLite decides and logs them, an outbox copies each to the
  // decisions port on the same cluster, and replay/history/privacy read it there (docs/store.md).
  const clusterDecisions = conversationCluster
    ? await connectClusterDecisions({
        redis: conversationCluster.cluster,
        prefix: config.redisPrefix,
        path: config.paths.db,
        remoteSession: (id) => conversationCluster.store.getSession(id),
        onCopyError: (error, retryInMs) =>
          logger.warn({ err: error, retryInMs }, 'copying routing decisions to the Redis Cluster failed; retrying'),
        onSkipped: (error, row) => logger.error({ err: error, ...row }, 'a routing decision the Redis decisions port refuses was skipped'),
        onLocalRead: (op, error) =>
          logger.warn(
            { err: error, op },
            "the Redis Cluster did not answer a routing decision read; answered from this node's SQLite (partial)",
          ),
      })
    : null;
  const store = tapRatings(
    conversationCluster && clusterDecisions
      ? routeDecisions(
          routeConversations(
            customerPort
              ? routeCustomers(wideStore, customerPort, {
                  onMirrorError: (error, op) => logger.warn({ err: error, op }, 'copying a customers port write to SQLite failed'),
                })
              : wideStore,
            { ...conversationCluster.store, shutdown: () => conversationCluster.close() },
            {
              onMirrorError: (error, op) =>
                logger.warn({ err: error, op }, 'mirroring a session change to the Redis conversations store failed'),
              onClosed: (session) => archiver?.closed(session),
            },
          ),
          clusterDecisions,
        )
      : wideStore,
    (rating) => onRated(rating),
    (error) => logger.error({ err: error }, 'recording a CSAT rating in the KPI log failed'),
  );
  // Issue 14: sessions closed while no archiver ran (a stop between a close and its copy, PostgreSQL
  // down) are queued now, off the start path.
  const archiveSweep =
    archiver && sessionArchive
      ? sweepUnarchived({
          sessions: wideStore,
          archive: sessionArchive,
          archiver,
          skillGroups: config.skillGroups.map((g) => g.id),
        }).then(
          (swept) => {
            if (swept.queued || swept.truncated) logger.info(swept, 'archive sweep at start: closed sessions queued for the archive');
            return swept;
          },
          (error: unknown) => {
            logger.error({ err: error }, 'archive sweep at start failed');
            return { queued: 0, truncated: false };
          },
        )
      : null;
  const authDb = openDatabase(config.paths.db);
  const login = config.limits.login;
  const window = (b: { points: number; seconds: number }) => ({ attempts: b.points, windowMs: b.seconds * 1000 });
  const auth = new AuthService(authDb, {
    logger,
    loginLimits: { perUserAndClient: window(login.perUserAndIp), perUser: window(login.perUser), perClient: window(login.perIp) },
    passwordChecks: { concurrent: login.concurrentChecks, waiting: login.waitingChecks },
    tokenTtlMs: config.sessions.absoluteMinutes * 60_000,
    idleTtlMs: config.sessions.idleMinutes * 60_000,
  });
  // After auth: on its first start the channels store takes over the app keys auth used to keep.
  const channels = createSqliteChannelStore({ path: config.paths.db, keys });
  // Accounts from HUILIU_CONFIG: adding a key already stored updates its account, so restarts are idempotent.
  for (const account of config.channelAccounts) await channels.addAccount(account);
  // Issue 13: keys admins issue in the workstation, beside the config's (same database file).
  const appKeys = createSqliteAppKeyStore({ path: config.paths.db, channels });
  if (config.demo) {
    const created = await seedDemo(auth, channels, config);
    if (created.length) logger.info({ users: created }, 'demo data seeded');
    const facts = await seedDemoCustomerFacts(store);
    if (facts) logger.info({ customers: facts }, 'demo customer facts imported');
  }
  // What routing reads of a customer (issue 11): their contacts and ratings here, and imported facts.
  // A deployment with a CRM gives the router its own CustomerFacts adapter instead (docs/customer-facts.md).
  const customerFacts = createStoreCustomerFacts({ store });
  const metrics = createMetrics();
  registerKeyProviderCalls(metrics, keys);
  registerDataKeyCache(metrics, new SharedKeyState(keys.spec.shared));
  // Issue 14: the routing decisions waiting in this node's outbox for the cluster (docs/store.md).
  if (clusterDecisions) metrics.routingLogBacklog = () => clusterDecisions.outbox.backlog();
  const onDeadLetter: BusOptions['onDeadLetter'] = deadLetterReporter(logger, metrics);
  const onDelivery: BusOptions['onDelivery'] = busLagReporter(metrics);
  // HUILIU_BUS=redis: Redis Streams shared with the other nodes (docs/bus.md); the store stays SQLite.
  const bus =
    wiring.bus ??
    (config.bus === 'redis'
      ? createRedisBus({
          connect: redisConnector(config.redisNodes),
          prefix: config.redisPrefix,
          onDeadLetter,
          onDelivery,
          onError: (error) => logger.warn({ err: error }, 'redis bus reader failed; retrying'),
        })
      : createMemoryBus({ onDeadLetter, onDelivery }));
  const pool = new AgentPool();
  // The file's routing config seeds the versioned store; the router reads the newest version at each decision.
  const routingConfigs = createSqliteRoutingConfigStore({ path: config.paths.db, seed: config.routing });
  // The FAQ knowledge base (issue 9): same database file, its own connection; changed through /api/v1/kb/*.
  const kb = createSqliteKnowledgeBase({
    path: config.paths.db,
    onListenerError: (error) => logger.error({ err: error }, 'a knowledge-base change listener failed'),
  });
  // CPU-heavy work off the socket thread (issue 8): training intent models, and scoring a long first
  // message with the surface fallback; the usual short one costs ~2 µs here, less than the ~100 µs
  // round trip to a thread.
  const cpu = createCpuPool({ logger, ...config.workers });
  if (config.demo) {
    const seeded = await seedDemoKnowledgeBase(kb);
    if (seeded) logger.info({ kbVersion: seeded }, 'demo knowledge base seeded');
  }
  // The AI language core (issue 9): intents retrain in a pool thread whenever the KB changes; its
  // first training runs while the rest of the server starts.
  const core = new LanguageCore({ kb, train: (examples, signal) => cpu.run('trainIntent', examples, { signal }), logger });
  const coreStarted = core.start();
  core.warmUp();
  const surfaceScore = (facts: ContactFacts) =>
    facts.difficulty.text.length > POOL_SCORE_MIN_CHARS
      ? cpu.run('score', facts).catch((error: unknown) => {
          // A full pool or one that is closing must not stop routing: score here instead.
          if (error instanceof HuiliuError && (error.code === 'OVERLOADED' || error.code === 'SHUTTING_DOWN')) return scoreContact(facts);
          throw error;
        })
      : scoreContact(facts);
  // With a model loaded the core reads the message (~0.5 ms, the first 2,000 characters); without
  // one (an empty KB) difficulty falls back to the surface features.
  const score = (facts: ContactFacts) => {
    if (!core.ready) return surfaceScore(facts);
    const { channel, contacts30d, text, emotion } = facts.difficulty;
    const analysis = core.analyze(text, { channel, contacts30d, ...(emotion ? { emotion } : {}) });
    return scoreContact({ ...facts, difficulty: { ...facts.difficulty, analysis } });
  };
  // Issue 10: customers' images, sealed with their data keys beside the session store, and OCR of
  // them in the background (docs/ocr.md); staff views show the text read, masked.
  const attachments = await createSqliteAttachmentStore({ path: config.paths.db, keys });
  const ocr = setUpOcr(config.ocr, { bus, attachments, sessions: store, logger });
  // The AI tier answers `ai`-tier contacts when it is on and a KB model is loaded (issue 10).
  const autoAnswer = config.ai.autoAnswer;
  const aiTierState = () =>
    !autoAnswer.enabled
      ? { available: false as const, why: 'ai.autoAnswer.enabled is false' }
      : core.ready
        ? { available: true as const }
        : { available: false as const, why: 'no knowledge-base model loaded yet' };
  const router: Router = createRouter({
    store,
    bus,
    pool,
    config: () => routingConfigs.current(),
    logger,
    score,
    aiTier: aiTierState,
    // The port counts the contacts itself (the same 30 days as the router's own count for difficulty).
    valueFacts: (customerId) => customerFacts.valueFacts(customerId, Date.now()),
    metrics,
  });
  // Issue 16: queue depth and waits, sessions and agents, read from the store and the pool at each scrape.
  registerLiveGauges(metrics, { store, pool, serviceLevel: config.kpis.serviceLevel });
  // Staff views and pushes show each customer message's emotion, read on the way out (never stored).
  const emotionOf = (text: string) => core.emotion(text);
  // AI assistance (issue 10): drafts for the assisted tier, suggested replies, summaries, the past-reply memory.
  const assist = createAssistService({
    store,
    kb,
    core,
    bus,
    db: { path: config.paths.db, keys },
    config: config.ai.assist,
    logger,
    agentName: (id) => auth.displayName(id),
    metrics,
  });
  // Issue 16: the SLA clocks (created below, once the KPI log exists); queue rows carry their due times.
  let slaTracker: SlaTracker | null = null;
  const slaOf = (sessionId: string) => {
    const status = slaTracker?.statusOf(sessionId);
    return status && { kind: status.kind, dueAt: status.dueAt, breached: status.breached };
  };
  const views = new SessionViews(store, {
    slaOf,
    emotionOf,
    logger,
    ocrOf: messagesOcr(attachments),
    // The AI's extras (issue 10) and the contact's transfer (issue 11, `transfers` below).
    extras: async (s, viewer) => {
      const [ai, transfer] = await Promise.all([assist.detailExtras(s, viewer), transfers.detailExtras(s, viewer)]);
      return { ...ai, ...transfer };
    },
  });
  // After-call work (issue 11): wrap-up time after a call, or an agent's last chat, before new offers.
  const afterCallWork = createAfterCallWork({
    pool,
    config: () => routingConfigs.current(),
    available: (agentId) => router.agentAvailable(agentId),
    logger,
  });
  const conversations = createConversationService({
    store,
    router,
    pool,
    afterCallWork,
    bus,
    views,
    logger,
    routingConfig: () => routingConfigs.current(),
    handleSeconds: autoAnswer.defaultHandleSeconds,
    drafts: assist,
    summarize: (s, handover) => assist.summarize(s.id, { handover }),
  });
  // Issue 11: transfers to an agent, a skill group or the expert tier, warm or cold, with the AI summary.
  const transfers = createTransferService({
    store,
    router,
    pool,
    bus,
    views,
    directory: auth,
    skillGroups: config.skillGroups,
    routingConfig: () => routingConfigs.current(),
    summarize: (s) => assist.summarize(s.id),
    logger,
  });
  // Issues 15, 16: internal notes and supervision (whisper, barge, reassign, agent presence).
  const supervision = createSupervisionService({ store, bus, views, pool, router, transfers, directory: auth, afterCallWork, logger });
  const answers = new KbAnswerBook(kb);
  await answers.ready();
  const aiTier = createAiTier({ store, bus, core, book: answers, conversations, config: autoAnswer, logger, metrics });
  const limits = new Limits(config.limits, config.trustedProxies, metrics);
  const ingest = new Ingest(store, bus, metrics);
  const adapters = new ChannelAdapters();
  // Issue 13: the web widget's pre-chat answers and the read marks of both sides.
  const widgetState = createSqliteWidgetState({ path: config.paths.db });
  // Issue 13: app accounts with a webhook are pushed to; pending deliveries wait in the outbox across restarts.
  const webhookOutbox = createSqliteWebhookOutbox({ path: config.paths.db });
  // Issue 17: the audit log — SQLite in the data file, or PostgreSQL (monthly partitions) with HUILIU_PG_URL.
  const auditLog = config.pgUrl
    ? await createPgAuditLog({ url: config.pgUrl, keys })
    : await createSqliteAuditLog({ path: config.paths.db, keys });
  const audit = new AuditRecorder(auditLog, logger, async () => auth.listStaff());
  await auditBusEvents(bus, audit);
  const auditRetention = scheduleAuditRetention(audit, config.audit.retentionDays, logger);
  // Issue 16: the contact event log (same database file) fed from the bus, ratings and the agent pool.
  const kpiLog = createSqliteKpiEventLog({ path: config.paths.db, logger });
  const kpiRecorder = createKpiRecorder({
    log: kpiLog,
    bus,
    logger,
    agents: () => pool.all(),
    serviceLevel: config.kpis.serviceLevel,
    metrics,
    channelSurvey: config.csat.channelSurvey,
  });
  onRated = (rating) => kpiRecorder.rated(rating);
  await kpiRecorder.start();
  // Issue 16: SLA policies (versioned, seeded from HUILIU_CONFIG `sla:`) and the clocks of open sessions.
  const slaPolicies = createSqliteSlaPolicyStore({ path: config.paths.db, seed: config.sla });
  const sla = createSlaTracker({
    bus,
    store,
    policies: () => slaPolicies.current().policies,
    log: kpiLog,
    audit: (entry) => audit.record(entry),
    metrics,
    logger,
  });
  slaTracker = sla;
  await sla.start();
  // Issue 17: data-subject requests (export, erasure by crypto-shredding) and retention per skill group,
  // in the same database file, after the session and attachment stores created their tables.
  const privacyStore = createSqlitePrivacyStore({ path: config.paths.db, keys });
  // Issue 14, redis mode: the cluster's log of approved erasures; this node applies what it has not
  // applied yet to its own SQLite (below: at start, on `customer.erased`, on reconnect, every minute).
  const erasureLog: SharedErasureLog | null = conversationCluster
    ? createSharedErasureLog({
        redis: conversationCluster.cluster,
        prefix: config.redisPrefix,
        path: config.paths.db,
        keys,
        retentionMs: config.privacy.erasureLogRetentionDays * 24 * 3600_000,
        acceptGap: config.privacy.erasureLogAcceptGap,
        registry: metrics.registry,
        onRejected: (entryId, reason) =>
          logger.error({ entryId, code: reason }, 'an entry of the cluster erasure log was refused (not applied)'),
        onGap: (gap) =>
          logger.warn(
            { ...gap, code: 'ERASURE_LOG_GAP' },
            'erasures trimmed from the cluster log before this node applied them: passed (HUILIU_ERASURE_LOG_ACCEPT_GAP=1)',
          ),
        apply: async (customerIds) => {
          const applied = await privacy.applyRecordedErasure(customerIds);
          store.forgetCached(customerIds);
          for (const id of customerIds) assist.memory.forgetCustomer(id);
          if (applied.customerIds.length)
            logger.info(
              { customers: applied.customerIds.length, keysDestroyed: applied.keysDestroyed },
              'erasure from the cluster log applied to this node',
            );
        },
      })
    : null;
  const privacy = new PrivacyService({
    store: privacyStore,
    sessions: store,
    attachments,
    keys,
    bus,
    audit: (entry) => audit.record(entry),
    logger,
    config: config.privacy,
    // Redis mode: retention also removes expired content from the cluster and the PostgreSQL archive.
    ...(conversationCluster && sessionArchive
      ? {
          archiveRetention: (skillGroup: string, before: string) =>
            pruneExpiredArchive({ archive: sessionArchive, hot: conversationCluster.store }, skillGroup, before),
        }
      : {}),
    // Redis mode: the erasure recorded in the cluster's log (nodes that are down apply it at their
    // start), then the customers port (lookups, data key) and the conversations port erased, before
    // the request is executed.
    ...(customerPort && conversationCluster && erasureLog
      ? {
          sharedErasure: async (customerIds: readonly string[]) => {
            // Their identities' blind hashes too, read before the port releases them: another file's
            // copy of the same person under another id is then skipped (docs/store.md).
            await erasureLog.record(customerIds, await customerPort.identityFields(customerIds));
            await customerPort.eraseCustomers(customerIds);
            await conversationCluster.store.eraseCustomers(customerIds);
          },
          // The catch-up erases a logged entry's customers on the cluster again before this file shreds
          // them (idempotent): the request that logged them may have failed before the two steps above.
          clusterErasure: async (customerIds: readonly string[]) => {
            await customerPort.eraseCustomers(customerIds);
            await conversationCluster.store.eraseCustomers(customerIds);
          },
        }
      : {}),
    findByExternalId: async (externalId) => {
      // App customer ids are scoped by their app: try the id as given, then under each app account.
      const tries: [ChannelCode, string][] = (['AP', 'WB', 'WX', 'XM', 'SP'] as const).map((c) => [c, externalId]);
      for (const account of await channels.accounts('AP')) tries.push(['AP', appExternalId(account.accountId, externalId)]);
      for (const [channel, id] of tries) {
        const found = await store.findCustomerByIdentity(channel, id);
        if (found) return found.id;
      }
      return null;
    },
  });
  const privacyJobs = schedulePrivacyJobs(privacy, logger);
  // Issue 15: canned replies, per skill group and personal.
  const cannedStore = createSqliteCannedReplyStore({ path: config.paths.db });
  const canned = new CannedReplies({ store: cannedStore, skillGroups: () => config.skillGroups.map((g) => g.id) });
  if (config.demo) {
    const seeded = await seedDemoCannedReplies(cannedStore);
    if (seeded) logger.info({ cannedReplies: seeded }, 'demo canned replies seeded');
  }
  // Fan-out, every node: its threads' key rings re-check their cached keys (another process on the same
  // database destroyed them; this process's threads share the shred epoch, other processes do not),
  // and its in-memory past-reply index forgets the erased customers' pairs (their rows are gone).
  await bus.subscribeAll('customer.erased', async ({ payload }) => {
    DataKeyRing.announceShred(keys);
    store.forgetCached(payload.customerIds);
    for (const id of payload.customerIds) assist.memory.forgetCustomer(id);
    // Issue 14: the erased customers' data keys in the Redis conversations store go too (idempotent on every node).
    // Their identity and link lookups on the customers port first (the same identity is a new customer).
    if (customerPort) await customerPort.eraseCustomers(payload.customerIds);
    if (conversationCluster) await conversationCluster.store.eraseCustomers(payload.customerIds);
    // This node's own SQLite too (the erasure log has the entry: the approving node recorded it first);
    // a failure is retried on reconnect and by the timer below.
    await erasureLog
      ?.catchUp()
      .catch((error: unknown) => logger.error({ err: error }, 'applying erasures from the cluster log failed; retrying later'));
  });
  // Issue 14, redis mode: erasures approved while this node was stopped, then the customers its SQLite
  // made before redis mode copied to the customers port — both before it takes a message (docs/store.md).
  let erasureCatchUp: ReturnType<typeof setInterval> | null = null;
  let onClusterReady = () => undefined as void;
  if (erasureLog && conversationCluster) {
    const catchUp = (why: string) =>
      erasureLog.catchUp().then(
        (done) => {
          if (done.entries) logger.info({ ...done, why }, 'erasures from the cluster log applied');
        },
        (error: unknown) => {
          logger.error({ err: error, why }, 'applying erasures from the cluster log failed; retrying later');
          // At start the failure fails the start (as the copy below does): a node that went on served
          // the customers erased while it was down from its own file (facts, past replies, their key)
          // until a later retry worked.
          if (why === 'start') throw error;
        },
      );
    await catchUp('start');
    onClusterReady = () => void catchUp('reconnect');
    conversationCluster.cluster.on('ready', onClusterReady);
    erasureCatchUp = setInterval(() => void catchUp('timer'), 60_000);
    erasureCatchUp.unref();
  }
  if (customerPort) {
    const copied = await copyCustomersToPort({
      path: config.paths.db,
      keys,
      port: customerPort,
      wide: wideStore,
      // Erasures approved elsewhere while the copy runs: a copied person found erased comes off the port again.
      ...(erasureLog ? { refreshErased: () => erasureLog.catchUp() } : {}),
      // A customer holding an identity the cluster erased (the same person under another id): shredded here.
      shredErased: async (customerIds) => {
        await privacy.applyRecordedErasure(customerIds);
        store.forgetCached(customerIds);
      },
    });
    if (!copied.alreadyDone) logger.info(copied, 'customers made before redis mode copied to the customers port');
  }
  // Issue 14: KEK rotation re-wraps every stored data key in the background, on its own connection.
  const keysDb = openDatabase(config.paths.db);
  const keyRotation = new KeyRotation({
    holders: [
      ...sqliteKeyHolders(keysDb),
      wrappedSecretFiles(() => ['visitor.key.wrapped', 'tls.key.wrapped'].map((f) => join(config.paths.keys, f))),
      // The PostgreSQL audit log keeps its MAC key in its own database.
      ...(auditLog.wrappedKeys ? [auditLog.wrappedKeys] : []),
    ],
    keys,
    log: (msg) => logger.info(msg),
  });
  const appWebhooks = createAppWebhooks({
    outbox: webhookOutbox,
    channels,
    store,
    bus,
    logger,
    retry: config.channels.app.webhook,
    metrics,
    keepDeliveredMs: config.channels.app.webhook.keepDeliveredDays * 24 * 3600_000,
  });
  // Issue 15: CSAT asked on WeChat / XMPP (a "reply 1–5" text) and the app (a webhook event) after a close.
  const csatSurveys = createSqliteCsatSurveys({ path: config.paths.db });
  const csat = createCsatSurveyor({
    surveys: csatSurveys,
    store,
    bus,
    adapters,
    appEvent: (event, session) => appWebhooks.enqueueEvent(event, session),
    windowHours: config.csat.surveyHours,
    channelSurvey: config.csat.channelSurvey,
    logger,
  });
  // Issue 12: one XEP-0114 component link per XM account; a bad account is logged and skipped.
  const xmpp = await createXmppChannel({
    channels,
    store,
    ingest,
    bus,
    metrics,
    logger,
    skillGroups: config.skillGroups.map((g) => g.id),
    csat,
  });
  adapters.register(xmpp.adapter);
  // Issue 18: SIP calls through Kamailio (deploy/kamailio, `npm run voice -- up`) become SP sessions.
  adapters.register(createVoiceChannelAdapter());
  const voiceEdge = voiceEdgeReader(config.dataDir, { domain: config.host, uris: [] });
  // Issue 18: live call transcripts and speech emotion (docs/voice.md, docs/speech.md).
  const speech = createSpeechEngines(config.ai.speech, { textEmotion: emotionOf });
  // A call whose end never reached the server (lost post, caller gone without BYE) ends once rtpengine forgot it (docs/voice.md "Liveness").
  const callLiveness = createCallLiveness({ edge: voiceEdge });
  // Recordings no tap deleted (calls up during a restart, a server without ASR) leave the spool once idle.
  const recordingSweeper = startRecordingSweeper({ recordingDir: () => voiceEdge().recordings, logger });
  const voice = {
    service: createVoiceService({
      store,
      ingest,
      bus,
      router,
      conversations,
      transfers,
      staff: auth,
      skillGroups: config.skillGroups.map((g) => g.id),
      defaultSkillGroup: config.skillGroups[0]!.id,
      kpis: kpiLog,
      logger,
      referFollowMs: config.voice.referFollowSeconds * 1000,
      liveness: callLiveness,
      livenessMs: config.voice.livenessSeconds * 1000,
      ...(speech.asr ? { transcribe: callTranscriber(speech.asr, speech.emotion, voiceEdge, logger) } : {}),
    }),
    secrets: loadVoiceSecrets(config.dataDir),
    sip: voiceEdge,
    // Issue 18: queued callers hear queue-<lang>.wav through rtpengine (docs/voice.md "Queue announcement").
    // With TTS it speaks the caller's place first, in their language (config voice.queueLanguage).
    queueAnnouncement: createQueueAnnouncement({ edge: voiceEdge, logger, languages: config.voice.queueLanguage, tts: speech.tts }),
  };
  // Kamailio's two endpoints, one instance (its token budget and rate limit) for the HTTPS routes and the loopback hop.
  const voiceApi = createVoiceApi({ voice: voice.service, secrets: voice.secrets, queueAnnouncement: voice.queueAnnouncement });
  let ready = false;

  const app = await buildApp({
    config,
    logger,
    store,
    bus,
    auth,
    ingest,
    channels,
    adapters,
    views,
    conversations,
    version: VERSION,
    ready: () => ready,
    tls: { cert: `${tls.certPem}${tls.caPem}`, key: tls.keyPem },
    visitorTokens: new VisitorTokens(await loadOrCreateWrappedSecret(join(config.paths.keys, 'visitor.key'), keys)),
    kb,
    core,
    assist,
    metrics,
    limits,
    attachments: { store: attachments, ocr: ocr.enabled },
    routingConfigs,
    whatIf: { staff: () => auth.listStaff(), aiTierAnswers: () => aiTierState().available },
    customerFacts,
    appWebhooks,
    csat,
    keyRotation,
    audit,
    ...(config.oidc ? { oidc: new OidcSignIn(config.oidc, auth, { logger }) } : {}),
    widgetState,
    appKeys,
    kpis: kpiLog,
    sla: { policies: slaPolicies, onPublished: () => sla.reschedule() },
    privacy,
    canned,
    voice: { ...voice, api: voiceApi },
  });
  // Issue 16: the lead's live board, pushed over the agent socket (docs/lead-board.md).
  const liveEmotionBudget = budgetOf(config.ai.liveEmotionPerSecond);
  const board = await createLiveBoard({
    store,
    bus,
    pool,
    kpiLog,
    serviceLevel: config.kpis.serviceLevel,
    sla,
    ...config.kpis.board,
    chatCapacity: async () => (await routingConfigs.current()).capacity.chat,
    skillGroups: () => config.skillGroups.map((g) => g.id),
    emotions: messageEmotions(emotionOf, { allow: liveEmotionBudget, onError: emotionErrorReporter(logger) }),
    logger,
  });
  const hub: AgentHub = await createAgentHub({
    board,
    httpServer: app.server as unknown as HttpsServer,
    audit: (entry) => audit.record(entry),
    auth,
    store,
    bus,
    pool,
    router,
    afterCallWork,
    conversations,
    assist,
    transfers,
    supervision,
    receipts: createAgentReceipts({ store, state: widgetState, bus }),
    logger,
    limits,
    metrics,
    emotionOf,
    // Reading emotion costs ~0.1 ms of this thread a message: a budget keeps bursts from slowing every push.
    emotionBudget: budgetOf(config.ai.liveEmotionPerSecond),
    slaOf,
    // Issue 15: the top bar's "2/4" load against chat capacity.
    chatCapacity: async () => (await routingConfigs.current()).capacity.chat,
  });
  // After-call work starts and ends are agent-state facts of the KPI log, recorded as they happen.
  afterCallWork.onChange(() => kpiRecorder.sampleAgents());
  // One outbound path: a work consumer, so each reply is sent by one node whatever the node count.
  const dispatcher = createOutboundDispatcher({ bus, adapters, channels, logger });
  await dispatcher.start();
  appWebhooks.start();
  await csat.start();
  await keyRotation.resume();
  await assist.start();
  await ocr.start();
  await router.start();
  await transfers.start();
  await aiTier.start();
  // A first model before the first contact when it comes quickly (a small KB, such as the demo's:
  // ~1.5 s in a pool thread); a big KB trains in the background, scored by the surface fallback
  // meanwhile, so a restart is not held up for minutes.
  const questions = (await kb.list()).reduce((n, e) => n + e.questions.length, 0);
  if (questions <= CORE_START_WAIT_MAX_QUESTIONS) {
    await Promise.race([coreStarted, new Promise((resolve) => setTimeout(resolve, CORE_START_WAIT_MS).unref())]);
  }
  const address = await app.listen({ host: config.host, port: config.port });
  // Issue 18: Kamailio's posts over a loopback plain-HTTP hop, not HTTPS (docs/voice.md "Kamailio → server
  // over loopback": Kamailio 5.6.3's tls module and libcurl crash each other under load). Loopback only.
  // Port 0 reuses the last start's port, so a running edge keeps reaching a restarted server.
  const edgeApi = config.voice.edgeHttp
    ? await startVoiceEdgeApi(app, {
        ...config.voice.edgeHttp,
        preferPort: rememberedVoiceEdgeApiPort(config.dataDir),
        direct: { api: voiceApi, logger: logger.child({ component: 'voice-edge-api' }) },
      })
    : null;
  if (edgeApi) {
    writeVoiceEdgeApiFile(config.dataDir, edgeApi.url);
    rememberVoiceEdgeApiPort(config.dataDir, Number(new URL(edgeApi.url).port));
    if (edgeApi.moved)
      logger.warn(
        { url: edgeApi.url },
        "the voice edge API's previous port stayed taken; it listens on another one: restart the edge (npm run voice -- up) so Kamailio posts there",
      );
  }
  ready = true;
  // In the background, retried with backoff: an XMPP server that is down never holds up the start
  // nor readiness (docs/channels/xmpp.md).
  xmpp.start();
  const url = address.replace('[::1]', 'localhost');

  let closing: Promise<void> | null = null;
  return {
    url,
    config,
    tls,
    app,
    services: {
      auth,
      store,
      channels,
      adapters,
      bus,
      kb,
      assist,
      ingest,
      xmpp,
      keyRotation,
      audit,
      kpis: { log: kpiLog, recorder: kpiRecorder },
      pool,
      privacy,
      privacyJobs,
      archiver,
      archiveSweep,
      voice: voice.service,
    },
    images: { attachments, ocr },
    close() {
      closing ??= (async () => {
        ready = false;
        // Before the adapters close, so no reply is recorded as failed only because this node stops.
        await dispatcher.stop();
        await csat.stop();
        // Tries in flight finish and are stored; the rest stay pending in the outbox for the next start.
        await appWebhooks.close();
        await hub.close();
        await board.close();
        if (edgeApi) {
          removeVoiceEdgeApiFile(config.dataDir);
          await edgeApi.close();
        }
        await app.close();
        voice.queueAnnouncement.close();
        voice.service.close?.();
        callLiveness.close();
        recordingSweeper.stop();
        // No new XMPP stanzas; those being handled finish in ingest.idle() below.
        await xmpp.close();
        // Requests already inside a handler still store and publish before the bus closes.
        await ingest.idle();
        await aiTier.stop();
        answers.close();
        // Images still waiting stay pending for the next start; those being read finish (bounded).
        await ocr.close();
        await transfers.stop();
        afterCallWork.stop();
        await router.stop();
        // Before the bus: its consumers stop, pending past replies are written.
        await assist.close();
        await kpiRecorder.stop();
        await sla.stop();
        await bus.close();
        // After the bus: the last events' entries are in the buffer.
        await privacyJobs.stop();
        if (erasureCatchUp) clearInterval(erasureCatchUp);
        conversationCluster?.cluster.off('ready', onClusterReady);
        await erasureLog?.idle();
        await privacyStore.close();
        await cannedStore.close();
        await auditRetention.stop();
        await audit.close();
        kpiLog.close();
        slaPolicies.close();
        // Sessions closed just before the stop are archived first (bounded: the hot store keeps them anyway).
        if (archiver) await Promise.race([archiver.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
        await sessionArchive?.close();
        await store.shutdown();
        await routingConfigs.close();
        // After the app and the router: no request or decision reads it any more.
        await core.close();
        await kb.close();
        await attachments.close();
        await cpu.close();
        webhookOutbox.close();
        csatSurveys.close();
        await widgetState.close();
        appKeys.close();
        await channels.close();
        authDb.close();
        // A re-wrap in progress finishes its batch; what is left resumes at the next rotation or start.
        await keyRotation.stop();
        keysDb.close();
        await keys.close();
      })();
      return closing;
    },
  };
}

/** `n` actions a second (bursts of up to `n`); 0 = none. */
function budgetOf(n: number): () => boolean {
  if (n === 0) return () => false;
  const bucket = new TokenBucket(n, n);
  return () => bucket.take();
}

function banner(server: RunningServer): string {
  const lines = [
    '',
    `Huiliu ${VERSION} is running on ${server.url}`,
    `  workstation  ${server.url}/app/`,
    `  web widget   ${server.url}/widget`,
    `  data dir     ${server.config.dataDir}`,
    `  local CA     ${join(server.config.paths.tls, 'ca.pem')} (SHA-256 ${server.tls.caFingerprint256})`,
  ];
  if (server.config.demo) {
    lines.push(`  demo logins  ${DEMO_USERS.map((u) => u.username).join(', ')} — password "${DEMO_PASSWORD}"`);
    lines.push('  app key      demo-app-key (header X-Huiliu-Key)');
  }
  return `${lines.join('\n')}\n`;
}

async function run(): Promise<void> {
  let config: ServerConfig;
  try {
    config = loadConfig({ env: process.env, argv: process.argv.slice(2), cwd: process.cwd() });
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`huiliu: configuration error: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger({ level: config.logLevel, dir: config.paths.logs });
  let server: RunningServer;
  try {
    server = await startServer(config, logger);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`huiliu: configuration error: ${error.message}\n`);
      process.exit(78);
    }
    if (error instanceof ErasureLogGapError) {
      process.stderr.write(`huiliu: ${error.code}: ${error.message}\n`);
      process.exit(78); // EX_CONFIG: the operator decides (docs/operations.md)
    }
    if (error instanceof HuiliuError && error.code === 'STORE_UNREACHABLE') {
      process.stderr.write(`huiliu: ${error.code}: ${error.message}\n`);
      process.exit(69); // EX_UNAVAILABLE
    }
    logger.fatal({ err: error }, 'start failed');
    process.exit(1);
  }
  process.stdout.write(banner(server));
  const stop = (signal: string) => {
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    void server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

// Run when this module is the process's entry (`tsx server/src/main.ts`, `node server/dist/server/main.js`),
// not when imported (tests). In the bundle, `import.meta.url` is main.js itself; Node resolves the
// entry's symlinks, so argv[1] is compared by its real path.
const entry = process.argv[1] && existsSync(process.argv[1]) ? pathToFileURL(realpathSync(process.argv[1])).href : null;
if (entry === import.meta.url) {
  void run();
}
