import { noteVisibleTo } from '../../../common/api/supervision';
import { isTranscript, transcriptEmotionOf } from '../../../common/message/transcript';
import { LRUCache } from 'lru-cache';
import type { Emotion } from '../../../common/ai/types';
import type { SessionFacts } from '../../../common/events/events';
import { authorOf, isStaffOnly, textOf, type Content, type Envelope } from '../../../common/message/envelope';
import { DETAIL_PAGE, type MessageEmotion, type MessageView, type SessionDetail, type SessionSummary } from '../../../common/api/sessions';
import type { SlaStatus } from '../../../common/api/sla';
import type { UserView } from '../../../common/api/auth';
import type { RoutingDecision } from '../../../common/routing/types';
import { canSeeSession, seesTeam } from '../auth/rbac';
import { sessionFacts } from '../bus/events';
import type { Logger } from '../logging/logger';
import type { SessionRecord, SessionStore } from './store';
import { truncateText } from '../../../common/text/text';
import { HuiliuError } from '../../../common/errors/codes';
import { UNKNOWN_CUSTOMER } from '../../../common/message/placeholder-names';
import type { OcrView } from '../../../common/api/attachments';
import { maskPii } from '../../../common/privacy/mask';
import { contentWords, maskContent, maskSummary, maskText, maskTransfer } from '../../../common/privacy/staff-view';

/**
 * Reads the emotion of a customer's words (the language core's `emotion`, issue 9): synchronous, about
 * 0.3 ms a call. `intensity` is 0..1.
 */
export type EmotionOf = (text: string) => { label: Emotion; intensity: number };

/** The emotion of a stored message as staff see it; undefined for staff/AI messages and messages without words. */
export type MessageEmotions = (e: Envelope) => MessageEmotion | undefined;

/** The customer's own words in a message, which its emotion is read from; null for files and events. */
export function emotionText(content: Content): string | null {
  // The words staff see masked, but a file's name: that is not something the customer said.
  return content.kind === 'file' ? null : contentWords(content);
}

/** How many messages' emotions one reader remembers (~100 bytes each). */
const EMOTIONS_REMEMBERED = 20_000;

/**
 * Reads inbound messages' emotions with `emotionOf`, once per message: remembered by message id (a
 * message never changes), never by its text, so no customer text is kept here and a queue of 500 rows
 * is not re-read at every greeting. Outbound messages get none. A reader that throws is reported to
 * `onError` (with the message id only: the text is never logged) and that message shows no emotion.
 */
export function messageEmotions(
  emotionOf: EmotionOf,
  options: {
    max?: number;
    onError?: (error: unknown, messageId: string) => void;
    /** Asked before each read; false skips it (undefined now, nothing remembered, so a later call can read it). */
    allow?: () => boolean;
  } = {},
): MessageEmotions {
  const read = new LRUCache<string, MessageEmotion | false>({ max: options.max ?? EMOTIONS_REMEMBERED });
  return (e) => {
    if (e.direction !== 'in') return undefined;
    const known = read.get(e.id);
    if (known !== undefined) return known || undefined;
    // A call transcript carries the emotion heard in the voice (prosody + text, issue 18): shown as is.
    const heard = transcriptEmotionOf(e.meta);
    if (heard) return { label: heard.label, intensity: Math.round(heard.intensity * 100) / 100 };
    const text = emotionText(e);
    let emotion: MessageEmotion | false = false;
    if (text !== null && options.allow && !options.allow()) return undefined;
    if (text !== null) {
      try {
        const { label, intensity } = emotionOf(text);
        // Two decimals: what a badge can show, and a smaller push.
        emotion = { label, intensity: Math.round(Math.min(1, Math.max(0, intensity)) * 100) / 100 };
      } catch (error) {
        options.onError?.(error, e.id);
      }
    }
    read.set(e.id, emotion);
    return emotion || undefined;
  };
}

/**
 * Reports an `emotionOf` that threw: the message id and the error's class only. Not the error itself,
 * whose message or stack could quote the customer's text (DESIGN §8: text never reaches the logs).
 */
export function emotionErrorReporter(logger: Pick<Logger, 'warn'> | undefined) {
  return (error: unknown, messageId: string) =>
    logger?.warn({ messageId, errorType: error instanceof Error ? error.name : typeof error }, 'reading a message emotion failed');
}

/**
 * A stored message as staff see it, its words masked (`maskContent`, issue 17: phone numbers, ID and
 * card numbers, e-mails; `pii.reveal` shows them again); with `emotions`, a customer message carries its emotion; `ocr`:
 * an image message's OCR view (issue 10), when the caller read it.
 */
export function toMessageView(e: Envelope, emotions?: MessageEmotions, ocr?: OcrView): MessageView {
  const emotion = emotions?.(e);
  return {
    id: e.id,
    sessionId: e.sessionId,
    conversationId: e.conversationId,
    seq: e.seq,
    direction: e.direction,
    channel: e.channel,
    authorId: e.authorId ?? null,
    author: authorOf(e),
    sentAt: e.sentAt,
    receivedAt: e.receivedAt,
    ...(emotion ? { emotion } : {}),
    ...(ocr ? { ocr } : {}),
    ...(isTranscript(e.meta) ? { transcript: true } : {}),
    ...maskContent({ kind: e.kind, body: e.body } as Content),
  } as MessageView;
}

