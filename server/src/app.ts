import type { AuditEntryInput } from './audit/audit';
import { auditPlugin, installAuditHook } from './audit/plugin';
import type { AuditRecorder } from './audit/recorder';
import { keysAdminPlugin } from './keys/plugin';
import { kpisPlugin } from './kpis/plugin';
import type { KpiEventLog } from './kpis/log.sqlite';
import { privacyPlugin } from './privacy/plugin';
import { cannedPlugin, type CannedReplies } from './canned/plugin';
import type { SlaPolicyStore } from './sla/policy-store';
import { slaPlugin } from './sla/plugin';
import type { PrivacyService } from './privacy/service';
import type { KeyRotation } from './keys/rewrap';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import helmet from '@fastify/helmet';
import type { UserView } from '../../common/api/auth';
import type { KnowledgeBase } from './ai/kb';
import { kbPlugin } from './ai/kb.plugin';
import { attachmentsPlugin } from './attachments/plugin';
import type { AttachmentStore } from './attachments/store';
import type { LanguageCore } from './ai/core';
import { aiPlugin } from './ai/plugin';
import { assistPlugin } from './ai/assist/plugin';
import type { AssistService } from './ai/assist/service';
import type { IdentityStore } from './auth/identity';
import { authPlugin } from './auth/plugin';
import type { OidcSignIn } from './auth/oidc';
import { oidcPlugin } from './auth/oidc-plugin';
import type { RoutePolicy } from './auth/policy';
import { registerRoutePolicy } from './auth/route-policy';
import { revealPlugin } from './sessions/reveal.plugin';
import type { Bus } from './bus/bus';
import type { ServerConfig } from './config/config';
import type { CustomerFacts } from './customers/facts';
import { customersPlugin } from './customers/plugin';
import { continuityPlugin } from './customers/continuity.plugin';
import { appChannelPlugin } from './gateway/app/plugin';
import { appWebhookAdminPlugin } from './gateway/app/webhook-admin';
import { appAdminPlugin } from './gateway/app/app-admin';
import type { AppKeyStore } from './gateway/app/app-keys.sqlite';
import type { AppWebhooks } from './gateway/app/webhooks';
import { ChannelAdapters } from './gateway/channel-adapter';
import type { ChannelStore } from './gateway/channels';
import type { Ingest } from './gateway/ingest';
import { webChannelPlugin } from './gateway/web/plugin';
import type { CsatSurveyor } from './gateway/csat-survey';
import { wechatChannelPlugin } from './gateway/wechat/plugin';
import type { RoutingConfigStore } from './routing/config-store';
import { routingConfigPlugin } from './routing/plugin';
import type { VisitorTokens } from './gateway/web/visitor-token';
import type { WidgetStateStore } from './gateway/web/state';
import { createAttachmentLinks, widgetUploadsPlugin } from './gateway/web/uploads';
import { healthPlugin } from './health/plugin';
import { frameworkErrors, registerErrorHandling } from './http/errors';
import { Limits } from './http/limits';
import { UpgradeRouter } from './http/upgrades';
import type { Logger } from './logging/logger';
import { RequestLogController } from './logging/request-logs';
import { createMetrics, type Metrics } from './metrics/metrics';
import { metricsPlugin } from './metrics/plugin';
import { REPO_ROOT } from './runtime/paths';
import { sessionsPlugin } from './sessions/plugin';
import type { ConversationService } from './conversations/service';
import type { SessionStore } from './sessions/store';
import type { SessionViews } from './sessions/views';
import { workstationPlugin } from './workstation/plugin';
import { voicePlugin, type VoicePluginOptions } from './voice/plugin';
import { DEFAULT_ROUTING_CONFIG } from '../../common/routing/types';

export { REPO_ROOT };
/** The workstation's build (`npm run build:renderer`). */
export const DEFAULT_RENDERER_DIR = join(REPO_ROOT, 'app', 'renderer', 'dist');
/** The widget's build (`npm run build:widget`), beside the server's own build in server/dist. */
export const DEFAULT_WIDGET_DIR = join(REPO_ROOT, 'server', 'dist', 'widget');

declare module 'fastify' {
  interface FastifyInstance {
    /** Every registered route (method + URL pattern) and the policy it named, HEAD excepted. */
    routeTable: readonly { method: string; url: string; policy: RoutePolicy | undefined }[];
  }
}

