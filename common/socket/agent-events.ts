import { z } from 'zod';
import type { Result } from '../errors/codes';
import { SessionIdSchema } from '../message/session-id';
import { MAX_TEXT_LENGTH } from '../message/envelope';
import { idTokenSchema, hasNoBidiControl, staffTextSchema, BIDI_CONTROL_REFUSED } from '../text/text';
import {
  HISTORY_PAGE_MAX,
  WrapUpCodeSchema,
  type MessagePageView,
  type MessageView,
  type SessionDetail,
  type SessionSummary,
} from '../api/sessions';
import type { UserView } from '../api/auth';
import type { DeliveryState } from '../message/delivery';
import type { MessageAnnotation } from '../api/attachments';
import type { ConversationSummary, Suggestion } from '../ai/assist';
import {
  TRANSFER_DECLINE_REASON_MAX,
  TRANSFER_NOTE_MAX,
  TransferModeSchema,
  TransferTargetSchema,
  type TransferView,
} from '../api/transfers';
import type {
  AddNote,
  Barge,
  PresenceChangedBy,
  Reassign,
  SupervisedAgent,
  SupervisePresence,
  SuperviseSession,
  Whisper,
} from '../api/supervision';
import type { BoardSnapshot, BoardSubscribe } from '../api/board';
import type {
  AgentLoad,
  HeldContact,
  SessionViewInput,
  SessionViewers,
  TakeoverAnswer,
  TakeoverListInput,
  HeldContactChange,
  TakeoverView,
} from '../api/collision';

/** socket.io namespace for staff (DESIGN §6). Auth: `{ token }` in the handshake `auth`. */
export const AGENT_NAMESPACE = '/agent';

/**
 * An agent's presence (DESIGN §5): `available` takes offers; `busy` (other work) and `away` (not at
 * the desk: pending offers move on at once) take none; `after-call-work` is set by the server after a
 * contact closes, for `afterCallWorkSeconds`, and ends by itself or when the agent sets `available`;
 * `offline` is an agent with no connection (never set by a client).
 */
export const PresenceSchema = z.enum(['available', 'busy', 'after-call-work', 'away', 'offline']);
export type Presence = z.infer<typeof PresenceSchema>;

/** Client → server payloads; the server validates every one of them with these schemas. */
export const QueueListSchema = z.strictObject({});
export const AcceptOfferSchema = z.object({ sessionId: SessionIdSchema });
/** Declines an offer made to you: it goes to the next agent now, and is recorded in the decision log. */
export const DeclineOfferSchema = z.object({ sessionId: SessionIdSchema, reason: z.string().trim().max(200).optional() });
export type DeclineOffer = z.infer<typeof DeclineOfferSchema>;
export const OpenSessionSchema = z.object({ sessionId: SessionIdSchema });
/** Older messages of a session's conversation: the page that ends just before `beforeSeq`. */
export const SessionHistorySchema = z.object({
  sessionId: SessionIdSchema,
  beforeSeq: z.number().int().min(1),
  limit: z.number().int().min(1).max(HISTORY_PAGE_MAX).optional(),
});
export const SendMessageSchema = z.object({
  sessionId: SessionIdSchema,
  clientMessageId: idTokenSchema(8, 128),
  // A reply reaches the customer: no bidi override may reorder what they read (the rule of staff text).
  text: staffTextSchema(MAX_TEXT_LENGTH),
  /**
   * The AI draft this reply came from (assisted tier): `accepted` sent as drafted, `edited` changed
   * first. The server compares the text itself; the client's word only names the draft.
   */
  draftId: z.string().min(1).max(64).optional(),
});
/** Suggested replies for the session's latest customer message (top 3, with their source). */
export const SuggestRepliesSchema = z.object({ sessionId: SessionIdSchema });
/** The agent threw the session's AI draft away (kept as feedback). */
export const DiscardDraftSchema = z.object({ sessionId: SessionIdSchema, draftId: z.string().min(1).max(64) });
/** A summary of the conversation so far (e.g. to start a wrap-up note). */
export const SummarizeSessionSchema = z.object({ sessionId: SessionIdSchema });
export const CloseSessionSchema = z.object({
  sessionId: SessionIdSchema,
  wrapUpCode: WrapUpCodeSchema,
  note: z.string().max(2000).refine(hasNoBidiControl, { message: BIDI_CONTROL_REFUSED }).optional(),
  /**
   * The agent's word that the customer's issue was resolved in this contact (issue 15: the wrap-up's
   * "resolved on first contact" box; the FCR KPI counts it). Absent: true for code `resolved`, else false.
   */
  resolvedOnFirstContact: z.boolean().optional(),
});
/** The presences an agent may set themselves (`after-call-work` and `offline` are the server's). */
export const SettablePresenceSchema = z.enum(['available', 'busy', 'away']);
export type SettablePresence = z.infer<typeof SettablePresenceSchema>;
/** The agent started or stopped typing a reply in their chat (issue 13; volatile, shown to a web visitor). */
export const AgentTypingSchema = z.object({ sessionId: SessionIdSchema, typing: z.boolean() });
/** The agent has read the chat's customer messages up to `upToSeq` (issue 13; the web widget shows "Read"). */
export const SessionReadSchema = z.object({ sessionId: SessionIdSchema, upToSeq: z.number().int().min(0) });
export type AgentTyping = z.infer<typeof AgentTypingSchema>;
export type SessionRead = z.infer<typeof SessionReadSchema>;
export const SetPresenceSchema = z.object({ presence: SettablePresenceSchema });
/** Hands your active chat back to the queue; it is offered to another agent first. */
export const ReleaseSessionSchema = z.object({ sessionId: SessionIdSchema });

