import type { ChannelCode } from '../../../common/message/session-id';
import type {
  ChannelIdentity,
  Content,
  Direction,
  Envelope,
  IdentityLink,
  IdentityLinkKind,
  InboundDraft,
} from '../../../common/message/envelope';
import type { RoutingDecision, RoutingCandidate, Capacity, ChannelKind } from '../../../common/routing/types';
import type { SessionStatus, WrapUpCode } from '../../../common/api/sessions';
import type { AuthorKind, ConversationSummary, Handover } from '../../../common/ai/assist';
import type { StoredFactSource } from '../../../common/api/customers';
import type { TransferMode, TransferStatus, TransferTarget } from '../../../common/api/transfers';

export interface CustomerRecord {
  id: string;
  name: string;
  /** The channels this customer's own identities are on (not the merged group's). */
  channels: ChannelCode[];
  createdAt: string;
  /** The customer this one was merged into (issue 12), or null. */
  mergedInto: string | null;
  /** The root of the customer's merge group: the id the person is shown under (itself when never merged). */
  groupId: string;
}

/** One merge of two customers (issue 12), and its undo: the audit record. */
export interface CustomerMerge {
  id: string;
  /** The group root the other joined; `mergedId` is the root of the group that joined it. */
  survivorId: string;
  mergedId: string;
  /** Staff id, or `system` (a verified link two customers shared). */
  by: string;
  /** `agent`, or `link:<kind>` for a merge on a verified link. */
  reason: string;
  at: string;
  undoneAt: string | null;
  undoneBy: string | null;
}

/** A channel identity of a customer's group, opened (PII: staff views mask it). */
export interface IdentityView {
  customerId: string;
  channel: ChannelCode;
  externalId: string;
  createdAt: string;
}

/** A verified cross-channel identifier of a customer's group, opened (PII: staff views mask it). */
export interface LinkView {
  customerId: string;
  kind: IdentityLinkKind;
  value: string;
  /** A channel code, or `agent:<staff id>`. */
  source: string;
  createdAt: string;
}

/** A page of a customer's timeline: messages of every conversation and channel of the group, newest first. */
export interface TimelinePage {
  messages: Envelope[];
  hasOlder: boolean;
}

/** One change of a customer's contact details, oldest first (C10: later details win, history kept). */
export interface ProfileChange {
  field: 'name' | 'phone';
  /** The channel whose message carried the new value. */
  channel: ChannelCode;
  previous: string | null;
  value: string;
  changedAt: string;
}

/** The outcome of `claim`: `changed` is true for exactly one caller per hand-over to an agent. */
export interface ClaimResult {
  session: SessionRecord;
  changed: boolean;
}

/** A page of a conversation, oldest first, with whether older messages exist before it. */
export interface MessagePage {
  messages: Envelope[];
  hasOlder: boolean;
}

export interface SessionRecord {
  id: string;
  conversationId: string;
  customerId: string;
  channel: ChannelCode;
  status: SessionStatus;
  skillGroup: string;
  assignedAgentId: string | null;
  offeredAgentId: string | null;
  offerExpiresAt: string | null;
  routing: RoutingDecision | null;
  wrapUpCode: WrapUpCode | null;
  createdAt: string;
  updatedAt: string;
  waitingSince: string;
  closedAt: string | null;
  lastMessageAt: string;
  /** Why and when the contact left the AI tier for a person; null when it never was with the AI. */
  handover: Handover | null;
  /** Closed because the customer went on in the same conversation on another channel: that session (issue 12). */
  movedTo: string | null;
  /** The session of another channel this one carries the conversation on from (issue 12). */
  movedFrom: string | null;
}

export interface InboundResult {
  envelope: Envelope;
  session: SessionRecord;
  /** The same clientMessageId was stored before; `envelope` is the stored one. */
  duplicate: boolean;
  /** This message opened a new session (the router must score it, unless it `moved`). */
  newSession: boolean;
  /**
   * The session this message's new session took the conversation over from (issue 12): the customer
   * wrote on another channel within the continuity window; that session is now closed with `movedTo`,
   * and the new one carries on its state (status, skill group, agent, routing, waiting time). Null otherwise.
   */
  moved: SessionRecord | null;
  /** Customers merged because this message carried a verified link another customer already had. */
  merges: CustomerMerge[];
}

