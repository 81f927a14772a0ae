import { z } from 'zod';
import { SessionStatusSchema, WrapUpCodeSchema } from '../api/sessions';
import { DeliveryErrorSchema, DeliveryStateSchema } from '../message/delivery';
import { EnvelopeSchema } from '../message/envelope';
import { ChannelCodeSchema, SessionIdSchema } from '../message/session-id';
import { RoutingTriggerSchema, TierSchema } from '../routing/types';
import { AttachmentIdSchema, OcrViewSchema } from '../api/attachments';
import { AssistSourceSchema, DraftOutcomeSchema, HandoverReasonSchema, HandoverSchema } from '../ai/assist';
import { TransferModeSchema, TransferStatusSchema, TransferTargetSchema } from '../api/transfers';

/**
 * Events (DESIGN §1 "Events"): facts that already happened and are durable in the session store,
 * declared once here so the bus, audit, metrics and idempotent consumers share one shape. Every
 * event is `{id, type, at, actor, sessionId?, conversationId?, payload}`; `type` picks the payload
 * schema. Payloads carry what consumers need to act (Chatwoot's push_event_data style), so a
 * consumer that only pushes does not read the store again.
 *
 * Adding an event type: one schema below + one entry in `EVENT_SCHEMAS`; the bus validates it on
 * publish from then on.
 */

/** Staff user ids (the same bound as `Envelope.authorId`). */
export const StaffIdSchema = z.string().min(1).max(64);

/**
 * Who caused the event: the customer, the system (router, timers), the AI tier, or a staff user by id.
 * The named actors are listed first so a reader sees them; any other string is a staff user id.
 */
export const ActorSchema = z.union([z.enum(['customer', 'system', 'ai']), StaffIdSchema]);
export type Actor = z.infer<typeof ActorSchema>;

const IsoTime = z.iso.datetime({ offset: true });

/**
 * The session facts a push needs without reading the store (where it is, who has it, whose it is,
 * and what its queue row shows besides the customer and the last message), as they were when the
 * event was published.
 */
export const SessionFactsSchema = z.object({
  status: SessionStatusSchema,
  channel: ChannelCodeSchema,
  customerId: z.uuid(),
  skillGroup: z.string().min(1),
  assignedAgentId: StaffIdSchema.nullable(),
  offeredAgentId: StaffIdSchema.nullable(),
  /** ISO 8601; set while `status` is `offered`. */
  offerExpiresAt: IsoTime.nullable(),
  /** The routing decision's tier and priority; null until the session is routed. */
  tier: TierSchema.nullable(),
  priority: z.number().nullable(),
  createdAt: IsoTime,
  /** Since when the contact has been waiting (reset when it goes back to the queue). */
  waitingSince: IsoTime,
  lastMessageAt: IsoTime,
  /** The hand-over from the AI tier, once there was one (issue 10). */
  handover: HandoverSchema.nullable().optional(),
  /** The session of another channel this one carries the conversation on from (issue 12). */
  movedFrom: SessionIdSchema.optional(),
  /**
   * When the session was last written as these facts show it (the store's `updatedAt`: a state change or
   * a message). Orders changes that arrive out of order: an event is stamped when it is published, which
   * can be after a later change was stored and published (a router awaiting the cluster copy of its
   * decision while a lead took the contact).
   */
  updatedAt: IsoTime.optional(),
});
export type SessionFacts = z.infer<typeof SessionFactsSchema>;

/**
 * Why a session changed: `routed` (the router decided: offered or still queued; `trigger` says what
 * made it decide), `accepted` (an agent took the offer), `closed` (wrapped up), `released` (its agent
 * left and it went back to the queue; a `routed` event follows), `handed-over` (the AI tier passed
 * it to a person — `status` is `queued`; a `routed` event follows).
 */
/** `moved`: the customer went on in the conversation from another channel (issue 12; see `movedTo`/`movedFrom`). */
export const SessionChangeReasonSchema = z.enum(['routed', 'accepted', 'closed', 'released', 'handed-over', 'moved']);
export type SessionChangeReason = z.infer<typeof SessionChangeReasonSchema>;

const base = {
  /** UUIDv7: time-ordered, the idempotency key of every consumer. */
  id: z.uuid({ version: 'v7' }),
  /** ISO 8601 with offset: when the fact happened (the server's clock). */
  at: z.iso.datetime({ offset: true }),
  actor: ActorSchema,
  sessionId: SessionIdSchema.optional(),
  conversationId: z.uuid().optional(),
};

/**
 * A customer message was stored (seq assigned). `newSession` when it opened a session.
 * `customerName`: the name the message's channel gave for the customer, which the store kept as the
 * customer's name (later details win, C10); absent when the channel gave none (the name is then
 * unchanged). Consumers that show the customer keep their copy of the name current with it.
 */
