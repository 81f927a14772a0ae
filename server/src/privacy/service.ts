import { v7 as uuidv7 } from 'uuid';
import type {
  ErasureRequest,
  ExportBundle,
  ExportRequest,
  PrivacyRequestKind,
  PrivacyRequestStatus,
  PrivacyRequestView,
  RetentionRule,
  RetentionRuleView,
} from '../../../common/api/privacy';
import { HuiliuError } from '../../../common/errors/codes';
import { maskPii } from '../../../common/privacy/mask';
import type { Envelope } from '../../../common/message/envelope';
import type { AuditEntryInput } from '../audit/audit';
import type { AttachmentStore } from '../attachments/store';
import type { Bus } from '../bus/bus';
import { customerErased, sessionChanged } from '../bus/events';
import { open, seal } from '../crypto/aead';
import type { KeyProvider } from '../keys/provider';
import type { Logger } from '../logging/logger';
import type { SessionRecord, SessionStore } from '../sessions/store';
import type { PrivacyRequestRecord, PrivacyStore, RetentionReport } from './privacy';
import { runPeriodically, type PeriodicJob } from '../runtime/periodic';
import { can, type PolicyUser } from '../auth/policy';
import { customerSkillGroups } from '../customers/facts.store';

/** Who acts: the signed-in staff user. */
export interface PrivacyActor extends PolicyUser {
  username: string;
}

export interface PrivacyServiceOptions {
  store: PrivacyStore;
  sessions: SessionStore;
  attachments?: AttachmentStore;
  keys: KeyProvider;
  bus: Bus;
  audit: (entry: AuditEntryInput) => void;
  logger: Logger;
  /** The answer window (days) shown as `dueAt`, and how long an approved export can be downloaded (days). */
  config: { dueDays: number; exportTtlDays: number };
  /** The customer an external id names (any channel; app ids with or without their app), or null. */
  findByExternalId: (externalId: string) => Promise<string | null>;
  /**
   * Redis mode (issue 14): retention of the content SQLite does not hold — the Redis Cluster's records
   * and the PostgreSQL archive's (`pruneExpiredArchive`, sessions/archiver.ts). Runs after the SQLite
   * pass for the same group and cut-off; its counts are added to the group's report.
   */
  archiveRetention?: (skillGroup: string, before: string) => Promise<{ sessions: number; archivedMessages: number; hotMessages: number }>;
  /**
   * Redis mode (issue 14): crypto-erasure of what the Redis Cluster holds of the erased customers (the
   * customers port's identity and link lookups and data key, the conversations port's cached keys),
   * run on the approving node before the SQLite shred and before the request is recorded executed, so
   * reads through the ports answer CUSTOMER_ERASED as soon as `approve` resolves. Every node runs the
   * same again on `customer.erased` (idempotent). Its error fails the request (`failed`; filing again retries).
   */
  sharedErasure?: (customerIds: readonly string[]) => Promise<void>;
  /**
   * Redis mode: the cluster's part of `sharedErasure` without its log entry (the customers port's
   * lookups and data key, the conversations port's keys; idempotent). `applyRecordedErasure` runs it for
   * the entry's customers before this file shreds them: `sharedErasure` writes the log entry first, so a
   * request whose cluster step failed after that (`failed`) left an entry every node's catch-up applies —
   * without this the files shredded and the cluster kept the group readable (a retry then found the
   * customer erased, or only the named one). Its error leaves the entry to the next catch-up.
   */
  clusterErasure?: (customerIds: readonly string[]) => Promise<void>;
  now?: () => number;
}

const DAY_MS = 86_400_000;
/** An approved request still `approved` this long after its approval was interrupted (ms): 10 minutes. */
export const RESUME_AFTER_MS = 600_000;
/**
 * How often a process carrying out an approved request renews its claim (`PrivacyStore.holdResume`, ms):
 * a quarter of `RESUME_AFTER_MS`, so only a process that stopped (or stalled for the whole delay) loses it.
 */
const HOLD_EVERY_MS = RESUME_AFTER_MS / 4;
const bundleAad = (requestId: string) => `privacy-export:${requestId}`;
/** Messages read per page while a bundle is built. */
const PAGE = 1000;