/** How `appendInbound` / `admitInbound` take a customer message. */
export interface InboundOptions {
  /** The skill group a new session opens in. */
  skillGroup: string;
  /**
   * Issue 14 (`HUILIU_STORE=redis`): the identity's customer as the customers port (Redis Cluster,
   * shared by every node) resolved it. The store then records THAT customer for the identity instead
   * of minting one (creating its row when new here; an identity this store holds under another customer
   * moves to it), so every node's SQLite names one customer per identity. Absent: the store resolves.
   * @throws HuiliuError CUSTOMER_ERASED when this store erased that customer
   */
  customerId?: string;
}

/**
 * What `admitInbound` answers: the session a customer message belongs to (found or opened, continuity
 * and links applied), without the message itself — the conversations port stores that (issue 14).
 */
export type AdmittedInbound = Omit<InboundResult, 'envelope' | 'duplicate'>;

export interface OutboundInput {
  sessionId: string;
  authorId: string | null;
  /** Who writes: `agent` (with `authorId`), `ai` (the AI tier), `system` (notices). Default: agent with an id, else system. */
  authorKind?: Exclude<AuthorKind, 'customer'>;
  clientMessageId: string;
  content: Content;
  critical: boolean;
  /** Scalar facts kept with the message (sealed with it), e.g. the AI tier's `aiTurn` and `aiIntent`. */
  meta?: Envelope['meta'];
}

/** A staff/AI/system message written together with a session's state change (`appendAndClaim`, `appendAndClose`). */
export type HistoryLine = Omit<OutboundInput, 'sessionId'>;

export interface SessionFilter {
  status?: readonly SessionStatus[];
  skillGroups?: readonly string[];
  channel?: ChannelCode;
  customerId?: string;
  assignedAgentId?: string;
  /** Sessions with a pending offer to this agent (status `offered`). */
  offeredAgentId?: string;
  /** Sessions waiting since before this time (ISO 8601): the ones ahead of a contact in its queue. */
  waitingBefore?: string;
  /** Sessions opened at or after this time (ISO 8601): a customer's recent contacts. */
  createdSince?: string;
  /** Sessions opened before this time (ISO 8601, exclusive): with `createdSince`, one time window. */
  createdBefore?: string;
  /**
   * Contacts only: leave out sessions that continue a conversation from another channel (issue 12,
   * `movedFrom`), so a customer who switched channel once is one contact, not two.
   */
  contactsOnly?: boolean;
  /**
   * `waiting` (default): longest-waiting first. `priority`: contacts handed over by the AI while no
   * agent was online first (their left messages are seen first on return, issue 10), then highest
   * routing priority (unscored last), then longest-waiting — the order a person works a queue in.
   */
  order?: 'waiting' | 'priority';
  limit?: number;
}

/** An offer to write with a routing decision; with `capacity`, only if the agent has room for it. */
export interface RoutingOffer {
  agentId: string;
  expiresAt: string;
  /**
   * The agent's capacity and this contact's channel kind: the offer is written only while the agent's
   * active sessions plus pending offers (this session not counted) leave room for one more of `kind`
   * under `limits` (capacity per channel kind and the mixed-load rule, `engine.ts roomFor`), decided in
   * the same atomic write, so two routers on one database cannot overfill an agent.
   */
  capacity?: { kind: ChannelKind; limits: Capacity };
}

/** The outcome of `saveRouting`: `applied` is false when the session was taken/closed or the agent was full. */
export interface RoutingSave {
  session: SessionRecord;
  applied: boolean;
}

/**
 * A read of the routing decision log. `partial: true` (issue 14, `HUILIU_STORE=redis`): the shared log
 * on the Redis Cluster did not answer in time, so the read was answered from this node's SQLite only —
 * this node's decisions, none of the other nodes' (docs/store.md "Routing decisions in redis mode").
 * Absent on a complete answer (embedded mode always).
 */
export type LogRead<T> = T[] & { partial?: true };