/**
 * The customer's newest message in a conversation, given its newest message of any kind (`newest`):
 * the store is read only when that one is not the customer's (an agent replied last).
 */
/** What staff see instead of an erased customer's name (issue 17). */
export const ERASED_CUSTOMER_NAME = '[erased]';

/**
 * The conversation's newest message as the customer saw it: staff-only records (internal notes, a
 * lead's whispers, transfer records; `isStaffOnly`) are skipped, so a note never becomes a queue row's
 * preview nor looks like the agent's answer. `newest`: the newest message when the caller has it.
 * Reads at most one page of 50 more; null when the page holds nothing else.
 */
export async function newestShown(
  store: Pick<SessionStore, 'lastMessage' | 'recentMessages'>,
  conversationId: string,
  newest?: Envelope | null,
): Promise<Envelope | null> {
  const last = newest === undefined ? await store.lastMessage(conversationId) : newest;
  if (!last || !isStaffOnly(last)) return last;
  const page = await store.recentMessages(conversationId, { beforeSeq: last.seq, limit: 50 });
  return page.messages.filter((m) => !isStaffOnly(m)).sort((a, b) => b.seq - a.seq)[0] ?? null;
}

export async function newestInbound(store: Pick<SessionStore, 'lastMessage'>, conversationId: string, newest: Envelope | null) {
  if (!newest || newest.direction === 'in') return newest;
  return store.lastMessage(conversationId, { direction: 'in' });
}

const PREVIEW = 120;

/** What a queue row shows of a session besides its customer and last message: its ids and facts. */
export type QueueRowFacts = SessionFacts & { id: string; conversationId: string };

/** The queue-row facts of a stored session. */
export const queueRowFacts = (s: SessionRecord): QueueRowFacts => ({ id: s.id, conversationId: s.conversationId, ...sessionFacts(s) });

/**
 * A session's queue row from what the caller already has, reading nothing (the customer's name and the
 * preview masked, issue 17; the preview is masked before it is cut, so no cut-off number slips through): the facts (from the store
 * or an event), the customer's name (null: unknown), the conversation's newest message, and the
 * emotion of the customer's newest message when the caller reads emotions.
 */
export function queueRow(
  s: QueueRowFacts,
  customerName: string | null,
  last: Envelope | null,
  emotion?: MessageEmotion,
  /** Issue 16: the SLA of the response the contact waits for (sla/tracker.ts `statusOf`). */
  sla?: SlaStatus,
): SessionSummary {
  return {
    id: s.id,
    conversationId: s.conversationId,
    customerId: s.customerId,
    customerName: customerName === null ? UNKNOWN_CUSTOMER : maskPii(customerName),
    channel: s.channel,
    status: s.status,
    skillGroup: s.skillGroup,
    assignedAgentId: s.assignedAgentId,
    offeredAgentId: s.offeredAgentId,
    tier: s.tier,
    priority: s.priority,
    lastMessagePreview: truncateText(last ? maskPii(textOf(last)) : '', PREVIEW, '…'),
    lastMessageAt: s.lastMessageAt,
    createdAt: s.createdAt,
    waitingSince: s.waitingSince,
    ...(emotion ? { emotion } : {}),
    ...(s.handover ? { handover: s.handover } : {}),
    ...(s.movedFrom ? { movedFrom: s.movedFrom } : {}),
    ...(sla ? { sla } : {}),
  };
}

export interface SessionViewsOptions {
  /**
   * Reads a customer message's emotion (issue 9: `LanguageCore.emotion`). Absent: views carry no
   * emotion. Derived on the way out, never stored.
   */
  emotionOf?: EmotionOf;
  /** Where a failing `emotionOf` is reported (the message id and error class, never the text). */
  logger?: Pick<Logger, 'warn'>;
  /**
   * What a detail carries besides the conversation (issue 10, `ai/assist`): the hand-over summary and
   * the viewer's AI draft; and its transfer (issue 11, `conversations/transfers.ts`). Absent: none.
   */
  extras?: (s: SessionRecord, viewer: UserView) => Promise<Pick<SessionDetail, 'summary' | 'draft' | 'transfer'>>;
  /** Issue 16: the SLA of a session's waiting response (sla/tracker.ts); absent: rows carry none. */
  slaOf?: (sessionId: string) => SlaStatus | undefined;
  /** Reads image messages' OCR views (issue 10, attachments/ocr-view.ts). Absent: views carry none. */
  ocrOf?: (messages: readonly Envelope[]) => Promise<Map<string, OcrView>>;
}