/**
 * The data-subject request use cases (issue 17, GDPR Art. 15/17/20, PIPL Art. 45/47; docs/privacy.md),
 * called by the privacy routes. Four eyes: a request is filed by one staff user and decided by another
 * with the privacy-officer role (the policy `privacy.approve` checks the role, this checks "another").
 * Every step is an audit entry (`privacy.<kind>.<step>`), with ids and counts only.
 */
export class PrivacyService {
  private readonly now: () => number;
  /**
   * Erasures on this process one at a time: `erase` (cluster step, then shred) and `applyRecordedErasure`
   * (the erasure-log catch-up). Without it a catch-up that read the entry `sharedErasure` had just logged
   * shredded the group while the approving `erase` still awaited the cluster, and `erase`'s own shred then
   * found nothing: the audit entry said keysDestroyed 0.
   */
  private erasing: Promise<unknown> = Promise.resolve();
  /** Request ids being carried out by this process (approve or resume): a resume skips them. */
  private readonly inProgress = new Set<string>();
  private serially<T>(step: () => Promise<T>): Promise<T> {
    const next = this.erasing.then(step);
    this.erasing = next.catch(() => undefined);
    return next;
  }
  constructor(private readonly o: PrivacyServiceOptions) {
    this.now = o.now ?? Date.now;
  }

  private iso(ms = this.now()): string {
    return new Date(ms).toISOString();
  }

  /**
   * The request as the routes answer it, with `overdue` computed now and the free-text `reason` masked
   * (`maskPii`): the privacy officer's list shows masked values only (docs/privacy-masking.md).
   */
  view(r: PrivacyRequestRecord): PrivacyRequestView {
    const answered: PrivacyRequestStatus[] = ['rejected', 'downloaded', 'executed'];
    const { hasBundle: _hasBundle, ...rest } = r;
    return { ...rest, reason: maskPii(r.reason), overdue: !answered.includes(r.status) && Date.parse(r.dueAt) < this.now() };
  }

  private audit(
    actor: PrivacyActor | 'system',
    action: string,
    r: { id: string; customerId: string },
    outcome: AuditEntryInput['outcome'],
    detail: AuditEntryInput['detail'] = {},
  ): void {
    this.o.audit({
      actor: actor === 'system' ? { kind: 'system', id: 'privacy' } : { kind: 'staff', id: actor.id, name: actor.username },
      action,
      target: { kind: 'privacy-request', id: r.id },
      outcome,
      detail: { customerId: r.customerId, ...detail },
    });
  }

  /**
   * The customer a request names, checked to exist, not to be erased, and to be within the requester's
   * reach: privacy officers file for anyone (data-subject requests are deployment-wide); other staff
   * only for customers they may see (`customer.view`: their skill groups; admins all). A customer out
   * of reach answers exactly as an unknown one (no oracle for other groups' customers).
   * @throws HuiliuError NOT_FOUND (no such customer or session, or out of reach), CUSTOMER_ERASED
   */
  private async customerOf(
    actor: PrivacyActor,
    input: { customerId?: string; customerExternalId?: string; sessionId?: string },
  ): Promise<string> {
    let customerId = input.customerId ?? null;
    if (!customerId && input.customerExternalId !== undefined) customerId = await this.o.findByExternalId(input.customerExternalId);
    if (!customerId && input.sessionId !== undefined) customerId = (await this.o.sessions.getSession(input.sessionId))?.customerId ?? null;
    if (input.sessionId !== undefined) {
      const session = await this.o.sessions.getSession(input.sessionId);
      if (!session || session.customerId !== customerId) throw new HuiliuError('NOT_FOUND', 'No such session of this customer.');
    }
    if (!customerId) throw new HuiliuError('NOT_FOUND', 'No such customer.');
    if (!actor.roles.includes('privacy-officer')) {
      const skillGroups = await customerSkillGroups(this.o.sessions, customerId);
      if (!can(actor, 'customer.view', { skillGroups }))
        throw new HuiliuError('NOT_FOUND', input.sessionId !== undefined ? 'No such session of this customer.' : 'No such customer.');
    }
    // Throws CUSTOMER_ERASED when the key is gone.
    if (!(await this.o.sessions.getCustomer(customerId))) throw new HuiliuError('NOT_FOUND', 'No such customer.');
    return customerId;
  }