/** One appended entry of the routing decision log (DESIGN §5 replay). */
export interface RoutingLogEntry {
  /** Position in the log: strictly increasing, never reused. */
  seq: number;
  sessionId: string;
  /** When the entry was written (the store's clock), ISO 8601. */
  at: string;
  /** The config version the entry's offer was made under. */
  configVersion: number;
  decision: RoutingDecision;
}

/**
 * One contact of a window as the what-if replay reads it (issue 11): ids, times, scores and facts from
 * its first decision and its session; nothing sealed, nothing decrypted.
 */
export interface ReplayContact {
  /** The first decision's place in the log (`after` pages with it). */
  seq: number;
  /** When the first decision was logged, ISO 8601. */
  at: string;
  /** The first scoring's time (`decision.decidedAt`); differs from `at` only for decisions logged before issue 7. */
  decidedAt: string;
  sessionId: string;
  channel: ChannelCode;
  status: SessionStatus;
  /** The first decision's skill group, scores and value facts (null: logged before facts were kept). */
  skillGroup: string;
  valueScore: number;
  difficultyScore: number;
  valueFacts: { spend: number; csat: number | null; contacts30d: number } | null;
  /** The agents the first decision named as candidates (who was signed in then). */
  candidateIds: string[];
  assignedAgentId: string | null;
  createdAt: string;
  closedAt: string | null;
  lastMessageAt: string;
  /** When and by whom it left the AI tier (`Handover.at`, `.by`), or null. */
  handover: { at: string; by: string } | null;
}

/** One offer in the decision log: when (the entry's time), which session, to whom. */
export interface LoggedOffer {
  seq: number;
  at: string;
  sessionId: string;
  agentId: string;
}

/** Keyset paging through the decision log in (at, seq) order: the last row of the previous page. */
export interface LogPage {
  after?: { at: string; seq: number };
  /** Rows per page: default 1,000, at most 10,000. */
  limit?: number;
}

/** A hand-over to write (`SessionStore.handOver`). */
export interface HandoverInput {
  handover: Handover;
  /** The conversation summary made for the person who takes it; sealed with the customer's key. */
  summary?: ConversationSummary;
  /** An agent taking the contact over from the AI: it becomes `active` with them in the same write. */
  claimBy?: string;
}

/** A customer as a channel knows them, for facts about a customer who may not have written yet. */
export interface CustomerIdentity {
  channel: ChannelCode;
  /** As stored for that channel (an app's customer: `appExternalId(appId, userId)`). */
  externalId: string;
  /** The name a customer created here starts with (an existing customer's name is not changed). */
  displayName?: string;
}

/** One stored value fact: the value, who set it and when (ISO 8601). */
export interface StoredFact {
  value: number;
  source: StoredFactSource;
  at: string;
}

/** A customer's stored value facts (issue 11), sealed with their data key; an absent fact was never set. */
export interface StoredCustomerFacts {
  /** Purchase spend, ≥ 0, in the deployment's currency. */
  spend?: StoredFact;
  /** Satisfaction as another system measured it, 1..5. */
  csat?: StoredFact;
}

/** Facts to set for one customer: the fields given replace the stored ones, the others stay. */
export interface CustomerFactsUpdate {
  customerId: string;
  spend?: number;
  csat?: number;
  source: StoredFactSource;
}

/** A customer's rating of one closed session (CSAT, issue 11). */
export interface SessionRating {
  sessionId: string;
  customerId: string;
  /** 1..5. */
  score: number;
  /** The customer's comment (decrypted), or null. */
  comment: string | null;
  ratedAt: string;
}

/** What an agent holds: `active` sessions, pending `offered` ones, and both together by channel kind. */
export interface AgentLoad {
  active: number;
  offered: number;
  /** Active plus offered, by channel kind (SIP calls are `voice`, every other channel `chat`). */
  byKind: { chat: number; voice: number };
}

