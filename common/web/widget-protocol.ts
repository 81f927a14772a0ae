import { z } from 'zod';
import { MAX_TEXT_LENGTH } from '../message/envelope';
import { optionalNameSchema, visibleTextSchema, idTokenSchema } from '../text/text';
import type { AuthorKind, QueueStanding } from '../ai/assist';
import { CsatCommentSchema, CsatScoreSchema } from '../api/customers';

/**
 * JSON frames on `wss://…/channels/web` (DESIGN §6, §7). Resumable: the widget keeps a visitor token
 * and its last `seq`; on reconnect it says `hello` with both and receives exactly what it missed.
 */
export const WIDGET_PATH = '/channels/web';

export const WidgetClientFrameSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    /** A token this server issued earlier; any other is replaced by a fresh one. */
    visitorToken: z.string().min(16).max(128).optional(),
    /** Optional metadata: a blank, invisible or mistyped name is dropped, bidi controls removed, a long one cut by grapheme. */
    name: optionalNameSchema(64),
    /** The conversation `lastSeq` counts in; a different or missing one replays from the start. */
    conversationId: z.uuid().optional(),
    lastSeq: z.number().int().min(0).optional(),
  }),
  z.object({
    type: z.literal('message'),
    clientMessageId: idTokenSchema(8, 128),
    text: visibleTextSchema(MAX_TEXT_LENGTH),
    sentAt: z.iso.datetime({ offset: true }).optional(),
  }),
  z.object({ type: z.literal('ping'), t: z.number().optional() }),
  /** "Talk to a person": leaves the AI for the skill group's human queue at once (issue 10). */
  z.object({ type: z.literal('handover') }),
  /** The next page of a replay: messages after `afterSeq`, answered like a hello's replay. */
  z.object({ type: z.literal('history'), conversationId: z.uuid(), afterSeq: z.number().int().min(0) }),
  /**
   * The visitor rates their closed conversation (CSAT, issue 11): 1..5, an optional comment, once per
   * session. Answered `csat-recorded` (to every tab of the visitor) or an error frame:
   * VALIDATION_FAILED, SESSION_NOT_FOUND (not this visitor's web session), SESSION_NOT_CLOSED,
   * CSAT_ALREADY_GIVEN.
   */
  /**
   * The pre-chat form (issue 13), sent once before the visitor's first message when the welcome's
   * `preChat` asks for it (and again if they edit it): contact details become untrusted identity
   * links of the visitor's customer (never merged on, docs/continuity.md); `topic` (an id from
   * `preChat.topics`) picks the skill group the next session opens in. Answered `pre-chat-saved`
   * or an error frame: VALIDATION_FAILED (a malformed e-mail or phone, a required field missing, no
   * topic chosen when the form has topics), UNKNOWN_TOPIC. A session already open keeps its group.
   */
  z.object({
    type: z.literal('pre-chat'),
    name: optionalNameSchema(64),
    email: z.string().trim().max(254).optional(),
    phone: z.string().trim().max(32).optional(),
    topic: z.string().min(1).max(64).optional(),
  }),
  /**
   * The visitor started (`true`) or stopped (`false`) typing (issue 13). Volatile: published to the
   * assigned agent as `customer:typing`, never stored; the widget sends `true` at most every 3 s
   * while keys are pressed and `false` after 5 s idle or on send.
   */
  z.object({ type: z.literal('typing'), typing: z.boolean() }),
  /**
   * Read receipt (issue 13): the visitor has seen every message of `conversationId` up to `upToSeq`
   * (the widget was visible and focused when they arrived). The agent's replies up to there become
   * `read` (delivery state, `message:delivery`). Marks never move backwards; a mark past the newest
   * message is cut to it. SESSION_NOT_FOUND when `conversationId` is not the visitor's current one.
   */
  z.object({ type: z.literal('read'), conversationId: z.uuid(), upToSeq: z.number().int().min(0) }),
  z.object({
    type: z.literal('csat'),
    sessionId: z.string().min(1).max(64),
    score: CsatScoreSchema,
    comment: CsatCommentSchema.optional(),
  }),
]);
export type WidgetClientFrame = z.infer<typeof WidgetClientFrameSchema>;

/**
 * Close codes the server uses on the widget socket (RFC 6455 §7.4.1): the widget reconnects and
 * resumes by `lastSeq` after any of them, so nothing acked is lost.
 */
export const WIDGET_CLOSE = {
  /** A frame larger than the frame limit. */
  tooBig: 1009,
  /** A binary frame: the protocol is JSON text. */
  unsupportedData: 1003,
  /** Abuse: too many hellos, too many connections from one address. */
  policy: 1008,
  /** The client did not read what it was sent (send buffer over its high-water mark). */
  tryAgainLater: 1013,
} as const;

/**
 * A file the visitor or an agent sent with a message (issue 13). `url` is a same-origin link the
 * server signed for this visitor (`/channels/web/attachments/:id?…`), valid for a while; the widget
 * shows images inline from it and offers other files as a download.
 */