  private async file(
    actor: PrivacyActor,
    kind: PrivacyRequestKind,
    customerId: string,
    sessionId: string | null,
    reason: string,
  ): Promise<PrivacyRequestView> {
    const at = this.now();
    const record: Omit<PrivacyRequestRecord, 'hasBundle'> = {
      id: uuidv7(),
      kind,
      status: 'pending',
      customerId,
      sessionId,
      reason,
      requestedBy: actor.id,
      requestedAt: this.iso(at),
      dueAt: this.iso(at + this.o.config.dueDays * DAY_MS),
      decidedBy: null,
      decidedAt: null,
      expiresAt: null,
      completedAt: null,
    };
    await this.o.store.insert(record);
    this.audit(actor, `privacy.${kind}.request`, record, 'ok', { dueAt: record.dueAt, ...(sessionId ? { sessionId } : {}) });
    return this.view({ ...record, hasBundle: false });
  }

  /** Files an export request (pending until a second person approves). @throws NOT_FOUND, CUSTOMER_ERASED */
  async requestExport(actor: PrivacyActor, input: ExportRequest): Promise<PrivacyRequestView> {
    const customerId = await this.customerOf(actor, input);
    return this.file(actor, 'export', customerId, input.sessionId ?? null, input.reason);
  }

  /** Files an erasure request (pending until a second person approves). @throws NOT_FOUND, CUSTOMER_ERASED */
  async requestErasure(actor: PrivacyActor, input: ErasureRequest): Promise<PrivacyRequestView> {
    const customerId = await this.customerOf(actor, input);
    return this.file(actor, 'erasure', customerId, null, input.reason);
  }

  async list(kind: PrivacyRequestKind, status?: PrivacyRequestStatus): Promise<PrivacyRequestView[]> {
    await this.expire();
    return (await this.o.store.list(kind, status)).map((r) => this.view(r));
  }

  private async pending(kind: PrivacyRequestKind, id: string, actor: PrivacyActor, step: string): Promise<PrivacyRequestRecord> {
    const r = await this.o.store.get(id);
    if (!r || r.kind !== kind) throw new HuiliuError('PRIVACY_REQUEST_NOT_FOUND', 'No such privacy request.');
    if (r.requestedBy === actor.id) {
      this.audit(actor, `privacy.${kind}.${step}`, r, 'denied', { why: 'self-approval' });
      throw new HuiliuError('PRIVACY_SELF_APPROVAL', 'A request must be approved by someone other than the requester.');
    }
    if (r.status !== 'pending') throw new HuiliuError('PRIVACY_REQUEST_NOT_PENDING', `The request is ${r.status}.`);
    return r;
  }

  /**
   * Approves a pending request (a second person; the route's policy requires the privacy-officer role).
   * Export: builds the bundle, seals it and stores it until `expiresAt`. Erasure: crypto-shreds the
   * customer and their merge group at once, and tells every node's agent sockets (`customer.erased`).
   * @throws PRIVACY_REQUEST_NOT_FOUND, PRIVACY_SELF_APPROVAL, PRIVACY_REQUEST_NOT_PENDING
   */
  async approve(kind: PrivacyRequestKind, id: string, actor: PrivacyActor, note?: string): Promise<PrivacyRequestView> {
    const r = await this.pending(kind, id, actor, 'approve');
    const at = this.now();
    const expiresAt = kind === 'export' ? this.iso(at + this.o.config.exportTtlDays * DAY_MS) : null;
    if (!(await this.o.store.decide(id, 'approved', actor.id, this.iso(at), expiresAt))) {
      throw new HuiliuError('PRIVACY_REQUEST_NOT_PENDING', 'The request was decided meanwhile.');
    }
    this.audit(actor, `privacy.${kind}.approve`, r, 'ok', { ...(expiresAt ? { expiresAt } : {}), ...(note ? { note } : {}) });
    await this.carryOut(kind, r, actor);
    return this.view((await this.o.store.get(id))!);
  }