/** A transfer as stored (issue 11), its sealed texts opened. */
export interface TransferRecord {
  id: string;
  sessionId: string;
  customerId: string;
  fromAgentId: string;
  mode: TransferMode;
  status: TransferStatus;
  target: TransferTarget;
  /** The skill group the contact is in once transferred. */
  skillGroup: string;
  /** Warm: the agent it is offered to, and until when (ISO 8601). */
  offeredAgentId: string | null;
  expiresAt: string | null;
  /** The routing decision with `transfer` (trigger `transferred`). */
  decision: RoutingDecision;
  note: string | null;
  summary: ConversationSummary | null;
  declineReason: string | null;
  createdAt: string;
  decidedAt: string | null;
  /** The receiving agent, the sender, or `system`. */
  decidedBy: string | null;
}

/** A transfer to start (`SessionStore.startTransfer`). */
export interface NewTransfer {
  sessionId: string;
  /** The agent the session is `active` with: the write applies only while it still is. */
  fromAgentId: string;
  mode: TransferMode;
  target: TransferTarget;
  skillGroup: string;
  decision: RoutingDecision;
  note?: string;
  summary?: ConversationSummary;
  /**
   * Warm only (a chat): the agent offered it and until when. With `capacity` (the routing config's),
   * only while that agent's chats — active, offered, and pending transfers offered to them — stay
   * below `capacity.chat` (`chatsDuringVoice` while they are on a call), decided in the same write.
   */
  offer?: { agentId: string; expiresAt: string; capacity?: Capacity };
}

/** How a pending transfer ends (`SessionStore.decideTransfer`). */
export type TransferOutcome =
  | { outcome: 'accepted'; by: string }
  | { outcome: 'declined'; by: string; reason?: string }
  /** By its sender, or by `system` (the contact closed or left the sender meanwhile). */
  | { outcome: 'cancelled'; by: string }
  | { outcome: 'expired' };

/** Where `SessionStore.undoTransfer` puts the contact back. */
export interface TransferRestore {
  /** `sender`: active with the agent who transferred it; `queue`: waiting again (nobody holds it). */
  to: 'sender' | 'queue';
  /** The skill group it was in before the transfer. */
  skillGroup: string;
  /** The routing it had before the transfer (logged again); null when it had none. */
  decision: RoutingDecision | null;
}

/** The outcome of a transfer write: `changed` is true for exactly one caller per pending transfer. */
export interface TransferWrite {
  transfer: TransferRecord;
  session: SessionRecord;
  changed: boolean;
}

/**
 * The session store port (DESIGN §2, §4). Adapters encrypt message bodies, metadata and customer
 * PII at rest with per-customer AES-256-GCM data keys wrapped by the KeyProvider. A method that
 * resolves has made its write durable, so callers may ack the sender after it.
 */