// ── Transfers (issue 11; shapes in api/transfers.ts) ─────────────────────────────────────────────
/** Transfer your active contact: `cold` leaves you at once, `warm` stays yours until the receiver accepts. */
export const TransferSessionSchema = z.strictObject({
  sessionId: SessionIdSchema,
  to: TransferTargetSchema,
  mode: TransferModeSchema,
  note: z.string().trim().max(TRANSFER_NOTE_MAX).refine(hasNoBidiControl, { message: BIDI_CONTROL_REFUSED }).optional(),
});
/** A transfer offered to you (warm): accept takes the contact, decline leaves it with the sender. */
export const TransferIdSchema = z.object({ transferId: z.uuid() });
export const DeclineTransferSchema = z.object({
  transferId: z.uuid(),
  reason: z.string().trim().max(TRANSFER_DECLINE_REASON_MAX).optional(),
});
/** Who and where your contact can go: signed-in agents (your groups first) and every skill group. */
export const TransferTargetsQuerySchema = z.object({ sessionId: SessionIdSchema });
export type TransferSession = z.infer<typeof TransferSessionSchema>;
export type DeclineTransfer = z.infer<typeof DeclineTransferSchema>;

/** An agent a contact may be transferred to: signed in, with their presence and load. */
export const TransferAgentSchema = z.object({
  id: z.string(),
  name: z.string(),
  skillGroups: z.array(z.string()),
  presence: PresenceSchema,
  activeChats: z.number().int().min(0),
  /** Shares a skill group with the asking agent (listed first). */
  sharesGroup: z.boolean(),
  expert: z.boolean(),
});
export type TransferAgent = z.infer<typeof TransferAgentSchema>;

/** What the transfer dialog offers: agents signed in (own groups first) and every skill group. */
export const TransferTargetsSchema = z.object({
  agents: z.array(TransferAgentSchema),
  skillGroups: z.array(z.object({ id: z.string(), name: z.string() })),
});
export type TransferTargets = z.infer<typeof TransferTargetsSchema>;

/** A warm transfer offered to you: the transfer (sender, note, AI summary, expiry) and the contact's queue row. */
export interface TransferOffer {
  transfer: TransferView;
  session: SessionSummary;
}

export type AcceptOffer = z.infer<typeof AcceptOfferSchema>;
export type OpenSession = z.infer<typeof OpenSessionSchema>;
export type SessionHistory = z.infer<typeof SessionHistorySchema>;
export type SendMessage = z.infer<typeof SendMessageSchema>;
export type CloseSession = z.infer<typeof CloseSessionSchema>;
export type SetPresence = z.infer<typeof SetPresenceSchema>;
export type ReleaseSession = z.infer<typeof ReleaseSessionSchema>;
export type SuggestReplies = z.infer<typeof SuggestRepliesSchema>;
export type DiscardDraft = z.infer<typeof DiscardDraftSchema>;
export type SummarizeSession = z.infer<typeof SummarizeSessionSchema>;

