import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { isIP } from 'node:net';
import proxyAddr from 'proxy-addr';
import { z } from 'zod';
import { DEFAULT_SLA_POLICIES, SlaPolicySetSchema, type SlaPolicySet } from '../../../common/api/sla';
import YAML from 'yaml';
import {
  DEFAULT_WEBHOOK_RETRY,
  WEBHOOK_SECRET,
  WEBHOOK_SECRET_MIN,
  WEBHOOK_URL_SETTING,
  webhookUrlProblem,
  type WebhookRetryConfig,
} from '../gateway/app/webhook';
import { RoleSchema, type Role } from '../../../common/api/auth';
import { isLoopbackHost } from '../http/loopback';
import { SpeechConfigSchema, speechConfig, type SpeechConfig } from '../ai/speech/config';
import { DEFAULT_ROUTING_CONFIG, RoutingConfigSchema, type RoutingConfig } from '../../../common/routing/types';

/** Hosts where an http OpenID issuer is allowed (a provider on the same machine, as in tests). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** `sessions:` defaults (issue 17): 12 h absolute, 60 min idle. */
export const DEFAULT_SESSIONS = { absoluteMinutes: 720, idleMinutes: 60 };

/** `oidc:` of HUILIU_CONFIG as the server uses it (see FileConfigSchema). */
export interface OidcConfig {
  readonly name: string;
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  readonly scopes?: readonly string[];
  readonly roleClaim: string;
  readonly groupClaim: string;
  readonly roles: Readonly<Record<string, Role>>;
  readonly skillGroups: Readonly<Record<string, string>>;
}

/** Raised when configuration is wrong; the message names the variable or field. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

const HostPort = z
  .string()
  .regex(/^[A-Za-z0-9.-]+:\d{1,5}$/, 'expected host:port')
  .refine((s) => Number(s.split(':')[1]) <= 65535, 'port must be ≤ 65535');

const Host = z
  .string()
  .min(1)
  .refine((h) => isIP(h) !== 0 || /^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/.test(h), {
    message: 'expected an IP address or a host name',
  });

/** The `HUILIU_*` environment (DESIGN §6), validated once at start. */
export const EnvSchema = z.object({
  HUILIU_DATA_DIR: z.string().min(1).default('./var'),
  HUILIU_HOST: Host.default('127.0.0.1'),
  HUILIU_PORT: z
    .string()
    .regex(/^\d{1,5}$/, 'expected a port number')
    .transform(Number)
    .refine((n) => n <= 65535, 'port must be ≤ 65535')
    .default(8443),
  HUILIU_CONFIG: z.string().min(1).optional(),
  HUILIU_STORE: z.enum(['sqlite', 'redis']).default('sqlite'),
  HUILIU_BUS: z.enum(['memory', 'redis']).default('memory'),
  HUILIU_REDIS_NODES: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(z.array(HostPort).min(1))
    .optional(),
  HUILIU_REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'expected 1–64 letters, digits, _ . -')
    .default('huiliu'),
  HUILIU_PG_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'expected a postgres:// URL')
    .optional(),
  /**
   * Issue 14, redis mode: `1` lets a node start although erasures it missed were trimmed from the
   * cluster's erasure log (`ERASURE_LOG_GAP`, docs/operations.md); only after the operator dealt with
   * its file (restored, wiped, or the missed erasures re-run). Default `0`.
   */
  HUILIU_ERASURE_LOG_ACCEPT_GAP: z.enum(['0', '1']).default('0'),
  HUILIU_KEYS: z.enum(['local', 'pkcs11']).default('local'),
  HUILIU_PKCS11_LIB: z.string().min(1).optional(),
  HUILIU_PKCS11_TOKEN: z.string().min(1).optional(),
  HUILIU_PKCS11_PIN: z.string().min(1).optional(),
  HUILIU_PKCS11_KEY: z.string().min(1).optional(),
  HUILIU_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Addresses or CIDRs (or `loopback`, `linklocal`, `uniquelocal`) whose `X-Forwarded-For` is believed. */
  HUILIU_TRUSTED_PROXIES: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(z.string()).refine((list) => {
        try {
          proxyAddr.compile(list);
          return true;
        } catch {
          return false;
        }
      }, 'expected IP addresses, CIDRs, or loopback/linklocal/uniquelocal, separated by commas'),
    )
    .default(['loopback']),
});

const PositiveInt = z.number().int().positive();
/** A fixed-window budget: `points` actions per `seconds`. */
const Budget = z.strictObject({ points: PositiveInt, seconds: PositiveInt });

/**
 * Abuse limits (issue 6 A1–A3). Defaults are far above what a person typing reaches and well below
 * what a script reaches; docs/operations.md lists them with the reasoning.
 */
export const LimitsSchema = z.strictObject({
  widget: z
    .strictObject({
      /** Largest widget frame accepted; a larger one closes that connection with 1009. */
      frameBytes: z
        .number()
        .int()
        .min(1024)
        .max(16 * 1024 * 1024),
      /** Unsent bytes queued to one widget socket before it is closed as a slow consumer (1013). */
      sendBufferBytes: z
        .number()
        .int()
        .min(16 * 1024),
      /** Messages replayed per page on hello or history. */
      replayPageSize: z.number().int().min(1).max(1000),
      /** Per connection: messages at once, then per second (token bucket). */
      messageBurst: PositiveInt,
      messagesPerSecond: z.number().positive(),
      /** Per connection: hello/history pages at once, then per second; an over-limit hello closes it (1008). */
      replayBurst: PositiveInt,
      replaysPerSecond: z.number().positive(),
      /** Seconds between server pings; a connection that missed the previous pong is cut. */
      heartbeatSeconds: z.number().int().min(1).max(3600),
      /** After a 1013 close for a slow consumer, ms before the socket is cut if the close is never read. */
      slowConsumerGraceMs: z.number().int().min(0).max(60_000),
    })
    .partial()
    .optional(),
  /** Across all connections of one widget visitor, or one app customer. */
  visitor: z.strictObject({ messages: Budget }).partial().optional(),
  /** Per client IP (after trusted proxies). */
  ip: z
    .strictObject({
      messages: Budget,
      /** New widget visitors (fresh tokens) per IP. */
      newSessions: Budget,
      /** Open widget connections per IP at one time. */
      connections: PositiveInt,
      /** Requests with a wrong app key per IP (key guessing). */
      badAppKeys: Budget,
    })
    .partial()
    .optional(),
  /** Per app channel key: messages posted, and reads (`GET …/app/messages` polls). */
  appKey: z.strictObject({ messages: Budget, reads: Budget }).partial().optional(),
  /** Sign-in attempts, counted in the database before the password is checked (issue 6 B4). */
  login: z
    .strictObject({
      /** One username from one client address. */
      perUserAndIp: Budget,
      /** One username from any address (a botnet's ceiling). */
      perUser: Budget,
      /** One client address across usernames (password spraying). */
      perIp: Budget,
      /** argon2id checks (19 MiB each) running at once, and how many more may wait. */
      concurrentChecks: PositiveInt,
      waitingChecks: z.number().int().min(0),
    })
    .partial()
    .optional(),
  /** The staff socket (`/agent`): signed-in people, so higher, but still bounded. */
  agent: z
    .strictObject({
      /** Open agent sockets per client IP (a contact centre sits behind one NAT address). */
      connections: PositiveInt,
      /** Per socket: events at once, then per second; over it an event is answered RATE_LIMITED. */
      eventBurst: PositiveInt,
      eventsPerSecond: z.number().positive(),
      /** Unsent bytes queued to one agent socket before it is disconnected as a slow consumer. */
      sendBufferBytes: z
        .number()
        .int()
        .min(16 * 1024),
    })
    .partial()
    .optional(),
});