export interface SessionStore {
  readonly kind: 'sqlite' | 'redis';
  /**
   * Stores one customer message: finds or creates the customer, conversation and session, assigns
   * `id` and the next gap-free `seq`. Idempotent on (customer, clientMessageId); the same id with
   * other content is an IDEMPOTENCY_CONFLICT. `customerId`: see `InboundOptions`.
   */
  appendInbound(draft: InboundDraft, options: InboundOptions): Promise<InboundResult>;
  /**
   * Issue 14: `appendInbound` without storing the message — the customer, profile and links, and the
   * session it belongs to (found, or opened with continuity), in one atomic write; the session's
   * `lastMessageAt` is now. The caller stores the message in the `ConversationStore` (Redis) and is
   * responsible for its idempotency. `newSession` is true only for the call that opened the session.
   * Present on stores that keep customers and session state beside a conversations port.
   */
  admitInbound?(draft: InboundDraft, options: InboundOptions): Promise<AdmittedInbound>;
  /** Stores one staff/AI message in a session; idempotent on clientMessageId. */
  appendOutbound(input: OutboundInput): Promise<{ envelope: Envelope; duplicate: boolean }>;
  getSession(id: string): Promise<SessionRecord | null>;
  listSessions(filter: SessionFilter): Promise<SessionRecord[]>;
  /**
   * The current routing decision's `candidates` (every agent looked at, and why) of session `sessionId`;
   * null when it has none or the session does not exist. Issue 18: `SessionRecord.routing` comes without
   * them from a store that implements this (they are most of a decision's size and only the session
   * detail view shows them); a store without it keeps them in `routing` itself.
   */
  routingCandidates?(sessionId: string): Promise<RoutingCandidate[] | null>;
  /** How many sessions match (`limit` and `order` are ignored). */
  countSessions(filter: SessionFilter): Promise<number>;
  /**
   * Conversation history in seq order (decrypted), optionally after a seq: the OLDEST `limit` after it.
   * `customerId`: only that customer's messages (what they wrote or were written to) — what a channel
   * shows its customer of a conversation continued across identities (issue 12); `limit` counts those.
   */
  listMessages(conversationId: string, options?: { afterSeq?: number; limit?: number; customerId?: string }): Promise<Envelope[]>;
  /**
   * The NEWEST `limit` messages (default 100, at most 1,000) before `beforeSeq` (default: the end), in
   * seq order — what a person opening a conversation wants to see first; page back with the first
   * seq of the page as the next `beforeSeq`.
   */
  recentMessages(conversationId: string, options?: { beforeSeq?: number; limit?: number }): Promise<MessagePage>;
  /** The conversation's newest message; with `direction`, its newest message of that direction (`in`: the customer's). */
  lastMessage(conversationId: string, options?: { direction?: Direction }): Promise<Envelope | null>;
  getCustomer(id: string): Promise<CustomerRecord | null>;
  findCustomerByIdentity(channel: ChannelCode, externalId: string): Promise<CustomerRecord | null>;
  /** Every change of the customer's name or phone, oldest first (decrypted). */
  profileChanges(customerId: string): Promise<ProfileChange[]>;
  /** The customer's newest session on a channel, open or not. */
  latestSession(customerId: string, channel: ChannelCode): Promise<SessionRecord | null>;
  /**
   * Records the routing decision on a `queued`/`offered` session; with an offer the session becomes
   * `offered`, else `queued`. When applied, the decision is also appended to the decision log in the
   * same atomic write (a re-offer appends a new entry; nothing is overwritten). Not applied (the
   * session was claimed or closed meanwhile, or `offer.capacity` is reached) → the session unchanged
   * and `applied: false`. SESSION_NOT_FOUND for an unknown id.
   *
   * `seen`: the offer the decision was made on (`offeredAgentId` null when the session was queued).
   * When given, the write applies only if the session's pending offer is still that one, so a router
   * deciding on a stale view (another router offered it meanwhile) neither withdraws nor replaces the
   * other router's offer (compare-and-set).
   */
  saveRouting(
    sessionId: string,
    decision: RoutingDecision,
    offer: RoutingOffer | null,
    seen?: { offeredAgentId: string | null },
  ): Promise<RoutingSave>;
  /**
   * Gives a just-scored `queued` session to the AI tier (status `bot`) and logs the decision, in one
   * atomic write. Applies only to a session never routed and never handed over (so nothing returns a
   * session to the AI after a person was asked for); otherwise `applied: false`, session unchanged.
   * SESSION_NOT_FOUND for an unknown id.
   */
  startBot(sessionId: string, decision: RoutingDecision): Promise<RoutingSave>;
  /**
   * Hands a `bot` session to people: `queued` (or `active` with `claimBy`), waiting from now, with the
   * hand-over (and its sealed summary) recorded. `changed` is true for exactly one caller; a session
   * no longer `bot` is returned unchanged. SESSION_NOT_FOUND for an unknown id.
   */
  handOver(sessionId: string, input: HandoverInput): Promise<ClaimResult>;
  /** The summary stored with the session's hand-over (decrypted), or null. */
  handoverSummary(sessionId: string): Promise<ConversationSummary | null>;
  /** The decision log of one session, oldest first. */
  decisions(sessionId: string): Promise<LogRead<RoutingLogEntry>>;
  /**
   * Decision log entries written in [from, to) (ISO 8601), oldest first, at most `limit` (default
   * 1,000, at most 10,000) after `afterSeq`: page a past day with the last entry's seq.
   */
  decisionsBetween(from: string, to: string, options?: { afterSeq?: number; limit?: number }): Promise<LogRead<RoutingLogEntry>>;
  /**
   * The contacts whose first decision (trigger `new`) was logged in [from, to), in log order, with what
   * a what-if replay needs of them (issue 11). Reads only the fields it returns, so a day of 100,000
   * contacts is read in seconds, not a minute. (Decisions logged before issue 7 carry no trigger and
   * count as `new`: a caller drops those whose `decidedAt` is outside the window.)
   */
  replayContacts(from: string, to: string, page?: LogPage): Promise<LogRead<ReplayContact>>;
  /** The offers logged in [from, to), in log order. */
  offersBetween(from: string, to: string, page?: LogPage): Promise<LogRead<LoggedOffer>>;
  /** The agent's active sessions and pending offers, as stored: capacity is derived from this. */
  agentLoad(agentId: string): Promise<AgentLoad>;
  /**
   * Atomically gives a queued/offered session to an agent (OFFER_TAKEN if someone else has it; a
   * `bot` session is taken over with `handOver` and `claimBy`, not here).
   * Idempotent per agent: claiming a session the agent already has answers `changed: false`.
   */
  claim(sessionId: string, agentId: string): Promise<ClaimResult>;
  /** How many sessions are `active` with this agent now: capacity is derived from this, never counted beside it. */
  activeChatCount(agentId: string): Promise<number>;
  close(sessionId: string, agentId: string, wrapUpCode: WrapUpCode, note?: string): Promise<SessionRecord>;
  /**
   * Issue 18: `appendOutbound` of each of `history` to `sessionId`, in order, then `claim` — in one
   * write (on SQLite one transaction and one writer round trip: a picked-up call's `call.answered`
   * line with its claim). Nothing is stored when any part fails. Same answer and errors as `claim`,
   * plus `appendOutbound`'s (IDEMPOTENCY_CONFLICT); messages already stored (same clientMessageId and
   * content) are not stored twice.
   */
  appendAndClaim(sessionId: string, agentId: string, history: readonly HistoryLine[]): Promise<ClaimResult>;
  /**
   * Issue 18: `appendOutbound` of each of `history` to `sessionId`, in order, then `close` — in one
   * write (a hung-up call's `call.ended` line with its close): the lines are in the history before
   * the session is closed, and if a line fails the session stays open. Same answer and errors as
   * `close`, plus `appendOutbound`'s (IDEMPOTENCY_CONFLICT).
   */
  appendAndClose(
    sessionId: string,
    agentId: string,
    wrapUpCode: WrapUpCode,
    note: string | undefined,
    history: readonly HistoryLine[],
  ): Promise<SessionRecord>;
  /**
   * Issue 18: closes a contact the customer left while it waited for a person (`queued`, `offered` or
   * `bot`; a caller who hung up), with no agent and wrap-up code `no-response`. Null when it was not
   * waiting (answered or closed meanwhile): the caller of this decides nothing then.
   */
  abandon(sessionId: string): Promise<SessionRecord | null>;
  /** Takes an active session back from its agent into the queue; null when it is no longer theirs. */
  release(sessionId: string, agentId: string): Promise<SessionRecord | null>;
  /**
   * The customers with these identities, created (with their data key, name and identity, as a first
   * message would) when they do not exist yet, in the order given; `created` says which were new.
   * Concurrent calls (and messages) for one identity agree on one customer.
   * `options.customerIds`: the customer of each identity, in the same order, as the customers port
   * decided them (as `InboundOptions.customerId`); `created` then says whether THIS store's row is new.
   * @throws HuiliuError VALIDATION_FAILED when `customerIds` does not name one customer per identity
   */
  ensureCustomers(
    identities: readonly CustomerIdentity[],
    options?: { customerIds?: readonly string[] },
  ): Promise<{ customerId: string; created: boolean }[]>;
  /**
   * Sets customers' value facts (issue 11), sealed with each one's data key; given fields replace the
   * stored ones, absent fields are kept. One atomic write for the batch.
   * @throws HuiliuError NOT_FOUND when a customer does not exist (or was erased): nothing is written
   */
  putCustomerFacts(updates: readonly CustomerFactsUpdate[]): Promise<void>;
  /** The customer's stored value facts (decrypted); null when none were ever set. */
  customerFacts(customerId: string): Promise<StoredCustomerFacts | null>;
  /**
   * Stores the customer's rating of their closed session, once (issue 11 CSAT); the comment is sealed.
   * @throws HuiliuError SESSION_NOT_FOUND (no such session, or not this customer's), SESSION_NOT_CLOSED,
   *   CSAT_ALREADY_GIVEN (the first rating stands)
   */
  rateSession(input: { sessionId: string; customerId: string; score: number; comment?: string }): Promise<SessionRating>;
  /** The session's rating (comment decrypted), or null. */
  sessionRating(sessionId: string): Promise<SessionRating | null>;
  /**
   * The customer's ratings, newest first: those at or after `since` (ISO 8601; default all), at most
   * `limit` (default 100, at most 1,000). Scores only: comments stay sealed.
   */
  customerRatings(
    customerId: string,
    options?: { since?: string; limit?: number },
  ): Promise<{ sessionId: string; score: number; ratedAt: string }[]>;
  // ── Transfers (issue 11) ──────────────────────────────────────────────────────────────────────
  /**
   * Starts a transfer of an `active` session held by `fromAgentId`, in one atomic write:
   * - cold: the transfer is recorded `routed` and the session goes back to `queued` (no agent,
   *   waiting from now) in `skillGroup` with `decision` as its routing; the router then offers it.
   * - warm: the transfer is recorded `pending`, offered to `offer.agentId` until `offer.expiresAt`,
   *   and `decision` is appended to the decision log; the session does not change.
   * Errors: SESSION_NOT_FOUND, SESSION_CLOSED, NOT_ASSIGNED (not active with `fromAgentId`),
   * TRANSFER_PENDING (the session has a pending transfer), TRANSFER_TARGET_UNAVAILABLE (the offer's
   * capacity is reached).
   */
  startTransfer(input: NewTransfer): Promise<{ transfer: TransferRecord; session: SessionRecord }>;
  /**
   * Ends a pending transfer, in one conditional write (`changed` false and nothing written when it
   * does not apply: not pending any more, another agent's, not expired yet):
   * - `accepted` by the agent it is offered to, before it expires, while the session is still
   *   `active` with the sender: the session is assigned to them, in the transfer's skill group, with
   *   the transfer's decision as its routing. Of concurrent accepts exactly one changes anything.
   * - `declined` by the agent it is offered to; `cancelled` by its sender or `system`;
   *   `expired` once `expiresAt` has passed (the store's clock).
   * TRANSFER_NOT_FOUND for an unknown id.
   */
  decideTransfer(transferId: string, outcome: TransferOutcome): Promise<TransferWrite>;
  /**
   * Issue 18: takes back a cold transfer nobody has taken yet (a blind transfer on the phone whose new
   * call failed before the target answered: the customer is still on the first agent's call), in one
   * conditional write. Applies only while the transfer is `routed` (cold) and its session still waits
   * (`queued`, or `offered` to anyone): the session is then `active` with the transfer's sender
   * (`restore.to: 'sender'`) or `queued` waiting from now (`'queue'`), any offer withdrawn, in
   * `restore.skillGroup` with `restore.decision` as its routing (appended to the decision log, offered
   * to the sender for `'sender'`), and the transfer is `cancelled` by `system`. Otherwise (taken by
   * someone, closed, already undone) nothing is written and `changed` is false.
   * TRANSFER_NOT_FOUND for an unknown id.
   */
  undoTransfer(transferId: string, restore: TransferRestore): Promise<TransferWrite>;
  getTransfer(id: string): Promise<TransferRecord | null>;
  /** A session's transfers, oldest first. */
  transfers(sessionId: string): Promise<TransferRecord[]>;
  /** Pending transfers, oldest first; with `offeredAgentId`, those offered to that agent. */
  pendingTransfers(filter?: { offeredAgentId?: string }): Promise<TransferRecord[]>;