/** A detail's AI summary, draft and transfer as staff see them: their words masked (issue 17). */
function staffExtras(extras: Pick<SessionDetail, 'summary' | 'draft' | 'transfer'>): Pick<SessionDetail, 'summary' | 'draft' | 'transfer'> {
  return {
    ...extras,
    ...(extras.summary ? { summary: maskSummary(extras.summary) } : {}),
    ...(extras.draft ? { draft: maskText(extras.draft) } : {}),
    ...(extras.transfer ? { transfer: maskTransfer(extras.transfer) } : {}),
  };
}

/**
 * `s.routing` with its `candidates`: a store that keeps them beside the session row (issue 18,
 * `SessionStore.routingCandidates`) is asked for them; a decision that carries them is taken as it is.
 */
async function withCandidates(store: SessionStore, s: SessionRecord): Promise<RoutingDecision | null> {
  if (!s.routing || s.routing.candidates || !store.routingCandidates) return s.routing;
  const candidates = await store.routingCandidates(s.id);
  return candidates ? { ...s.routing, candidates } : s.routing;
}

/** Staff-facing views of sessions, assembled from the store (decrypting what they show). */
export class SessionViews {
  private readonly emotions: MessageEmotions | undefined;
  private readonly extras: SessionViewsOptions['extras'];
  private readonly ocrOf: SessionViewsOptions['ocrOf'];
  private readonly slaOf: SessionViewsOptions['slaOf'];

  constructor(
    private readonly store: SessionStore,
    options: SessionViewsOptions = {},
  ) {
    const { emotionOf, logger } = options;
    this.extras = options.extras;
    this.emotions = emotionOf && messageEmotions(emotionOf, { onError: emotionErrorReporter(logger) });
    this.ocrOf = options.ocrOf;
    this.slaOf = options.slaOf;
  }

  /** One stored message as staff see it (a customer message with its emotion when emotions are read). */
  message(e: Envelope): MessageView {
    return toMessageView(e, this.emotions);
  }

  /** Stored messages as staff see them: `message` of each, and image messages with their OCR view. */
  async messages(list: readonly Envelope[]): Promise<MessageView[]> {
    const ocr = this.ocrOf ? await this.ocrOf(list) : undefined;
    return list.map((m) => toMessageView(m, this.emotions, ocr?.get(m.id)));
  }

  /**
   * `last`: the conversation's newest message when the caller already has it (saves a read). A session
   * of an erased customer (issue 17) is a row named `ERASED_CUSTOMER_NAME` without a preview, so one
   * erased customer never breaks a queue list; their detail answers CUSTOMER_ERASED.
   */
  async summary(s: SessionRecord, last?: Envelope): Promise<SessionSummary> {
    try {
      const [customer, newest] = await Promise.all([this.store.getCustomer(s.customerId), newestShown(this.store, s.conversationId, last)]);
      const inbound = this.emotions ? await newestInbound(this.store, s.conversationId, newest) : null;
      return queueRow(queueRowFacts(s), customer?.name ?? null, newest, inbound ? this.emotions?.(inbound) : undefined, this.slaOf?.(s.id));
    } catch (error) {
      if (!(error instanceof HuiliuError && error.code === 'CUSTOMER_ERASED')) throw error;
      return queueRow(queueRowFacts(s), ERASED_CUSTOMER_NAME, null);
    }
  }

  /**
   * The session as `viewer` may see it: the newest DETAIL_PAGE messages (C8: never the oldest), and
   * only the previous sessions the viewer's policy allows (B6: same rule as the session route).
   */
  async detail(s: SessionRecord, viewer: UserView): Promise<SessionDetail> {
    const [summary, page, customer, previous, extras, routing] = await Promise.all([
      this.summary(s),
      this.store.recentMessages(s.conversationId, { limit: DETAIL_PAGE }),
      this.store.getCustomer(s.customerId),
      this.store.listSessions({ customerId: s.customerId, limit: 50 }),
      this.extras?.(s, viewer),
      withCandidates(this.store, s),
    ]);
    // Whispers are for the agent they were meant for and supervisors (issue 16, api/supervision.ts).
    const messages = await this.messages(page.messages.filter((m) => noteVisibleTo(m, viewer)));
    return {
      ...summary,
      ...(s.movedTo ? { movedTo: s.movedTo } : {}),
      wrapUpCode: s.wrapUpCode,
      closedAt: s.closedAt,
      messages,
      hasOlderMessages: page.hasOlder,
      // Who else was considered (colleagues' ids, load, presence) is for leads and admins (B6 kind).
      routing:
        routing && routing.candidates && !seesTeam(viewer)
          ? { ...routing, candidates: routing.candidates.filter((c) => c.agentId === viewer.id) }
          : routing,
      context: {
        customer: {
          id: s.customerId,
          name: customer ? maskPii(customer.name) : UNKNOWN_CUSTOMER,
          channels: [...new Set([...(customer?.channels ?? []), ...previous.map((p) => p.channel), s.channel])].sort(),
          groupId: customer?.groupId ?? s.customerId,
        },
        previousSessions: previous
          .filter((p) => p.id !== s.id && canSeeSession(viewer, p))
          .map((p) => ({ id: p.id, channel: p.channel, status: p.status, createdAt: p.createdAt })),
      },
      ...(extras ? staffExtras(extras) : {}),
    };
  }
}