  /**
   * Rejects a pending request (same rules as `approve`). The decider's `note` (why; ≤ 500 characters)
   * is kept in the audit entry, masked like every audit detail.
   */
  async reject(kind: PrivacyRequestKind, id: string, actor: PrivacyActor, note?: string): Promise<PrivacyRequestView> {
    const r = await this.pending(kind, id, actor, 'reject');
    if (!(await this.o.store.decide(id, 'rejected', actor.id, this.iso(), null))) {
      throw new HuiliuError('PRIVACY_REQUEST_NOT_PENDING', 'The request was decided meanwhile.');
    }
    this.audit(actor, `privacy.${kind}.reject`, r, 'ok', note ? { note } : {});
    return this.view((await this.o.store.get(id))!);
  }

  /**
   * The export bundle, once: only its requester or a privacy officer, only after approval, only before
   * `expiresAt`; the sealed copy is removed as it is handed out.
   * @throws PRIVACY_REQUEST_NOT_FOUND, FORBIDDEN (someone else), EXPORT_NOT_READY (pending), EXPORT_GONE
   */
  async download(id: string, actor: PrivacyActor): Promise<{ json: Buffer; filename: string }> {
    await this.expire();
    const r = await this.o.store.get(id);
    if (!r || r.kind !== 'export') throw new HuiliuError('PRIVACY_REQUEST_NOT_FOUND', 'No such privacy request.');
    if (r.requestedBy !== actor.id && !actor.roles.includes('privacy-officer')) {
      this.audit(actor, 'privacy.export.download', r, 'denied');
      throw new HuiliuError('FORBIDDEN', 'Only the requester or a privacy officer may download this export.');
    }
    if (r.status === 'pending') throw new HuiliuError('EXPORT_NOT_READY', 'The export is not approved yet.');
    const sealed = r.status === 'approved' ? await this.o.store.takeBundle(id, this.iso()) : null;
    if (!sealed) {
      this.audit(actor, 'privacy.export.download', r, 'failed', { status: r.status });
      if (r.status === 'rejected' || r.status === 'failed') throw new HuiliuError('EXPORT_NOT_READY', `The export was ${r.status}.`);
      throw new HuiliuError('EXPORT_GONE', 'The export was already downloaded or has expired.');
    }
    const key = await this.o.keys.unwrapDataKey(sealed.key);
    const json = open(key, sealed.ct, bundleAad(id));
    key.fill(0);
    this.audit(actor, 'privacy.export.download', r, 'ok', { bytes: json.length });
    return { json, filename: `huiliu-export-${id}.json` };
  }

  /** Removes the bundles past `expiresAt` (each audited `privacy.export.expire`); answers how many. */
  async expire(): Promise<number> {
    const ids = await this.o.store.expireBundles(this.iso());
    for (const id of ids) {
      const r = await this.o.store.get(id);
      if (r) this.audit('system', 'privacy.export.expire', r, 'ok');
    }
    return ids.length;
  }

  /**
   * Requests approved but never finished: the process stopped (crash, deploy) between the approval and
   * the end of its erasure or bundle build, so the request stayed `approved` with nothing done — or half
   * done — and no one was told. Each one approved more than `RESUME_AFTER_MS` ago and not in progress
   * here is carried out again as `approve` would (an erasure is idempotent: keys destroyed already count
   * 0; an export gets its bundle), audited with `resumed: true`, and completed `executed`/`failed` as
   * `approve` does. Runs with the privacy jobs (at start, then hourly). A request is claimed first
   * (`PrivacyStore.claimResume`): of several processes on one database file only one resumes it; a claim
   * older than `RESUME_AFTER_MS` (its process stopped too) is taken again. Answers how many it resumed.
   */
  async resumeInterrupted(): Promise<number> {
    const now = this.now();
    const cutoff = now - RESUME_AFTER_MS;
    // An approval or claim stamped more than the delay ahead of now: the clock went back since (an NTP
    // step). Waiting for that time would leave the request undone for as long as the clock was wrong.
    const ahead = now + RESUME_AFTER_MS;
    let resumed = 0;
    for (const kind of ['erasure', 'export'] as const) {
      for (const r of await this.o.store.list(kind, 'approved')) {
        if (this.inProgress.has(r.id) || (kind === 'export' && r.hasBundle)) continue;
        if (!r.decidedAt) continue;
        const decided = Date.parse(r.decidedAt);
        if (decided > cutoff && decided <= ahead) continue;
        // One process resumes it: another server process on this database file may run the same job.
        if (!(await this.o.store.claimResume(r.id, this.iso(now), this.iso(cutoff), this.iso(ahead)))) continue;
        resumed++;
        this.o.logger.warn({ requestId: r.id, kind }, 'privacy request approved but never finished: carrying it out now');
        const actor: PrivacyActor = { id: r.decidedBy ?? 'system', username: 'system', roles: [], skillGroups: [] };
        await this.carryOut(kind, r, actor, true).catch(() => undefined);
      }
    }
    return resumed;
  }