  // ── Continuity (issue 12) ─────────────────────────────────────────────────────────────────────
  /**
   * Merges the group of `mergedId` into the group of `survivorId` (each taken at its root). Nothing is
   * moved or re-sealed: from now on both groups read as one person (sessions, timeline, continuity,
   * identities), and `undoMerge` splits them again exactly as they were.
   * @throws HuiliuError NOT_FOUND (a customer does not exist), MERGE_SAME_CUSTOMER (already one group)
   */
  mergeCustomers(input: { survivorId: string; mergedId: string; by: string; reason: string }): Promise<CustomerMerge>;
  /**
   * Undoes a merge: the merged group is its own person again, with everything it had (conversations
   * joined across the two while merged keep their history, each message with the customer who wrote
   * or was written to). An open session of one side inside a conversation of the other is closed
   * (`detached`), so neither person goes on in the other's conversation. A verified link the two
   * share no longer merges them again.
   * @throws HuiliuError NOT_FOUND (no such merge), MERGE_ALREADY_UNDONE
   */
  undoMerge(mergeId: string, by: string): Promise<{ merge: CustomerMerge; detached: SessionRecord[] }>;
  getMerge(mergeId: string): Promise<CustomerMerge | null>;
  /** The merges that touch the customer's group (its members' own, done or undone), newest first. */
  merges(customerId: string): Promise<CustomerMerge[]>;
  /**
   * Adds a verified link to a customer (an agent verified a phone number). A link the group already
   * has changes nothing.
   * @throws HuiliuError NOT_FOUND, LINK_CONFLICT (another customer has it: `details.customerId` names
   *   them, so the agent can merge instead), VALIDATION_FAILED (a value that is not a phone/e-mail)
   */
  linkIdentity(customerId: string, link: IdentityLink, source: string): Promise<LinkView>;
  /**
   * Contact details a customer typed themselves (issue 13: the web widget's pre-chat form), without a
   * message: the identity's customer is created when new (as a first message would), a `displayName`
   * replaces their name (the change kept, as a message's would), and each link is recorded
   * **untrusted** for this customer when nobody holds it — never merged on, never taken from anyone
   * (docs/continuity.md). Invalid link values are skipped. `source`: who recorded the links.
   * `options.customerId`: the customer the customers port decided (as `InboundOptions.customerId`).
   */
  saveContactDetails(
    identity: ChannelIdentity,
    source: string,
    options?: { customerId?: string },
  ): Promise<{ customerId: string; created: boolean }>;
  /** The customer holding a verified link (the value in any form `normalizeLinkValue` accepts), or null. */
  findCustomerByLink(kind: IdentityLinkKind, value: string): Promise<CustomerRecord | null>;
  /** The ids of the customer's merge group, root first; empty for an unknown customer. */
  customerGroup(customerId: string): Promise<string[]>;
  /** The channel identities and verified links of the customer's whole group (opened). */
  customerIdentities(customerId: string): Promise<{ identities: IdentityView[]; links: LinkView[] }>;
  /**
   * The customer's timeline: messages of every conversation and channel of the group, newest first,
   * `limit` (default 50, at most 200) before the message id `before` (default: the newest).
   */
  timeline(customerId: string, options?: { before?: string; limit?: number }): Promise<TimelinePage>;

  /** Resolves when the store answers a trivial query (readiness probe); rejects when it cannot. */
  ping(): Promise<void>;
  /**
   * Drops whatever decrypted content of these customers this store holds in memory (the opened-
   * payload cache): called on every node when a customer is erased (`customer.erased`, issue 17), so
   * no plaintext of theirs outlives their destroyed data key. Returns how many entries were dropped.
   */
  forgetCached(customerIds: readonly string[]): number;
  /**
   * The opened-payload cache's counters since start (SQLite store): `misses` is how many message payloads
   * were opened (AES-256-GCM) on reads, `hits` how many reads found them opened, or written through by
   * this store's writer; `bytes` held now; `pageBlocks` (SQLite): rows whose payload came from a sealed
   * page block, blocks opened, blocks refused (sessions/page-blocks.ts).
   */
  openedCacheStats?(): { hits: number; misses: number; bytes: number; pageBlocks?: { rows: number; opened: number; refused: number } };
  shutdown(): Promise<void>;
}
