import { z } from 'zod';
import { MAX_TEXT_LENGTH } from '../message/envelope';
import { optionalNameSchema, visibleTextSchema } from '../text/text';
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
    clientMessageId: z.string().min(8).max(128),
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
}

export type WidgetServerFrame =
  | {
      type: 'welcome';
      visitorToken: string;
      sessionId: string | null;
      conversationId: string | null;
      heartbeatMs: number;
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
  | { type: 'pong'; t?: number }
  | { type: 'error'; code: string; message: string; clientMessageId?: string; retryAfterMs?: number };