export const MessageInEventSchema = z.object({
  ...base,
  type: z.literal('message.in'),
  sessionId: SessionIdSchema,
  conversationId: z.uuid(),
  payload: z.object({
    envelope: EnvelopeSchema,
    newSession: z.boolean(),
    session: SessionFactsSchema,
    customerName: z.string().min(1).max(128).optional(),
    /** The session of another channel this message's new session carries the conversation on from (issue 12). */
    movedFrom: SessionIdSchema.optional(),
  }),
});

/** A staff, AI or system message was stored and must reach the customer's channel. */
export const MessageOutEventSchema = z.object({
  ...base,
  type: z.literal('message.out'),
  sessionId: SessionIdSchema,
  conversationId: z.uuid(),
  payload: z.object({ envelope: EnvelopeSchema, session: SessionFactsSchema }),
});

/**
 * Something was read from a stored message after it was stored (issue 10: the text OCR found in a
 * customer's image). `ocr.text` is masked (phones, IDs, cards, e-mails) like every staff view of it: the
 * raw text stays sealed in the attachment store. `session` (as the message's `message.in` carried it)
 * names the agent to push to.
 */
export const MessageAnnotatedEventSchema = z.object({
  ...base,
  type: z.literal('message.annotated'),
  sessionId: SessionIdSchema,
  conversationId: z.uuid(),
  payload: z.object({
    messageId: z.uuid(),
    attachmentId: AttachmentIdSchema,
    ocr: OcrViewSchema,
    session: SessionFactsSchema,
  }),
});

/** A session changed state; the payload is its state after the change. */
export const SessionChangedEventSchema = z.object({
  ...base,
  type: z.literal('session.changed'),
  sessionId: SessionIdSchema,
  conversationId: z.uuid(),
  payload: SessionFactsSchema.extend({
    reason: SessionChangeReasonSchema,
    trigger: RoutingTriggerSchema.optional(),
    /** The agent whose pending offer this change withdrew (timed out, agent gone, taken by another). */
    offerWithdrawnFrom: StaffIdSchema.optional(),
    /** Reason `moved` (issue 12): the closed session's successor on the customer's new channel … */
    movedTo: SessionIdSchema.optional(),
    /** … and, on the successor, the session it took over. */
    movedFrom: SessionIdSchema.optional(),
    /** Reason `closed` by its agent: the wrap-up code picked (issue 16: the KPIs' disposition). */
    wrapUpCode: WrapUpCodeSchema.optional(),
    /** … and whether the agent marked it resolved on first contact (issue 15; absent: code `resolved`). */
    resolvedOnFirstContact: z.boolean().optional(),
  }),
});

/**
 * Two customers were merged into one person, or a merge was undone (issue 12). The audit record of
 * who did it (`actor`: a staff id, or `system` for a merge on a verified link) and why; ids only.
 */
export const CustomerMergedEventSchema = z.object({
  ...base,
  type: z.literal('customer.merged'),
  payload: z.object({
    mergeId: z.uuid(),
    survivorId: z.uuid(),
    mergedId: z.uuid(),
    reason: z.string().min(1).max(64),
    undone: z.boolean(),
  }),
});

/**
 * A customer's data was erased (issue 17, GDPR Art. 17 / PIPL): their data keys are destroyed, so
 * whatever was sealed with them is unreadable everywhere. Fan-out: every node tells its agent sockets,
 * and desktops drop what they cached of these customers. Ids only.
 */
export const CustomerErasedEventSchema = z.object({
  ...base,
  type: z.literal('customer.erased'),
  payload: z.object({
    /** The privacy request that was executed. */
    requestId: z.uuid(),
    /** The customer and the other members of their merge group, all erased. */
    customerIds: z.array(z.uuid()).min(1).max(1000),
  }),
});

/**
 * An outbound message's delivery state changed (the outbound dispatcher recorded what its channel
 * answered). The workstation shows it on the agent's bubble; `session` (as the reply's `message.out`
 * carried it) names the agent to push to without a store read.
 */
export const DeliveryChangedEventSchema = z.object({
  ...base,
  type: z.literal('delivery.changed'),
  sessionId: SessionIdSchema,
  conversationId: z.uuid(),
  payload: z.object({
    messageId: z.uuid(),
    channel: ChannelCodeSchema,
    state: DeliveryStateSchema,
    error: DeliveryErrorSchema.optional(),
    session: SessionFactsSchema,
  }),
});

