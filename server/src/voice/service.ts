import type { UserView } from '../../../common/api/auth';
import type { VoiceEventRequest, VoiceRouteRequest, VoiceRouteResponse } from '../../../common/api/voice';
import { HuiliuError } from '../../../common/errors/codes';
import type { InboundDraft } from '../../../common/message/envelope';
import type { Bus } from '../bus/bus';
import { sessionChanged } from '../bus/events';
import type { ConversationService } from '../conversations/service';
import type { TransferService } from '../conversations/transfers';
import type { Ingest } from '../gateway/ingest';
import type { KpiEvent } from '../kpis/events';
import { kpiEvent } from '../kpis/events';
import type { KpiEventLog } from '../kpis/log.sqlite';
import type { Logger } from '../logging/logger';
import type { Router } from '../routing/router';
import type { HistoryLine, SessionRecord, SessionStore } from '../sessions/store';
import { callKey, callerOf } from './caller';
import type { HeardUtterance } from './media-tap';
import { transcriptMeta } from '../../../common/message/transcript';
import type { SessionFacts } from '../../../common/events/events';
import type { RoutingDecision } from '../../../common/routing/types';

export interface VoiceServiceDeps {
  store: SessionStore;
  ingest: Ingest;
  bus: Bus;
  /** `recall` (a blind transfer's target did not answer: back to the transferring agent); absent: the queue as any missed offer. */
  router: Pick<Router, 'declined' | 'settle'> & Partial<Pick<Router, 'recall'>>;
  conversations: Pick<ConversationService, 'acceptRecord' | 'closeRecord' | 'handOver' | 'standing'>;
  /**
   * Attended transfer (`consult` → `transferred` events): the call's session moves to the consulted agent
   * as a cold transfer (issue 11's use case); absent: the new call is still tied to the session, which stays
   * with its agent until the consulted agent's phone answers (the accept). A blind transfer moves the session
   * at the customer's INVITE the same way, and `undoCold` takes it back when that INVITE fails unanswered.
   */
  transfers?: Pick<TransferService, 'transfer' | 'undoCold'>;
  /** The staff directory: agents by id (offers name ids) and by username (SIP users are usernames). */
  staff: { userById(id: string): UserView | null; listStaff(): UserView[] };
  /** Skill group ids: a dialled user part naming one (`sip:vip@…`) routes there. */
  skillGroups: readonly string[];
  /** Where calls to any other number go. */
  defaultSkillGroup: string;
  /** The contact event log (issue 16): `call.*` facts with their durations. */
  kpis?: Pick<KpiEventLog, 'appendSoon'>;
  logger: Logger;
  now?: () => number;
  /**
   * How long `route` waits on a new call for the router to offer it (ms): an agent about to be free
   * (hanging up, wrap-up ending) takes it now instead of after the caller's next queue poll.
   */
  decisionWaitMs?: number;
  /** How long an agent's phone rings (s); Kamailio's RING_MS should match. */
  ringSeconds?: number;
  /** How often a queued caller asks again (s); Kamailio's QUEUE_POLL_S should match. */
  retrySeconds?: number;
  /**
   * Live transcripts (docs/voice.md): starts the server-side media tap of an answered call (SIP
   * Call-ID), which calls `onHeard` per utterance; absent (no ASR engine): calls are not transcribed.
   */
  transcribe?: (callId: string, onHeard: (heard: HeardUtterance) => Promise<void>) => { stop(): Promise<void> };
  /** Longest wait at a call's end for its last utterance to be transcribed before the session closes (ms, default 30,000). */
  transcriptDrainMs?: number;
  /** How long the edge's `ended` post waits for a transcribed call's close before it is answered (ms, default 500). */
  endedAnswerMs?: number;
  /**
   * How long a blind transfer's REFER waits for the customer's INVITE that follows it (ms, default 32,000:
   * RFC 3261 Timer B; config `voice.referFollowSeconds`). Past it the REFER is forgotten: a later INVITE
   * with Referred-By is a new call, and a call whose old leg already hung up ends (docs/voice.md).
   */
  referFollowMs?: number;
  /**
   * Liveness (docs/voice.md "Liveness"): whether an answered call is still up in rtpengine. A call that
   * rtpengine knew and then forgot (no media for its `timeout`) while the server never heard its end is
   * ended here (`call.ended` with `lost: "no-media"`), so its agent is free again. Absent: no check.
   */
  liveness?: { check(callId: string): Promise<'up' | 'gone' | 'unknown'> };
  /** How often answered calls are checked (ms, default 15,000; config `voice.livenessSeconds`); 0: never. */
  livenessMs?: number;
}

/** The SIP side's view of a call (issue 18). Kamailio drives it: see deploy/kamailio/kamailio.cfg. */
export interface VoiceService {
  /** Where a call goes now: an agent to ring, the queue, or a refusal. Errors: SESSION_NOT_FOUND (`retry` of an unknown session). */
  route(request: VoiceRouteRequest): Promise<VoiceRouteResponse>;
  /** Records a call event and applies it (answer = accept, no answer = next agent, end = close). SESSION_NOT_FOUND. */
  event(request: VoiceEventRequest): Promise<{ sessionId: string; status: SessionRecord['status'] }>;
  /**
   * Checks every answered call on this node once (`liveness`) and ends those rtpengine forgot; resolves
   * with how many it ended. Runs by itself every `livenessMs`; exposed for tests and operators.
   */
  sweepLiveness?(): Promise<number>;
  /** Stops the liveness timer. */
  close?(): void;
}

/** A call's times on this node (ms), for the durations in the history and the KPI log. */
interface CallTimes {
  invitedAt: number;
  /** The caller as the INVITE named them: transcript messages come from the same identity. */
  identity?: InboundDraft['identity'];
  /**
   * The running media taps (live transcripts), one per answered leg by its call key: after a transfer
   * the customer's new call is transcribed while the old leg's tap drains (docs/voice.md).
   */
  taps?: Map<string, { stop(): Promise<void> }>;
  ringingAt?: number;
  /** The call's first answer (ms since the epoch): talk time runs from it, across transfers and recalls. */
  answeredAt?: number;
  /** When the current leg (`callId`) was answered: a repeat of its answer keeps it; a new leg is answered anew. */
  legAnsweredAt?: number;
  /**
   * `call.ringing` history events not yet written, by their idempotency key: written together with the
   * call's next event (answered, missed or ended) in the same writer round trip instead of one each.
   */
  ringing?: Map<string, Record<string, number | string>>;
  /** Set by the call's first `ended`: a repeated post does not end it twice (cleared when that end failed). */
  ending?: boolean;
  /** The SIP Call-ID of the leg last answered: what the liveness check asks rtpengine about. */
  callId?: string;
  /** rtpengine knew the call at a liveness check (`up`), or never did (`none`: not anchored, never checked again). */
  media?: 'up' | 'none';
  /** Why the call was ended without its hang-up (`no-media`), written into `call.ended`. */
  lost?: string;
  /**
   * The session as this service last knew it (issue 18): from its own reads and writes, then each
   * `session.changed` of it (`known`). A ringing or answered post starts from it instead of a read.
   */
  session?: SessionRecord;
}

/**
 * How long the edge's `ended` post waits for a transcribed call's close (ms): past it the answer goes
 * back at once and the close follows the last utterances (docs/voice.md "Live transcripts").
 */
const ENDED_ANSWER_MS = 500;

/** How long the voice service trusts a staff view it read (ms). */
const STAFF_VIEW_MS = 1_000;

/** Calls tracked at once; older entries go first (a node restart loses them: durations then count from the session's times). */
const MAX_TRACKED_CALLS = 10_000;

/** Calls one agent is known to be on at once (`onCall`); the oldest is forgotten past it. */
const MAX_CALLS_PER_AGENT = 8;

/** A blind transfer asked for (the agent's REFER), until the customer's INVITE follows it. */
interface Referral {
  sessionId: string;
  /** The call key of the leg the REFER came in. */
  key: string;
  callId: string;
  fromAgentId: string;
  /** The Refer-To user: an agent's username or a skill group. */
  target: string;
  /** When it is forgotten (ms since the epoch). */
  until: number;
  timer?: NodeJS.Timeout;
  /** The old leg hung up before the INVITE came. */
  legEnded?: boolean;
}

/**
 * An attended transfer asked for (the customer's INVITE with Replaces rings the consulted agent), until
 * that INVITE is answered (the session moves then) or fails (nothing moved: `transfer_failed`).
 */