  /** Builds the bundle or erases, then marks the request failed (audited, logged, rethrown) when that throws. */
  private async carryOut(kind: PrivacyRequestKind, r: PrivacyRequestRecord, actor: PrivacyActor, resumed = false): Promise<void> {
    this.inProgress.add(r.id);
    // Work running past the resume delay (a slow cluster, a large bundle) keeps its claim: without it
    // another process's privacy job took the request as interrupted and carried it out a second time.
    const hold = setInterval(() => {
      this.o.store.holdResume(r.id, this.iso()).catch((error: unknown) => {
        this.o.logger.error({ err: error, requestId: r.id }, 'renewing the claim on a privacy request failed');
      });
    }, HOLD_EVERY_MS);
    hold.unref?.();
    try {
      if (kind === 'export') await this.buildBundle(r);
      else await this.erase(r, actor);
    } catch (error) {
      await this.o.store.complete(r.id, 'failed', this.iso());
      this.audit('system', `privacy.${kind}.${kind === 'export' ? 'build' : 'execute'}`, r, 'failed', {
        code: error instanceof HuiliuError ? error.code : 'INTERNAL',
        ...(resumed ? { resumed: true } : {}),
      });
      this.o.logger.error({ err: error, requestId: r.id }, `privacy ${kind} failed after approval`);
      throw error;
    } finally {
      clearInterval(hold);
      this.inProgress.delete(r.id);
    }
    if (resumed) this.audit('system', `privacy.${kind}.resume`, r, 'ok');
  }

  /** Builds, seals (AES-256-GCM, a fresh data key from the KeyProvider, stored wrapped) and stores the bundle. */
  private async buildBundle(r: PrivacyRequestRecord): Promise<void> {
    const bundle = await this.collect(r);
    const { plain, wrapped } = await this.o.keys.generateDataKey();
    const ct = seal(plain, Buffer.from(JSON.stringify(bundle), 'utf8'), bundleAad(r.id));
    plain.fill(0);
    if (!(await this.o.store.saveBundle(r.id, { ct, key: wrapped }))) {
      // Its customer was erased while it was built (the shred withdrew it), or it ended otherwise meanwhile.
      if ((await this.o.store.erased([r.customerId])).has(r.customerId))
        throw new HuiliuError('CUSTOMER_ERASED', "This customer's data was erased while the export was built.");
      throw new HuiliuError('EXPORT_GONE', 'The export ended while its bundle was built.');
    }
    this.audit('system', 'privacy.export.build', r, 'ok', {
      conversations: bundle.conversations.length,
      messages: bundle.conversations.reduce((n, c) => n + c.messages.length, 0),
      attachments: bundle.attachments.length,
    });
  }