export interface AppDeps {
  config: ServerConfig;
  logger: Logger;
  store: SessionStore;
  bus: Bus;
  /** Who is signing in (the authentication port; `AuthService` in main.ts). */
  auth: IdentityStore;
  ingest: Ingest;
  /** Channel accounts (app keys …) and delivery states. */
  channels: ChannelStore;
  /** The channel adapters join this registry; the composition root's dispatcher reads it. Created here when absent. */
  adapters?: ChannelAdapters;
  views: SessionViews;
  /** The conversation use cases the session routes call (the same ones the agent socket calls). */
  conversations: ConversationService;
  version: string;
  ready: () => boolean;
  tls?: { cert: string; key: string };
  visitorTokens: VisitorTokens;
  /** The knowledge base; its admin routes (`/api/v1/kb/*`) exist only when it is given. */
  kb?: KnowledgeBase;
  /** The versioned routing config (issue 11): `GET|PUT /api/v1/routing/config`. */
  routingConfigs?: RoutingConfigStore;
  /** With `routingConfigs`: `POST /api/v1/routing/simulate` (what-if, issue 11) reads staff and the AI tier's state here. */
  whatIf?: { staff: () => UserView[]; aiTierAnswers: () => boolean };
  /** The AI language core; `POST /api/v1/ai/analyze` exists only when it is given. */
  core?: LanguageCore;
  /** AI assistance (issue 10); `GET /api/v1/ai/feedback` exists only when it is given. */
  assist?: Pick<AssistService, 'feedback'>;
  /** Shared with the agent hub by the composition root; created here when absent (plugin tests). */
  metrics?: Metrics;
  limits?: Limits;
  rendererDir?: string;
  widgetDir?: string;
  /**
   * Customers' images (issue 10): the app channel accepts them and `/api/v1/attachments/*` serves
   * them only when given; `ocr` says whether OCR will read them.
   */
  attachments?: { store: AttachmentStore; ocr: boolean };
  /**
   * What routing reads of customers (issue 11, the router's own instance): with it, the facts import
   * and `GET /api/v1/customers/:id/facts`, and the customers' ratings (CSAT) on the widget and the app channel.
   */
  customerFacts?: CustomerFacts;
  /** The web channel's pre-chat answers and read marks (issue 13); absent: no pre-chat form, no read marks. */
  widgetState?: WidgetStateStore;
  /** The app channel's outbound webhooks (issue 13): with them, app accounts with a webhook are pushed to, and the dead-letter admin routes exist. */
  appWebhooks?: AppWebhooks;
  /** Issue 15: CSAT asked on WeChat, XMPP and the app after a close; absent: those channels are not surveyed. */
  csat?: CsatSurveyor;
  /** KEK rotation and retirement (issue 14). */
  keyRotation?: KeyRotation;
  /** Enterprise sign-in through an OpenID provider (issue 17), when `oidc:` is configured. */
  oidc?: OidcSignIn;
  /** The audit log (issue 17): staff requests and sign-ins are recorded through it. */
  audit?: AuditRecorder;
  /** App keys admins issue (issue 13): with it, the app accounts admin routes are served. */
  appKeys?: AppKeyStore;
  /** The contact event log (issue 16): with it, `GET /api/v1/metrics/kpis` and `…/kpis.csv` are served. */
  kpis?: Pick<KpiEventLog, 'read'>;
  /** SLA policies (issue 16): with them, `GET|PUT /api/v1/sla/policies`; `onPublished` re-times the running clocks. */
  sla?: { policies: SlaPolicyStore; onPublished?: () => void };
  /** Data-subject requests and retention (issue 17): with it, `/api/v1/privacy/*` is served. */
  privacy?: PrivacyService;
  /** Canned replies (issue 15): with it, `/api/v1/canned-replies` is served. */
  canned?: CannedReplies;
  /** SIP voice (issue 18): with it, `/api/v1/voice/route|events` (for Kamailio) and `/api/v1/voice/credentials` are served. */
  voice?: Pick<VoicePluginOptions, 'secrets' | 'sip' | 'queueAnnouncement' | 'api'> & { service: VoicePluginOptions['voice'] };
}