export type Ack<T> = (result: Result<T>) => void;

/** Every client → server event carries an ack answered `{ok,data}|{ok:false,error}`. */
export interface AgentClientToServerEvents {
  'queue:list': (payload: Record<string, never>, ack: Ack<SessionSummary[]>) => void;
  /** Takes an offered or waiting contact, or takes a contact over from the AI (status `bot`). */
  'offer:accept': (payload: AcceptOffer, ack: Ack<SessionDetail>) => void;
  'offer:decline': (payload: DeclineOffer, ack: Ack<{ declined: true }>) => void;
  'session:open': (payload: OpenSession, ack: Ack<SessionDetail>) => void;
  'session:history': (payload: SessionHistory, ack: Ack<MessagePageView>) => void;
  'message:send': (payload: SendMessage, ack: Ack<MessageView>) => void;
  'session:close': (payload: CloseSession, ack: Ack<SessionSummary>) => void;
  'session:release': (payload: ReleaseSession, ack: Ack<SessionSummary>) => void;
  'presence:set': (payload: SetPresence, ack: Ack<{ presence: Presence }>) => void;
  'ai:suggest': (payload: SuggestReplies, ack: Ack<Suggestion[]>) => void;
  'draft:discard': (payload: DiscardDraft, ack: Ack<{ discarded: boolean }>) => void;
  'session:summary': (payload: SummarizeSession, ack: Ack<ConversationSummary>) => void;
  /**
   * Transfers your active contact (issue 11). Errors: NOT_ASSIGNED (not your active contact),
   * TRANSFER_TARGET_NOT_FOUND, TRANSFER_TARGET_NOT_IN_GROUP, TRANSFER_TO_SELF, TRANSFER_PENDING,
   * TRANSFER_TARGET_UNAVAILABLE (warm: the agent is offline, not available or at capacity; or nobody
   * of the group can take it now).
   */
  'session:transfer': (payload: TransferSession, ack: Ack<TransferView>) => void;
  /** Accepts a warm transfer offered to you; answers the contact's detail. TRANSFER_NOT_FOUND, TRANSFER_NOT_PENDING. */
  'transfer:accept': (payload: { transferId: string }, ack: Ack<SessionDetail>) => void;
  'transfer:decline': (payload: DeclineTransfer, ack: Ack<TransferView>) => void;
  /** The sender withdraws their pending warm transfer. TRANSFER_NOT_FOUND, TRANSFER_NOT_PENDING. */
  'transfer:cancel': (payload: { transferId: string }, ack: Ack<TransferView>) => void;
  'transfer:targets': (payload: { sessionId: string }, ack: Ack<TransferTargets>) => void;
  /**
   * Your typing state in your active chat (issue 13): forwarded, volatile, to a web visitor's widget
   * (other channels ignore it). Answers `{forwarded}`; NOT_ASSIGNED when the chat is not yours.
   * Clients send `true` at most every 3 s while typing and `false` when idle 5 s or on send.
   */
  'agent:typing': (payload: AgentTyping, ack: Ack<{ forwarded: boolean }>) => void;
  /**
   * You have read the chat's customer messages up to `upToSeq` (issue 13): stored (marks never move
   * back) and shown to a web visitor as "Read". Answers the stored mark; SESSION_NOT_FOUND when you
   * cannot see the session.
   */
  'session:read': (payload: SessionRead, ack: Ack<{ upToSeq: number }>) => void;

