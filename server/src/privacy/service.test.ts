import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { HuiliuError } from '../../../common/errors/codes';
import type { ExportBundle } from '../../../common/api/privacy';
import type { EventOf } from '../../../common/events/events';
import type { AuditEntryInput } from '../audit/audit';
import { createSqliteAttachmentStore } from '../attachments/store.sqlite';
import { createMemoryBus } from '../bus/bus.memory';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createLogger } from '../logging/logger';
import { draft } from '../sessions/store.contract';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import type { LogRead, RoutingLogEntry, SessionStore } from '../sessions/store';
import { createSqlitePrivacyStore } from './privacy.sqlite';
import { PrivacyService, type PrivacyActor, type PrivacyServiceOptions } from './service';

const DAY = 86_400_000;
const alice: PrivacyActor = { id: 'u-alice', username: 'alice', roles: ['agent'], skillGroups: ['general'] };
const olga: PrivacyActor = { id: 'u-olga', username: 'olga', roles: ['privacy-officer'], skillGroups: [] };
const petra: PrivacyActor = { id: 'u-petra', username: 'petra', roles: ['privacy-officer'], skillGroups: [] };
const bob: PrivacyActor = { id: 'u-bob', username: 'bob', roles: ['agent'], skillGroups: ['general'] };

describe('privacy use cases on real SQLite (issue 17)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** The production shape: the session writer in its worker thread, reads and the privacy store here. */
  async function setUp(
    extra: Pick<PrivacyServiceOptions, 'archiveRetention' | 'sharedErasure' | 'clusterErasure'> = {},
    /** What the service sees of the session store (a test may change one read). */
    view: (store: SessionStore) => SessionStore = (store) => store,
  ) {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-privacy-'));
    const path = join(dir, 'huiliu.db');
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const clock = new Float64Array(new SharedArrayBuffer(8));
    clock[0] = Date.now();
    const sessions = await createSqliteSessionStore({ path, keys, clock, writer: 'worker' });
    const attachments = await createSqliteAttachmentStore({ path, keys });
    const store = createSqlitePrivacyStore({ path, keys });
    const bus = createMemoryBus();
    const audit: AuditEntryInput[] = [];
    let now = Date.now();
    const options = (privacyStore: typeof store): PrivacyServiceOptions => ({
      store: privacyStore,
      sessions: view(sessions),
      attachments,
      keys,
      bus,
      audit: (e) => audit.push(e),
      logger: createLogger({ level: 'silent' }),
      config: { dueDays: 30, exportTtlDays: 7 },
      findByExternalId: async (ext) => (await sessions.findCustomerByIdentity('WB', ext))?.id ?? null,
      now: () => now,
      ...extra,
    });
    const service = new PrivacyService(options(store));
    const twins: (typeof store)[] = [];
    /** Another server process's privacy service on the same database file (its own connection). */
    const twin = () => {
      const other = createSqlitePrivacyStore({ path, keys });
      twins.push(other);
      return new PrivacyService(options(other));
    };
    cleanups.push(async () => {
      for (const other of twins) await other.close();
      await bus.close();
      await store.close();
      await attachments.close();
      await sessions.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    });
    return { dir, sessions, attachments, store, service, twin, bus, audit, advance: (ms: number) => void (now += ms), clock };
  }

  it('exports only after a second person approves, once, sealed at rest, with every step audited', async () => {
    const h = await setUp();
    const r = await h.sessions.appendInbound(
      draft({ identity: { channel: 'WB', externalId: 'exp-1', displayName: 'Wang Fang' }, text: 'MARKER-export-7781' }),
      { skillGroup: 'general' },
    );
    const req = await h.service.requestExport(alice, { customerExternalId: 'exp-1', reason: 'GDPR Art. 15 request by e-mail' });
    expect(req).toMatchObject({ status: 'pending', customerId: r.envelope.customerId, requestedBy: 'u-alice', overdue: false });
    expect(Date.parse(req.dueAt) - Date.parse(req.requestedAt)).toBe(30 * DAY);
    await expect(h.service.download(req.id, alice)).rejects.toMatchObject({ code: 'EXPORT_NOT_READY' });
    // The requester cannot approve their own request, even as a privacy officer.
    const own = await h.service.requestExport(olga, { customerId: r.envelope.customerId, reason: 'officer files it herself' });
    await expect(h.service.approve('export', own.id, olga)).rejects.toMatchObject({ code: 'PRIVACY_SELF_APPROVAL' });

    const approved = await h.service.approve('export', req.id, olga);
    expect(approved).toMatchObject({ status: 'approved', decidedBy: 'u-olga' });
    await expect(h.service.approve('export', req.id, petra)).rejects.toMatchObject({ code: 'PRIVACY_REQUEST_NOT_PENDING' });
    // Sealed at rest: the marker is nowhere in the database files.
    for (const f of readdirSync(h.dir).filter((f) => f.startsWith('huiliu.db'))) {
      expect(readFileSync(join(h.dir, f)).includes('MARKER-export-7781')).toBe(false);
    }
    // Someone else (not the requester, no privacy officer) may not download it.
    await expect(h.service.download(req.id, bob)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const { json } = await h.service.download(req.id, alice);
    const bundle = JSON.parse(json.toString('utf8')) as ExportBundle;
    expect(bundle.customer).toMatchObject({ id: r.envelope.customerId, name: 'Wang Fang' });
    expect(bundle.identities).toEqual([expect.objectContaining({ channel: 'WB', externalId: 'exp-1' })]);
    expect(bundle.conversations).toHaveLength(1);
    expect(bundle.conversations[0]!.messages.map((m) => m.body)).toEqual([{ text: 'MARKER-export-7781' }]);
    await expect(h.service.download(req.id, alice)).rejects.toMatchObject({ code: 'EXPORT_GONE' });

    const actions = h.audit.map((e) => `${e.action}:${e.outcome}`);
    expect(actions).toEqual(
      expect.arrayContaining([
        'privacy.export.request:ok',
        'privacy.export.approve:denied',
        'privacy.export.approve:ok',
        'privacy.export.build:ok',
        'privacy.export.download:denied',
        'privacy.export.download:ok',
        'privacy.export.download:failed',
      ]),
    );
    expect((await h.service.list('export')).find((x) => x.id === req.id)).toMatchObject({ status: 'downloaded', overdue: false });
  });

  it('marks a conversation whose routing decisions were read from this server alone (redis mode, cluster not answering) routingDecisionsPartial', async () => {
    let partial = false;
    // The ported store's read when the cluster's shared log did not answer in time (`LogRead.partial`).
    const h = await setUp(
      {},
      (store) =>
        new Proxy(store, {
          get(target, prop) {
            if (prop === 'decisions')
              return async (id: string): Promise<LogRead<RoutingLogEntry>> => {
                const read = await target.decisions(id);
                return partial ? Object.assign(read, { partial: true as const }) : read;
              };
            const value: unknown = Reflect.get(target, prop);
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        }),
    );
    const r = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'exp-partial' } }), { skillGroup: 'general' });
    const exported = async () => {
      const req = await h.service.requestExport(alice, { customerId: r.envelope.customerId, reason: 'GDPR Art. 15' });
      await h.service.approve('export', req.id, olga);
      const { json } = await h.service.download(req.id, alice);
      return JSON.parse(json.toString('utf8')) as ExportBundle;
    };
    // A complete read: no mark.
    expect(await exported()).toMatchObject({ conversations: [expect.not.objectContaining({ routingDecisionsPartial: true })] });
    partial = true;
    const bundle = await exported();
    expect(bundle.conversations).toHaveLength(1);
    expect(bundle.conversations[0]!.routingDecisionsPartial).toBe(true);
  });

  it('expires an approved export after its time to live, and flags requests past their due date', async () => {
    const h = await setUp();
    const r = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'exp-2' } }), { skillGroup: 'general' });
    const req = await h.service.requestExport(alice, { customerId: r.envelope.customerId, reason: 'PIPL Art. 45 request' });
    const late = await h.service.requestExport(alice, { customerId: r.envelope.customerId, reason: 'left waiting too long' });
    await h.service.approve('export', req.id, olga);
    h.advance(7 * DAY + 1000);
    await expect(h.service.download(req.id, alice)).rejects.toMatchObject({ code: 'EXPORT_GONE' });
    expect(h.audit.some((e) => e.action === 'privacy.export.expire' && e.target?.id === req.id)).toBe(true);
    h.advance(30 * DAY);
    const list = await h.service.list('export');
    expect(list.find((x) => x.id === req.id)).toMatchObject({ status: 'expired', overdue: true });
    expect(list.find((x) => x.id === late.id)).toMatchObject({ status: 'pending', overdue: true });
  });

  it('erasure crypto-shreds the customer in every thread: reads answer CUSTOMER_ERASED, the writer refuses, lookups are gone', async () => {
    const h = await setUp();
    const erased: EventOf<'customer.erased'>[] = [];
    await h.bus.subscribeAll('customer.erased', (e) => void erased.push(e));
    const closed: EventOf<'session.changed'>[] = [];
    await h.bus.subscribeAll('session.changed', (e) => void (e.payload.reason === 'closed' && closed.push(e)));
    const r = await h.sessions.appendInbound(
      draft({ identity: { channel: 'WB', externalId: 'gone-1', displayName: 'Zhao Lei' }, text: 'my secret' }),
      { skillGroup: 'general' },
    );
    const other = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'stays-1' } }), { skillGroup: 'general' });
    await h.sessions.claim(r.session.id, 'u-bob');
    // Warm every cache (this thread's store, the writer thread's ring).
    await h.sessions.appendOutbound({
      sessionId: r.session.id,
      authorId: 'u-bob',
      clientMessageId: 'warm-1',
      content: { kind: 'text', body: { text: 'hi' } },
      critical: true,
    });
    expect((await h.sessions.getCustomer(r.envelope.customerId))!.name).toBe('Zhao Lei');

    const req = await h.service.requestErasure(alice, { customerExternalId: 'gone-1', reason: 'GDPR Art. 17 request' });
    await expect(h.service.approve('erasure', req.id, alice)).rejects.toMatchObject({ code: 'PRIVACY_SELF_APPROVAL' });
    const done = await h.service.approve('erasure', req.id, olga);
    expect(done.status).toBe('executed');

    await expect(h.sessions.getCustomer(r.envelope.customerId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
    await expect(h.sessions.listMessages(r.envelope.conversationId)).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
    // The writer thread dropped its cached key: it cannot seal anything more for the erased customer.
    await expect(
      h.sessions.appendOutbound({
        sessionId: r.session.id,
        authorId: 'u-bob',
        clientMessageId: 'after-1',
        content: { kind: 'text', body: { text: 'x' } },
        critical: true,
      }),
    ).rejects.toMatchObject({ code: 'CUSTOMER_ERASED' });
    // Their open contact closed with the erasure (no disposition), and every node was told like any close.
    expect(await h.sessions.getSession(r.session.id)).toMatchObject({ status: 'closed', wrapUpCode: null, assignedAgentId: 'u-bob' });
    expect(closed.map((e) => [e.sessionId, e.payload.status, e.payload.reason])).toEqual([[r.session.id, 'closed', 'closed']]);
    expect(h.audit.find((e) => e.action === 'privacy.erasure.execute')?.detail).toMatchObject({ sessionsClosed: 1 });
    await expect(h.sessions.close(r.session.id, 'u-bob', 'resolved')).rejects.toMatchObject({ code: expect.any(String) });
    // The other customer's contact stays open.
    expect((await h.sessions.getSession(other.session.id))?.status).toBe('queued');
    // Identity lookups are gone: the same visitor writing again is a new customer.
    expect(await h.sessions.findCustomerByIdentity('WB', 'gone-1')).toBeNull();
    // Others are untouched.
    expect((await h.sessions.listMessages(other.envelope.conversationId)).length).toBe(1);
    expect(erased.map((e) => e.payload.customerIds)).toEqual([[r.envelope.customerId]]);
    // A new export or erasure of them answers CUSTOMER_ERASED.
    await expect(h.service.requestExport(alice, { customerId: r.envelope.customerId, reason: 'after the erasure' })).rejects.toMatchObject({
      code: 'CUSTOMER_ERASED',
    });
    expect(h.audit.find((e) => e.action === 'privacy.erasure.execute')).toMatchObject({
      outcome: 'ok',
      detail: expect.objectContaining({ keysDestroyed: 1, identitiesRemoved: 1 }),
    });
  });

  it('retention removes the content of closed conversations older than their group keeps, and audits the run', async () => {
    const h = await setUp();
    const old = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'ret-1' } }), { skillGroup: 'general' });
    await h.sessions.claim(old.session.id, 'agent-a');
    await h.sessions.close(old.session.id, 'agent-a', 'resolved');
    const vip = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'ret-2' } }), { skillGroup: 'vip' });
    await h.sessions.claim(vip.session.id, 'agent-b');
    await h.sessions.close(vip.session.id, 'agent-b', 'resolved');
    await h.service.setRetentionRules(olga, [{ skillGroup: 'general', days: 30 }], ['general', 'vip']);
    await expect(h.service.setRetentionRules(olga, [{ skillGroup: 'nope', days: 1 }], ['general', 'vip'])).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
    expect(await h.service.runRetention()).toEqual([expect.objectContaining({ skillGroup: 'general', sessions: 0 })]);
    h.advance(31 * DAY);
    const [report] = await h.service.runRetention();
    expect(report).toMatchObject({ skillGroup: 'general', sessions: 1, messages: 1 });
    expect(await h.sessions.listMessages(old.envelope.conversationId)).toEqual([]);
    expect((await h.sessions.getSession(old.session.id))?.status).toBe('closed');
    expect((await h.sessions.listMessages(vip.envelope.conversationId)).length).toBe(1);
    expect(h.audit.filter((e) => e.action === 'retention.run').map((e) => e.detail?.['sessions'])).toEqual([0, 1]);
    expect(h.audit.some((e) => e.action === 'retention.config-change' && e.target?.id === 'general')).toBe(true);
  });

  it('in redis mode runs the archive’s retention (Redis Cluster + PostgreSQL) for the same group and cut-off, and audits its counts', async () => {
    const calls: [string, string][] = [];
    const h = await setUp({
      archiveRetention: async (skillGroup, before) => {
        calls.push([skillGroup, before]);
        return { sessions: 2, archivedMessages: 7, hotMessages: 3 };
      },
    });
    await h.service.setRetentionRules(olga, [{ skillGroup: 'vip', days: 30 }], ['general', 'vip']);
    const [report] = await h.service.runRetention();
    expect(report).toMatchObject({ skillGroup: 'vip', archivedSessions: 2, archivedMessages: 7, hotMessages: 3 });
    expect(calls).toEqual([['vip', report!.before]]);
    const run = h.audit.find((e) => e.action === 'retention.run');
    expect(run?.detail).toMatchObject({ archivedSessions: 2, archivedMessages: 7, hotMessages: 3 });
  });

  it('in redis mode erases the cluster’s copies (sharedErasure) for the whole group before the request is executed', async () => {
    const seen: { ids: readonly string[]; status: string | undefined }[] = [];
    let requestId = '';
    const h: Awaited<ReturnType<typeof setUp>> = await setUp({
      sharedErasure: async (ids) => void seen.push({ ids, status: (await h.store.get(requestId))?.status }),
    });
    const a = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'shared-a' } }), { skillGroup: 'general' });
    const b = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'shared-b' } }), { skillGroup: 'general' });
    await h.sessions.mergeCustomers({ survivorId: a.envelope.customerId, mergedId: b.envelope.customerId, by: 'u-olga', reason: 'agent' });
    requestId = (await h.service.requestErasure(alice, { customerId: b.envelope.customerId, reason: 'GDPR Art. 17 request' })).id;
    expect((await h.service.approve('erasure', requestId, olga)).status).toBe('executed');
    expect(seen).toEqual([{ ids: expect.arrayContaining([a.envelope.customerId, b.envelope.customerId]), status: 'approved' }]);
    expect(seen[0]!.ids).toHaveLength(2);

    // A cluster that cannot erase fails the request: it is not recorded executed.
    const failing = await setUp({
      sharedErasure: async () => {
        throw new HuiliuError('NOT_READY', 'no replica acknowledged in time');
      },
    });
    const c = await failing.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'shared-c' } }), {
      skillGroup: 'general',
    });
    const r2 = await failing.service.requestErasure(alice, { customerId: c.envelope.customerId, reason: 'GDPR Art. 17 request' });
    await expect(failing.service.approve('erasure', r2.id, olga)).rejects.toMatchObject({ code: 'NOT_READY' });
    expect((await failing.store.get(r2.id))?.status).toBe('failed');
  });
  it('a cluster that fails an erasure leaves this file untouched, and the request filed again erases the whole merge group', async () => {
    const calls: string[][] = [];
    let fail = true;
    const h = await setUp({
      sharedErasure: async (ids) => {
        calls.push([...ids].sort());
        if (fail) throw new HuiliuError('NOT_READY', 'no replica acknowledged in time');
      },
    });
    const a = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'retry-a' } }), { skillGroup: 'general' });
    const b = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'retry-b' } }), { skillGroup: 'general' });
    const [A, B] = [a.envelope.customerId, b.envelope.customerId];
    await h.sessions.mergeCustomers({ survivorId: A, mergedId: B, by: 'u-olga', reason: 'agent' });
    const first = await h.service.requestErasure(alice, { customerId: B, reason: 'GDPR Art. 17 request' });
    await expect(h.service.approve('erasure', first.id, olga)).rejects.toMatchObject({ code: 'NOT_READY' });
    expect((await h.store.get(first.id))?.status).toBe('failed');
    // Nothing shredded here: both keys and the merge link are intact, so the retry still sees the group.
    expect(await h.store.erased([A, B])).toEqual(new Set());
    expect((await h.store.customerGroup(B)).sort()).toEqual([A, B].sort());

    fail = false;
    const again = await h.service.requestErasure(alice, { customerId: B, reason: 'GDPR Art. 17 request (retry)' });
    expect((await h.service.approve('erasure', again.id, petra)).status).toBe('executed');
    expect(calls).toEqual([[A, B].sort(), [A, B].sort()]);
    expect(await h.store.erased([A, B])).toEqual(new Set([A, B]));
  });

  it('an erasure whose cluster step failed after its log entry was written is completed on the cluster by the catch-up, before this file shreds', async () => {
    // sharedErasure = the log's record, then the ports' erasure (main.ts); the ports fail once (no replica in time).
    const logged: string[][] = [];
    const cluster: string[][] = [];
    let fail = true;
    const clusterErasure = async (ids: readonly string[]) => {
      cluster.push([...ids].sort());
      if (fail) throw new HuiliuError('NOT_READY', 'no replica acknowledged in time');
    };
    const h = await setUp({
      sharedErasure: async (ids) => {
        logged.push([...ids]);
        await clusterErasure(ids);
      },
      clusterErasure,
    });
    const a = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'half-a' } }), { skillGroup: 'general' });
    const b = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'half-b' } }), { skillGroup: 'general' });
    const [A, B] = [a.envelope.customerId, b.envelope.customerId];
    await h.sessions.mergeCustomers({ survivorId: A, mergedId: B, by: 'u-olga', reason: 'agent' });
    const r = await h.service.requestErasure(alice, { customerId: B, reason: 'GDPR Art. 17 request' });
    await expect(h.service.approve('erasure', r.id, olga)).rejects.toMatchObject({ code: 'NOT_READY' });
    expect(logged).toHaveLength(1);
    // This node's catch-up (timer, reconnect) reads the entry the failed request wrote: while the
    // cluster still fails, nothing is shredded here (the entry stays for the retry) ...
    await expect(h.service.applyRecordedErasure(logged[0]!)).rejects.toMatchObject({ code: 'NOT_READY' });
    expect(await h.store.erased([A, B])).toEqual(new Set());
    // ... and once it answers, the whole group is erased on the cluster, then here.
    expect((await h.store.get(r.id))?.status).toBe('failed');
    fail = false;
    expect((await h.service.applyRecordedErasure(logged[0]!)).customerIds.sort()).toEqual([A, B].sort());
    expect(cluster.at(-1)).toEqual([A, B].sort());
    expect(await h.store.erased([A, B])).toEqual(new Set([A, B]));
    // The request the approval recorded `failed` is done now: recorded executed, audited once as such.
    expect((await h.store.get(r.id))?.status).toBe('executed');
    const completed = h.audit.filter((e) => e.action === 'privacy.erasure.execute' && e.outcome === 'ok');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({ target: { id: r.id }, detail: { completedBy: 'erasure-log' } });
    // The entry applied again (another catch-up round) changes nothing more.
    expect((await h.service.applyRecordedErasure(logged[0]!)).customerIds).toEqual([]);
    expect(h.audit.filter((e) => e.action === 'privacy.erasure.execute' && e.outcome === 'ok')).toHaveLength(1);
  });

  it('a catch-up running while the approving node erases on the cluster waits: the audit counts what was destroyed', async () => {
    let catchUp: Promise<unknown> | null = null;
    let logged: readonly string[] = [];
    const h = await setUp({
      sharedErasure: async (ids) => {
        logged = ids;
        // The erasure-log timer fires while the cluster step awaits Redis.
        catchUp = h.service.applyRecordedErasure(ids);
        await new Promise((resolve) => setTimeout(resolve, 100));
      },
    });
    const a = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'race-a' } }), { skillGroup: 'general' });
    const b = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'race-b' } }), { skillGroup: 'general' });
    const [A, B] = [a.envelope.customerId, b.envelope.customerId];
    await h.sessions.mergeCustomers({ survivorId: A, mergedId: B, by: 'u-olga', reason: 'agent' });
    const r = await h.service.requestErasure(alice, { customerId: A, reason: 'GDPR Art. 17 request' });
    expect((await h.service.approve('erasure', r.id, olga)).status).toBe('executed');
    expect(await catchUp).toEqual({ customerIds: [], keysDestroyed: 0 });
    expect([...logged].sort()).toEqual([A, B].sort());
    expect(h.audit.find((e) => e.action === 'privacy.erasure.execute')?.detail).toMatchObject({ customers: 2, keysDestroyed: 2 });
    expect(await h.store.erased([A, B])).toEqual(new Set([A, B]));
  });

  it('carries out requests whose approval was interrupted (still approved 10 min later): the erasure, the export bundle', async () => {
    const h = await setUp();
    const e = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'stuck-e' } }), { skillGroup: 'general' });
    const x = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'stuck-x' } }), { skillGroup: 'general' });
    const erasure = await h.service.requestErasure(alice, { customerId: e.envelope.customerId, reason: 'GDPR Art. 17 request' });
    const exp = await h.service.requestExport(alice, { customerExternalId: 'stuck-x', reason: 'GDPR Art. 15 request' });
    // The process stopped right after recording the approvals (what `approve` does before carrying out).
    const at = new Date().toISOString();
    expect(await h.store.decide(erasure.id, 'approved', 'u-olga', at, null)).toBe(true);
    expect(await h.store.decide(exp.id, 'approved', 'u-olga', at, new Date(Date.now() + 7 * DAY).toISOString())).toBe(true);
    // Not yet: an approval a minute old may still be running somewhere.
    h.advance(60_000);
    expect(await h.service.resumeInterrupted()).toBe(0);
    expect((await h.store.get(erasure.id))?.status).toBe('approved');

    h.advance(10 * 60_000);
    expect(await h.service.resumeInterrupted()).toBe(2);
    expect((await h.store.get(erasure.id))?.status).toBe('executed');
    expect(await h.store.erased([e.envelope.customerId, x.envelope.customerId])).toEqual(new Set([e.envelope.customerId]));
    expect(await h.store.get(exp.id)).toMatchObject({ status: 'approved', hasBundle: true });
    expect(h.audit.filter((a) => a.action.endsWith('.resume')).map((a) => a.action)).toEqual([
      'privacy.erasure.resume',
      'privacy.export.resume',
    ]);
    // Done: nothing left to resume.
    expect(await h.service.resumeInterrupted()).toBe(0);
  });

  it('an interrupted approval is resumed by one process of those sharing the database file; a stale claim is taken again', async () => {
    const h = await setUp();
    const other = h.twin();
    const c = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'twice' } }), { skillGroup: 'general' });
    const erasure = await h.service.requestErasure(alice, { customerId: c.envelope.customerId, reason: 'GDPR Art. 17 request' });
    expect(await h.store.decide(erasure.id, 'approved', 'u-olga', new Date().toISOString(), null)).toBe(true);
    h.advance(11 * 60_000);
    // Both processes' privacy jobs run in the same minute: one carries it out, the other leaves it.
    const counts = await Promise.all([h.service.resumeInterrupted(), other.resumeInterrupted()]);
    expect(counts.sort()).toEqual([0, 1]);
    expect(h.audit.filter((a) => a.action === 'privacy.erasure.resume')).toHaveLength(1);
    expect(h.audit.filter((a) => a.action === 'privacy.erasure.execute')).toHaveLength(1);
    expect((await h.store.get(erasure.id))?.status).toBe('executed');

    // A process that claimed a request and stopped before finishing: its claim holds for the resume delay, then is taken.
    const d = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'claimed' } }), { skillGroup: 'general' });
    const stuck = await h.service.requestErasure(alice, { customerId: d.envelope.customerId, reason: 'GDPR Art. 17 request' });
    expect(await h.store.decide(stuck.id, 'approved', 'u-olga', new Date(Date.now() + 11 * 60_000).toISOString(), null)).toBe(true);
    h.advance(11 * 60_000);
    const never = new Date(8.64e15).toISOString();
    expect(await h.store.claimResume(stuck.id, new Date(Date.now() + 22 * 60_000).toISOString(), new Date(0).toISOString(), never)).toBe(
      true,
    );
    expect(await other.resumeInterrupted()).toBe(0);
    expect((await h.store.get(stuck.id))?.status).toBe('approved');
    h.advance(11 * 60_000);
    expect(await other.resumeInterrupted()).toBe(1);
    expect((await h.store.get(stuck.id))?.status).toBe('executed');
  });

  it('an export whose bundle is built while the same customer is erased stores no bundle: the erasure withdrew it (review6)', async () => {
    // The export's build reads the conversations, then (here) waits; meanwhile another officer erases the customer.
    let gate: Promise<void> | null = null;
    let reached: () => void = () => undefined;
    const atGate = new Promise<void>((resolve) => (reached = resolve));
    const h = await setUp(
      {},
      (store) =>
        new Proxy(store, {
          get(target, prop) {
            if (prop === 'sessionRating')
              return async (id: string) => {
                const rating = await target.sessionRating(id);
                if (gate) {
                  reached();
                  await gate;
                }
                return rating;
              };
            const value: unknown = Reflect.get(target, prop);
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        }),
    );
    const r = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'exp-erased' }, text: 'MARKER-both-4411' }), {
      skillGroup: 'general',
    });
    const exp = await h.service.requestExport(alice, { customerId: r.envelope.customerId, reason: 'GDPR Art. 15' });
    const era = await h.service.requestErasure(bob, { customerId: r.envelope.customerId, reason: 'GDPR Art. 17' });
    let release: () => void = () => undefined;
    gate = new Promise<void>((resolve) => (release = resolve));
    const building = h.service.approve('export', exp.id, olga).then(
      (v) => v,
      (e: unknown) => e,
    );
    await atGate;
    expect((await h.service.approve('erasure', era.id, petra)).status).toBe('executed');
    release();
    const outcome = await building;
    // The erased customer's content must not stay in the file, sealed under a key of its own.
    const stored = await h.store.get(exp.id);
    expect(stored).toMatchObject({ status: 'expired', hasBundle: false });
    expect(outcome).toMatchObject({ code: 'CUSTOMER_ERASED' });
    await expect(h.service.download(exp.id, alice)).rejects.toMatchObject({ code: 'EXPORT_GONE' });
  });

  it('an approval still being carried out after the resume delay keeps its claim: another process does not erase it again (review6)', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    cleanups.push(async () => void vi.useRealTimers());
    // The approving process's cluster step takes longer than the resume delay (a slow quorum, a pause).
    let calls = 0;
    let release: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => (release = resolve));
    const h = await setUp({
      sharedErasure: async () => {
        if (++calls === 1) await slow;
      },
    });
    const other = h.twin();
    const c = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'slow-1' } }), { skillGroup: 'general' });
    const req = await h.service.requestErasure(alice, { customerId: c.envelope.customerId, reason: 'GDPR Art. 17 request' });
    const approving = h.service.approve('erasure', req.id, olga);
    while (calls === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    h.advance(11 * 60_000);
    await vi.advanceTimersByTimeAsync(11 * 60_000);
    // The other process's privacy job: the request is approved, 11 min old — but still being carried out.
    expect(await other.resumeInterrupted()).toBe(0);
    release();
    expect((await approving).status).toBe('executed');
    expect(calls).toBe(1);
    expect(h.audit.filter((a) => a.action === 'privacy.erasure.execute')).toHaveLength(1);
    expect(h.audit.filter((a) => a.action === 'privacy.erasure.resume')).toHaveLength(0);
  });

  it('time going backwards: an approval or claim stamped by a clock that ran ahead does not hold a request for that long (review6)', async () => {
    const h = await setUp();
    const other = h.twin();
    const ahead = new Date(Date.now() + 30 * DAY).toISOString();
    // Approved, then the process stopped, while the host clock was a month ahead; NTP stepped it back since.
    const a = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'ahead-a' } }), { skillGroup: 'general' });
    const ra = await h.service.requestErasure(alice, { customerId: a.envelope.customerId, reason: 'GDPR Art. 17 request' });
    expect(await h.store.decide(ra.id, 'approved', 'u-olga', ahead, null)).toBe(true);
    // Claimed for resuming by a process (clock ahead) that stopped before finishing.
    const b = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'ahead-b' } }), { skillGroup: 'general' });
    const rb = await h.service.requestErasure(alice, { customerId: b.envelope.customerId, reason: 'GDPR Art. 17 request' });
    expect(await h.store.decide(rb.id, 'approved', 'u-olga', new Date().toISOString(), null)).toBe(true);
    expect(await h.store.claimResume(rb.id, ahead, new Date(0).toISOString(), new Date(8.64e15).toISOString())).toBe(true);
    h.advance(11 * 60_000);
    expect(await other.resumeInterrupted()).toBe(2);
    expect((await h.store.get(ra.id))?.status).toBe('executed');
    expect((await h.store.get(rb.id))?.status).toBe('executed');
  });

  it('applying a recorded erasure: members only this file merged are erased on the cluster even when the first try fails', async () => {
    // Node B's file merged X (the log's id) with Z; the cluster fails the first sharedErasure of Z.
    const calls: string[][] = [];
    let fail = true;
    const h = await setUp({
      sharedErasure: async (ids) => {
        calls.push([...ids]);
        if (fail) throw new HuiliuError('NOT_READY', 'no replica acknowledged in time');
      },
    });
    const x = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'logged-x' } }), { skillGroup: 'general' });
    const z = await h.sessions.appendInbound(draft({ identity: { channel: 'WB', externalId: 'merged-z' } }), { skillGroup: 'general' });
    const [X, Z] = [x.envelope.customerId, z.envelope.customerId];
    await h.sessions.mergeCustomers({ survivorId: X, mergedId: Z, by: 'u-olga', reason: 'agent' });
    await expect(h.service.applyRecordedErasure([X])).rejects.toMatchObject({ code: 'NOT_READY' });
    // The log's cursor stays before the entry: the retry must still erase Z on the cluster.
    fail = false;
    await h.service.applyRecordedErasure([X]);
    expect(calls).toEqual([[Z], [Z]]);
    expect(await h.store.erased([X, Z])).toEqual(new Set([X, Z]));
    // Applied again (a crash before the cursor moved): nothing more.
    expect(await h.service.applyRecordedErasure([X])).toEqual({ customerIds: [], keysDestroyed: 0 });
    expect(calls).toHaveLength(2);
  });
});
