import { afterEach, describe, expect, it, vi } from 'vitest';
import type { UserView } from '../../../common/api/auth';
import type { SessionViewers, TakeoverView } from '../../../common/api/collision';
import { HuiliuError } from '../../../common/errors/codes';
import { createLogger } from '../logging/logger';
import type { SessionRecord } from '../sessions/store';
import { createCollisionService, type CollisionService, type RemoteViewer, type ViewerSharing } from './service';

const user = (id: string, skillGroups: string[], roles: UserView['roles'] = ['agent']): UserView =>
  ({ id, username: id, displayName: id.toUpperCase(), roles, skillGroups, expert: false }) as UserView;

const one = user('one', ['general']);
const two = user('two', ['general']);
const vip = user('vip', ['vip']);
const lead = user('lead', ['general', 'vip'], ['lead']);
const SESSION = '01J0000000000000000000000A';

/**
 * The collision service alone (issue 15): the viewer registry and the take-over state machine, with
 * an in-memory session and a transfer path that records what it was asked (the hub test on the real
 * server, server/test/collision.test.ts, runs the real transfer path).
 */
function harness(opts: { failTransfer?: string; share?: ViewerSharing; now?: () => number } = {}) {
  const session = { id: SESSION, skillGroup: 'general', status: 'active', assignedAgentId: 'one' } as SessionRecord;
  const pushed = {
    viewers: [] as { to: string[]; payload: SessionViewers }[],
    requested: [] as TakeoverView[],
    updated: [] as TakeoverView[],
  };
  const transfers: { from: string; to: string }[] = [];
  const audits: { action: string; outcome: string }[] = [];
  const service = createCollisionService({
    store: { getSession: async (id) => (id === SESSION ? session : null) },
    directory: { userById: (id) => [one, two, vip, lead].find((u) => u.id === id) ?? null },
    transfers: {
      transfer: async (actor, input) => {
        if (opts.failTransfer) throw new HuiliuError(opts.failTransfer as 'TRANSFER_TARGET_UNAVAILABLE');
        transfers.push({ from: actor.id, to: input.to.kind === 'agent' ? input.to.agentId : '' });
        return { id: 't-1' } as never;
      },
      accept: async (actor) => {
        session.assignedAgentId = actor.id;
        return {} as never;
      },
    },
    push: {
      viewers: (to, payload) => pushed.viewers.push({ to, payload }),
      requested: (_holder, view) => pushed.requested.push(view),
      updated: (_ids, view) => pushed.updated.push(view),
    },
    audit: (e) => audits.push({ action: e.action, outcome: e.outcome }),
    logger: createLogger({ level: 'silent' }),
    timeoutMs: 1000,
    ...(opts.share ? { share: opts.share } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  });
  return { service, session, pushed, transfers, audits };
}

afterEach(() => void vi.useRealTimers());

describe('collision service', () => {
  it('lists each person once, pushes every change to every viewing socket, and forgets a dropped socket', async () => {
    const { service, pushed } = harness();
    await service.view({ socketId: 's1', user: one, via: 'workstation' }, SESSION);
    await service.view({ socketId: 's2', user: two, via: 'workstation' }, SESSION);
    // The same person on a second socket (app and a browser tab) is listed once.
    const both = await service.view({ socketId: 's3', user: two, via: 'workstation' }, SESSION);
    expect(both.viewers).toEqual([
      { id: 'one', name: 'ONE', via: 'workstation', assigned: true },
      { id: 'two', name: 'TWO', via: 'workstation', assigned: false },
    ]);
    expect(pushed.viewers.at(-1)!.to.sort()).toEqual(['s1', 's2', 's3']);
    await service.dropSocket('s2');
    expect(pushed.viewers.at(-1)!.payload.viewers.map((v) => v.id)).toEqual(['one', 'two']);
    await service.dropSocket('s3');
    expect(pushed.viewers.at(-1)).toMatchObject({ to: ['s1'], payload: { viewers: [{ id: 'one' }] } });
    expect(service.isViewing('two', SESSION)).toBe(false);
    // Unviewing what one does not view pushes nothing.
    const before = pushed.viewers.length;
    await service.unview('s9', SESSION);
    expect(pushed.viewers.length).toBe(before);
  });

  it('refuses a view outside the skill groups as SESSION_NOT_FOUND, and lets a lead supervise', async () => {
    const { service } = harness();
    await expect(service.view({ socketId: 's1', user: vip, via: 'workstation' }, SESSION)).rejects.toMatchObject({
      code: 'SESSION_NOT_FOUND',
    });
    const seen = await service.view({ socketId: 's2', user: lead, via: 'supervising' }, SESSION);
    expect(seen.viewers).toEqual([{ id: 'lead', name: 'LEAD', via: 'supervising', assigned: false }]);
  });

  it('counts an unanswered request as expired (declined) after the timeout, and tells both', async () => {
    vi.useFakeTimers();
    const { service, pushed, transfers } = harness();
    await service.view({ socketId: 's2', user: two, via: 'workstation' }, SESSION);
    const asked = await service.request(two, SESSION);
    expect(pushed.requested).toEqual([asked]);
    await vi.advanceTimersByTimeAsync(999);
    expect(pushed.updated.at(-1)!.status).toBe('pending');
    await vi.advanceTimersByTimeAsync(2);
    expect(pushed.updated.at(-1)).toMatchObject({ id: asked.id, status: 'expired' });
    // A late answer is told the request ended, not that it never existed.
    await expect(service.answer(one, asked.id, true)).rejects.toMatchObject({ code: 'TAKEOVER_NOT_PENDING' });
    expect(transfers).toEqual([]);
    // Another request may be made now.
    await expect(service.request(two, SESSION)).resolves.toMatchObject({ status: 'pending' });
  });

  it('accepts through the transfer path on the holder’s behalf, audited; a refused transfer ends the request failed', async () => {
    const ok = harness();
    await ok.service.view({ socketId: 's2', user: two, via: 'workstation' }, SESSION);
    const asked = await ok.service.request(two, SESSION);
    await expect(ok.service.answer(two, asked.id, true)).rejects.toMatchObject({ code: 'TAKEOVER_NOT_FOUND' });
    await expect(ok.service.answer(one, asked.id, true)).resolves.toMatchObject({ status: 'accepted', transferId: 't-1' });
    expect(ok.transfers).toEqual([{ from: 'one', to: 'two' }]);
    expect(ok.session.assignedAgentId).toBe('two');
    expect(ok.audits).toEqual([{ action: 'session.takeover', outcome: 'ok' }]);

    const bad = harness({ failTransfer: 'TRANSFER_TARGET_UNAVAILABLE' });
    await bad.service.view({ socketId: 's2', user: two, via: 'workstation' }, SESSION);
    const again = await bad.service.request(two, SESSION);
    await expect(bad.service.answer(one, again.id, true)).resolves.toMatchObject({
      status: 'failed',
      error: 'TRANSFER_TARGET_UNAVAILABLE',
    });
    expect(bad.audits).toEqual([{ action: 'session.takeover', outcome: 'failed' }]);
  });

  it('refuses requests by the rules: not viewing, own contact, another group, already pending, nobody holding it', async () => {
    const { service, session } = harness();
    await expect(service.request(two, SESSION)).rejects.toMatchObject({ code: 'NOT_VIEWING' });
    await expect(service.request(one, SESSION)).rejects.toMatchObject({ code: 'TAKEOVER_OWN' });
    await expect(service.request(vip, SESSION)).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    const admin = user('admin', [], ['admin']);
    await expect(service.request(admin, SESSION)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await service.view({ socketId: 's2', user: two, via: 'workstation' }, SESSION);
    await service.view({ socketId: 's4', user: lead, via: 'supervising' }, SESSION);
    await service.request(two, SESSION);
    await expect(service.request(lead, SESSION)).rejects.toMatchObject({ code: 'TAKEOVER_PENDING' });
    // The contact closes: the pending request is cancelled, and a new one finds nobody holding it.
    session.status = 'closed';
    await service.sessionChanged(SESSION);
    await expect(service.request(lead, SESSION)).rejects.toMatchObject({ code: 'SESSION_CLOSED' });
    session.status = 'queued';
    session.assignedAgentId = null;
    await expect(service.request(lead, SESSION)).rejects.toMatchObject({ code: 'NO_AGENT_ASSIGNED' });
    service.stop();
  });

  it('drops a viewer whose scope no longer covers the session after it changed groups: they get an empty list, the rest a list without them', async () => {
    const { service, session, pushed } = harness();
    await service.view({ socketId: 's1', user: one, via: 'workstation' }, SESSION);
    await service.view({ socketId: 's4', user: lead, via: 'supervising' }, SESSION);
    // Cold transfer to vip: the contact now sits in vip, held by the vip agent.
    session.skillGroup = 'vip';
    session.assignedAgentId = 'vip';
    await service.sessionChanged(SESSION);
    expect(service.isViewing('one', SESSION)).toBe(false);
    const toOne = pushed.viewers.filter((p) => p.to.includes('s1')).at(-1)!;
    expect(toOne).toEqual({ to: ['s1'], payload: { sessionId: SESSION, assignedAgentId: null, viewers: [] } });
    const toOneCount = pushed.viewers.filter((p) => p.to.includes('s1')).length;
    await service.view({ socketId: 's3', user: vip, via: 'workstation' }, SESSION);
    const last = pushed.viewers.at(-1)!;
    expect(last.to.sort()).toEqual(['s3', 's4']);
    expect(last.payload.viewers.map((v) => v.id)).toEqual(['lead', 'vip']);
    // Nothing more about the contact reaches the dropped viewer.
    expect(pushed.viewers.filter((p) => p.to.includes('s1')).length).toBe(toOneCount);
    service.stop();
  });

  it('cancels the requester’s pending take-over when they stop viewing it (unview, another socket still viewing keeps it) and when their socket ends', async () => {
    const { service, pushed, transfers } = harness();
    await service.view({ socketId: 's2', user: two, via: 'workstation' }, SESSION);
    await service.view({ socketId: 's5', user: two, via: 'workstation' }, SESSION);
    const asked = await service.request(two, SESSION);
    // Still viewing on another socket: the request stands.
    await service.unview('s5', SESSION);
    expect(pushed.updated.at(-1)).toMatchObject({ id: asked.id, status: 'pending' });
    await service.unview('s2', SESSION);
    expect(pushed.updated.at(-1)).toMatchObject({ id: asked.id, status: 'cancelled' });
    await expect(service.answer(one, asked.id, true)).rejects.toMatchObject({ code: 'TAKEOVER_NOT_PENDING' });
    expect(transfers).toEqual([]);

    await service.view({ socketId: 's2', user: two, via: 'workstation' }, SESSION);
    const again = await service.request(two, SESSION);
    await service.dropSocket('s2');
    expect(pushed.updated.at(-1)).toMatchObject({ id: again.id, status: 'cancelled' });
    await expect(service.answer(one, again.id, true)).rejects.toMatchObject({ code: 'TAKEOVER_NOT_PENDING' });
    expect(transfers).toEqual([]);
    service.stop();
  });
});

describe('viewers across server nodes (session.viewing)', () => {
  /**
   * Two nodes whose `share.publish` is delivered to the other's `applyRemote` (what the bus's fan-out
   * does), each with its own registry; `down` stops a node's deliveries (it died), `sent` counts them.
   */
  function twoNodes(ttlMs = 3000) {
    let clock = 1_000_000;
    const now = () => clock;
    const nodes: { id: string; h: ReturnType<typeof harness>; down: boolean; sent: { sessionId: string; viewers: RemoteViewer[] }[] }[] =
      [];
    for (const id of ['node-a', 'node-b']) {
      const entry = {
        id,
        down: false,
        sent: [] as { sessionId: string; viewers: RemoteViewer[] }[],
        h: null as unknown as ReturnType<typeof harness>,
      };
      const share: ViewerSharing = {
        nodeId: id,
        ttlMs,
        publish: (sessionId, viewers, ttl) => {
          if (entry.down) return;
          entry.sent.push({ sessionId, viewers });
          // Fan-out: every node gets it, its own publisher too (and ignores it).
          for (const n of nodes) void n.h.service.applyRemote(id, sessionId, viewers, ttl);
        },
      };
      entry.h = harness({ share, now });
      nodes.push(entry);
    }
    const settle = () => new Promise((r) => setTimeout(r, 0));
    return { nodes, settle, advance: (ms: number) => void (clock += ms) };
  }
  const lastTo = (svc: ReturnType<typeof harness>, socketId: string) =>
    svc.pushed.viewers
      .filter((p) => p.to.includes(socketId))
      .at(-1)
      ?.payload.viewers.map((v) => `${v.id}:${v.via}:${v.assigned}`);

  it('shows a viewer on one node to the viewers on the other, and takes them off when they leave', async () => {
    const { nodes, settle } = twoNodes();
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    await a.h.service.view({ socketId: 'a1', user: one, via: 'workstation' }, SESSION);
    await b.h.service.view({ socketId: 'b1', user: two, via: 'workstation' }, SESSION);
    await settle();
    expect(lastTo(b.h, 'b1')).toEqual(['one:workstation:true', 'two:workstation:false']);
    expect(lastTo(a.h, 'a1')).toEqual(['one:workstation:true', 'two:workstation:false']);
    // A lead supervising from node B is listed once on A too; the holder stays flagged.
    await b.h.service.view({ socketId: 'b2', user: lead, via: 'supervising' }, SESSION);
    await settle();
    expect(lastTo(a.h, 'a1')).toEqual(['lead:supervising:false', 'one:workstation:true', 'two:workstation:false']);
    await b.h.service.dropSocket('b1');
    await b.h.service.unview('b2', SESSION);
    await settle();
    expect(lastTo(a.h, 'a1')).toEqual(['one:workstation:true']);
    // Each node published only when its own list changed (view two, view lead, drop two, unview lead → []).
    expect(b.sent.map((x) => x.viewers.map((v) => v.id).join(','))).toEqual(['two', 'lead,two', 'lead', '']);
    // The take-over rule stays per node: NOT_VIEWING is about the requester's own sockets.
    expect(a.h.service.isViewing('two', SESSION)).toBe(false);
  });

  it("forgets a dead node's viewers when their list runs out, and keeps a live node's (re-published)", async () => {
    vi.useFakeTimers();
    const { nodes, advance } = twoNodes(3000);
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    await a.h.service.view({ socketId: 'a1', user: one, via: 'workstation' }, SESSION);
    await b.h.service.view({ socketId: 'b1', user: two, via: 'workstation' }, SESSION);
    expect(lastTo(a.h, 'a1')).toContain('two:workstation:false');
    // Ten seconds of heartbeats (every 1 s): both lists hold.
    for (let i = 0; i < 10; i++) {
      advance(1000);
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(lastTo(a.h, 'a1')).toEqual(['one:workstation:true', 'two:workstation:false']);
    expect(b.sent.length).toBeGreaterThanOrEqual(9);
    // Node B dies without a word: after the TTL node A's viewer sees only themself.
    b.down = true;
    for (let i = 0; i < 4; i++) {
      advance(1000);
      await vi.advanceTimersByTimeAsync(1000);
    }
    expect(lastTo(a.h, 'a1')).toEqual(['one:workstation:true']);
    a.h.service.stop();
    b.h.service.stop();
  });

  it('tells the other nodes at once when a node stops', async () => {
    const { nodes, settle } = twoNodes();
    const [a, b] = nodes as [(typeof nodes)[0], (typeof nodes)[0]];
    await a.h.service.view({ socketId: 'a1', user: one, via: 'workstation' }, SESSION);
    await b.h.service.view({ socketId: 'b1', user: two, via: 'workstation' }, SESSION);
    await settle();
    b.h.service.stop();
    await settle();
    expect(lastTo(a.h, 'a1')).toEqual(['one:workstation:true']);
    a.h.service.stop();
  });

  it('ignores its own list coming back and a list for a session nobody here views', async () => {
    const { nodes, settle } = twoNodes();
    const [a] = nodes as [(typeof nodes)[0]];
    const svc: CollisionService = a.h.service;
    await svc.applyRemote('node-a', SESSION, [{ id: 'ghost', name: 'G', via: 'workstation' }], 3000);
    await svc.applyRemote('node-b', SESSION, [{ id: 'two', name: 'TWO', via: 'workstation' }], 3000);
    expect(a.h.pushed.viewers).toHaveLength(0);
    await svc.view({ socketId: 'a1', user: one, via: 'workstation' }, SESSION);
    await settle();
    expect(lastTo(a.h, 'a1')).toEqual(['one:workstation:true', 'two:workstation:false']);
    svc.stop();
  });
});