  // ── Internal notes and supervision (issues 15, 16; api/supervision.ts, docs/supervision.md) ─────
  /**
   * An internal note in a conversation you may handle: stored with it, shown to staff, never sent to
   * the customer. Answers the note as a message. SESSION_NOT_FOUND, FORBIDDEN, SESSION_CLOSED.
   */
  'note:add': (payload: AddNote, ack: Ack<MessageView>) => void;
  /**
   * Leads (their groups) and admins: the conversation read-only, and its new messages live
   * (`message:new`, `note:new`) until `supervise:leave`. Audited as a view. SESSION_NOT_FOUND, FORBIDDEN.
   */
  'supervise:open': (payload: SuperviseSession, ack: Ack<SessionDetail>) => void;
  'supervise:leave': (payload: SuperviseSession, ack: Ack<{ left: true }>) => void;
  /** A whisper to the contact's agent (`note:new` to them). NOT_ASSIGNED when no agent holds it. */
  'supervise:whisper': (payload: Whisper, ack: Ack<MessageView>) => void;
  /** Join and write to the customer on their channel; the author is you. SESSION_CLOSED. */
  'supervise:barge': (payload: Barge, ack: Ack<MessageView>) => void;
  /** Move the contact to another agent of its group or back to the queue. TRANSFER_* codes as transfers. */
  'supervise:reassign': (payload: Reassign, ack: Ack<SessionSummary>) => void;
  /** Set an agent's presence; their workstation shows who changed it. AGENT_NOT_FOUND (not signed in / not yours). */
  'supervise:presence': (payload: SupervisePresence, ack: Ack<SupervisedAgent>) => void;
  /** The agents signed in to your groups (presence and load), for the reassign and state controls. */
  'supervise:agents': (payload: Record<string, never>, ack: Ack<SupervisedAgent[]>) => void;
  /**
   * The lead's live board (issue 16, docs/lead-board.md): watch these skill groups (absent: all in
   * your scope). Answers the snapshot of each; `board:update` then pushes the groups that change, at
   * most once a second. Leads: their own groups; admins: every group; others: FORBIDDEN (also for a
   * group out of scope). A second subscribe replaces the first; the socket's end ends it.
   */
  'board:subscribe': (payload: BoardSubscribe, ack: Ack<BoardSnapshot>) => void;
  /** Stops the board's pushes to this socket. */
  'board:unsubscribe': (payload: Record<string, never>, ack: Ack<{ unsubscribed: true }>) => void;

  // ── Collision control (issue 15; api/collision.ts, docs/collision.md) ───────────────────────────
  /**
   * You opened this conversation in your workstation: you are listed among its viewers (every viewer
   * gets `session:viewers`) until `session:unview` or your socket ends. Answers the list. SESSION_NOT_FOUND.
   */
  'session:view': (payload: SessionViewInput, ack: Ack<SessionViewers>) => void;
  'session:unview': (payload: SessionViewInput, ack: Ack<{ left: true }>) => void;
  /**
   * The contacts colleagues hold in the groups you handle (agents and leads: `session.takeover`), to
   * open read-only (`session:open`, `session:view`) and ask to take over; yours are not listed.
   * FORBIDDEN (a `skillGroup` you do not handle).
   */
  'takeover:list': (payload: TakeoverListInput, ack: Ack<HeldContact[]>) => void;
  /**
   * Ask the agent holding a conversation you view to hand it over (they get `takeover:requested`).
   * SESSION_NOT_FOUND, FORBIDDEN (not your group), SESSION_CLOSED, NO_AGENT_ASSIGNED, TAKEOVER_OWN,
   * NOT_VIEWING, TAKEOVER_PENDING.
   */
  'takeover:request': (payload: { sessionId: string }, ack: Ack<TakeoverView>) => void;
  /** The holder's answer: accept moves the contact to the requester (a transfer). TAKEOVER_NOT_FOUND, TAKEOVER_NOT_PENDING. */
  'takeover:answer': (payload: TakeoverAnswer, ack: Ack<TakeoverView>) => void;
}

/**
 * The names of every client → server event, at run time: the server's event policy map and its test
 * walk this list. `satisfies` below keeps it equal to the keys of `AgentClientToServerEvents`.
 */
export const AGENT_CLIENT_EVENTS = [
  'queue:list',
  'offer:accept',
  'offer:decline',
  'session:open',
  'session:history',
  'message:send',
  'session:close',
  'session:release',
  'presence:set',
  'ai:suggest',
  'draft:discard',
  'session:summary',
  'session:transfer',
  'transfer:accept',
  'transfer:decline',
  'transfer:cancel',
  'transfer:targets',
  'agent:typing',
  'session:read',
  'note:add',
  'supervise:open',
  'supervise:leave',
  'supervise:whisper',
  'supervise:barge',
  'supervise:reassign',
  'supervise:presence',
  'supervise:agents',
  'board:subscribe',
  'board:unsubscribe',
  'session:view',
  'session:unview',
  'takeover:list',
  'takeover:request',
  'takeover:answer',
] as const satisfies readonly (keyof AgentClientToServerEvents)[];
export type AgentClientEvent = keyof AgentClientToServerEvents;
// Fails to compile when an event is added to the interface but not to the list.
const everyEventListed: Record<AgentClientEvent, true> = Object.fromEntries(AGENT_CLIENT_EVENTS.map((e) => [e, true])) as {
  [K in (typeof AGENT_CLIENT_EVENTS)[number]]: true;
};
void everyEventListed;

