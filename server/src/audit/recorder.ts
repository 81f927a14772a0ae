import type { Bus, Subscription } from '../bus/bus';
import type { Logger } from '../logging/logger';
import { maskDeep, maskPii } from '../../../common/privacy/mask';
import type { AuditActor, AuditEntryInput, AuditLog } from './audit';
import { runPeriodically, type PeriodicJob } from '../runtime/periodic';

/**
 * Entries buffered before an append; a full buffer flushes at once. 1,000: with a durable commit
 * (fsync) costing ~20 ms on a busy disk, batches of 200 capped the log near 10,000 entries/s
 * (docs/benchmarks.md, audit); the 100 ms bound on waiting is what keeps quiet times prompt.
 */
export const AUDIT_BATCH = 1000;
const BATCH = AUDIT_BATCH;
/**
 * How long an entry may wait in the buffer (ms). 100: each append is a commit on the server's thread
 * (waiting for the session writer's lock on the same file) and an fdatasync; at 25 ms a call's three
 * entries took most of a commit each (issue 18). The audit API flushes before it searches.
 */
const FLUSH_MS = 100;
/** Event ids remembered to drop the bus's redeliveries (at-least-once) of an event already audited. */
const SEEN_MAX = 10_000;

/**
 * Collects audit entries from every part of the server and appends them in batches (issue 17): the
 * caller never waits for the database, the log keeps ≥ 10,000 entries/s. Detail values are masked
 * (common/privacy/mask.ts) before they are kept. An append that fails is logged (without the entries'
 * details) and retried with the next batch; `close` flushes what is left.
 */