interface AttendedPending {
  sessionId: string;
  /** The new leg's SIP Call-ID (the customer's INVITE with Replaces). */
  callId: string;
  /** The customer's leg the transfer replaces (call key): the call goes on there if the new leg fails. */
  oldKey: string;
  fromAgentId: string;
  targetId: string;
  /** The move, once the consulted agent's phone answered (a repeated answer post waits for the same one): whether it moved. */
  answering?: Promise<boolean>;
  /** The old leg hung up while the new one rang: a failure then ends the call. */
  oldLegEnded?: boolean;
  /** That old leg's SIP Call-ID (what the failure's end of the call names). */
  oldCallId?: string;
  timer?: NodeJS.Timeout;
}

/**
 * A blind transfer made (the customer's INVITE with Referred-By moved the session to the target), by the
 * new leg's call key, until that leg is answered (the transfer stands) or fails unanswered (the transfer
 * is undone: the customer is still on the old leg with the first agent).
 */
interface BlindLeg {
  sessionId: string;
  /** The new leg's SIP Call-ID. */
  callId: string;
  /** The customer's old leg (call key and SIP Call-ID): the session's call again if the new leg fails. */
  oldKey: string;
  oldCallId: string;
  fromAgentId: string;
  /** The Refer-To user: an agent's username or a skill group. */
  target: string;
  /** The cold transfer that moved the session; null when none was made (no transfer service, the session not with the first agent). */
  transferId: string | null;
  /** The session's skill group and routing before the transfer: what the undo puts back. */
  before: { skillGroup: string; routing: RoutingDecision | null };
  /** The old leg hung up (before the INVITE came, or while the new leg rang): a failure then ends the call. */
  oldLegEnded?: boolean;
  /** The undo under way (a repeated failure post waits for the same one). */
  undoing?: Promise<{ sessionId: string; status: SessionRecord['status'] }>;
}

/** How long a REFER waits for the customer's INVITE that follows it (ms): RFC 3261 Timer B (64 × T1) is 32 s. */
const REFER_FOLLOW_MS = 32_000;

/**
 * The key a blind transfer is remembered by until the customer's INVITE follows: the caller's identity
 * and the Refer-To target. An anonymous caller (RFC 3323: `anonymous@anonymous.invalid`, a new identity
 * each call) has none to match: their INVITE is matched by the agent its Referred-By names instead.
 */
function referralKey(externalId: string, target: string, referrer: string): string {
  return externalId === 'anonymous' || externalId.startsWith('anonymous:') ? `anonymous|${referrer}|${target}` : `${externalId}|${target}`;
}

/**
 * `promise`'s value, or `undefined` once `ms` (milliseconds) passed first; its timer is cleared either
 * way. A rejection of `promise` within the time rejects; a later one is the caller's to handle.
 */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The dialled user part of a To/R-URI (`sip:vip@host` → `vip`), lower-cased, or null. */
function dialled(uri: string | undefined): string | null {
  const m = /^(?:sips?):([^@;?>]+)@/i.exec((uri ?? '').replace(/^.*</, '').trim());
  return m ? m[1]!.toLowerCase() : null;
}

/**
 * Builds the voice use cases (issue 18). A call is a contact like any other: its INVITE becomes the first
 * message (an `event`, `call.incoming`) of a session with an `SP` id, stored and published through the
 * one ingest path, so the same router scores it, picks the tier and skill group and offers it to an agent
 * with voice capacity (1 call, routing config `capacity.voice`). Ringing the agent's phone is the offer:
 * picking up accepts it, a ring time-out or a refusal declines it (the router offers the next agent), and
 * the caller waits in the queue with their position meanwhile.
 */