/**
 * Something the AI did in a conversation (DESIGN §8: every AI action is audited; the audit log of the
 * security issue stores these). Facts only — ids, labels, numbers — never the customer's or the AI's
 * text, which stays sealed in the session store.
 * - `answered`: an auto-answer was sent (`messageId`, `intent`, `confidence`, `entryId`);
 * - `clarified`: the AI asked which of two close intents was meant (`candidates`);
 * - `handed-over`: the contact left the AI for a person (`reason`);
 * - `drafted`: an assisted-tier draft was made (`draftId`, `source`);
 * - `draft-used`: what the agent did with it (`draftId`, `outcome`, `actor` = the agent);
 * - `suggested`: suggested replies were shown (`count`); `summarized`: a summary was made (`by`).
 */
export const AiActedEventSchema = z.object({
  ...base,
  type: z.literal('ai.acted'),
  sessionId: SessionIdSchema,
  conversationId: z.uuid(),
  payload: z.object({
    action: z.enum(['answered', 'clarified', 'handed-over', 'drafted', 'draft-used', 'suggested', 'summarized']),
    messageId: z.uuid().optional(),
    intent: z.string().max(128).nullable().optional(),
    confidence: z.number().min(0).max(1).nullable().optional(),
    entryId: z.string().max(64).optional(),
    candidates: z.array(z.string().max(128)).max(5).optional(),
    reason: HandoverReasonSchema.optional(),
    draftId: z.string().max(64).optional(),
    source: AssistSourceSchema.optional(),
    outcome: DraftOutcomeSchema.optional(),
    count: z.number().int().min(0).optional(),
    by: z.string().max(32).optional(),
    session: SessionFactsSchema,
  }),
});

/**
 * A transfer (issue 11) was made or changed: `pending` (warm, offered to `offeredAgentId`), `routed`
 * (cold), `accepted`, `declined`, `expired`, `cancelled`. The audit record of every transfer and
 * what the agent hubs push (`transfer:offered`, `transfer:updated`). Facts only: the note, the
 * decline reason and the summary stay sealed in the session store. `actor`: who did it (`system`
 * for a time-out, or a contact that closed meanwhile). `session`: the session after the change.
 */
export const TransferChangedEventSchema = z.object({
  ...base,
  type: z.literal('transfer.changed'),
  sessionId: SessionIdSchema,
  conversationId: z.uuid(),
  payload: z.object({
    transferId: z.uuid(),
    mode: TransferModeSchema,
    status: TransferStatusSchema,
    fromAgentId: StaffIdSchema,
    target: TransferTargetSchema,
    skillGroup: z.string().min(1),
    offeredAgentId: StaffIdSchema.nullable(),
    expiresAt: IsoTime.nullable(),
    session: SessionFactsSchema,
  }),
});

/**
 * The customer started or stopped typing (issue 12: XMPP chat states, XEP-0085). **Volatile**, unlike
 * every other event here: a signal, not a fact of the session store — never stored, never audited,
 * published only as fan-out for the agent hubs to push `customer:typing` to the session's assigned
 * agent, and dropped rather than queued or retried (DESIGN §7: typing is non-critical). `session`:
 * the session's facts when the signal came, naming the agent.
 */
export const CustomerTypingEventSchema = z.object({
  ...base,
  type: z.literal('customer.typing'),
  sessionId: SessionIdSchema,
  conversationId: z.uuid(),
  payload: z.object({ typing: z.boolean(), session: SessionFactsSchema }),
});

/**
 * The assigned agent started or stopped typing a reply (issue 13, `agent:typing`). **Volatile** like
 * `customer.typing`: fan-out only, never stored or audited, dropped rather than retried; the web
 * channel shows it in the visitor's widget (other channels ignore it). `session`: the session's facts
 * (its channel and customer pick the widget tabs without a store read).
 */
export const AgentTypingEventSchema = z.object({
  ...base,
  type: z.literal('agent.typing'),
  sessionId: SessionIdSchema,
  conversationId: z.uuid(),
  payload: z.object({ typing: z.boolean(), session: SessionFactsSchema }),
});

/**
 * Who views a conversation on one server node (issue 15, docs/collision.md "Several nodes"): that
 * node's viewers of the session, one entry per person (`via` as in `session:viewers`), published by
 * the node whenever its list changes, again every `ttlMs / 3` while it is not empty, and empty when
 * its last viewer left. The other nodes merge it into the lists they push to their own sockets and
 * forget it `ttlMs` after its last news (a node that died). Ephemeral like typing: not in the store,
 * fan-out only.
 */