  /** What the bundle holds (ExportBundle in common/api/privacy.ts): everything of the customer's merge group. */
  private async collect(r: PrivacyRequestRecord): Promise<ExportBundle> {
    const { sessions, attachments } = this.o;
    const customer = await sessions.getCustomer(r.customerId);
    if (!customer) throw new HuiliuError('NOT_FOUND', 'No such customer.');
    const group = await sessions.customerGroup(r.customerId);
    const { identities, links } = await sessions.customerIdentities(r.customerId);
    const profileChanges = (await Promise.all(group.map((id) => sessions.profileChanges(id)))).flat();
    let chosen: SessionRecord[];
    if (r.sessionId) {
      const s = await sessions.getSession(r.sessionId);
      chosen = s ? [s] : [];
    } else {
      chosen = (await Promise.all(group.map((id) => sessions.listSessions({ customerId: id, limit: 5000 })))).flat();
    }
    const bundle: ExportBundle = {
      format: 'huiliu-export/1',
      requestId: r.id,
      generatedAt: this.iso(),
      customer: { id: customer.id, name: customer.name, createdAt: customer.createdAt, channels: customer.channels, mergeGroup: group },
      identities: identities.map((i) => ({
        channel: i.channel,
        externalId: i.externalId,
        customerId: i.customerId,
        createdAt: i.createdAt,
      })),
      links: links.map((l) => ({ kind: l.kind, value: l.value, customerId: l.customerId, createdAt: l.createdAt })),
      profileChanges: profileChanges.map((c) => ({ ...c })),
      conversations: [],
      attachments: [],
    };
    const members = new Set(group);
    for (const s of chosen) {
      const messages: Envelope[] = [];
      for (let afterSeq = 0; ;) {
        const page = await sessions.listMessages(s.conversationId, { afterSeq, limit: PAGE });
        // A conversation continued across channels holds every session's messages: this session's only.
        messages.push(...page.filter((m) => m.sessionId === s.id && members.has(m.customerId)));
        if (page.length < PAGE) break;
        afterSeq = page[page.length - 1]!.seq;
      }
      const rating = await sessions.sessionRating(s.id);
      const decisions = await sessions.decisions(s.id);
      bundle.conversations.push({
        sessionId: s.id,
        conversationId: s.conversationId,
        channel: s.channel,
        skillGroup: s.skillGroup,
        status: s.status,
        createdAt: s.createdAt,
        closedAt: s.closedAt,
        messages: messages.map((m) => ({
          id: m.id,
          seq: m.seq,
          direction: m.direction,
          kind: m.kind,
          author: m.authorKind ?? (m.direction === 'in' ? 'customer' : 'agent'),
          receivedAt: m.receivedAt,
          body: m.body,
        })),
        routingDecisions: decisions.map((d) => ({ at: d.at, configVersion: d.configVersion, decision: d.decision })),
        ...(decisions.partial ? { routingDecisionsPartial: true as const } : {}),
        csat: rating ? { score: rating.score, comment: rating.comment, ratedAt: rating.ratedAt } : null,
      });
      if (attachments) {
        for (const m of messages) {
          if (m.kind !== 'image' && m.kind !== 'file') continue;
          const a = await attachments.ofMessage(m.id);
          const bytes = a && (await attachments.bytes(a.id));
          if (!a || !bytes) continue;
          bundle.attachments.push({
            id: a.id,
            messageId: a.messageId,
            sessionId: a.sessionId,
            mime: a.mime,
            name: await attachments.name(a.id),
            size: a.size,
            base64: bytes.toString('base64'),
          });
        }
      }
    }
    return bundle;
  }

  /**
   * Crypto-shreds the customer's merge group, completes the request, and tells every node. In redis mode
   * the cluster's copies are erased (and the erasure logged for the other nodes) BEFORE this file shreds
   * anything: shredding first removed the group's links here, so when the cluster then failed (the
   * request `failed`), a request filed again found only the customer it names — the other members
   * stayed readable on the cluster and on every other node. Now a failure leaves this file untouched and
   * the retry erases the whole group; a crash after the cluster step is completed by this node's own
   * erasure-log catch-up (`applyRecordedErasure`).
   */
  private async erase(r: PrivacyRequestRecord, actor: PrivacyActor): Promise<void> {
    const report = await this.serially(async () => {
      const group = await this.o.store.customerGroup(r.customerId);
      const ids = group.length ? group : [r.customerId];
      await this.o.sharedErasure?.(ids);
      return this.o.store.shred(ids);
    });
    await this.o.store.complete(r.id, 'executed', this.iso());
    this.audit('system', 'privacy.erasure.execute', r, 'ok', {
      customers: report.customerIds.length,
      keysDestroyed: report.keysDestroyed,
      identitiesRemoved: report.identitiesRemoved,
      linksRemoved: report.linksRemoved,
      searchTermsRemoved: report.searchTermsRemoved,
      exportsWithdrawn: report.exportsWithdrawn,
      sessionsClosed: report.sessionsClosed.length,
    });
    // Its open contacts closed with it: every node's router, board, SLA clocks and agents let go of them.
    for (const { session, before } of report.sessionsClosed) {
      await this.o.bus.publish(sessionChanged(session, 'closed', 'system', undefined, before)).catch((error: unknown) => {
        this.o.logger.error({ err: error, sessionId: session.id }, 'publishing session.changed for an erased contact failed');
      });
    }
    // The erasure is done and recorded whatever the bus says; this process's threads already dropped
    // the keys (shared shred epoch). Other processes drop them on this event (main.ts) or at restart.
    await this.o.bus.publish(customerErased(r.id, report.customerIds, actor.id)).catch((error: unknown) => {
      this.o.logger.error({ err: error, requestId: r.id }, 'publishing customer.erased failed');
    });
  }