export interface WidgetAttachment {
  id: string;
  kind: 'image' | 'file';
  /** The visitor's file name, cleaned (no path, no controls, ≤ 120 characters). */
  name: string;
  mime: string;
  bytes: number;
  url: string;
}

/** One topic of the pre-chat form: its id (sent back in `pre-chat`) and its label in both languages. */
export interface PreChatTopic {
  id: string;
  label: { en: string; zh: string };
}

/**
 * What the widget should ask before the first message (config `widget.preChat`): null when there is
 * no form. `contact`: whether an e-mail or a phone number is `required`, `optional`, or not asked.
 */
export interface PreChatForm {
  name: 'required' | 'optional' | 'off';
  contact: 'required' | 'optional' | 'off';
  topics: PreChatTopic[];
}

/** Upload limits the widget checks before sending (the server checks again). */
export interface UploadLimits {
  /** Largest file in bytes. */
  maxBytes: number;
  /** Accepted MIME types (each is verified by its magic bytes on the server). */
  mimes: string[];
}

/**
 * HTTP upload of a file as a message (issue 13): `POST {WIDGET_UPLOAD_PATH}?clientMessageId=&name=`
 * with the raw bytes as the body, `Content-Type` the file's type and `Authorization: Bearer
 * <visitorToken>`. 201 answers `{ack, message}` (the same ack and message frames the socket gets; the
 * visitor's other tabs get the message frame). Errors `{error:{code,message}}`: UNAUTHENTICATED,
 * UPLOAD_TOO_LARGE (413), UPLOAD_TYPE_REFUSED / UPLOAD_EXECUTABLE (415), IDEMPOTENCY_CONFLICT,
 * RATE_LIMITED. A retry with the same clientMessageId answers the first upload's ack.
 */
export const WIDGET_UPLOAD_PATH = '/channels/web/uploads';
/** Signed, per-visitor downloads of attachments in the visitor's own conversation. */
export const WIDGET_ATTACHMENT_PATH = '/channels/web/attachments';

export interface WidgetMessage {
  id: string;
  seq: number;
  direction: 'in' | 'out';
  /** Who wrote it: the widget marks `ai` messages as the AI's, `system` ones as notices. */
  author: AuthorKind;
  text: string;
  /** The sender's clock: metadata only, never shown (DESIGN §4). */
  sentAt: string;
  /** The server's clock: the time of record, shown and sorted by. */
  receivedAt: string;
  clientMessageId: string;
  /** A file sent with the message (issue 13); `text` then holds its caption or a placeholder. */
  attachment?: WidgetAttachment;
}

export type WidgetServerFrame =
  | {
      type: 'welcome';
      visitorToken: string;
      sessionId: string | null;
      conversationId: string | null;
      heartbeatMs: number;
      /** The pre-chat form to show before the first message, or null (issue 13). */
      preChat: PreChatForm | null;
      /** Whether this visitor already answered the pre-chat form (it is not shown again). */
      preChatDone: boolean;
      /** Upload limits, or null when uploads are off. */
      upload: UploadLimits | null;
      /** The agent side's read mark of the conversation (issue 13): visitor messages up to it are read. */
      agentReadSeq: number;
    }
  | {
      type: 'ack';
      clientMessageId: string;
      messageId: string;
      seq: number;
      sessionId: string;
      conversationId: string;
      receivedAt: string;
    }
  | { type: 'message'; message: WidgetMessage }
  /**
   * Ends one replay page (after a hello or a history frame): `lastSeq` is the last seq of the page;
   * with `more`, newer messages exist and the widget asks for them with `history` after `lastSeq`.
   */
  | { type: 'replayed'; conversationId: string; lastSeq: number; more: boolean }
  /**
   * Where the conversation is: `bot` (the AI answers), `waiting` (for a person; with `standing`:
   * queue position, estimated wait, or that no agent is online and a message can be left — sent
   * again, at most every 2 s, as the queue moves), `agent-joined`, `closed` (with the session's id
   * and `rateable` while the visitor may still rate it, issue 11).
   */
  | {
      type: 'status';
      status: 'bot' | 'waiting' | 'agent-joined' | 'closed';
      agentName?: string;
      standing?: QueueStanding;
      sessionId?: string;
      rateable?: boolean;
    }
  /** The visitor's rating of `sessionId` was stored (issue 11): every tab of theirs hides its rating form. */
  | { type: 'csat-recorded'; sessionId: string; score: number }
  /** The pre-chat form was stored (issue 13); every tab of the visitor hides it. */
  | { type: 'pre-chat-saved' }
  /** The assigned agent started or stopped typing (issue 13, volatile). */
  | { type: 'typing'; typing: boolean }
  /** The agent side has read the visitor's messages of `conversationId` up to `upToSeq` (issue 13). */
  | { type: 'read'; conversationId: string; upToSeq: number }
  | { type: 'pong'; t?: number }
  | { type: 'error'; code: string; message: string; clientMessageId?: string; retryAfterMs?: number };