export function createVoiceService(deps: VoiceServiceDeps): VoiceService {
  const now = deps.now ?? Date.now;
  const log = deps.logger.child({ component: 'voice' });
  const decisionWaitMs = deps.decisionWaitMs ?? 1_000;
  const ringSeconds = deps.ringSeconds ?? 15;
  const retrySeconds = deps.retrySeconds ?? 2;
  const calls = new Map<string, CallTimes>();
  /** Session ids by call key (`callKey(Call-ID)`): a BYE names only its Call-ID. As bounded as `calls`. */
  const byCall = new Map<string, string>();
  /**
   * The SP calls each agent is on (agent id → session and call key, the latest answered last), from
   * `answered` to `ended`. Usually one (voice capacity is at most 1), but an agent who took a new call
   * while a blind transfer of theirs was ringing holds two once it fails and comes back (review5): each
   * is checked for liveness (`sweep`); a consult call's origin is the latest.
   */
  const onCall = new Map<string, { sessionId: string; key: string }[]>();
  /**
   * `agentId` is on the call of `sessionId` on leg `key` (a session's earlier leg is replaced): the
   * latest of theirs, or with `back` the earliest (a call given back to them while they may be talking
   * on another: the one they talk on stays a consult's origin).
   */
  function putOnCall(agentId: string, sessionId: string, key: string, back = false): void {
    const held = (onCall.get(agentId) ?? []).filter((c) => c.sessionId !== sessionId);
    // Over the bound, the call they answered longest ago goes (before this one is put, wherever it goes).
    while (held.length >= MAX_CALLS_PER_AGENT) held.shift();
    if (back) held.unshift({ sessionId, key });
    else held.push({ sessionId, key });
    bounded(onCall, agentId, held);
  }
  /** The call of `sessionId` that `agentId` is on, if they are. */
  const callOfAgent = (agentId: string, sessionId: string) => onCall.get(agentId)?.find((c) => c.sessionId === sessionId);
  /** `agentId` is no longer on the call of `sessionId` (it ended or moved to someone else). */
  function offCall(agentId: string, sessionId: string): void {
    const held = onCall.get(agentId)?.filter((c) => c.sessionId !== sessionId);
    if (!held?.length) onCall.delete(agentId);
    else onCall.set(agentId, held);
  }
  /** Consult calls (call key → the customer's call the consulting agent held), until the consult ends or replaces it. */
  const consults = new Map<string, { sessionId: string; key: string; fromAgentId: string }>();
  /** Customer legs a transfer replaced (call key → session): their BYE ends the leg, not the session. */
  const replaced = new Map<string, string>();
  /**
   * Attended transfers asked for and not answered yet, by the new leg's call key (the customer's INVITE
   * with Replaces): the session moves when the consulted agent's phone answers that leg (`answered`);
   * until then it stays with the first agent, who still has the customer on hold, so a failed INVITE
   * (`transfer_failed`) has nothing to undo.
   */
  const attendedPending = new Map<string, AttendedPending>();
  /**
   * Blind transfers asked for (a REFER seen in the customer's call), by `<caller externalId>|<target>`
   * (target: the Refer-To user, an agent's username or a skill group), until the customer's INVITE with
   * Referred-By follows (`referFollowMs`; `timer` forgets it then). `legEnded`: the old leg hung up before the INVITE came.
   */
  const referrals = new Map<string, Referral>();
  const referFollowMs = deps.referFollowMs ?? REFER_FOLLOW_MS;
  /**
   * Blind transfers made (the customer's new call rings the target), by session id, until someone answers
   * it: a target who does not answer recalls the call to the agent who transferred it (`no-answer`).
   */
  const blindPending = new Map<string, { fromAgentId: string; target: string }>();
  /**
   * Blind transfers whose new leg rings (or waits in the target's queue), by the new leg's call key, until
   * it is answered (`answered` forgets it) or fails (`ended` before the answer: `blindFailed` undoes it).
   */
  const blindLegs = new Map<string, BlindLeg>();
  /** New legs of blind transfers that failed and were undone (call key → session id): a repeated failure post changes nothing. */
  const undoneLegs = new Map<string, string>();

  /** Bounded like `calls`: the oldest entry goes first. */
  function bounded<V>(map: Map<string, V>, key: string, value: V): void {
    if (!map.has(key) && map.size >= MAX_TRACKED_CALLS) map.delete(map.keys().next().value!);
    map.set(key, value);
  }

  function track(sessionId: string, times: CallTimes): CallTimes {
    if (!calls.has(sessionId) && calls.size >= MAX_TRACKED_CALLS) calls.delete(calls.keys().next().value!);
    calls.set(sessionId, times);
    return times;
  }

  const timesOf = (s: SessionRecord): CallTimes => calls.get(s.id) ?? track(s.id, { invitedAt: Date.parse(s.createdAt) });

  /**
   * Staff views by id, each kept `STAFF_VIEW_MS`: a call asks for its agent on the route and on every
   * event (4+ directory reads, each a query and a roles check, issue 18). A disabled or renamed agent
   * is seen at most that much later.
   */
  const views = new Map<string, { user: UserView | null; until: number }>();
  function staffById(id: string): UserView | null {
    const t = now();
    const kept = views.get(id);
    if (kept && kept.until > t) return kept.user;
    const user = deps.staff.userById(id);
    bounded(views, id, { user, until: t + STAFF_VIEW_MS });
    return user;
  }

  /** Staff ids by username (SIP users are usernames): one indexed read per lookup instead of listing every user. */
  const idByUsername = new Map<string, string>();
  function userByName(username: string | undefined): UserView | null {
    if (!username) return null;
    const known = idByUsername.get(username);
    const user = known ? staffById(known) : null;
    if (user?.username === username) return user;
    // Unknown, renamed or disabled: the directory again (a disabled user is not in it).
    idByUsername.clear();
    views.clear();
    for (const u of deps.staff.listStaff()) idByUsername.set(u.username, u.id);
    const id = idByUsername.get(username);
    return id ? staffById(id) : null;
  }

  /** A call event as a history line (staff see it; never sent to the caller). Idempotent on `key`. */
  const line = (key: string, name: string, data: Record<string, number | string>): HistoryLine => ({
    authorId: null,
    authorKind: 'system',
    clientMessageId: `${name}:${key}`,
    content: { kind: 'event', body: { name, data } },
    critical: false,
  });

  /** A call event in the session's history, written now; nothing is written to a closed session. */
  async function remember(session: SessionRecord, key: string, name: string, data: Record<string, number | string>): Promise<void> {
    if (session.status === 'closed') return;
    await deps.store.appendOutbound({ ...line(key, name, data), sessionId: session.id });
  }

  /**
   * The call's held `call.ringing` lines and then `record`'s (when given): ringing first in the history
   * (issue 18: held until the call's next event so they share its writer round trip). The caller drops
   * `times.ringing` once they are written.
   */
  function linesWithRinging(
    times: CallTimes,
    record?: { key: string; name: string; data: Record<string, number | string> },
  ): HistoryLine[] {
    const lines = [...(times.ringing ?? [])].map(([key, data]) => line(key, 'call.ringing', data));
    if (record) lines.push(line(record.key, record.name, record.data));
    return lines;
  }

  /**
   * Writes the held ringing lines and `record` (when given), all issued in the same turn so the session
   * writer takes them in one message and one commit. Nothing is written to a closed session.
   */
  async function rememberWithRinging(
    session: SessionRecord,
    times: CallTimes,
    record?: { key: string; name: string; data: Record<string, number | string> },
  ): Promise<void> {
    const lines = linesWithRinging(times, record);
    delete times.ringing;
    if (session.status === 'closed') return;
    await Promise.all(lines.map((l) => deps.store.appendOutbound({ ...l, sessionId: session.id })));
  }

  function fact(kind: KpiEvent['kind'], session: SessionRecord, id: string, agentId: string | null, data: KpiEvent['data']): void {
    deps.kpis?.appendSoon([
      kpiEvent({
        id,
        kind,
        at: now(),
        sessionId: session.id,
        conversationId: session.conversationId,
        customerId: session.customerId,
        skillGroup: session.skillGroup,
        channel: session.channel,
        tier: session.routing?.tier ?? null,
        agentId,
        data,
      }),
    ]);
  }

  /**
   * One utterance the caller said, as an inbound `text` message of the call's session through the one
   * ingest path (stored encrypted, published to the agent live, scored by the router with its speech
   * emotion), marked a transcript in `meta` (common/message/transcript.ts). A session closed
   * meanwhile takes nothing (ingest would open a new one).
   */
  async function transcribed(sessionId: string, key: string, identity: InboundDraft['identity'], heard: HeardUtterance): Promise<void> {
    const session = await deps.store.getSession(sessionId);
    if (!session || session.status === 'closed') {
      log.warn({ sessionId }, 'a call transcript arrived after its session closed; dropped');
      return;
    }
    const at = new Date(now()).toISOString();
    const stored = await deps.ingest.accept(
      {
        identity,
        content: { kind: 'text', body: { text: heard.text.slice(0, 4000) } },
        critical: true,
        clientMessageId: `transcript:${key}:${Math.round(heard.start * 1000)}`,
        sentAt: at,
        receivedAt: at,
        meta: transcriptMeta({ callKey: key, ...heard }),
      },
      session.skillGroup,
    );
    log.info(
      {
        sessionId,
        messageId: stored.envelope.id,
        emotion: heard.emotion.label,
        intensity: heard.emotion.intensity,
        seconds: heard.end - heard.start,
      },
      'call transcript stored',
    );
  }

  /** Ends a call's media taps — every leg's, or `leg`'s only — (their last utterances transcribed) within `transcriptDrainMs`. */
  async function drain(times: CallTimes, leg?: string): Promise<void> {
    const taps = [...(times.taps ?? [])].filter(([key]) => leg === undefined || key === leg);
    if (taps.length === 0) return;
    for (const [key] of taps) times.taps!.delete(key);
    await within(Promise.all(taps.map(([, tap]) => tap.stop())), deps.transcriptDrainMs ?? 30_000);
  }

  /**
   * The call goes on on leg `key` (SIP `callId`) from now on: the leg the liveness check asks rtpengine
   * about (its media entry is the new leg's, learnt again) and whose media tap (live transcripts) runs —
   * started unless it runs: one tap per leg, so after a transfer the new call (its own Call-ID and
   * recording) is transcribed too.
   */
  function callOn(times: CallTimes, sessionId: string, key: string, callId: string): void {
    if (times.callId !== callId) delete times.media;
    times.callId = callId;
    if (!deps.transcribe || times.taps?.has(key) || !times.identity) return;
    const identity = times.identity;
    (times.taps ??= new Map()).set(
      key,
      deps.transcribe(callId, (heard) => transcribed(sessionId, key, identity, heard)),
    );
  }

  /**
   * New calls waiting for the router's decision, by session id: woken by each `session.changed` of
   * their session (fan-out, so on the node that took the INVITE), instead of reading the session in a
   * loop. Subscribed at the first call.
   */
  const deciding = new Map<string, (facts: SessionFacts) => void>();
  let watching: Promise<unknown> | null = null;
  const watch = () =>
    (watching ??= deps.bus.subscribeAll('session.changed', (e) => {
      if (!e.sessionId) return;
      deciding.get(e.sessionId)?.(e.payload);
      const times = calls.get(e.sessionId);
      if (times?.session) times.session = known(times.session, e.payload);
    }));

  /**
   * A call's kept session after a change whose facts the bus carried: a newer change (by `updatedAt`)
   * applies, an older one is ignored (delivered after a write this service made itself), and one of the
   * same millisecond that differs, or one without `updatedAt`, drops what is kept (the next post reads
   * the session).
   */
  function known(kept: SessionRecord, facts: SessionFacts): SessionRecord | undefined {
    const { status, skillGroup, assignedAgentId, offeredAgentId, offerExpiresAt, waitingSince, lastMessageAt, updatedAt, tier, priority } =
      facts;
    if (updatedAt === undefined) return undefined;
    if (updatedAt < kept.updatedAt) return kept;
    const same = status === kept.status && assignedAgentId === kept.assignedAgentId && offeredAgentId === kept.offeredAgentId;
    if (updatedAt === kept.updatedAt) return same ? kept : undefined;
    const routing =
      kept.routing && tier !== null && priority !== null && (tier !== kept.routing.tier || priority !== kept.routing.priority)
        ? { ...kept.routing, tier, priority }
        : kept.routing;
    return {
      ...kept,
      status,
      skillGroup,
      assignedAgentId,
      offeredAgentId,
      offerExpiresAt,
      waitingSince,
      lastMessageAt,
      updatedAt,
      routing,
    };
  }

  /**
   * The session once the router offered it (or as it is after `decisionWaitMs`: queued). The change
   * that woke the wait carries the session's state after it (issue 18: no second read); its routing
   * decision is the one read before.
   */
  async function decided(sessionId: string): Promise<SessionRecord> {
    const until = now() + decisionWaitMs;
    let s: SessionRecord | null = null;
    for (;;) {
      // Listening before reading: a change between the read and the wait still wakes it.
      let wake!: (facts: SessionFacts) => void;
      const changed = new Promise<SessionFacts>((resolve) => (wake = resolve));
      deciding.set(sessionId, wake);
      try {
        s ??= await deps.store.getSession(sessionId);
        if (!s) throw new HuiliuError('SESSION_NOT_FOUND');
        const left = until - now();
        if (s.status !== 'queued' || left <= 0) return s;
        const facts = await within(changed, left);
        if (facts) {
          const { status, skillGroup, assignedAgentId, offeredAgentId, offerExpiresAt, waitingSince, lastMessageAt } = facts;
          s = { ...s, status, skillGroup, assignedAgentId, offeredAgentId, offerExpiresAt, waitingSince, lastMessageAt };
        } else s = null; // the wait is over: the session as stored answers
      } finally {
        deciding.delete(sessionId);
      }
    }
  }

  async function answerFor(initial: SessionRecord): Promise<VoiceRouteResponse> {
    let session = initial;
    if (session.status === 'bot') {
      // A caller wants a person: the AI tier answers text, not calls (never a dead end, DESIGN §5).
      await deps.conversations.handOver({ sessionId: session.id, reason: 'customer-asked', by: 'customer' });
      session = (await deps.store.getSession(session.id)) ?? session;
    }
    const agentId = session.status === 'offered' ? session.offeredAgentId : session.status === 'active' ? session.assignedAgentId : null;
    if (agentId) {
      const agent = staffById(agentId);
      if (agent) return { action: 'agent', sessionId: session.id, user: agent.username, ringSeconds };
    }
    if (session.status === 'closed') return { action: 'reject', sessionId: session.id, status: 480, reason: 'Call Ended' };
    const standing = await deps.conversations.standing(session.id);
    return { action: 'queue', sessionId: session.id, position: standing.position, retrySeconds };
  }

  async function ring(request: VoiceRouteRequest): Promise<VoiceRouteResponse> {
    const key = callKey(request.callId);
    const caller = callerOf(request.from);
    const group = dialled(request.to);
    const mapKey = request.referredBy ? referralKey(caller.externalId, group ?? '', dialled(request.referredBy) ?? '') : '';
    const referral = request.referredBy ? referrals.get(mapKey) : undefined;
    if (referral) {
      referrals.delete(mapKey);
      clearTimeout(referral.timer);
      if (referral.until >= now()) {
        const followed = await blindTransferred(request, referral);
        if (followed) return followed;
      }
    }
    const skillGroup = group && deps.skillGroups.includes(group) ? group : deps.defaultSkillGroup;
    const at = new Date(now()).toISOString();
    const draft: InboundDraft = {
      identity: {
        channel: 'SP',
        // An anonymous caller is a new person each call: never one shared customer.
        externalId: caller.externalId === 'anonymous' ? `anonymous:${key}` : caller.externalId,
        ...(caller.phone ? { phone: caller.phone } : {}),
      },
      content: { kind: 'event', body: { name: 'call.incoming', data: { skillGroup } } },
      critical: true,
      clientMessageId: `call:${key}`,
      sentAt: at,
      receivedAt: at,
      meta: { callKey: key },
    };
    await watch();
    const result = await deps.ingest.accept(draft, skillGroup);
    if (!result.duplicate) track(result.session.id, { invitedAt: now(), identity: draft.identity });
    if (!byCall.has(key) && byCall.size >= MAX_TRACKED_CALLS) byCall.delete(byCall.keys().next().value!);
    byCall.set(key, result.session.id);
    const session = await decided(result.session.id);
    const times = calls.get(session.id);
    if (times) times.session = session;
    log.info({ sessionId: session.id, status: session.status, skillGroup }, 'call routed');
    return answerFor(session);
  }

  /** The session once it is offered to (or held by) `agentId`, polled every 20 ms for up to `ms`; as it is then otherwise. */
  async function offeredTo(sessionId: string, agentId: string, ms: number): Promise<SessionRecord> {
    const until = now() + ms;
    for (;;) {
      const s = await deps.store.getSession(sessionId);
      if (!s) throw new HuiliuError('SESSION_NOT_FOUND');
      const mine = (s.status === 'offered' && s.offeredAgentId === agentId) || (s.status === 'active' && s.assignedAgentId === agentId);
      if (mine || s.status === 'closed' || now() >= until) return s;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /**
   * `consult`: an agent on an SP call calls a colleague (RFC 5589 §7 consultation): the consult's Call-ID
   * is tied to the customer's call that agent holds. SESSION_NOT_FOUND when the agent holds no call (an
   * ordinary call between agents: Kamailio connects it all the same).
   */
  async function consulted(request: VoiceEventRequest): Promise<{ sessionId: string; status: SessionRecord['status'] }> {
    const agent = userByName(request.agent);
    const held = agent ? onCall.get(agent.id)?.at(-1) : undefined;
    const session = held ? await deps.store.getSession(held.sessionId) : null;
    if (!agent || !held || !session || session.status !== 'active' || session.assignedAgentId !== agent.id)
      throw new HuiliuError('SESSION_NOT_FOUND');
    bounded(consults, callKey(request.callId), { sessionId: session.id, key: held.key, fromAgentId: agent.id });
    log.info({ sessionId: session.id }, 'consult call placed');
    return { sessionId: session.id, status: session.status };
  }

  /**
   * `refer`: the agent on an SP call REFERs the customer to a colleague or a skill group (blind transfer,
   * RFC 5589 §6; a Refer-To with Replaces is an attended transfer: `consult`/`transferred`). Remembered
   * for `REFER_FOLLOW_MS` so the customer's INVITE that follows it (Referred-By, to the Refer-To target)
   * joins this session instead of opening a new one. SESSION_NOT_FOUND (no SP call with an agent on this
   * Call-ID), VALIDATION_FAILED (a target that is neither an agent nor a skill group).
   */
  async function referred(request: VoiceEventRequest): Promise<{ sessionId: string; status: SessionRecord['status'] }> {
    const key = callKey(request.callId);
    const sessionId = byCall.get(key);
    const session = sessionId ? await deps.store.getSession(sessionId) : null;
    const times = session ? calls.get(session.id) : undefined;
    if (!session || session.status !== 'active' || !session.assignedAgentId || !times?.identity) throw new HuiliuError('SESSION_NOT_FOUND');
    if (/replaces/i.test(request.referTo ?? '')) return { sessionId: session.id, status: session.status };
    const target = dialled(request.referTo);
    if (!target || (!deps.skillGroups.includes(target) && !userByName(target)))
      throw new HuiliuError('VALIDATION_FAILED', 'A REFER names an agent or a skill group.');
    const mapKey = referralKey(times.identity.externalId, target, staffById(session.assignedAgentId)?.username ?? '');
    clearTimeout(referrals.get(mapKey)?.timer);
    const referral: Referral = {
      sessionId: session.id,
      key,
      callId: request.callId,
      fromAgentId: session.assignedAgentId,
      target,
      until: now() + referFollowMs,
    };
    referral.timer = setTimeout(() => referralExpired(mapKey, referral), referFollowMs);
    referral.timer.unref();
    bounded(referrals, mapKey, referral);
    log.info({ sessionId: session.id }, 'blind transfer asked (REFER)');
    return { sessionId: session.id, status: session.status };
  }

  /**
   * The customer's INVITE that follows a REFER: the session moves to the Refer-To target (a cold transfer
   * to the agent or the skill group, issue 11: recorded, the router offers it; the target's answer is the
   * accept), the new call is the session's call from now on and the old leg's BYE ends that leg only.
   * The transfer refused (the target cannot take it) or the session gone: a refusal of this INVITE — the
   * customer's REFER fails and they stay with the first agent; null when the session closed meanwhile
   * (the INVITE is then a new call).
   */
  async function blindTransferred(
    request: VoiceRouteRequest,
    referral: Pick<Referral, 'sessionId' | 'key' | 'callId' | 'fromAgentId' | 'target' | 'legEnded'>,
  ): Promise<VoiceRouteResponse | null> {
    let session = await deps.store.getSession(referral.sessionId);
    if (!session || session.status === 'closed') return null;
    const from = staffById(referral.fromAgentId);
    const agent = deps.skillGroups.includes(referral.target) ? null : userByName(referral.target);
    // What an undo puts back, candidates included (a store may keep them beside the session: issue 18).
    const candidates = session.routing && !session.routing.candidates ? await deps.store.routingCandidates?.(session.id) : null;
    const before = {
      skillGroup: session.skillGroup,
      routing: candidates && session.routing ? { ...session.routing, candidates } : session.routing,
    };
    let transferId: string | null = null;
    if (deps.transfers && from && session.status === 'active' && session.assignedAgentId === from.id) {
      try {
        ({ id: transferId } = await deps.transfers.transfer(from, {
          sessionId: session.id,
          to: agent ? { kind: 'agent', agentId: agent.id } : { kind: 'skill-group', skillGroup: referral.target },
          mode: 'cold',
          note: 'blind transfer on the phone',
        }));
      } catch (error) {
        if (!(error instanceof HuiliuError)) throw error;
        log.warn({ sessionId: session.id, code: error.code }, 'blind transfer refused');
        return { action: 'reject', sessionId: session.id, status: 403, reason: 'Transfer Refused' };
      }
    }
    const key = callKey(request.callId);
    bounded(byCall, key, session.id);
    byCall.delete(referral.key);
    // The old leg (still up, or already hung up) no longer ends the session.
    bounded(replaced, referral.key, session.id);
    offCall(referral.fromAgentId, session.id);
    await remember(session, key, 'call.transferred', { from: from?.username ?? '', to: referral.target, mode: 'blind' });
    bounded(blindPending, session.id, { fromAgentId: referral.fromAgentId, target: referral.target });
    bounded(blindLegs, key, {
      sessionId: session.id,
      callId: request.callId,
      oldKey: referral.key,
      oldCallId: referral.callId,
      fromAgentId: referral.fromAgentId,
      target: referral.target,
      transferId,
      before,
      ...(referral.legEnded ? { oldLegEnded: true } : {}),
    });
    log.info({ sessionId: session.id }, 'call transferred (blind)');
    session = await decided(session.id);
    return answerFor(session);
  }

  /**
   * The old leg of a REFER hung up before the customer's INVITE came: the session waits for that INVITE
   * until the REFER's time is up (`referralExpired` then ends it as the call would have).
   */
  async function referLegEnded(key: string): Promise<{ sessionId: string; status: SessionRecord['status'] }> {
    const referral = [...referrals.values()].find((r) => r.key === key)!;
    referral.legEnded = true;
    const times = calls.get(referral.sessionId);
    if (times) await drain(times, key);
    const session = await deps.store.getSession(referral.sessionId);
    return { sessionId: referral.sessionId, status: session?.status ?? 'closed' };
  }

  /**
   * A REFER whose INVITE did not follow within `referFollowMs`: forgotten (a later INVITE with its
   * Referred-By is a new call), `call.transfer_expired` in the history. The old leg still up: the call
   * stays with its agent. Already hung up: the call ends as it would have (`ended` of the old Call-ID:
   * `call.ended`, closed `resolved` by that agent).
   */
  function referralExpired(mapKey: string, referral: Referral): void {
    if (referrals.get(mapKey) !== referral) return;
    referrals.delete(mapKey);
    log.info(
      { sessionId: referral.sessionId, legEnded: Boolean(referral.legEnded) },
      'blind transfer not followed in time; REFER forgotten',
    );
    void (async () => {
      const session = await deps.store.getSession(referral.sessionId);
      if (session)
        await remember(session, `${referral.key}:${mapKey}`, 'call.transfer_expired', { to: referral.target, afterMs: referFollowMs });
      if (referral.legEnded) await service.event({ event: 'ended', callId: referral.callId, sessionId: referral.sessionId, status: 0 });
    })().catch((error: unknown) => {
      log.warn({ sessionId: referral.sessionId, err: error }, 'forgetting a REFER that was not followed failed');
    });
  }

  /**
   * `transferred`: the customer's INVITE with Replaces (RFC 3891) names a consult call: it rings the
   * consulted agent for this session (the answer names it; Kamailio sends it as `X-Huiliu-Session`). The
   * session does not move yet: the customer is still on hold with the first agent until the consulted
   * agent's phone answers the new leg (`answered`, `attendedAnswered`), and a failed INVITE
   * (`transfer_failed`) leaves everything as it is. Idempotent on the new leg's Call-ID.
   * SESSION_NOT_FOUND (no such consult, the session closed), VALIDATION_FAILED (no agent named).
   */
  async function transferred(request: VoiceEventRequest): Promise<{ sessionId: string; status: SessionRecord['status'] }> {
    const consult = consults.get(callKey(request.replaces ?? ''));
    if (!consult) throw new HuiliuError('SESSION_NOT_FOUND');
    const target = userByName(request.agent);
    if (!target) throw new HuiliuError('VALIDATION_FAILED', 'A transferred call names the agent it goes to.');
    const session = await deps.store.getSession(consult.sessionId);
    if (!session || session.status === 'closed') throw new HuiliuError('SESSION_NOT_FOUND');
    const key = callKey(request.callId);
    // The consulting agent no longer holds the call's session (moved on the desk meanwhile): nothing of
    // theirs to hand on, so the INVITE is refused (481 at the edge) and the customer stays on hold (review5).
    if (!attendedPending.has(key) && (session.status !== 'active' || session.assignedAgentId !== consult.fromAgentId))
      throw new HuiliuError('SESSION_NOT_FOUND');
    if (!attendedPending.has(key)) {
      bounded(attendedPending, key, {
        sessionId: session.id,
        callId: request.callId,
        oldKey: consult.key,
        fromAgentId: consult.fromAgentId,
        targetId: target.id,
      });
      // Written down too: a server restarted before the answer finds the transfer it has to make (`pendingFromHistory`).
      await remember(session, key, 'call.transferring', { from: staffById(consult.fromAgentId)?.username ?? '', to: target.username });
    }
    bounded(byCall, key, session.id);
    log.info({ sessionId: session.id }, 'attended transfer asked (Replaces); the colleague is rung');
    return { sessionId: session.id, status: session.status };
  }

  /**
   * The consulted agent's phone answered the customer's INVITE with Replaces: the session moves to them
   * (a cold transfer, issue 11: recorded, the router offers it to them alone; the `answered` that called
   * this then accepts it), `call.transferred` goes in the history, and the customer's old leg (which the
   * first agent hangs up) no longer ends the session. Whether it moved: a transfer the service refuses
   * now (logged) leaves the session with the first agent, its new leg the session's call.
   */
  async function attendedAnswered(key: string, pending: AttendedPending): Promise<boolean> {
    clearTimeout(pending.timer);
    const session = await deps.store.getSession(pending.sessionId);
    if (!session || session.status === 'closed') return false;
    const from = staffById(pending.fromAgentId);
    const target = staffById(pending.targetId);
    let moved = true;
    // Neither with the first agent nor with the colleague (moved on the desk while the colleague's phone
    // rang): nothing moves and no `call.transferred` is written (review5: it was, and the accept then failed).
    if (from && target && !(session.status === 'active' && (session.assignedAgentId === from.id || session.assignedAgentId === target.id)))
      moved = false;
    else if (
      deps.transfers &&
      from &&
      target &&
      target.id !== from.id &&
      session.status === 'active' &&
      session.assignedAgentId === from.id
    ) {
      try {
        await deps.transfers.transfer(from, {
          sessionId: session.id,
          to: { kind: 'agent', agentId: target.id },
          mode: 'cold',
          note: 'attended transfer on the phone',
        });
      } catch (error) {
        if (!(error instanceof HuiliuError)) throw error;
        log.warn(
          { sessionId: session.id, code: error.code },
          'attended transfer answered but refused; the session stays with the first agent',
        );
        moved = false;
      }
    }
    // The old leg (still up until the first agent hangs it up, or already gone) no longer ends the session.
    if (pending.oldKey && !pending.oldLegEnded) bounded(replaced, pending.oldKey, session.id);
    if (pending.oldKey) byCall.delete(pending.oldKey);
    if (moved) offCall(pending.fromAgentId, session.id);
    if (moved) await remember(session, key, 'call.transferred', { from: from?.username ?? '', to: target?.username ?? '' });
    log.info({ sessionId: session.id, moved }, 'call transferred (attended)');
    return moved;
  }

  /**
   * An attended transfer this process does not remember (it restarted while the Replaces INVITE rang):
   * the session's `call.transferring` line of leg `key` (written by `transferred`), not yet followed by
   * that leg's `call.transferred` or `call.transfer_failed`, while the session is still active with
   * another agent than the one answering. Undefined otherwise. Reads the newest 1,000 lines.
   */
  async function pendingFromHistory(
    session: SessionRecord,
    key: string,
    callId: string,
    agentId: string,
  ): Promise<AttendedPending | undefined> {
    if (session.status !== 'active' || !session.assignedAgentId || session.assignedAgentId === agentId) return undefined;
    const { messages } = await deps.store.recentMessages(session.conversationId, { limit: 1000 });
    const ids = new Set(messages.filter((m) => m.sessionId === session.id).map((m) => m.clientMessageId));
    if (!ids.has(`call.transferring:${key}`) || ids.has(`call.transferred:${key}`) || ids.has(`call.transfer_failed:${key}`))
      return undefined;
    // The old leg is not known here: its BYE after the answer is told apart by the history (`movedFrom`).
    return { sessionId: session.id, callId, oldKey: '', fromAgentId: session.assignedAgentId, targetId: agentId };
  }

  /**
   * The customer's old leg hung up while their INVITE with Replaces still rings the consulted agent: that
   * leg ends, the session waits for the new leg's answer (or failure, which then ends the call). Armed
   * for the new leg's ring and Timer B: a failure Kamailio never reported still ends the call then.
   */
  async function attendedLegEnded(
    pending: AttendedPending,
    newKey: string,
    key: string,
    callId: string,
  ): Promise<{ sessionId: string; status: SessionRecord['status'] }> {
    if (!pending.oldLegEnded) {
      pending.oldLegEnded = true;
      pending.oldCallId = callId;
      pending.timer = setTimeout(
        () => {
          if (attendedPending.get(newKey) !== pending || pending.answering) return;
          void attendedFailed(newKey, pending, 408).catch((error: unknown) =>
            log.warn({ sessionId: pending.sessionId, err: error }, 'ending an unanswered attended transfer failed'),
          );
        },
        ringSeconds * 1000 + REFER_FOLLOW_MS,
      );
      pending.timer.unref();
      const times = calls.get(pending.sessionId);
      if (times) await drain(times, key);
    }
    const session = await deps.store.getSession(pending.sessionId);
    return { sessionId: pending.sessionId, status: session?.status ?? 'closed' };
  }

  /**
   * `transfer_failed`: the customer's INVITE with Replaces failed before the consulted agent answered it
   * (declined 486/603, ring time-out 408, cancelled 487, no media anchor 503). Nothing moved (the session
   * moves on the answer), so the session stays active with the first agent, who still has the customer
   * on hold, and their old leg stays the session's call (its BYE ends the session):
   * `call.transfer_failed {from, to, sipStatus}` goes in the history after the new leg's ringing lines.
   * The old leg already hung up meanwhile: the call is over and ends as that BYE would have ended it.
   * Idempotent: a repeated post, or one after the new leg was answered, changes nothing.
   * SESSION_NOT_FOUND (no transfer pending on this Call-ID and no SP session named).
   */
  async function transferFailed(request: VoiceEventRequest): Promise<{ sessionId: string; status: SessionRecord['status'] }> {
    const key = callKey(request.callId);
    let pending = attendedPending.get(key);
    if (!pending && request.sessionId) {
      // Asked before a restart of this server (the pending transfer was in memory): the history says it
      // is pending (`call.transferring` of this leg, nothing after it), and the post names the session
      // (Kamailio's `calls` table) and the consulted agent the leg rang.
      const named = await deps.store.getSession(request.sessionId);
      const target = userByName(request.agent);
      const found = named?.channel === 'SP' && target ? await pendingFromHistory(named, key, request.callId, target.id) : undefined;
      if (found) {
        pending = attendedPending.get(key) ?? found;
        bounded(attendedPending, key, pending);
      }
    }
    if (!pending || pending.answering) {
      const named = await deps.store.getSession(pending?.sessionId ?? (request.sessionId || byCall.get(key) || ''));
      if (!named || named.channel !== 'SP') throw new HuiliuError('SESSION_NOT_FOUND');
      return { sessionId: named.id, status: named.status };
    }
    return attendedFailed(key, pending, request.status ?? 0);
  }

  /** The failure of the pending attended transfer on new leg `key` (see `transferFailed`), written once. */
  async function attendedFailed(
    key: string,
    pending: AttendedPending,
    sipStatus: number,
  ): Promise<{ sessionId: string; status: SessionRecord['status'] }> {
    attendedPending.delete(key);
    clearTimeout(pending.timer);
    byCall.delete(key);
    const session = await deps.store.getSession(pending.sessionId);
    if (!session || session.channel !== 'SP') throw new HuiliuError('SESSION_NOT_FOUND');
    const times = timesOf(session);
    delete times.ringingAt;
    await rememberWithRinging(session, times, {
      key,
      name: 'call.transfer_failed',
      data: { from: staffById(pending.fromAgentId)?.username ?? '', to: staffById(pending.targetId)?.username ?? '', sipStatus },
    });
    log.info({ sessionId: session.id, sipStatus }, 'attended transfer failed; the call stays with the first agent');
    const oldCallId = pending.oldCallId ?? (times.callId && callKey(times.callId) === pending.oldKey ? times.callId : undefined);
    if (pending.oldLegEnded && oldCallId) {
      // Both legs are gone: the call is over, as the old leg's BYE would have ended it.
      return service.event({ event: 'ended', callId: oldCallId, sessionId: session.id, status: 0 });
    }
    return { sessionId: session.id, status: session.status };
  }

  /** The BYE of a consult call or of a customer leg a transfer replaced: that leg ends, the session goes on. */
  async function legEnded(key: string): Promise<{ sessionId: string; status: SessionRecord['status'] }> {
    const sessionId = consults.get(key)?.sessionId ?? replaced.get(key)!;
    consults.delete(key);
    // The old leg of a blind transfer whose new leg still rings: if that one fails now, the call is over.
    for (const leg of blindLegs.values()) if (leg.oldKey === key) leg.oldLegEnded = true;
    if (replaced.delete(key)) {
      // The old leg's recording ends with it: its tap stops; the new leg's goes on.
      const times = calls.get(sessionId);
      if (times) await drain(times, key);
    }
    const session = await deps.store.getSession(sessionId);
    return { sessionId, status: session?.status ?? 'closed' };
  }

  /**
   * Whether `key` (a call key) is not the session's call, from its history (not memory: read after a
   * restart): a leg whose transfer failed (`call.transfer_failed` of that leg: the call stayed on the
   * leg before it), or the newest `call.transferred` line not undone by a `call.transfer_failed` of
   * the same leg names another leg. False when it was never transferred or the newest standing transfer
   * is to this leg. Reads the newest 1,000 lines of its conversation.
   */
  /**
   * After a restart: the customer's leg `key` ends (its BYE names the session through Kamailio's table)
   * while an attended transfer still rings the colleague — the newest `call.transferring` of the session
   * has no `call.transferred` or `call.transfer_failed` of its leg after it. The pending transfer, rebuilt
   * under that new leg's key (its Call-ID is not kept; Kamailio's failure post names it), so this leg ends
   * alone and the new leg's answer or failure decides (`attendedLegEnded`). Undefined otherwise.
   */
  async function ringingFromHistory(
    session: SessionRecord,
    key: string,
  ): Promise<{ newKey: string; pending: AttendedPending } | undefined> {
    if (session.status !== 'active' || !session.assignedAgentId) return undefined;
    const { messages } = await deps.store.recentMessages(session.conversationId, { limit: 1000 });
    const decided = new Set<string>();
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i]!;
      if (m.sessionId !== session.id || m.kind !== 'event') continue;
      const id = m.clientMessageId;
      if (id.startsWith('call.transferred:') || id.startsWith('call.transfer_failed:')) {
        decided.add(id.slice(id.indexOf(':') + 1));
        continue;
      }
      if (!id.startsWith('call.transferring:')) continue;
      const newKey = id.slice('call.transferring:'.length);
      const target = userByName(String((m.body.data as Record<string, unknown> | undefined)?.['to'] ?? ''));
      if (decided.has(newKey) || newKey === key || !target) return undefined;
      return {
        newKey,
        pending: { sessionId: session.id, callId: '', oldKey: key, fromAgentId: session.assignedAgentId, targetId: target.id },
      };
    }
    return undefined;
  }

  async function movedFrom(session: SessionRecord, key: string): Promise<boolean> {
    const { messages } = await deps.store.recentMessages(session.conversationId, { limit: 1000 });
    const failed = new Set<string>();
    for (let i = messages.length - 1; i >= 0; i--) {
      const m = messages[i]!;
      if (m.sessionId !== session.id) continue;
      if (m.clientMessageId.startsWith('call.transfer_failed:')) {
        const leg = m.clientMessageId.slice('call.transfer_failed:'.length);
        if (leg === key) return true;
        failed.add(leg);
        continue;
      }
      if (!m.clientMessageId.startsWith('call.transferred:')) continue;
      const leg = m.clientMessageId.slice('call.transferred:'.length);
      if (failed.has(leg)) continue;
      return leg !== key;
    }
    return false;
  }

  /**
   * The new leg of a blind transfer ended before anyone answered it (Kamailio's `ended` for it: the
   * customer's phone cancelled it — 487 —, no media anchor — 503 —, a relay error — 500 —, or their
   * CANCEL while it waited in the target's queue). The customer is still on the old leg with the first
   * agent (their softphone hangs up only on NOTIFY 200), so the transfer is undone: the session goes
   * back to that agent, `active`, in its first skill group (`TransferService.undoCold`; to the queue of
   * that group when the agent is not signed in any more), the offer to the target is withdrawn, the old
   * leg is the session's call again (its BYE closes it `resolved`; the agent's `onCall` for the liveness
   * check and a consult) and `call.transfer_failed {from, to, sipStatus, mode: "blind"}` goes in the
   * history after the new leg's ringing lines. The old leg already hung up: the call is over and ends as
   * that BYE would have ended it. A repeated post waits for the same undo, a later one changes nothing.
   */
  function blindFailed(leg: BlindLeg, sipStatus: number): Promise<{ sessionId: string; status: SessionRecord['status'] }> {
    return (leg.undoing ??= (async () => {
      const key = callKey(leg.callId);
      let session = await deps.store.getSession(leg.sessionId);
      if (!session || session.channel !== 'SP') throw new HuiliuError('SESSION_NOT_FOUND');
      if (leg.transferId && deps.transfers && session.status !== 'closed') {
        const undone = await deps.transfers.undoCold(leg.transferId, leg.before);
        session = undone.session;
        // Taken by someone meanwhile (the target accepted it on the desk, not the phone): it stays theirs.
        if (undone.to === null)
          log.warn({ sessionId: session.id, status: session.status }, 'failed blind transfer not undone: the contact was taken');
      }
      blindLegs.delete(key);
      blindPending.delete(session.id);
      byCall.delete(key);
      bounded(undoneLegs, key, session.id);
      replaced.delete(leg.oldKey);
      bounded(byCall, leg.oldKey, session.id);
      if (!leg.oldLegEnded && session.status === 'active' && session.assignedAgentId === leg.fromAgentId)
        putOnCall(leg.fromAgentId, session.id, leg.oldKey, true);
      const times = timesOf(session);
      delete times.ringingAt;
      await rememberWithRinging(session, times, {
        key,
        name: 'call.transfer_failed',
        data: { from: staffById(leg.fromAgentId)?.username ?? '', to: leg.target, sipStatus, mode: 'blind' },
      });
      log.info({ sessionId: session.id, sipStatus, status: session.status }, 'blind transfer failed before the answer; undone');
      // Both legs are gone: the call is over, as the old leg's BYE would have ended it.
      if (leg.oldLegEnded) return service.event({ event: 'ended', callId: leg.oldCallId, sessionId: session.id, status: 0 });
      return { sessionId: session.id, status: session.status };
    })());
  }

  /**
   * When the session's call was first answered, from its history (the oldest `call.answered` line of
   * this session, its `receivedAt` in ms since the epoch): a process that restarted during the call has
   * no answer time in memory, and the call's talk time runs from it. Undefined when none is among the
   * conversation's newest 1,000 lines.
   */
  async function answeredFromHistory(session: SessionRecord): Promise<number | undefined> {
    const { messages } = await deps.store.recentMessages(session.conversationId, { limit: 1000 });
    const answered = messages.find((m) => m.sessionId === session.id && m.clientMessageId.startsWith('call.answered:'));
    const at = answered ? Date.parse(answered.receivedAt) : NaN;
    return Number.isFinite(at) ? at : undefined;
  }

  const service: VoiceService = {
    async route(request) {
      if (request.event === 'invite') return ring(request);
      if (!request.sessionId) throw new HuiliuError('VALIDATION_FAILED', 'A retry names the sessionId of the call.');
      const session = await deps.store.getSession(request.sessionId);
      if (!session || session.channel !== 'SP') throw new HuiliuError('SESSION_NOT_FOUND');
      return answerFor(session);
    },

    async event(request) {
      if (request.event === 'consult') return consulted(request);
      if (request.event === 'transferred') return transferred(request);
      if (request.event === 'transfer_failed') return transferFailed(request);
      if (request.event === 'refer') return referred(request);
      const leg = callKey(request.callId);
      // A blind transfer's new leg ended before anyone answered it: the transfer is undone (once). Kamailio
      // posts such a failure with the status the customer's INVITE got (487, 500, 503); an `ended` with
      // none (0) or 2xx is that leg's BYE — it was answered and the `answered` post was lost (Kamailio
      // posts it once): the transfer stands and the hang-up is the call's end (review6: it was undone, the
      // call recorded a failed transfer and closed by the first agent).
      const blindLeg = request.event === 'ended' ? blindLegs.get(leg) : undefined;
      if (blindLeg && (request.status ?? 0) >= 300) return blindFailed(blindLeg, request.status ?? 0);
      if (blindLeg) {
        blindLegs.delete(leg);
        blindPending.delete(blindLeg.sessionId);
      }
      const undoneOf = request.event === 'ended' ? undoneLegs.get(leg) : undefined;
      if (undoneOf) {
        const session = await deps.store.getSession(undoneOf);
        return { sessionId: undoneOf, status: session?.status ?? 'closed' };
      }
      if (request.event === 'ended' && (consults.has(leg) || replaced.has(leg))) return legEnded(leg);
      // The customer's old leg while their INVITE with Replaces rings the colleague: that leg only.
      const ringingTransfer = request.event === 'ended' ? [...attendedPending].find(([, p]) => p.oldKey === leg) : undefined;
      if (ringingTransfer) return attendedLegEnded(ringingTransfer[1], ringingTransfer[0], leg, request.callId);
      if (request.event === 'ended' && [...referrals.values()].some((r) => r.key === leg && !r.legEnded)) return referLegEnded(leg);
      const sessionId = request.sessionId || byCall.get(callKey(request.callId));
      // Ringing and answered start from the session as this service knows it (issue 18: no read); what
      // they then do is checked by the store's own writes (the accept reads and checks the offer). A
      // hang-up reads it: closing or abandoning depends on its state now.
      const kept = request.event === 'ringing' || request.event === 'answered' ? calls.get(sessionId ?? '')?.session : undefined;
      const found = kept ?? (sessionId ? await deps.store.getSession(sessionId) : null);
      if (!found || found.channel !== 'SP') throw new HuiliuError('SESSION_NOT_FOUND');
      let session: SessionRecord = found;
      const key = callKey(request.callId);
      // A BYE naming its session (Kamailio's `calls` table, which outlives this process) on a leg this
      // process does not know (it restarted since): a customer leg a transfer replaced ends that leg only.
      if (request.event === 'ended' && request.sessionId && byCall.get(key) !== session.id && (await movedFrom(session, key)))
        return { sessionId: session.id, status: session.status };
      // The same after a restart while an attended transfer of this leg still rings the colleague: this leg only.
      if (request.event === 'ended' && request.sessionId && byCall.get(key) !== session.id) {
        const ringing = await ringingFromHistory(session, key);
        if (ringing) {
          const pending = attendedPending.get(ringing.newKey) ?? ringing.pending;
          bounded(attendedPending, ringing.newKey, pending);
          return attendedLegEnded(pending, ringing.newKey, key, request.callId);
        }
      }
      const times = timesOf(session);
      const agent = userByName(request.agent);
      const t = now();
      switch (request.event) {
        case 'ringing': {
          if (times.ringingAt === undefined) times.ringingAt = t;
          // Held until the call's next event (answered, missed, ended), then written with it: `at` keeps when it rang.
          if (session.status !== 'closed')
            (times.ringing ??= new Map()).set(`${key}:${request.agent ?? ''}`, {
              agent: request.agent ?? '',
              at: new Date(t).toISOString(),
            });
          fact('call.ringing', session, `call.ringing:${session.id}:${request.agent ?? ''}`, agent?.id ?? null, {});
          break;
        }
        case 'answered': {
          if (!agent) throw new HuiliuError('VALIDATION_FAILED', 'An answered call names its agent.');
          // The consulted agent's phone answered the customer's INVITE with Replaces: the session moves now.
          let pending = attendedPending.get(key);
          if (!pending) {
            // Restarted since `transferred`: the transfer from its history line (a concurrent repeat shares it).
            const found = await pendingFromHistory(session, key, request.callId, agent.id);
            if (found) {
              pending = attendedPending.get(key) ?? found;
              bounded(attendedPending, key, pending);
            }
          }
          if (pending) {
            const moved = await (pending.answering ??= attendedAnswered(key, pending));
            attendedPending.delete(key);
            session = (await deps.store.getSession(session.id)) ?? session;
            if (!moved) {
              // Refused: the session stays with its agent, but the call goes on on this new leg (the old one
              // ends at the first agent's hang-up) — the leg the liveness check asks rtpengine about and
              // the media tap transcribes (review5: the check asked about the old leg and ended a call still up).
              bounded(byCall, key, session.id);
              const holder = session.assignedAgentId;
              if (holder && callOfAgent(holder, session.id)) putOnCall(holder, session.id, key);
              callOn(times, session.id, key, request.callId);
              return { sessionId: session.id, status: session.status };
            }
          }
          // Picking up is accepting the offer: the same use case as the workstation's Accept. After an
          // attended transfer (just made above) the router's offer to the consulted agent may come a
          // moment later: wait for that offer (at most 2 s).
          // A repeated post of this leg's answer (its 200 retransmitted) keeps the leg's first answer time;
          // a new leg (after a transfer or a recall) is answered now, not when the call's first leg was.
          const answeredAt = times.callId === request.callId && times.legAnsweredAt !== undefined ? times.legAnsweredAt : t;
          const ringMs = times.ringingAt !== undefined ? answeredAt - times.ringingAt : 0;
          const answered = {
            key,
            name: 'call.answered',
            data: { agent: agent.username, ringMs, waitMs: answeredAt - times.invitedAt },
          };
          let written = false;
          if (!(session.status === 'active' && session.assignedAgentId === agent.id)) {
            // Offered to them already (the usual case): no second read before the accept.
            if (!(session.status === 'offered' && session.offeredAgentId === agent.id))
              session = await offeredTo(session.id, agent.id, 2_000);
            // The ringing and answered lines go with the claim: one writer round trip (issue 18).
            try {
              session = await deps.conversations.acceptRecord(agent, session.id, { history: linesWithRinging(times, answered) });
            } catch (error) {
              // A repeat of this answer posted while the first was being taken (the phone's 200 retransmitted):
              // the first post's claim stands — its lines differ only in times (409 before review5).
              const now = error instanceof HuiliuError ? await deps.store.getSession(session.id) : null;
              if (!(now?.status === 'active' && now.assignedAgentId === agent.id)) throw error;
              session = now;
            }
            delete times.ringing;
            written = true;
          }
          putOnCall(agent.id, session.id, key);
          blindPending.delete(session.id);
          // A blind transfer's new leg answered: the transfer stands; its `ended` is a hang-up from now on.
          blindLegs.delete(key);
          times.answeredAt ??= answeredAt;
          times.legAnsweredAt = answeredAt;
          callOn(times, session.id, key, request.callId);
          if (!written)
            await rememberWithRinging(session, times, answered).catch((error: unknown) => {
              // This leg's answer line is there already, written by a repeat of this post in flight (other times).
              if (!(error instanceof HuiliuError && error.code === 'IDEMPOTENCY_CONFLICT')) throw error;
            });
          fact('call.answered', session, `call.answered:${session.id}`, agent.id, { ringMs });
          break;
        }
        case 'no-answer': {
          if (!agent) break;
          await rememberWithRinging(session, times, {
            key: `${key}:${agent.username}:${times.ringingAt ?? t}`,
            name: 'call.missed',
            data: { agent: agent.username, sipStatus: request.status ?? 0 },
          });
          // A blind transfer's target did not answer: back to the agent who transferred it, when they
          // can take it now (signed in, available, room), as a contact centre recalls a transfer.
          const blind = blindPending.get(session.id);
          if (blind && blind.fromAgentId !== agent.id && deps.router.recall) {
            blindPending.delete(session.id);
            const recalled = await deps.router.recall(session.id, agent.id, blind.fromAgentId);
            if (recalled) {
              await remember(recalled, `${key}:recalled`, 'call.transfer_recalled', {
                from: agent.username,
                to: staffById(blind.fromAgentId)?.username ?? '',
                sipStatus: request.status ?? 0,
              });
              log.info({ sessionId: session.id }, 'blind transfer not answered; recalled to the transferring agent');
              delete times.ringingAt;
              break;
            }
          }
          try {
            await deps.router.declined(session.id, agent.id, `no answer on the phone (SIP ${request.status ?? 0})`);
          } catch (error) {
            // The offer had already moved on (the router's own time-out): nothing to decline.
            if (!(error instanceof HuiliuError && error.code === 'OFFER_TAKEN')) throw error;
          }
          delete times.ringingAt;
          break;
        }
        case 'ended': {
          // A retry of the edge's post while the first one is still finishing changes nothing.
          if (times.ending) return { sessionId: session.id, status: session.status };
          times.ending = true;
          // Answered before this process started (a restart during the call): the answer time from the history.
          if (times.answeredAt === undefined && session.status === 'active') times.answeredAt = await answeredFromHistory(session);
          const ending = session;
          const finish = async (): Promise<SessionRecord> => {
            let ended = ending;
            const talkMs = times.answeredAt !== undefined ? t - times.answeredAt : 0;
            const totalMs = t - times.invitedAt;
            // The caller's last words are transcribed into the session before the hang-up and the close.
            if (times.taps?.size) {
              await drain(times);
              ended = (await deps.store.getSession(ended.id)) ?? ended;
            }
            const lost: Record<string, string> = times.lost ? { lost: times.lost } : {};
            const record = { key, name: 'call.ended', data: { talkMs, totalMs, ...lost } };
            fact('call.ended', ended, `call.ended:${ended.id}`, ended.assignedAgentId, { talkMs, totalMs, ...lost });
            const holder = ended.status === 'active' && ended.assignedAgentId ? staffById(ended.assignedAgentId) : null;
            if (holder) {
              // The call is the contact: hanging up wraps it up (after-call work follows, routing config).
              // Its last lines and the close are one write, the lines first (issue 18).
              const history = linesWithRinging(times, record);
              delete times.ringing;
              ended = await deps.conversations.closeRecord(holder, { sessionId: ended.id, wrapUpCode: 'resolved' }, { history });
            } else {
              await rememberWithRinging(ended, times, record);
              // Still waiting for a person (an active call's holder left the directory: nothing to abandon).
              const abandoned = ended.status !== 'closed' && ended.status !== 'active' ? await deps.store.abandon(ended.id) : null;
              if (abandoned) {
                deps.router.settle(ended.id);
                await deps.bus.publish(sessionChanged(abandoned, 'closed', 'customer', undefined, ended));
                ended = abandoned;
              } else if (ended.status === 'offered') {
                // The answer's accept won the race with this hang-up (Kamailio's `answered` post timed out,
                // the 200 went on, the caller hung up while the server was still accepting): the call is
                // over all the same — closed as a hung-up call, or its agent would stay busy.
                const now = await deps.store.getSession(ended.id);
                const late = now?.status === 'active' && now.assignedAgentId ? staffById(now.assignedAgentId) : null;
                if (late) ended = await deps.conversations.closeRecord(late, { sessionId: ended.id, wrapUpCode: 'resolved' });
              }
            }
            calls.delete(ended.id);
            blindPending.delete(ended.id);
            byCall.delete(key);
            if (ended.assignedAgentId) offCall(ended.assignedAgentId, ended.id);
            return ended;
          };
          const tapped = Boolean(times.taps?.size);
          // A failed end may be posted again (Kamailio retries, the liveness check): it is not "ending" any more.
          const done = finish().catch((error: unknown) => {
            times.ending = false;
            throw error;
          });
          if (tapped) {
            // Kamailio posts the BYE from a SIP worker and waits for the answer: the last utterances can
            // take seconds to transcribe behind other calls' (an ASR backlog), and workers held that long
            // stopped the edge answering INVITEs at all. So the edge waits `endedAnswerMs` at most; the
            // history line and the close then follow once the taps drained (within `transcriptDrainMs`).
            const settled = await within(done, deps.endedAnswerMs ?? ENDED_ANSWER_MS);
            if (!settled) {
              void done.catch((error: unknown) =>
                log.error({ err: error, sessionId: ending.id }, 'ending a call after its transcript failed'),
              );
              return { sessionId: ending.id, status: ending.status };
            }
            session = settled;
          } else session = await done;
          break;
        }
      }
      // A declined offer moves on in the router: its status is read again; the others are known.
      const after = request.event === 'no-answer' ? ((await deps.store.getSession(session.id)) ?? session) : session;
      const tracked = calls.get(after.id);
      if (tracked && after.status !== 'closed') tracked.session = after;
      return { sessionId: after.id, status: after.status };
    },

    sweepLiveness: sweep,

    close() {
      if (sweepTimer) clearInterval(sweepTimer);
      sweepTimer = null;
    },
  };

  let sweeping: Promise<number> | null = null;
  /** One liveness pass over the answered calls of this node (`onCall`), one at a time; how many it ended. */
  function sweep(): Promise<number> {
    return (sweeping ??= (async () => {
      let ended = 0;
      const liveness = deps.liveness;
      if (!liveness) return 0;
      for (const { sessionId } of [...onCall.values()].flat()) {
        const times = calls.get(sessionId);
        const callId = times?.callId;
        if (!times || !callId || times.ending || times.media === 'none') continue;
        const state = await liveness.check(callId);
        if (state === 'up') times.media = 'up';
        if (state !== 'gone') continue;
        if (times.media !== 'up') {
          // Never seen in rtpengine (its media was not anchored, e.g. out of ports): no way to tell; left alone.
          times.media = 'none';
          log.info({ sessionId }, 'answered call not anchored in rtpengine: no liveness check for it');
          continue;
        }
        times.lost = 'no-media';
        log.warn({ sessionId }, 'call lost: rtpengine forgot it (no media) and its hang-up never came; ending it');
        try {
          await service.event({ event: 'ended', callId, sessionId, status: 0 });
          ended += 1;
        } catch (error) {
          log.warn({ sessionId, err: error }, 'ending a lost call failed; tried again at the next check');
        }
      }
      return ended;
    })().finally(() => (sweeping = null)));
  }
  const livenessMs = deps.livenessMs ?? 15_000;
  let sweepTimer: NodeJS.Timeout | null =
    deps.liveness && livenessMs > 0
      ? setInterval(() => {
          void sweep().catch((error: unknown) => log.warn({ err: error }, 'call liveness check failed'));
        }, livenessMs)
      : null;
  sweepTimer?.unref();
  return service;
}