/**
 * Builds the HTTP(S) app from its parts; `main.ts` passes real adapters. Server tests boot the whole
 * server through the harness (`server/test/support/harness.ts`) and call `inject()` on it; plugin tests
 * build a small app with one plugin. TLS 1.3 only: there is no downgrade to 1.2 on any listener (DESIGN §8).
 */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const metrics = deps.metrics ?? createMetrics();
  const limits = deps.limits ?? new Limits(deps.config.limits, deps.config.trustedProxies, metrics);
  const app = Fastify({
    loggerInstance: deps.logger,
    // Per-request lines at debug (issue 8): see logging/request-logs.ts.
    logController: new RequestLogController(),
    bodyLimit: 1024 * 1024,
    // request.ip is the client behind HUILIU_TRUSTED_PROXIES only (loopback by default), the same
    // rule the WebSocket upgrades use.
    trustProxy: limits.trustProxy,
    forceCloseConnections: true,
    frameworkErrors,
    // A `__proto__` / `constructor.prototype` key in a JSON body is dropped, not a reason to refuse
    // the whole body: the customer's message is kept (issue 6 C11) and nothing is polluted.
    onProtoPoisoning: 'remove',
    onConstructorPoisoning: 'remove',
    ...(deps.tls
      ? { https: { cert: deps.tls.cert, key: deps.tls.key, minVersion: 'TLSv1.3' as const, maxVersion: 'TLSv1.3' as const } }
      : {}),
  }) as unknown as FastifyInstance;

  registerErrorHandling(app);
  // Every route, as registered: security tests walk it so no route escapes the malformed-input suite.
  const routeTable: { method: string; url: string; policy: RoutePolicy | undefined }[] = [];
  app.addHook('onRoute', (route) => {
    // Read when asked: a child scope's onRoute hook (defaultRoutePolicy) runs after this one.
    for (const method of [route.method].flat()) {
      if (method !== 'HEAD')
        routeTable.push({
          method,
          url: route.url,
          get policy() {
            return route.config?.policy;
          },
        });
    }
  });
  app.decorate('routeTable', routeTable);
  const upgrades = new UpgradeRouter();
  upgrades.attach(app.server, (error) => deps.logger.debug({ err: error }, 'upgrade socket error'));
  // A failed TLS handshake is the client's problem; Node drops the socket, this only reports it.
  app.server.on('tlsClientError', (error: Error) => deps.logger.debug({ err: error }, 'TLS handshake failed'));
  // socket.io (the agent hub) listens for its own upgrades under /socket.io/.
  upgrades.leaveTo('/socket.io/');
  await app.register(helmet, {
    // Pages set their own CSP (workstation, widget); APIs answer JSON.
    contentSecurityPolicy: false,
    crossOriginEmbedderPolicy: false,
    hsts: { maxAge: 31_536_000, includeSubDomains: true },
  });

  const { config, store, auth, ingest, views, bus, logger, channels } = deps;
  // One authorization hook for every route below, from each route's `config.policy` (issue 7 §4).
  registerRoutePolicy(app, auth);
  const adapters = deps.adapters ?? new ChannelAdapters();
  await app.register(healthPlugin, { store, version: deps.version, ready: deps.ready });
  await app.register(metricsPlugin, { metrics });
  if (deps.kpis) {
    const sl = config.kpis.serviceLevel;
    await app.register(kpisPlugin, {
      log: deps.kpis,
      serviceLevel: { thresholds: { voice: sl.voiceSeconds, chat: sl.chatSeconds }, target: sl.target },
    });
  }
  if (deps.sla) await app.register(slaPlugin, { ...deps.sla, skillGroups: () => config.skillGroups.map((g) => g.id) });
  await app.register(authPlugin, { auth, ...(deps.audit ? { audit: (e: AuditEntryInput) => deps.audit!.record(e) } : {}) });
  await app.register(oidcPlugin, {
    oidc: deps.oidc ?? null,
    ...(deps.audit ? { audit: (e: AuditEntryInput) => deps.audit!.record(e) } : {}),
  });
  if (deps.audit) {
    installAuditHook(app, deps.audit);
    await app.register(auditPlugin, { recorder: deps.audit });
  }
  await app.register(sessionsPlugin, { store, views, conversations: deps.conversations });
  if (deps.kb) await app.register(kbPlugin, { kb: deps.kb });
  if (deps.routingConfigs) {
    const what = deps.whatIf;
    await app.register(routingConfigPlugin, {
      configs: deps.routingConfigs,
      ...(what && {
        whatIf: {
          store,
          staff: { userById: (id: string) => auth.userById(id), list: what.staff },
          skillGroups: () => config.skillGroups.map((g) => g.id),
          aiTierAnswers: what.aiTierAnswers,
        },
      }),
    });
  }
  if (deps.core) await app.register(aiPlugin, { core: deps.core });
  if (deps.assist) await app.register(assistPlugin, { assist: deps.assist });
  if (deps.customerFacts) {
    const configs = deps.routingConfigs;
    await app.register(customersPlugin, {
      store,
      channels,
      facts: deps.customerFacts,
      routingConfig: () => configs?.current() ?? DEFAULT_ROUTING_CONFIG,
    });
  }
  // Issue 12: one person across channels — timeline, identities, merge and undo.
  await app.register(continuityPlugin, { store, views: deps.views, bus: deps.bus });
  await app.register(revealPlugin, { store, ...(deps.audit ? { audit: (e: AuditEntryInput) => deps.audit!.record(e) } : {}) });
  // The customer's own way to a person (issue 10): the widget's button and the app's hand-over call.
  const handOver = (sessionId: string) => deps.conversations.handOver({ sessionId, reason: 'button', by: 'customer' });
  const standing = (sessionId: string) => deps.conversations.standing(sessionId);
  await app.register(appChannelPlugin, {
    channels,
    adapters,
    ingest,
    store,
    config,
    limits,
    handOver,
    standing,
    ...(deps.attachments ? { attachments: deps.attachments } : {}),
    ...(deps.appWebhooks ? { webhooks: deps.appWebhooks } : {}),
    ...(deps.appKeys ? { appKeys: deps.appKeys } : {}),
    ...(deps.csat ? { csat: deps.csat } : {}),
    metrics,
  });
  if (deps.appWebhooks) await app.register(appWebhookAdminPlugin, { webhooks: deps.appWebhooks });
  if (deps.keyRotation) await app.register(keysAdminPlugin, { rotation: deps.keyRotation });
  if (deps.canned) await app.register(cannedPlugin, { canned: deps.canned });
  if (deps.privacy) await app.register(privacyPlugin, { privacy: deps.privacy, skillGroups: () => config.skillGroups.map((g) => g.id) });
  if (deps.appKeys) {
    await app.register(appAdminPlugin, {
      channels,
      keys: deps.appKeys,
      skillGroups: config.skillGroups.map((g) => g.id),
      logger: deps.logger,
      ...(deps.appWebhooks ? { webhooks: deps.appWebhooks } : {}),
    });
  }
  if (deps.attachments) await app.register(attachmentsPlugin, { attachments: deps.attachments.store, store });
  // Issue 13: the widget's files, stored with the same attachment store as the app channel's images.
  const attachmentLinks =
    deps.attachments && createAttachmentLinks({ attachments: deps.attachments.store, visitorTokens: deps.visitorTokens });
  if (deps.attachments && attachmentLinks) {
    await app.register(widgetUploadsPlugin, {
      attachments: deps.attachments,
      links: attachmentLinks,
      ingest,
      store,
      ...(deps.widgetState ? { state: deps.widgetState } : {}),
      config,
      limits,
      visitorTokens: deps.visitorTokens,
      logger,
      metrics,
    });
  }
  await app.register(webChannelPlugin, {
    ...(attachmentLinks ? { uploads: { limits: config.widget.upload, attachmentOf: attachmentLinks.attachmentOf } } : {}),
    handOver,
    standing,
    store,
    ingest,
    bus,
    config,
    logger,
    widgetDir: deps.widgetDir ?? DEFAULT_WIDGET_DIR,
    agentName: (id) => auth.displayName(id),
    visitorTokens: deps.visitorTokens,
    channels,
    ...(deps.widgetState ? { state: deps.widgetState } : {}),
    upgrades,
    adapters,
    limits,
    metrics,
  });
  await app.register(wechatChannelPlugin, {
    channels,
    adapters,
    ingest,
    store,
    config,
    metrics,
    logger,
    ...(deps.attachments ? { attachments: deps.attachments } : {}),
    ...(deps.csat ? { csat: deps.csat } : {}),
  });
  if (deps.voice)
    await app.register(voicePlugin, {
      voice: deps.voice.service,
      secrets: deps.voice.secrets,
      sip: deps.voice.sip,
      ...(deps.voice.queueAnnouncement ? { queueAnnouncement: deps.voice.queueAnnouncement } : {}),
      ...(deps.voice.api ? { api: deps.voice.api } : {}),
    });
  await app.register(workstationPlugin, {
    rendererDir: deps.rendererDir ?? DEFAULT_RENDERER_DIR,
    // Issue 18: the softphone may connect to the voice edge's SIP-over-WebSocket URIs.
    ...(deps.voice ? { connectSources: () => deps.voice!.sip().uris } : {}),
  });
  return app;
}