export interface MessageDelivery {
  messageId: string;
  sessionId: string;
  state: DeliveryState;
  /** The channel's own error, when `state` is `failed`. */
  error?: { code: string; message: string };
}

export interface OfferView {
  sessionId: string;
  expiresAt: string;
  summary: SessionSummary;
}

export interface AgentServerToClientEvents {
  /** Sent once after connect: who you are and your skill groups' queue. */
  hello: (payload: {
    user: UserView;
    /** Your own open chats, then at most 500 waiting contacts, highest priority first. */
    queue: SessionSummary[];
    presence: Presence;
    /** How many contacts you may see are waiting in all; more than the list holds when it was cut. */
    waitingTotal?: number;
  }) => void;
  /** A contact entered, changed in, or left the visible queue. */
  'queue:upsert': (summary: SessionSummary) => void;
  'queue:remove': (payload: { sessionId: string }) => void;
  /** The router offers this contact to you; accept before `expiresAt`. */
  'offer:new': (offer: OfferView) => void;
  /**
   * Your pending offer of this contact is gone: `timeout` (passed to the next agent), `agent-gone`
   * (you went away or offline), `taken` (a colleague accepted it), or another routing trigger.
   */
  'offer:revoked': (payload: { sessionId: string; reason: string }) => void;
  /**
   * Your presence changed without you asking: after-call work began (`until`: when it ends, ISO 8601)
   * or ended (`available`, `until` null), or a team lead set it (`by`, issue 16).
   */
  'presence:changed': (payload: { presence: Presence; until: string | null; by?: PresenceChangedBy }) => void;
  /**
   * An internal note or a lead's whisper in a conversation you hold or supervise (issues 15, 16): a
   * `staff.note` event message (api/supervision.ts). Never reaches the customer.
   */
  'note:new': (message: MessageView) => void;
  /** A message in a session you are assigned to or can see. */
  'message:new': (message: MessageView) => void;
  /** Text was read from an image message of your chat (issue 10, OCR): show it under the image (`MessageView.ocr`). */
  'message:annotated': (annotation: MessageAnnotation) => void;
  /** How far one of your replies got on the customer's channel (sent / delivered / read / failed). */
  'message:delivery': (payload: MessageDelivery) => void;
  /**
   * The customer of your chat started (`typing: true`) or stopped typing (issue 12; XMPP chat states
   * today). Volatile: never stored nor replayed; a missed one is simply not shown.
   */
  'customer:typing': (payload: { sessionId: string; typing: boolean }) => void;
  /** A warm transfer is offered to you (issue 11): accept before `transfer.expiresAt`. */
  'transfer:offered': (offer: TransferOffer) => void;
  /** A transfer you sent or were offered changed: accepted, declined, expired, cancelled. */
  'transfer:updated': (transfer: TransferView) => void;
  /**
   * These customers' data was erased (issue 17): drop everything cached of them (messages, names,
   * local history); reading them again answers `CUSTOMER_ERASED`.
   */
  'customer:erased': (payload: { customerIds: string[] }) => void;
  /** The live board's groups that changed since the last push (issue 16), to `board:subscribe`rs only. */
  'board:update': (snapshot: BoardSnapshot) => void;
  /** Collision control (issue 15): who views a conversation you view, live (sent on every change). */
  'session:viewers': (payload: SessionViewers) => void;
  /** An agent viewing your contact asks you to hand it over: answer with `takeover:answer` before `expiresAt`. */
  'takeover:requested': (takeover: TakeoverView) => void;
  /** A take-over you asked for or were asked changed: pending, accepted, declined, expired, cancelled, failed. */
  'takeover:updated': (takeover: TakeoverView) => void;
  /** Your presence and your load against your chat capacity (issue 15), after hello and on every change. */
  'agent:load': (load: AgentLoad) => void;
  /**
   * A held contact of my groups changed (issue 15, the Team tab): its new row, or null to drop it.
   * Read the whole list again with `takeover:list` after a reconnect (changes meanwhile are not replayed).
   */
  'takeover:held': (change: HeldContactChange) => void;
}