export const SessionViewingEventSchema = z.object({
  ...base,
  type: z.literal('session.viewing'),
  sessionId: SessionIdSchema,
  payload: z.object({
    /** The publishing node (random per process start). */
    nodeId: z.string().min(1).max(64),
    /** How long the list holds without news, ms. */
    ttlMs: z.number().int().min(1000).max(600_000),
    viewers: z.array(z.object({ id: StaffIdSchema, name: z.string().max(200), via: z.enum(['workstation', 'supervising']) })).max(200),
  }),
});

/**
 * A read mark of a conversation moved forward (issue 13): `side: agent` — staff read the customer's
 * messages up to `upToSeq` (`session:read`; the widget shows "Read"); `side: customer` — the visitor
 * saw the replies up to it (their delivery states became `read`). Marks are stored and never move
 * back; this event only tells the nodes (fan-out). `session`: the session the mark was made in.
 */
export const ConversationReadEventSchema = z.object({
  ...base,
  type: z.literal('conversation.read'),
  sessionId: SessionIdSchema,
  conversationId: z.uuid(),
  payload: z.object({ side: z.enum(['agent', 'customer']), upToSeq: z.number().int().min(0), session: SessionFactsSchema }),
});

/**
 * A response was not given within its SLA policy's target of business time (issue 16, docs/sla.md):
 * `kind` `first` (no agent reply since the contact queued) or `next` (a later customer message left
 * unanswered). Published once per breach (the KPI log's fact id is the guard, across nodes and
 * restarts); `actor` is `system`. `startedAt`: when the clock started; `dueAt`: when it ran out.
 */
export const SlaBreachedEventSchema = z.object({
  ...base,
  type: z.literal('sla.breached'),
  sessionId: SessionIdSchema,
  conversationId: z.uuid(),
  payload: z.object({
    kind: z.enum(['first', 'next']),
    targetSeconds: z.number().int().min(1),
    startedAt: IsoTime,
    dueAt: IsoTime,
    /** The policy that applied: its skill group and channel (`*` = any). */
    policy: z.object({ skillGroup: z.string().min(1).max(64), channel: z.string().min(1).max(2) }),
    session: SessionFactsSchema,
  }),
});

/**
 * An internal note or a lead's whisper was added to a conversation (issues 15, 16;
 * api/supervision.ts): a `staff.note` event message, stored. Fan-out: each node pushes it to the
 * contact's agent and to the leads supervising it. Never consumed by the outbound dispatcher — a
 * note is not a `message.out`.
 */
export const NoteAddedEventSchema = z.object({
  ...base,
  type: z.literal('note.added'),
  sessionId: SessionIdSchema,
  conversationId: z.uuid(),
  payload: z.object({ envelope: EnvelopeSchema, session: SessionFactsSchema }),
});

/** One schema per event type: the bus validates every published event against its entry. */
export const EVENT_SCHEMAS = {
  'message.in': MessageInEventSchema,
  'message.out': MessageOutEventSchema,
  'message.annotated': MessageAnnotatedEventSchema,
  'session.changed': SessionChangedEventSchema,
  'delivery.changed': DeliveryChangedEventSchema,
  'ai.acted': AiActedEventSchema,
  'transfer.changed': TransferChangedEventSchema,
  'customer.merged': CustomerMergedEventSchema,
  'customer.erased': CustomerErasedEventSchema,
  'customer.typing': CustomerTypingEventSchema,
  'agent.typing': AgentTypingEventSchema,
  'session.viewing': SessionViewingEventSchema,
  'conversation.read': ConversationReadEventSchema,
  'sla.breached': SlaBreachedEventSchema,
  'note.added': NoteAddedEventSchema,
} as const;

export type EventType = keyof typeof EVENT_SCHEMAS;
export const EVENT_TYPES = Object.keys(EVENT_SCHEMAS) as EventType[];

/** Every event, discriminated by `type`. */
export const BusEventSchema = z.discriminatedUnion('type', [
  MessageInEventSchema,
  MessageOutEventSchema,
  MessageAnnotatedEventSchema,
  SessionChangedEventSchema,
  DeliveryChangedEventSchema,
  AiActedEventSchema,
  TransferChangedEventSchema,
  CustomerMergedEventSchema,
  CustomerErasedEventSchema,
  CustomerTypingEventSchema,
  AgentTypingEventSchema,
  ConversationReadEventSchema,
  SlaBreachedEventSchema,
  NoteAddedEventSchema,
]);
export type BusEvent = z.infer<typeof BusEventSchema>;
/** The event of one type. */
export type EventOf<T extends EventType> = z.infer<(typeof EVENT_SCHEMAS)[T]>;
/** What a publisher supplies; `id` and `at` are stamped when the event is made (see the server's `newEvent`). */
export type EventDraft<T extends EventType> = Omit<EventOf<T>, 'id' | 'at' | 'type'>;
