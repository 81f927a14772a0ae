import { v7 as uuidv7 } from 'uuid';
import type { Lang } from '../../../common/ai/types';
import { HuiliuError } from '../../../common/errors/codes';
import type { EventOf, SessionFacts } from '../../../common/events/events';
import { textOf, ENVELOPE_VERSION, type Envelope } from '../../../common/message/envelope';
import type { ChannelCode } from '../../../common/message/session-id';
import { detectLang } from '../ai/text';
import type { Bus, Subscription } from '../bus/bus';
import { onceById, sessionFacts } from '../bus/events';
import { csatWarranted, rateConversation } from '../customers/csat';
import { openDatabase, type Db } from '../db/sqlite';
import type { Logger } from '../logging/logger';
import type { SessionStore } from '../sessions/store';
import type { ChannelAdapters } from './channel-adapter';

/**
 * CSAT asked on the customer's own channel (issue 15, docs/kpis.md "CSAT"). The web widget shows its
 * rating form when a conversation closes; WeChat and XMPP have no such UI, and an app draws its own. So
 * when an agent closes a WX or XM conversation whose wrap-up warrants a survey (`csatWarranted`), the
 * customer is sent a short prompt in their language ("reply 1–5"), and for `windowHours` a reply that is
 * exactly a rating (`parseRatingReply`) is recorded as that session's CSAT — the same
 * `rateConversation` → `rateSession` path (and KPI tap) as the widget — thanked, and not opened as a new
 * contact. For an app conversation the app's webhook gets `conversation.csat_requested` instead, and
 * the app rates through `POST /api/v1/channels/app/csat` (which refuses CSAT_WINDOW_EXPIRED after the
 * window). Everything else the customer writes is an ordinary message.
 */

/** The channels asked by this module: WX and XM by a text prompt, AP by a webhook event. */
export const SURVEYED_CHANNELS: readonly ChannelCode[] = ['WX', 'XM', 'AP'];
/** The survey's bus consumer group: each close is handled once, whatever the node count. */
export const CSAT_SURVEY_GROUP = 'csat-survey';
/** The app webhook event type announcing a survey (docs/channels/app.md). */
export const CSAT_REQUESTED_EVENT = 'conversation.csat_requested';

const FULL_WIDTH: Record<string, number> = { '１': 1, '２': 2, '３': 3, '４': 4, '５': 5 };
const HAN: Record<string, number> = { 一: 1, 二: 2, 三: 3, 四: 4, 五: 5 };

/**
 * The score a reply is, when it is exactly a rating: `1`..`5`, full-width `１`..`５`, or `一`..`五`,
 * with surrounding white space (and a trailing `分` or `星`, "5分") allowed; anything else (`5 stars`,
 * `55`, `hello`) is null.
 */
export function parseRatingReply(text: string): number | null {
  const t = text.trim().replace(/[分星]$/u, '');
  if (/^[1-5]$/.test(t)) return Number(t);
  return FULL_WIDTH[t] ?? HAN[t] ?? null;
}

/** What the customer is told, in their language (zh / en). */
export const csatTexts = {
  prompt(lang: Lang, hours: number): string {
    return lang === 'zh'
      ? `本次服务已结束。请为我们的服务打分：直接回复 1–5 的数字（5 = 非常满意，1 = 非常不满意）。${hours} 小时内有效。`
      : `This conversation is closed. How did we do? Reply with a number from 1 to 5 (5 = very satisfied, 1 = very dissatisfied) within ${hours} hours.`;
  },
  thanks(lang: Lang, score: number): string {
    return lang === 'zh'
      ? `感谢您的评分（${score} 分）！如有其他问题，随时给我们留言。`
      : `Thank you for your rating (${score}/5)! Write to us any time.`;
  },
};

/** One survey: a closed session whose customer was asked. */
export interface CsatSurvey {
  sessionId: string;
  channel: ChannelCode;
  customerId: string;
  conversationId: string;
  lang: Lang;
  /** ISO 8601. */
  requestedAt: string;
  /** Epoch milliseconds: replies after this are ordinary messages. */
  expiresAt: number;
  answeredMessageId: string | null;
}