export class AuditRecorder {
  private buffer: AuditEntryInput[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly seen = new Set<string>();

  private readonly names = new Map<string, string>();

  constructor(
    readonly log: AuditLog,
    private readonly logger: Logger,
    /** The staff directory: entries made from bus events name the user (searchable by username). */
    private readonly staff?: () => Promise<readonly { id: string; username: string }[]>,
  ) {}

  /** Fills in the username of staff actors that came by id only (one directory read per unknown id batch). */
  private async name(batch: AuditEntryInput[]): Promise<void> {
    if (!this.staff) return;
    const unnamed = batch.filter((e) => e.actor.kind === 'staff' && e.actor.name === undefined && e.actor.id !== 'unknown');
    if (unnamed.some((e) => !this.names.has(e.actor.id))) {
      try {
        for (const u of await this.staff()) this.names.set(u.id, u.username);
      } catch {
        /* named by id only */
      }
    }
    for (const e of unnamed) {
      const name = this.names.get(e.actor.id);
      if (name !== undefined) e.actor = { ...e.actor, name };
    }
  }

  /**
   * Queues one entry. Personal data is masked before it is kept (DESIGN §8): every string of `detail`
   * and the target's id (a client can put anything in a path: `GET /sessions/138…`).
   */
  record(entry: AuditEntryInput): void {
    const masked: AuditEntryInput = { ...entry, at: entry.at ?? new Date().toISOString() };
    if (entry.detail) masked.detail = maskDeep(entry.detail) as AuditEntryInput['detail'];
    if (entry.target) masked.target = { ...entry.target, id: maskPii(entry.target.id) };
    this.buffer.push(masked);
    if (this.buffer.length >= BATCH) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /** Records an event-derived entry once per event id (the bus may deliver an event again). */
  recordOnce(eventId: string, entry: AuditEntryInput): void {
    if (this.seen.has(eventId)) return;
    this.seen.add(eventId);
    if (this.seen.size > SEEN_MAX) this.seen.delete(this.seen.values().next().value!);
    this.record(entry);
  }

  /** Appends everything buffered so far; resolves once it is durable. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.flushing = this.flushing.then(async () => {
      const batch = this.buffer;
      this.buffer = [];
      if (batch.length === 0) return;
      try {
        await this.name(batch);
        await this.log.append(batch);
      } catch (error) {
        this.logger.error({ err: error, entries: batch.length }, 'audit append failed; retrying with the next batch');
        this.buffer = [...batch, ...this.buffer];
        this.timer ??= setTimeout(() => void this.flush(), 1000);
      }
    });
    return this.flushing;
  }

  async close(): Promise<void> {
    await this.flush();
    await this.log.close();
  }
}

/** The audit actor of a bus event's `actor` (`customer`, `system`, `ai`, or a staff id). */
function actorOf(actor: string): AuditActor {
  if (actor === 'ai') return { kind: 'ai', id: 'ai' };
  if (actor === 'system' || actor === 'customer') return { kind: 'system', id: actor };
  return { kind: 'staff', id: actor };
}

/**
 * Audits what the bus carries (DESIGN §8: every AI action and the staff actions that are events):
 * agents' replies, accepts, closes and releases, routing decisions, hand-overs, merges, transfers and
 * every `ai.acted`. Facts only — ids, tiers, codes — never message text. One work group (`audit`), so
 * each event is recorded once however many nodes run.
 */
export async function auditBusEvents(bus: Bus, recorder: AuditRecorder): Promise<Subscription[]> {
  /** The last routing decision recorded per session (bounded), to skip unchanged re-publications. */
  const lastDecision = new Map<string, string>();
  return Promise.all([
    bus.subscribe('message.out', 'audit', async (e) => {
      const author = e.payload.envelope.authorKind ?? (e.payload.envelope.authorId ? 'agent' : 'system');
      if (author !== 'agent') return;
      recorder.recordOnce(e.id, {
        at: e.at,
        actor: actorOf(e.actor),
        action: 'message.reply',
        target: { kind: 'session', id: e.sessionId! },
        outcome: 'ok',
        detail: { messageId: e.payload.envelope.id },
      });
    }),
    bus.subscribe('session.changed', 'audit', async (e) => {
      const s = e.payload;
      // The router re-publishes a waiting contact's routing as it re-checks the queue: a decision is
      // recorded when it differs from the last one recorded for the session.
      if (e.payload.reason === 'routed') {
        const facts = JSON.stringify([s.skillGroup, s.tier, s.priority, s.status, s.assignedAgentId ?? s.offeredAgentId]);
        if (lastDecision.get(e.sessionId!) === facts) return;
        lastDecision.delete(e.sessionId!);
        lastDecision.set(e.sessionId!, facts);
        if (lastDecision.size > SEEN_MAX) lastDecision.delete(lastDecision.keys().next().value!);
      }
      const action = e.payload.reason === 'routed' ? 'routing.decision' : `session.${e.payload.reason}`;
      recorder.recordOnce(e.id, {
        at: e.at,
        actor: e.payload.reason === 'routed' ? { kind: 'system', id: 'router' } : actorOf(e.actor),
        action,
        target: { kind: 'session', id: e.sessionId! },
        outcome: 'ok',
        detail: {
          skillGroup: s.skillGroup,
          tier: s.tier,
          priority: s.priority,
          status: s.status,
          agent: s.assignedAgentId ?? s.offeredAgentId,
        },
      });
    }),
    bus.subscribe('customer.merged', 'audit', async (e) => {
      recorder.recordOnce(e.id, {
        at: e.at,
        actor: actorOf(e.actor),
        action: e.payload.undone ? 'customer.merge-undone' : 'customer.merge',
        target: { kind: 'customer', id: e.payload.survivorId },
        outcome: 'ok',
        detail: { merged: e.payload.mergedId, mergeId: e.payload.mergeId, reason: e.payload.reason },
      });
    }),
    bus.subscribe('ai.acted', 'audit', async (e) => {
      const p = e.payload;
      recorder.recordOnce(e.id, {
        at: e.at,
        actor: p.action === 'draft-used' ? actorOf(e.actor) : { kind: 'ai', id: 'ai' },
        action: `ai.${p.action}`,
        target: { kind: 'session', id: e.sessionId },
        outcome: 'ok',
        detail: {
          ...(p.messageId ? { messageId: p.messageId } : {}),
          ...(p.intent !== undefined ? { intent: p.intent } : {}),
          ...(p.confidence !== undefined ? { confidence: p.confidence } : {}),
          ...(p.reason ? { reason: p.reason } : {}),
          ...(p.draftId ? { draftId: p.draftId } : {}),
          ...(p.outcome ? { outcome: p.outcome } : {}),
        },
      });
    }),
    bus.subscribe('transfer.changed', 'audit', async (e) => {
      const p = e.payload;
      recorder.recordOnce(e.id, {
        at: e.at,
        actor: actorOf(e.actor),
        action: `transfer.${p.status}`,
        target: { kind: 'session', id: e.sessionId },
        outcome: 'ok',
        detail: { transferId: p.transferId, mode: p.mode, from: p.fromAgentId, skillGroup: p.skillGroup, to: p.offeredAgentId },
      });
    }),
  ]);
}

/** How often the retention job runs (ms). */
export const RETENTION_EVERY_MS = 24 * 3600_000;

/**
 * The audit log's retention job (issue 17): removes entries older than `retentionDays` (the log keeps
 * its 183-day floor whatever it is asked) at start and then daily, and records what it did as an
 * `audit.retention` entry (actor `system/retention`, removed count and cut-off). Answers a stop function.
 */
export function scheduleAuditRetention(
  recorder: AuditRecorder,
  retentionDays: number,
  logger: Logger,
  now: () => number = Date.now,
): PeriodicJob<number> {
  const once = async (): Promise<number> => {
    const before = new Date(now() - retentionDays * 86_400_000);
    try {
      const removed = await recorder.log.prune(before);
      recorder.record({
        actor: { kind: 'system', id: 'retention' },
        action: 'audit.retention',
        outcome: 'ok',
        detail: { removed, before: before.toISOString(), retentionDays },
      });
      return removed;
    } catch (error) {
      logger.error({ err: error }, 'audit retention failed');
      recorder.record({
        actor: { kind: 'system', id: 'retention' },
        action: 'audit.retention',
        outcome: 'failed',
        detail: { retentionDays },
      });
      return 0;
    }
  };
  return runPeriodically(once, RETENTION_EVERY_MS, 0);
}