  /**
   * Redis mode (issue 14): an erasure recorded in the cluster's erasure log (approved on any node,
   * perhaps while this one was stopped) applied to THIS node's SQLite file: the customers and the
   * members of their merge groups this file knows are crypto-shredded (data key, lookups, facts — as
   * `approve` does), and their contacts still open here are closed (`session.changed`, as `approve`
   * does). Members only this file's merges add are erased on the cluster too (`sharedErasure`, which
   * records them in the log) BEFORE this file shreds anything, so a failure there leaves the whole
   * entry to the retry; the entry's own customers are erased on the cluster again first (`clusterErasure`:
   * the request that logged them may have failed before its cluster step). Runs one at a time with
   * `approve`'s erasure. Idempotent: a customer erased already changes nothing. Answers the ids
   * shredded here (ids only: safe to log).
   * @throws what `clusterErasure` or `sharedErasure` throws (NOT_READY): nothing was shredded here; the caller retries
   */
  applyRecordedErasure(customerIds: readonly string[]): Promise<{ customerIds: string[]; keysDestroyed: number }> {
    return this.serially(() => this.applyRecorded(customerIds));
  }

  private async applyRecorded(customerIds: readonly string[]): Promise<{ customerIds: string[]; keysDestroyed: number }> {
    const all = new Set<string>(customerIds);
    for (const id of customerIds) for (const member of await this.o.store.customerGroup(id)) all.add(member);
    const erased = await this.o.store.erased([...all]);
    const ids = [...all].filter((id) => !erased.has(id));
    if (ids.length === 0) {
      await this.completeFailedErasures(all);
      return { customerIds: [], keysDestroyed: 0 };
    }
    // The members only this file's merges add are erased on the cluster BEFORE this file shreds them:
    // a retry (this entry stays after the cursor when that fails) finds them still keyed here and tries
    // again. Shredding first left them erased here only — the retry filtered them out as done, so their
    // port records, lookups and keys and every other node's copy of them were never erased.
    const extra = ids.filter((id) => !customerIds.includes(id));
    // The entry's own customers: erased on the cluster again (idempotent) — its request may have failed
    // after logging it, with the cluster not erased (`clusterErasure`).
    const logged = ids.filter((id) => customerIds.includes(id));
    if (logged.length) await this.o.clusterErasure?.(logged);
    if (extra.length) await this.o.sharedErasure?.(extra);
    const report = await this.o.store.shred(ids);
    for (const { session, before } of report.sessionsClosed) {
      await this.o.bus.publish(sessionChanged(session, 'closed', 'system', undefined, before)).catch((error: unknown) => {
        this.o.logger.error({ err: error, sessionId: session.id }, 'publishing session.changed for an erased contact failed');
      });
    }
    await this.completeFailedErasures(all);
    return { customerIds: report.customerIds, keysDestroyed: report.keysDestroyed };
  }

  /**
   * Erasure requests of this file recorded `failed` (their approval's cluster step or shred threw) whose
   * customer a recorded erasure has now erased here: the catch-up finished what the approval could not,
   * so the request is recorded `executed` (its `completedAt` the catch-up's time) and audited
   * `privacy.erasure.execute` ok with `completedBy: 'erasure-log'`. Before, such a request stayed
   * `failed` although its customer was erased everywhere. `covered`: the customers the entry erased
   * (with their merge groups).
   */
  private async completeFailedErasures(covered: ReadonlySet<string>): Promise<void> {
    const failed = (await this.o.store.list('erasure', 'failed')).filter((r) => r.decidedAt && covered.has(r.customerId));
    if (!failed.length) return;
    const erased = await this.o.store.erased(failed.map((r) => r.customerId));
    for (const r of failed) {
      if (!erased.has(r.customerId)) continue;
      await this.o.store.complete(r.id, 'executed', this.iso());
      this.audit('system', 'privacy.erasure.execute', r, 'ok', { completedBy: 'erasure-log' });
    }
  }