/** The surveys table (gateway/migrations/0005), in the server's database file. */
export interface CsatSurveyStore {
  /** Records a survey; false (nothing changed) when the session already has one. */
  add(survey: Omit<CsatSurvey, 'answeredMessageId'>): boolean;
  get(sessionId: string): CsatSurvey | null;
  /** The customer's newest survey on `channel`, answered or not. */
  latest(customerId: string, channel: ChannelCode): CsatSurvey | null;
  /** Marks the survey answered by `messageId` unless it already was; true when this call did. */
  claim(sessionId: string, messageId: string, at: string): boolean;
  /** Undoes a claim of `messageId` (its rating could not be stored). */
  unclaim(sessionId: string, messageId: string): void;
  close(): void;
}

interface Row {
  session_id: string;
  channel: ChannelCode;
  customer_id: string;
  conversation_id: string;
  lang: Lang;
  requested_at: string;
  expires_at: number;
  answered_message_id: string | null;
}

const toSurvey = (r: Row): CsatSurvey => ({
  sessionId: r.session_id,
  channel: r.channel,
  customerId: r.customer_id,
  conversationId: r.conversation_id,
  lang: r.lang,
  requestedAt: r.requested_at,
  expiresAt: r.expires_at,
  answeredMessageId: r.answered_message_id,
});

/** The surveys store on SQLite; the table comes with the channels store's migrations (open that first). */
export function createSqliteCsatSurveys(options: { path: string }): CsatSurveyStore {
  const db: Db = openDatabase(options.path);
  if (!db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'csat_surveys'").get()) {
    db.close();
    throw new Error('csat_surveys is missing: open the channels store (its migrations) before the CSAT surveys');
  }
  const q = {
    add: db.prepare(
      `INSERT INTO csat_surveys (session_id, channel, customer_id, conversation_id, lang, requested_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (session_id) DO NOTHING`,
    ),
    get: db.prepare('SELECT * FROM csat_surveys WHERE session_id = ?'),
    latest: db.prepare('SELECT * FROM csat_surveys WHERE customer_id = ? AND channel = ? ORDER BY requested_at DESC, rowid DESC LIMIT 1'),
    claim: db.prepare(
      'UPDATE csat_surveys SET answered_message_id = ?, answered_at = ? WHERE session_id = ? AND answered_message_id IS NULL',
    ),
    unclaim: db.prepare(
      'UPDATE csat_surveys SET answered_message_id = NULL, answered_at = NULL WHERE session_id = ? AND answered_message_id = ?',
    ),
  };
  return {
    add: (s) => q.add.run(s.sessionId, s.channel, s.customerId, s.conversationId, s.lang, s.requestedAt, s.expiresAt).changes === 1,
    get: (id) => {
      const row = q.get.get(id) as Row | undefined;
      return row ? toSurvey(row) : null;
    },
    latest: (customerId, channel) => {
      const row = q.latest.get(customerId, channel) as Row | undefined;
      return row ? toSurvey(row) : null;
    },
    claim: (sessionId, messageId, at) => q.claim.run(messageId, at, sessionId).changes === 1,
    unclaim: (sessionId, messageId) => void q.unclaim.run(sessionId, messageId),
    close: () => db.close(),
  };
}

/** What `answer` did with an inbound text. */
export type CsatAnswer =
  /** Not a rating in an open survey window: handle it as an ordinary message. */
  | { kind: 'not-rating' }
  /** Recorded as the survey's CSAT, and thanked. */
  | { kind: 'recorded'; sessionId: string; score: number }
  /** The channel's retry of the message that already answered: nothing more to do. */
  | { kind: 'duplicate'; sessionId: string };