export interface LimitsConfig {
  readonly widget: {
    readonly frameBytes: number;
    readonly sendBufferBytes: number;
    readonly replayPageSize: number;
    readonly messageBurst: number;
    readonly messagesPerSecond: number;
    readonly replayBurst: number;
    readonly replaysPerSecond: number;
    readonly heartbeatSeconds: number;
    readonly slowConsumerGraceMs: number;
  };
  readonly visitor: { readonly messages: { points: number; seconds: number } };
  readonly ip: {
    readonly messages: { points: number; seconds: number };
    readonly newSessions: { points: number; seconds: number };
    readonly connections: number;
    readonly badAppKeys: { points: number; seconds: number };
  };
  readonly appKey: { readonly messages: { points: number; seconds: number }; readonly reads: { points: number; seconds: number } };
  readonly login: {
    readonly perUserAndIp: { points: number; seconds: number };
    readonly perUser: { points: number; seconds: number };
    readonly perIp: { points: number; seconds: number };
    readonly concurrentChecks: number;
    readonly waitingChecks: number;
  };
  readonly agent: {
    readonly connections: number;
    readonly eventBurst: number;
    readonly eventsPerSecond: number;
    readonly sendBufferBytes: number;
  };
}

export const DEFAULT_LIMITS: LimitsConfig = {
  // A person types well under one message a second; a burst of 20 covers a pasted list or an outbox flush.
  widget: {
    frameBytes: 64 * 1024,
    sendBufferBytes: 1024 * 1024,
    replayPageSize: 100,
    messageBurst: 20,
    messagesPerSecond: 1,
    replayBurst: 10,
    replaysPerSecond: 1,
    heartbeatSeconds: 30,
    slowConsumerGraceMs: 2000,
  },
  visitor: { messages: { points: 120, seconds: 60 } },
  // One office or mobile carrier NAT can put many customers behind one address.
  ip: {
    messages: { points: 600, seconds: 60 },
    newSessions: { points: 30, seconds: 60 },
    connections: 50,
    // A misconfigured app retries a few times; a key guesser tries thousands.
    badAppKeys: { points: 30, seconds: 60 },
  },
  // An app polling every second for 100 customers at once stays under the read budget.
  appKey: { messages: { points: 1200, seconds: 60 }, reads: { points: 6000, seconds: 60 } },
  login: {
    perUserAndIp: { points: 10, seconds: 300 },
    perUser: { points: 30, seconds: 3600 },
    perIp: { points: 100, seconds: 300 },
    concurrentChecks: 4,
    waitingChecks: 16,
  },
  // A busy agent clicks a few times a second; a reconnect replays a handful of requests at once.
  agent: { connections: 500, eventBurst: 60, eventsPerSecond: 20, sendBufferBytes: 4 * 1024 * 1024 },
};

/** `continuity.windowMinutes` default (DESIGN §3). */
export const DEFAULT_CONTINUITY_MINUTES = 30;

/** `attachments:` defaults (docs/operations.md). */
export const DEFAULT_ATTACHMENTS = { maxImageBytes: 5 * 1024 * 1024, maxImagePixels: 40_000_000 };
/** `ocr:` defaults (docs/operations.md): one engine keeps one core for the sockets on a 2-core machine. */
export const DEFAULT_OCR = { enabled: true, workers: 1, queue: 16, timeoutMs: 60_000 };

/** Which pre-chat fields the widget asks for (issue 13). */
const PreChatFieldSchema = z.enum(['required', 'optional', 'off']);
/** File types a widget visitor may send (issue 13); each is checked by its magic bytes. */
export const WIDGET_UPLOAD_MIMES = ['image/png', 'image/jpeg', 'image/webp', 'image/gif', 'application/pdf', 'text/plain'] as const;
export type WidgetUploadMime = (typeof WIDGET_UPLOAD_MIMES)[number];
/** `widget.upload` defaults (issue 13): 10 MiB, every accepted type, 15 s without a byte ends an upload. */
export const DEFAULT_WIDGET_UPLOAD = {
  maxBytes: 10 * 1024 * 1024,
  mimes: [...WIDGET_UPLOAD_MIMES] as WidgetUploadMime[],
  idleMs: 15_000,
  /** Bytes of files per 10 minutes: one visitor, one client address. */
  visitorBytes: 100 * 1024 * 1024,
  addressBytes: 400 * 1024 * 1024,
};

/** `widget.preChat` as the server uses it: fields, and topics with their skill groups. */
export interface WidgetPreChatConfig {
  readonly name: 'required' | 'optional' | 'off';
  readonly contact: 'required' | 'optional' | 'off';
  readonly topics: readonly {
    readonly id: string;
    readonly label: { readonly en: string; readonly zh: string };
    readonly skillGroup: string;
  }[];
}

/**
 * The pre-chat form `--demo` shows when the config file has none: name optional, a contact optional,
 * and three topics over the demo's skill groups (billing and technical → general, sales → vip).
 */
export const DEMO_PRE_CHAT: WidgetPreChatConfig = {
  name: 'optional',
  contact: 'optional',
  topics: [
    { id: 'billing', label: { en: 'Billing', zh: '账单' }, skillGroup: 'general' },
    { id: 'technical', label: { en: 'Technical support', zh: '技术支持' }, skillGroup: 'general' },
    { id: 'sales', label: { en: 'Sales', zh: '销售咨询' }, skillGroup: 'vip' },
  ],
};