  // ── Retention (per skill group) ────────────────────────────────────────────────────────────────
  async retentionRules(skillGroups: readonly string[]): Promise<RetentionRuleView[]> {
    const stored = new Map((await this.o.store.retentionRules()).map((r) => [r.skillGroup, r]));
    const all = [...new Set([...skillGroups, ...stored.keys()])].sort();
    return all.map((g) => stored.get(g) ?? { skillGroup: g, days: null, updatedBy: null, updatedAt: null });
  }

  /** Sets rules (audited `retention.config-change` each). @throws VALIDATION_FAILED for an unknown skill group */
  async setRetentionRules(actor: PrivacyActor, rules: readonly RetentionRule[], skillGroups: readonly string[]): Promise<void> {
    const unknown = rules.find((r) => !skillGroups.includes(r.skillGroup));
    if (unknown) throw new HuiliuError('VALIDATION_FAILED', `No skill group ${unknown.skillGroup}.`);
    for (const rule of rules) {
      await this.o.store.setRetentionRule(rule.skillGroup, rule.days, actor.id, this.iso());
      this.o.audit({
        actor: { kind: 'staff', id: actor.id, name: actor.username },
        action: 'retention.config-change',
        target: { kind: 'skill-group', id: rule.skillGroup },
        outcome: 'ok',
        detail: { days: rule.days },
      });
    }
  }

  /** One retention pass over every group with a rule (each group's result audited `retention.run`). */
  async runRetention(): Promise<RetentionReport[]> {
    const reports: RetentionReport[] = [];
    for (const rule of await this.o.store.retentionRules()) {
      if (rule.days === null) continue;
      const before = this.iso(this.now() - rule.days * DAY_MS);
      try {
        const report = await this.o.store.pruneConversations(rule.skillGroup, before);
        if (this.o.archiveRetention) {
          const more = await this.o.archiveRetention(rule.skillGroup, before);
          report.archivedSessions = more.sessions;
          report.archivedMessages = more.archivedMessages;
          report.hotMessages = more.hotMessages;
        }
        reports.push(report);
        this.o.audit({
          actor: { kind: 'system', id: 'retention' },
          action: 'retention.run',
          target: { kind: 'skill-group', id: rule.skillGroup },
          outcome: 'ok',
          detail: {
            before,
            days: rule.days,
            sessions: report.sessions,
            messages: report.messages,
            attachments: report.attachments,
            ...(report.archivedSessions !== undefined
              ? { archivedSessions: report.archivedSessions, archivedMessages: report.archivedMessages, hotMessages: report.hotMessages }
              : {}),
          },
        });
      } catch (error) {
        this.o.logger.error({ err: error, skillGroup: rule.skillGroup }, 'conversation retention failed');
        this.o.audit({
          actor: { kind: 'system', id: 'retention' },
          action: 'retention.run',
          target: { kind: 'skill-group', id: rule.skillGroup },
          outcome: 'failed',
          detail: { before, days: rule.days },
        });
      }
    }
    return reports;
  }
}

/** How often the privacy jobs (export expiry, conversation retention) run (ms). */
export const PRIVACY_JOBS_EVERY_MS = 3600_000;

/**
 * Runs the privacy jobs at start and then hourly (the pattern of `scheduleAuditRetention`): expired
 * export bundles are removed, conversations past their group's retention lose their content. Each run
 * is audited by the service. Answers `run` (tests) and `stop`.
 */
export function schedulePrivacyJobs(service: PrivacyService, logger: Logger): PeriodicJob<void> {
  const once = async () => {
    try {
      await service.resumeInterrupted();
      await service.expire();
      await service.runRetention();
    } catch (error) {
      logger.error({ err: error }, 'privacy jobs failed');
    }
  };
  return runPeriodically(once, PRIVACY_JOBS_EVERY_MS, undefined);
}