export interface CsatSurveyor {
  /**
   * Looks at a customer's inbound text before it is ingested: a rating in the window of their newest
   * survey on `channel`, not answered yet, with no newer session of theirs on the channel since, is
   * recorded (once) and thanked on the channel.
   * @param input.customerId the channel identity's customer (null: unknown, so never surveyed)
   * @param input.messageId the channel's id of the message (idempotency: a retry is `duplicate`)
   */
  answer(input: { channel: ChannelCode; customerId: string | null; messageId: string; text: string }): Promise<CsatAnswer>;
  /**
   * Refuses an app's rating once its survey window has passed (CSAT_WINDOW_EXPIRED); a session never
   * surveyed is not limited (the app may rate it as before).
   */
  checkWindow(sessionId: string): void;
  /** Subscribes to `session.changed` (work group CSAT_SURVEY_GROUP). */
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface CsatSurveyorDeps {
  surveys: CsatSurveyStore;
  /** The KPI-tapped store (`tapRatings`), so a rating recorded here is counted like the widget's. */
  store: Pick<SessionStore, 'getSession' | 'rateSession' | 'lastMessage' | 'latestSession'>;
  bus: Pick<Bus, 'subscribe'>;
  adapters: Pick<ChannelAdapters, 'get'>;
  /** Queues the app's `conversation.csat_requested` webhook (the app webhook outbox). */
  appEvent?: (event: CsatRequestedEvent, session: SessionFacts) => Promise<number>;
  /** How long a survey takes answers, hours (config `csat.surveyHours`, default 24). */
  windowHours: number;
  /** Whether WeChat and XMPP customers are asked (config `csat.channelSurvey`, default true); the app's event is sent either way. */
  channelSurvey?: boolean;
  logger: Logger;
  now?: () => number;
}

/** The body of the app's `conversation.csat_requested` webhook (docs/channels/app.md). */
export interface CsatRequestedEvent {
  /** The event id: also `X-Huiliu-Delivery`, the app's idempotency key. */
  id: string;
  type: typeof CSAT_REQUESTED_EVENT;
  sessionId: string;
  conversationId: string;
  /** `zh` or `en`: the customer's language, from their newest message. */
  language: Lang;
  /** ISO 8601: ratings after this are refused with CSAT_WINDOW_EXPIRED. */
  expiresAt: string;
  /** ISO 8601. */
  requestedAt: string;
}

/**
 * The CSAT surveyor (see the module comment). The prompt and the thank-you are sent straight through
 * the channel's adapter (the session is closed, so they are not stored in its transcript, and their
 * delivery state is logged, not recorded); a failed prompt is logged with ids and the channel's code.
 */
export function createCsatSurveyor(deps: CsatSurveyorDeps): CsatSurveyor {
  const log = deps.logger.child({ component: 'gateway.csat' });
  const now = deps.now ?? Date.now;
  const windowMs = deps.windowHours * 3600_000;
  let sub: Subscription | null = null;

  /** The customer's language, from their newest message in the conversation. */
  const langOf = async (conversationId: string): Promise<Lang> => {
    const last = await deps.store.lastMessage(conversationId, { direction: 'in' });
    return last ? detectLang(textOf(last)) : 'en';
  };

  /** Sends one system text on the session's channel through its adapter; resolves whether it went. */
  const say = async (session: SessionFacts, ids: { sessionId: string; conversationId: string }, text: string, what: string) => {
    const adapter = deps.adapters.get(session.channel);
    if (!adapter) return false;
    const at = new Date(now()).toISOString();
    const id = uuidv7();
    const envelope: Envelope = {
      v: ENVELOPE_VERSION,
      id,
      sessionId: ids.sessionId,
      conversationId: ids.conversationId,
      customerId: session.customerId,
      channel: session.channel,
      direction: 'out',
      seq: 1,
      critical: false,
      clientMessageId: `csat:${what}:${ids.sessionId}`,
      sentAt: at,
      receivedAt: at,
      authorKind: 'system',
      meta: {},
      kind: 'text',
      body: { text },
    };
    try {
      const result = await adapter.send(envelope, session);
      if (result.state === 'failed') {
        log.warn({ sessionId: ids.sessionId, channel: session.channel, code: result.error?.code, what }, 'CSAT text not sent');
        return false;
      }
      return true;
    } catch (error) {
      log.warn({ err: error, sessionId: ids.sessionId, channel: session.channel, what }, 'CSAT text not sent');
      return false;
    }
  };

  const onClosed = async (event: EventOf<'session.changed'>): Promise<void> => {
    const { payload } = event;
    if (!SURVEYED_CHANNELS.includes(payload.channel) || !csatWarranted(payload)) return;
    if (payload.channel === 'AP' ? !deps.appEvent : deps.channelSurvey === false) return;
    const lang = await langOf(event.conversationId);
    const requestedAt = new Date(now());
    const expiresAt = requestedAt.getTime() + windowMs;
    const added = deps.surveys.add({
      sessionId: event.sessionId,
      channel: payload.channel,
      customerId: payload.customerId,
      conversationId: event.conversationId,
      lang,
      requestedAt: requestedAt.toISOString(),
      expiresAt,
    });
    // A redelivered close asks nothing again.
    if (!added) return;
    if (payload.channel === 'AP') {
      const queued = await deps.appEvent!(
        {
          id: uuidv7(),
          type: CSAT_REQUESTED_EVENT,
          sessionId: event.sessionId,
          conversationId: event.conversationId,
          language: lang,
          expiresAt: new Date(expiresAt).toISOString(),
          requestedAt: requestedAt.toISOString(),
        },
        payload,
      );
      log.info({ sessionId: event.sessionId, queued }, 'CSAT requested from the app');
      return;
    }
    const sent = await say(payload, event, csatTexts.prompt(lang, deps.windowHours), 'prompt');
    log.info({ sessionId: event.sessionId, channel: payload.channel, sent }, 'CSAT prompt sent on the channel');
  };

  return {
    async answer({ channel, customerId, messageId, text }) {
      const score = parseRatingReply(text);
      if (score === null || !customerId) return { kind: 'not-rating' };
      const survey = deps.surveys.latest(customerId, channel);
      if (!survey) return { kind: 'not-rating' };
      if (survey.answeredMessageId === messageId) return { kind: 'duplicate', sessionId: survey.sessionId };
      if (survey.answeredMessageId !== null || now() > survey.expiresAt) return { kind: 'not-rating' };
      // The customer wrote again since (a new contact): a digit now answers that conversation, not the survey.
      if ((await deps.store.latestSession(customerId, channel))?.id !== survey.sessionId) return { kind: 'not-rating' };
      // The claim is the once: a retry racing this one finds it answered by its own id (duplicate).
      if (!deps.surveys.claim(survey.sessionId, messageId, new Date(now()).toISOString())) {
        return deps.surveys.get(survey.sessionId)?.answeredMessageId === messageId
          ? { kind: 'duplicate', sessionId: survey.sessionId }
          : { kind: 'not-rating' };
      }
      try {
        await rateConversation(deps.store, { customerId, channel, sessionId: survey.sessionId, score });
      } catch (error) {
        deps.surveys.unclaim(survey.sessionId, messageId);
        // Rated already (another way) or gone: the text is an ordinary message.
        if (error instanceof HuiliuError) {
          log.info({ sessionId: survey.sessionId, code: error.code }, 'CSAT reply not recorded; handled as a message');
          return { kind: 'not-rating' };
        }
        throw error;
      }
      const session = await deps.store.getSession(survey.sessionId);
      if (session) {
        await say(sessionFacts(session), survey, csatTexts.thanks(survey.lang, score), 'thanks');
      }
      log.info({ sessionId: survey.sessionId, channel, score }, 'CSAT recorded from a channel reply');
      return { kind: 'recorded', sessionId: survey.sessionId, score };
    },
    checkWindow(sessionId) {
      const survey = deps.surveys.get(sessionId);
      if (survey && now() > survey.expiresAt) throw new HuiliuError('CSAT_WINDOW_EXPIRED');
    },
    async start() {
      sub ??= await deps.bus.subscribe(
        'session.changed',
        CSAT_SURVEY_GROUP,
        onceById(async (event: EventOf<'session.changed'>) => {
          try {
            await onClosed(event);
          } catch (error) {
            log.error({ err: error, sessionId: event.sessionId }, 'CSAT survey could not be started');
          }
        }),
      );
    },
    async stop() {
      await sub?.unsubscribe();
      sub = null;
    },
  };
}