/** `widget.preChat` checked against the skill groups (ConfigError naming the field), or the demo's under `--demo`. */
function widgetPreChat(file: WidgetPreChatConfig | undefined, demo: boolean, groupIds: ReadonlySet<string>): WidgetPreChatConfig | null {
  const form = file ?? (demo && DEMO_PRE_CHAT.topics.every((t) => groupIds.has(t.skillGroup)) ? DEMO_PRE_CHAT : null);
  if (!form) return null;
  const seen = new Set<string>();
  form.topics.forEach((t, i) => {
    if (!groupIds.has(t.skillGroup))
      throw new ConfigError(`HUILIU_CONFIG field widget.preChat.topics.${i}.skillGroup: no skill group "${t.skillGroup}"`);
    if (seen.has(t.id)) throw new ConfigError(`HUILIU_CONFIG field widget.preChat.topics.${i}.id: "${t.id}" is given twice`);
    seen.add(t.id);
  });
  return form;
}

const SkillGroupConfig = z.strictObject({
  id: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'lowercase letters, digits and dashes'),
  name: z.string().min(1).max(64),
});

/** The `HUILIU_CONFIG` file (YAML or JSON). Unknown fields are errors, so typos do not pass silently. */
export const FileConfigSchema = z.strictObject({
  skillGroups: z.array(SkillGroupConfig).min(1).optional(),
  routing: RoutingConfigSchema.optional(),
  channels: z
    .strictObject({
      web: z
        .strictObject({ defaultSkillGroup: z.string().min(1) })
        .partial()
        .optional(),
      app: z
        .strictObject({
          defaultSkillGroup: z.string().min(1),
          /**
           * Issue 13: retry timing of the app accounts' outbound webhooks (docs/channels/app.md);
           * absent fields take `DEFAULT_WEBHOOK_RETRY`.
           */
          webhook: z
            .strictObject({
              baseDelayMs: z.number().int().min(10).max(3_600_000),
              maxDelayMs: z.number().int().min(10).max(86_400_000),
              maxAttempts: z.number().int().min(1).max(50),
              timeoutMs: z.number().int().min(100).max(120_000),
              /** Delivered outbox rows are deleted after this many days (default 7). */
              keepDeliveredDays: z.number().min(0.0001).max(3650),
            })
            .partial(),
          /**
           * Issue 13: images an app sends by URL (docs/channels/app.md §5). `allowLoopbackHttp`: also
           * fetch `http://` from loopback addresses — for tests only, never in production.
           */
          imageUrls: z
            .strictObject({
              timeoutMs: z.number().int().min(100).max(60_000),
              allowLoopbackHttp: z.boolean(),
            })
            .partial(),
        })
        .partial()
        .optional(),
      /**
       * Channel accounts as data (issue 7 §1, issue 12): app accounts (`AP`) with the key apps send as
       * `X-Huiliu-Key` (inline or, better, as a file only the server can read); WeChat official
       * accounts (`WX`) and XMPP components (`XM`) with their `settings` (checked by their adapter at
       * start) and their `secrets` (inline, or `secretsFile`: a JSON object of strings), stored sealed.
       */
      accounts: z
        .array(
          z
            .strictObject({
              channel: z.enum(['AP', 'WX', 'XM'], { message: 'accounts can be AP (app), WX (WeChat) or XM (XMPP)' }),
              accountId: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-", at most 64'),
              name: z.string().min(1).max(64),
              skillGroup: z.string().min(1).optional(),
              key: z.string().min(16, 'at least 16 characters').max(256).optional(),
              keyFile: z.string().min(1).optional(),
              settings: z.record(z.string().max(64), z.union([z.string().max(1024), z.number(), z.boolean()])).optional(),
              secrets: z.record(z.string().max(64), z.string().max(4096)).optional(),
              secretsFile: z.string().min(1).optional(),
            })
            .refine((a) => a.channel !== 'AP' || (a.key === undefined) !== (a.keyFile === undefined), {
              message: 'give exactly one of key or keyFile',
            })
            .refine((a) => a.channel === 'AP' || (a.key === undefined && a.keyFile === undefined), {
              message: 'key and keyFile are for app (AP) accounts; WeChat and XMPP accounts take secrets',
            })
            .refine((a) => a.secrets === undefined || a.secretsFile === undefined, { message: 'give secrets or secretsFile, not both' }),
        )
        .optional(),
    })
    .optional(),
  widget: z
    .strictObject({
      title: z.string().min(1).max(64).optional(),
      /** Origins allowed to embed the widget in an iframe (CSP frame-ancestors). */
      allowedOrigins: z.array(z.url()).optional(),
      /**
       * The pre-chat form (issue 13, docs/channels/web.md): whether the name and a contact (e-mail or
       * phone) are `required`, `optional` or `off`, and the topics a visitor picks from; each topic's
       * `skillGroup` is where their next session opens (checked against `skillGroups` at start).
       */
      preChat: z
        .strictObject({
          name: PreChatFieldSchema.default('optional'),
          contact: PreChatFieldSchema.default('optional'),
          topics: z
            .array(
              z.strictObject({
                id: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'lowercase letters, digits and dashes'),
                label: z.strictObject({ en: z.string().min(1).max(64), zh: z.string().min(1).max(64) }),
                skillGroup: z.string().min(1),
              }),
            )
            .max(20)
            .default([]),
        })
        .optional(),
      /**
       * Files visitors send (issue 13): the largest (bytes, default 10 MiB, at most 32 MiB), the
       * accepted types, each verified by its magic bytes, and `idleMs` (a stalled upload ends).
       * `enabled: false` turns uploads off.
       */
      upload: z
        .strictObject({
          enabled: z.boolean(),
          maxBytes: z
            .number()
            .int()
            .min(1024)
            .max(32 * 1024 * 1024),
          mimes: z.array(z.enum(WIDGET_UPLOAD_MIMES)).min(1),
          /** An upload that sends no byte for this long (ms, 1 s..10 min) ends with UPLOAD_INCOMPLETE. */
          idleMs: z.number().int().min(1000).max(600_000),
          /** Bytes of files one visitor / one client address may send per 10 minutes (RATE_LIMITED past it). */
          visitorBytes: z.number().int().min(1024),
          addressBytes: z.number().int().min(1024),
        })
        .partial()
        .optional(),
    })
    .optional(),
  limits: LimitsSchema.optional(),
  /**
   * The audit log (issue 17, docs/audit.md): entries older than `retentionDays` (default and minimum
   * 183, the 6-month floor; at most 3650) are removed by a daily job, itself audited.
   */
  audit: z
    .strictObject({ retentionDays: z.number().int().min(183).max(3650) })
    .partial()
    .optional(),
  /**
   * Data-subject requests (issue 17, docs/privacy.md): `dueDays` (default 30: GDPR Art. 12(3); PIPL's
   * 15 working days ≈ 21) is the answer window shown as `dueAt`; an approved export can be downloaded
   * for `exportTtlDays` (default 7).
   */
  privacy: z
    .strictObject({
      dueDays: z.number().int().min(1).max(90),
      exportTtlDays: z.number().int().min(1).max(90),
      /** Redis mode: days the cluster's erasure log keeps an entry (default 180; docs/store.md). */
      erasureLogRetentionDays: z.number().int().min(7).max(3650),
    })
    .partial()
    .optional(),
  /**
   * Staff sessions (issue 17, docs/security.md): a bearer token ends `absoluteMinutes` after sign-in
   * (default 720, 12 h) or after `idleMinutes` without a request or socket event (default 60), whichever
   * comes first.
   */
  sessions: z
    .strictObject({
      absoluteMinutes: z
        .number()
        .int()
        .min(5)
        .max(7 * 24 * 60),
      idleMinutes: z
        .number()
        .int()
        .min(1)
        .max(24 * 60),
    })
    .partial()
    .optional(),
  /**
   * Optional enterprise sign-in through an OpenID provider (issue 17, docs/security.md): authorization
   * code flow with PKCE, state and nonce. `name` is shown on the login page ("Sign in with <name>").
   * The provider's `roleClaim` (default `roles`) and `groupClaim` (default `groups`) values are mapped
   * through `roles` (claim value → Huiliu role) and `skillGroups` (claim value → skill group id);
   * values not listed grant nothing. `issuer` must be https, except on a loopback address (tests).
   */
  oidc: z
    .strictObject({
      name: z.string().min(1).max(64),
      issuer: z.url(),
      clientId: z.string().min(1).max(256),
      clientSecret: z.string().min(1).max(1024),
      redirectUri: z.url(),
      scopes: z
        .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/))
        .max(20)
        .optional(),
      roleClaim: z.string().min(1).max(64).default('roles'),
      groupClaim: z.string().min(1).max(64).default('groups'),
      roles: z.record(z.string().max(256), RoleSchema).default({}),
      skillGroups: z.record(z.string().max(256), z.string().min(1)).default({}),
    })
    .refine((o) => new URL(o.issuer).protocol === 'https:' || LOOPBACK_HOSTS.has(new URL(o.issuer).hostname), {
      message: 'the issuer must be an https URL (http only on a loopback address)',
    })
    .optional(),
  /**
   * Cross-channel continuity (issue 12, docs/continuity.md): a customer who writes on another channel
   * within `windowMinutes` (default 30, 1..1440) of their open conversation's last activity continues it.
   */
  continuity: z
    .strictObject({ windowMinutes: z.number().int().min(1).max(1440) })
    .partial()
    .optional(),
  /**
   * CSAT asked on the customer's channel after an agent closes a WeChat, XMPP or app conversation
   * (issue 15, docs/kpis.md): `channelSurvey` (default true) asks WeChat and XMPP customers (the app
   * event is sent either way); a rating reply counts for
   * `surveyHours` (default 24, 1..168) after the close.
   */
  csat: z
    .strictObject({ channelSurvey: z.boolean(), surveyHours: z.number().int().min(1).max(168) })
    .partial()
    .optional(),
  /** Attachments customers send (issue 10: images on the app channel); docs/ocr.md. */
  attachments: z
    .strictObject({
      /** Largest image accepted, decoded bytes (default 5 MiB, at most 32 MiB). */
      maxImageBytes: z
        .number()
        .int()
        .min(1024)
        .max(32 * 1024 * 1024),
      /** Largest width × height accepted (default 40 megapixels): bounds the memory decoding one takes. */
      maxImagePixels: z.number().int().min(1).max(200_000_000),
    })
    .partial()
    .optional(),
  /**
   * The KPIs (issue 16, docs/kpis.md): the service level's thresholds — answered within `voiceSeconds`
   * (SIP, default 20) or `chatSeconds` (every other channel, default 60) — and its goal `target`
   * (a share, default 0.8).
   */
  /**
   * SLA policies (issue 16, docs/sla.md): the seed of the versioned policy store (`policies`, as
   * `PUT /api/v1/sla/policies` takes them). Default: one policy for every group and channel, always
   * open in UTC, first response 60 s (the chat service-level threshold), next response 120 s.
   */
  sla: SlaPolicySetSchema.optional(),
  kpis: z
    .strictObject({
      serviceLevel: z
        .strictObject({
          voiceSeconds: z.number().positive().max(3600),
          chatSeconds: z.number().positive().max(86_400),
          target: z.number().min(0).max(1),
        })
        .partial(),
      /**
       * The lead's live board (issue 16, docs/lead-board.md): a contact is flagged once its SLA clock has
       * run `slaWarnShare` of its target (default 0.8; with no clock, of the service-level threshold), an agent's contact once its
       * customer's message has had no answer for `silenceSeconds` (default 120).
       */
      board: z
        .strictObject({
          slaWarnShare: z.number().gt(0).max(1),
          silenceSeconds: z.number().positive().max(86_400),
        })
        .partial(),
    })
    .partial()
    .optional(),
  /** OCR of customer images (issue 10, docs/ocr.md). */
  ocr: z
    .strictObject({
      /** Read the text of images (default true). Off: images are stored and shown, marked `skipped`. */
      enabled: z.boolean(),
      /** OCR engines at most (two tesseract.js threads and ~140 MB each; default 1). */
      workers: z.number().int().min(1).max(16),
      /** Images that may wait for an engine (default 16); beyond it an image is marked `skipped`. */
      queue: z.number().int().min(0).max(10_000),
      /** An image still being read after this many ms is given up (default 60,000). */
      timeoutMs: z.number().int().min(1000).max(600_000),
      /** Absolute folder with eng.traineddata and chi_sim.traineddata (default: the Debian packages' folder). */
      langPath: z.string().min(1),
    })
    .partial()
    .optional(),
  /** The CPU pool (`workers/pool.ts`) for work off the sockets' thread: scoring long texts, later AI. */
  workers: z
    .strictObject({
      /** Threads at most (default: cores − 1, at least 1). */
      threads: z.number().int().min(1).max(64),
      /** Tasks that may wait for a thread; one more is refused OVERLOADED (default 256). */
      queue: z.number().int().min(0).max(100_000),
    })
    .partial()
    .optional(),
  /** The AI language core (docs/ai.md). */
  /** Voice (issue 18, docs/voice.md). */
  voice: z
    .strictObject({
      /**
       * The language of the queue announcement: `byDialled` (the dialled user part, e.g. a DID or
       * `vip`) first, then the longest `byCallerPrefix` of the caller's number (`+86` → zh), else `default`.
       */
      queueLanguage: z
        .strictObject({
          default: z.enum(['en', 'zh']),
          byDialled: z.record(z.string().regex(/^[a-z0-9+*#._-]{1,64}$/, 'a dialled user part, lower case'), z.enum(['en', 'zh'])),
          byCallerPrefix: z.record(z.string().regex(/^\+?[0-9]{1,15}$/, 'digits, an optional leading +'), z.enum(['en', 'zh'])),
        })
        .partial(),
      /**
       * How long a blind transfer's REFER waits for the customer's INVITE that follows it (s, default 32:
       * RFC 3261 Timer B, 64 × T1). Past it the REFER is forgotten (docs/voice.md "Blind transfer").
       */
      referFollowSeconds: z.number().min(0.1).max(600),
      /**
       * How often an answered call's media is checked in rtpengine (s, default 15; 0: never). A call whose
       * end the server never heard (a lost `ended`, a caller gone without BYE) is ended once rtpengine has
       * forgotten it (no media for its `timeout`, 60 s; docs/voice.md "Liveness"), freeing its agent.
       */
      livenessSeconds: z.number().min(0).max(3600),
      /**
       * The loopback hop Kamailio posts to (docs/voice.md "Kamailio → server over loopback"): plain HTTP
       * serving only `/api/v1/voice/route` and `/events`, on a loopback address only (anything else is
       * refused: the hop is not TLS). Default `{host: "127.0.0.1", port: 0}` (a free port, written to
       * `<dataDir>/voice/edge-api.json` for `npm run voice -- up`); `false` turns it off (the edge then
       * posts over HTTPS, where Kamailio 5.6.3 can crash under load).
       */
      edgeHttp: z.union([
        z.literal(false),
        z
          .strictObject({
            host: z.string().refine(isLoopbackHost, 'a loopback IP address (127.0.0.1, ::1): the edge hop is plain HTTP'),
            port: z.number().int().min(0).max(65535),
          })
          .partial(),
      ]),
    })
    .partial()
    .optional(),
  ai: z
    .strictObject({
      /**
       * Customer messages per second whose emotion is read on the socket thread for live pushes
       * (~0.1 ms each). Beyond it a push goes without its emotion (the conversation view reads it
       * when opened), so a burst never slows every push. 0 = never on pushes. Default 200.
       */
      liveEmotionPerSecond: z.number().int().min(0).max(100_000),
      /** The AI tier (issue 10, DESIGN §5 `ai`): answers from the KB and hands over to a person. */
      autoAnswer: z
        .strictObject({
          /** false: every tier goes to a person (the routing explanation says so). */
          enabled: z.boolean(),
          /** An answer is sent only at this calibrated intent confidence or above, 0..1. */
          minConfidence: z.number().min(0).max(1),
          /** Below `minConfidence`, two intents whose confidences sum to at least this get one clarifying question. */
          clarifyMinCombined: z.number().min(0).max(1),
          /** Hand over after this many turns in a row the AI could not resolve (clarify, not understood, asked again). */
          maxUnresolvedTurns: z.number().int().min(1).max(20),
          /** Hand over when a customer message's negative emotion is at least this intense, 0..1. */
          negativeEmotionIntensity: z.number().min(0).max(1),
          /** The handling time assumed for a queue's estimated wait until closed contacts measure it (seconds). */
          defaultHandleSeconds: z.number().int().min(10).max(7200),
        })
        .partial(),
      /** Drafts, suggested replies, summaries (issue 10). */
      assist: z
        .strictObject({
          /** Pre-fill an AI draft for assisted-tier contacts. */
          drafts: z.boolean(),
          /** Suggest agents' past replies to similar questions (besides the KB). */
          pastReplies: z.boolean(),
          /**
           * An OpenAI-compatible chat-completions endpoint that writes summaries instead of the extractive
           * summarizer. Off unless set; never required (any failure falls back to extractive).
           */
          summaryLlm: z
            .strictObject({
              baseUrl: z.url({ protocol: /^https?$/ }),
              model: z.string().min(1).max(200),
              /** Name of the environment variable holding the API key (the key itself never sits in the file). */
              apiKeyEnv: z
                .string()
                .regex(/^[A-Z_][A-Z0-9_]*$/)
                .optional(),
              timeoutMs: z.number().int().min(100).max(60_000).optional(),
            })
            .optional(),
        })
        .partial(),
      /** Speech on calls (issue 18, docs/speech.md): ASR and TTS engines, speech emotion. */
      speech: SpeechConfigSchema,
    })
    .partial()
    .optional(),
});
export type FileConfig = z.infer<typeof FileConfigSchema>;

/** `ai.autoAnswer` with defaults filled in (see the schema for each field). */
export interface AutoAnswerConfig {
  readonly enabled: boolean;
  readonly minConfidence: number;
  readonly clarifyMinCombined: number;
  readonly maxUnresolvedTurns: number;
  readonly negativeEmotionIntensity: number;
  readonly defaultHandleSeconds: number;
}

/**
 * Defaults of the AI tier. `minConfidence` and `clarifyMinCombined` are chosen on Banking77's
 * validation split by `npm run eval -- tiers` (the most correct answers with at most 5 % wrong, a
 * clarifying question only when the two best intents together reach `minConfidence`; docs/ai-quality.md,
 * "AI tier"): 0.6 / 0.6 gave 5.2 % wrong answers there, 0.65 / 0.65 gives 4.4 %.
 */
export const DEFAULT_AUTO_ANSWER: AutoAnswerConfig = {
  enabled: true,
  minConfidence: 0.65,
  clarifyMinCombined: 0.65,
  maxUnresolvedTurns: 3,
  negativeEmotionIntensity: 0.6,
  defaultHandleSeconds: 300,
};

export interface ServerConfig {
  readonly demo: boolean;
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  readonly store: 'sqlite' | 'redis';
  readonly bus: 'memory' | 'redis';
  readonly redisNodes: readonly string[];
  /** First part of every Redis key (`HUILIU_REDIS_PREFIX`): deployments sharing one Redis use different ones. */
  readonly redisPrefix: string;
  readonly pgUrl: string | undefined;
  readonly keys:
    | { readonly mode: 'local' }
    | { readonly mode: 'pkcs11'; readonly lib: string; readonly token: string; readonly pin: string; readonly keyLabel: string };
  readonly logLevel: z.infer<typeof EnvSchema>['HUILIU_LOG_LEVEL'];
  readonly skillGroups: readonly { id: string; name: string }[];
  readonly routing: z.infer<typeof RoutingConfigSchema>;
  readonly channels: {
    readonly web: { defaultSkillGroup: string };
    /** `webhook`: the outbound webhooks' retry timing (issue 13), defaults filled in. */
    readonly app: {
      defaultSkillGroup: string;
      webhook: WebhookRetryConfig & { readonly keepDeliveredDays: number };
      /** Images by URL (issue 13): the fetch's whole budget, and the test-only loopback allowance. */
      imageUrls: { readonly timeoutMs: number; readonly allowLoopbackHttp: boolean };
    };
  };
  /** `channels.accounts` of HUILIU_CONFIG: added (or updated, by key) at start; keys already read from their files. */
  readonly channelAccounts: readonly ConfiguredAccount[];
  readonly widget: {
    readonly title: string;
    readonly allowedOrigins: readonly string[];
    /** The pre-chat form (issue 13); null: none. */
    readonly preChat: WidgetPreChatConfig | null;
    /** Visitor uploads (issue 13); null: off. */
    readonly upload: {
      readonly maxBytes: number;
      readonly mimes: readonly WidgetUploadMime[];
      readonly idleMs: number;
      readonly visitorBytes: number;
      readonly addressBytes: number;
    } | null;
  };
  readonly limits: LimitsConfig;
  /** `attachments:` of HUILIU_CONFIG, defaults filled in. */
  readonly attachments: { readonly maxImageBytes: number; readonly maxImagePixels: number };
  /** `sessions:` of HUILIU_CONFIG, defaults filled in (issue 17). */
  readonly sessions: { readonly absoluteMinutes: number; readonly idleMinutes: number };
  /** `oidc:` of HUILIU_CONFIG, or null: no enterprise sign-in. */
  readonly oidc: OidcConfig | null;
  /** `continuity:` of HUILIU_CONFIG, default filled in (docs/continuity.md). */
  readonly continuity: { readonly windowMinutes: number };
  /** `csat:` of HUILIU_CONFIG, defaults filled in (issue 15, docs/kpis.md). */
  readonly csat: { readonly channelSurvey: boolean; readonly surveyHours: number };
  /** `audit:` of HUILIU_CONFIG: how long audit entries are kept (days, ≥ 183). */
  readonly audit: { readonly retentionDays: number };
  /** `sla:` of HUILIU_CONFIG, or the default policy set (docs/sla.md). */
  readonly sla: SlaPolicySet;
  /** `kpis:` of HUILIU_CONFIG, defaults filled in: service-level thresholds (seconds) and goal (docs/kpis.md). */
  readonly kpis: {
    readonly serviceLevel: { readonly voiceSeconds: number; readonly chatSeconds: number; readonly target: number };
    /** The live board's trouble rules (docs/lead-board.md). */
    readonly board: { readonly slaWarnShare: number; readonly silenceSeconds: number };
  };
  /** `privacy:` of HUILIU_CONFIG, defaults filled in (docs/privacy.md). */
  readonly privacy: {
    readonly dueDays: number;
    readonly exportTtlDays: number;
    /** Redis mode: days the cluster's erasure log keeps an entry (`privacy.erasureLogRetentionDays`, default 180). */
    readonly erasureLogRetentionDays: number;
    /** `HUILIU_ERASURE_LOG_ACCEPT_GAP=1`: start despite `ERASURE_LOG_GAP` (docs/operations.md). */
    readonly erasureLogAcceptGap: boolean;
  };
  /** `ocr:` of HUILIU_CONFIG, defaults filled in (`langPath` absent: the Debian packages' folder). */
  readonly ocr: {
    readonly enabled: boolean;
    readonly workers: number;
    readonly queue: number;
    readonly timeoutMs: number;
    readonly langPath?: string;
  };
  /** `workers:` of HUILIU_CONFIG; absent fields take the pool's defaults. */
  readonly workers: { readonly threads?: number; readonly queue?: number };
  /** `ai:` of HUILIU_CONFIG, defaults filled in. */
  /** `voice` (issue 18), defaults filled in. */
  readonly voice: {
    /** The queue announcement's language per dialled number and caller prefix (default `en`; `+86` callers `zh`). */
    readonly queueLanguage: QueueLanguageConfig;
    /** How long a blind transfer's REFER waits for the customer's INVITE (s, default 32). */
    readonly referFollowSeconds: number;
    /** How often an answered call's media is checked in rtpengine (s, default 15; 0: off; docs/voice.md "Liveness"). */
    readonly livenessSeconds: number;
    /** The loopback plain-HTTP hop for Kamailio (default 127.0.0.1, a free port); null when off. */
    readonly edgeHttp: { readonly host: string; readonly port: number } | null;
  };
  readonly ai: {
    readonly liveEmotionPerSecond: number;
    readonly autoAnswer: AutoAnswerConfig;
    readonly assist: {
      readonly drafts: boolean;
      readonly pastReplies: boolean;
      readonly summaryLlm: {
        readonly baseUrl: string;
        readonly model: string;
        readonly apiKeyEnv?: string;
        readonly timeoutMs?: number;
      } | null;
    };
    /** `ai.speech`, defaults filled in (docs/speech.md). */
    readonly speech: SpeechConfig;
  };
  /** `HUILIU_TRUSTED_PROXIES`, for proxy-addr. */
  readonly trustedProxies: readonly string[];
  readonly paths: { readonly db: string; readonly tls: string; readonly keys: string; readonly logs: string };
}

/** Which language a queued caller hears (docs/voice.md "Queue announcement"). */
export interface QueueLanguageConfig {
  readonly default: 'en' | 'zh';
  /** Dialled user part (lower case) → language; checked first. */
  readonly byDialled: Readonly<Record<string, 'en' | 'zh'>>;
  /** Caller number prefix (`+86`) → language; the longest match wins. */
  readonly byCallerPrefix: Readonly<Record<string, 'en' | 'zh'>>;
}

export interface ConfiguredAccount {
  readonly channel: 'AP' | 'WX' | 'XM';
  readonly accountId: string;
  readonly name: string;
  readonly skillGroup: string | null;
  /** App accounts only. */
  readonly key?: string;
  readonly settings?: Record<string, string | number | boolean>;
  /** Already read from `secretsFile` when one was given. */
  readonly secrets?: Record<string, string>;
}

export const DEFAULT_SKILL_GROUPS = [
  { id: 'general', name: 'General' },
  { id: 'vip', name: 'VIP' },
] as const;

/**
 * The routing config `--demo` starts with when the config file has none: VIP contacts widen to the
 * general group after two minutes (the default rings), and agent1 is proficient (4) in general, so
 * an expert-tier contact there goes to them at once; agent2 is an expert (5) in vip.
 */
export const DEMO_ROUTING_CONFIG: RoutingConfig = {
  ...DEFAULT_ROUTING_CONFIG,
  skillGroups: {
    general: { fallback: null, proficiency: { agent1: 4 } },
    vip: { fallback: 'general', proficiency: {} },
  },
};

function firstIssue(error: z.ZodError, prefix = ''): string {
  const issue = error.issues[0]!;
  const path = issue.path.map(String).join('.');
  return `${prefix}${path || '(root)'}: ${issue.message}`;
}

function readFileConfig(path: string): FileConfig {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = /\.json$/i.test(path) ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new ConfigError(`HUILIU_CONFIG: cannot read ${path}: ${(e as Error).message}`);
  }
  const parsed = FileConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) throw new ConfigError(firstIssue(parsed.error, `HUILIU_CONFIG (${path}) field `));
  return parsed.data;
}

/** HUILIU_* variables read by the other parts (launcher, desktop app, tests), not the server. */
const OTHER_COMPONENTS = new Set(['HUILIU_NO_OPEN', 'HUILIU_SERVER_URL', 'HUILIU_CA_FILE', 'HUILIU_CHROMIUM', 'HUILIU_TEST_LANE']);

export interface LoadOptions {
  env: Record<string, string | undefined>;
  argv: readonly string[];
  cwd: string;
}

/** Reads and validates configuration once; a bad value throws a ConfigError naming it. */
export function loadConfig({ env, argv, cwd }: LoadOptions): ServerConfig {
  const known = new Set(['--demo']);
  for (const arg of argv) {
    if (!known.has(arg)) throw new ConfigError(`unknown argument ${arg} (known: ${[...known].join(', ')})`);
  }
  const huiliuEnv = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('HUILIU_') && !OTHER_COMPONENTS.has(k)));
  for (const key of Object.keys(huiliuEnv)) {
    if (!(key in EnvSchema.shape)) throw new ConfigError(`${key}: unknown variable`);
  }
  // An empty variable counts as unset, as shells often export them that way.
  const cleaned = Object.fromEntries(Object.entries(huiliuEnv).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) throw new ConfigError(firstIssue(parsed.error));
  const e = parsed.data;

  if ((e.HUILIU_STORE === 'redis' || e.HUILIU_BUS === 'redis') && !e.HUILIU_REDIS_NODES) {
    throw new ConfigError('HUILIU_REDIS_NODES: required when HUILIU_STORE or HUILIU_BUS is redis');
  }
  let keys: ServerConfig['keys'] = { mode: 'local' };
  if (e.HUILIU_KEYS === 'pkcs11') {
    for (const k of ['HUILIU_PKCS11_LIB', 'HUILIU_PKCS11_TOKEN', 'HUILIU_PKCS11_PIN', 'HUILIU_PKCS11_KEY'] as const) {
      if (!e[k]) throw new ConfigError(`${k}: required when HUILIU_KEYS is pkcs11`);
    }
    keys = {
      mode: 'pkcs11',
      lib: e.HUILIU_PKCS11_LIB!,
      token: e.HUILIU_PKCS11_TOKEN!,
      pin: e.HUILIU_PKCS11_PIN!,
      keyLabel: e.HUILIU_PKCS11_KEY!,
    };
  }

  const file = e.HUILIU_CONFIG ? readFileConfig(resolve(cwd, e.HUILIU_CONFIG)) : {};
  const skillGroups = file.skillGroups ?? DEFAULT_SKILL_GROUPS.map((g) => ({ ...g }));
  const groupIds = new Set(skillGroups.map((g) => g.id));
  const channels = {
    web: { defaultSkillGroup: file.channels?.web?.defaultSkillGroup ?? skillGroups[0]!.id },
    app: { defaultSkillGroup: file.channels?.app?.defaultSkillGroup ?? skillGroups[0]!.id },
  };
  const webhook = { ...DEFAULT_WEBHOOK_RETRY, keepDeliveredDays: 7, ...file.channels?.app?.webhook };
  const imageUrls = { timeoutMs: 10_000, allowLoopbackHttp: false, ...file.channels?.app?.imageUrls };
  if (webhook.maxDelayMs < webhook.baseDelayMs)
    throw new ConfigError('HUILIU_CONFIG field channels.app.webhook.maxDelayMs: must not be less than baseDelayMs');
  for (const [name, ch] of Object.entries(channels)) {
    if (!groupIds.has(ch.defaultSkillGroup)) {
      throw new ConfigError(`HUILIU_CONFIG field channels.${name}.defaultSkillGroup: no skill group "${ch.defaultSkillGroup}"`);
    }
  }
  const accounts: ConfiguredAccount[] = (file.channels?.accounts ?? []).map((a, i) => {
    const field = `HUILIU_CONFIG field channels.accounts.${i}`;
    if (a.skillGroup !== undefined && !groupIds.has(a.skillGroup))
      throw new ConfigError(`${field}.skillGroup: no skill group "${a.skillGroup}"`);
    let key = a.key;
    if (a.keyFile !== undefined) {
      try {
        key = readFileSync(resolve(cwd, a.keyFile), 'utf8').trim();
      } catch (error) {
        throw new ConfigError(`${field}.keyFile: cannot read ${a.keyFile}: ${(error as Error).message}`);
      }
      if (key.length < 16 || key.length > 256) throw new ConfigError(`${field}.keyFile: the key must be 16 to 256 characters`);
    }
    let secrets = a.secrets;
    if (a.secretsFile !== undefined) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(resolve(cwd, a.secretsFile), 'utf8'));
      } catch (error) {
        throw new ConfigError(`${field}.secretsFile: cannot read ${a.secretsFile}: ${(error as Error).message}`);
      }
      const checked = z.record(z.string().max(64), z.string().max(4096)).safeParse(parsed);
      if (!checked.success) throw new ConfigError(`${field}.secretsFile: must be a JSON object of strings`);
      secrets = checked.data;
    }
    // Issue 13: an app's webhook is refused here, at start, rather than failing every delivery later.
    const webhookUrl = a.settings?.[WEBHOOK_URL_SETTING];
    if (a.channel === 'AP' && webhookUrl !== undefined) {
      const problem = webhookUrlProblem(webhookUrl);
      if (problem) throw new ConfigError(`${field}.settings.${WEBHOOK_URL_SETTING}: ${problem}`);
      const secret = secrets?.[WEBHOOK_SECRET];
      if (secret === undefined || secret.length < WEBHOOK_SECRET_MIN)
        throw new ConfigError(
          `${field}.secrets.${WEBHOOK_SECRET}: an app with a webhookUrl needs a signing secret of at least ${WEBHOOK_SECRET_MIN} characters (secrets or secretsFile)`,
        );
    }
    return {
      channel: a.channel,
      accountId: a.accountId,
      name: a.name,
      skillGroup: a.skillGroup ?? null,
      ...(key !== undefined ? { key } : {}),
      ...(a.settings ? { settings: a.settings } : {}),
      ...(secrets ? { secrets } : {}),
    };
  });

  const dataDir = isAbsolute(e.HUILIU_DATA_DIR) ? e.HUILIU_DATA_DIR : resolve(cwd, e.HUILIU_DATA_DIR);
  const config: ServerConfig = {
    demo: argv.includes('--demo'),
    dataDir,
    host: e.HUILIU_HOST,
    port: e.HUILIU_PORT,
    store: e.HUILIU_STORE,
    bus: e.HUILIU_BUS,
    redisNodes: e.HUILIU_REDIS_NODES ?? [],
    redisPrefix: e.HUILIU_REDIS_PREFIX,
    pgUrl: e.HUILIU_PG_URL,
    keys,
    logLevel: e.HUILIU_LOG_LEVEL,
    skillGroups,
    routing: file.routing ?? (argv.includes('--demo') ? DEMO_ROUTING_CONFIG : DEFAULT_ROUTING_CONFIG),
    channels: { web: channels.web, app: { ...channels.app, webhook, imageUrls } },
    channelAccounts: accounts,
    widget: {
      title: file.widget?.title ?? 'Huiliu support',
      allowedOrigins: file.widget?.allowedOrigins ?? [],
      preChat: widgetPreChat(file.widget?.preChat, argv.includes('--demo'), groupIds),
      upload: file.widget?.upload?.enabled === false ? null : { ...DEFAULT_WIDGET_UPLOAD, ...file.widget?.upload },
    },
    limits: {
      widget: { ...DEFAULT_LIMITS.widget, ...file.limits?.widget },
      visitor: { ...DEFAULT_LIMITS.visitor, ...file.limits?.visitor },
      ip: { ...DEFAULT_LIMITS.ip, ...file.limits?.ip },
      appKey: { ...DEFAULT_LIMITS.appKey, ...file.limits?.appKey },
      agent: { ...DEFAULT_LIMITS.agent, ...file.limits?.agent },
      login: { ...DEFAULT_LIMITS.login, ...file.limits?.login },
    },
    attachments: { ...DEFAULT_ATTACHMENTS, ...file.attachments },
    continuity: { windowMinutes: file.continuity?.windowMinutes ?? DEFAULT_CONTINUITY_MINUTES },
    csat: { channelSurvey: file.csat?.channelSurvey ?? true, surveyHours: file.csat?.surveyHours ?? 24 },
    sessions: { ...DEFAULT_SESSIONS, ...file.sessions },
    oidc: oidcConfig(file.oidc, groupIds),
    audit: { retentionDays: file.audit?.retentionDays ?? 183 },
    privacy: {
      dueDays: file.privacy?.dueDays ?? 30,
      exportTtlDays: file.privacy?.exportTtlDays ?? 7,
      erasureLogRetentionDays: file.privacy?.erasureLogRetentionDays ?? 180,
      erasureLogAcceptGap: e.HUILIU_ERASURE_LOG_ACCEPT_GAP === '1',
    },
    ocr: { ...DEFAULT_OCR, ...file.ocr },
    workers: { ...file.workers },
    sla: file.sla ?? DEFAULT_SLA_POLICIES,
    kpis: {
      serviceLevel: { voiceSeconds: 20, chatSeconds: 60, target: 0.8, ...file.kpis?.serviceLevel },
      board: { slaWarnShare: 0.8, silenceSeconds: 120, ...file.kpis?.board },
    },
    voice: {
      queueLanguage: {
        default: file.voice?.queueLanguage?.default ?? 'en',
        byDialled: { ...file.voice?.queueLanguage?.byDialled },
        byCallerPrefix: file.voice?.queueLanguage?.byCallerPrefix ?? { '+86': 'zh' },
      },
      referFollowSeconds: file.voice?.referFollowSeconds ?? 32,
      livenessSeconds: file.voice?.livenessSeconds ?? 15,
      edgeHttp: file.voice?.edgeHttp === false ? null : { host: '127.0.0.1', port: 0, ...file.voice?.edgeHttp },
    },
    ai: {
      liveEmotionPerSecond: file.ai?.liveEmotionPerSecond ?? 200,
      autoAnswer: { ...DEFAULT_AUTO_ANSWER, ...file.ai?.autoAnswer },
      assist: {
        drafts: file.ai?.assist?.drafts ?? true,
        pastReplies: file.ai?.assist?.pastReplies ?? true,
        summaryLlm: file.ai?.assist?.summaryLlm ?? null,
      },
      speech: speechConfig(file.ai?.speech),
    },
    trustedProxies: e.HUILIU_TRUSTED_PROXIES,
    paths: {
      db: resolve(dataDir, 'huiliu.db'),
      tls: resolve(dataDir, 'tls'),
      keys: resolve(dataDir, 'keys'),
      logs: resolve(dataDir, 'logs'),
    },
  };
  return deepFreeze(config);
}

/** `oidc:` checked against the skill groups (ConfigError naming the field). */
function oidcConfig(file: z.infer<typeof FileConfigSchema>['oidc'], groupIds: ReadonlySet<string>): OidcConfig | null {
  if (!file) return null;
  for (const [claim, group] of Object.entries(file.skillGroups))
    if (!groupIds.has(group)) throw new ConfigError(`HUILIU_CONFIG field oidc.skillGroups.${claim}: no skill group "${group}"`);
  const { scopes, ...rest } = file;
  return { ...rest, ...(scopes ? { scopes } : {}) };
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
