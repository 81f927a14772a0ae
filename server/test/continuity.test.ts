import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CustomerIdentitiesView, CustomerLookupView, CustomerMergeView, TimelineView } from '../../common/api/customers';
import type { MessageView, SessionDetail, SessionSummary } from '../../common/api/sessions';
import type { EventOf } from '../../common/events/events';
import type { InboundDraft } from '../../common/message/envelope';
import { ack, openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { until } from './support/until';

/**
 * Issue 12, one person across channels on the real server: a customer who moves channel within the
 * continuity window lands with the same agent in the same conversation; the agent's open tab follows;
 * replies go out on the channel the customer last used; the timeline, identities, merge and undo routes.
 * The WeChat side here is the draft the WeChat adapter makes (gateway/wechat), fed through the one
 * inbound path (Ingest); server/test/wechat-continuity.test.ts drives the real WeChat route.
 */
describe('cross-channel continuity', () => {
  let s: TestServer;
  let agent1: Socket;
  let token1: string;
  const rows: SessionSummary[] = [];
  const pushed: MessageView[] = [];
  const merges: EventOf<'customer.merged'>[] = [];
  const outbound: EventOf<'message.out'>[] = [];
  const key = { 'x-huiliu-key': 'demo-app-key' };
  let n = 0;

  beforeAll(async () => {
    s = await startTestServer();
    await s.services.bus.subscribeAll('customer.merged', (e) => void merges.push(e));
    await s.services.bus.subscribeAll('message.out', (e) => void outbound.push(e));
    token1 = await s.login('agent1');
    agent1 = await openAgentSocket(s, token1);
    agent1.on('queue:upsert', (r: SessionSummary) => void rows.push(r));
    agent1.on('message:new', (m: MessageView) => void pushed.push(m));
  });
  afterAll(async () => {
    agent1?.disconnect();
    await s.cleanup();
  });

  const api = async <T>(method: 'GET' | 'POST', url: string, token: string, payload?: unknown) => {
    const r = await s.app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
    return { status: r.statusCode, body: r.json<T & { error?: { code: string; details?: unknown } }>() };
  };
  const fromApp = async (externalId: string, text: string, verified?: Record<string, string>) => {
    const r = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: key,
      payload: { customer: { externalId, ...(verified ? { verified } : {}) }, text, clientMessageId: `cont-${++n}` },
    });
    expect(r.statusCode).toBe(202);
    return r.json<{ sessionId: string; conversationId: string; warnings?: unknown[] }>();
  };
  /** What the WeChat adapter hands the inbound path for one text push (normalize output). */
  const fromWeChat = (openid: string, text: string, unionid?: string) => {
    const t = new Date().toISOString();
    const draft: InboundDraft = {
      identity: {
        channel: 'WX',
        externalId: openid,
        ...(unionid ? { links: [{ kind: 'wechat-unionid', value: unionid, merge: true }] } : {}),
      },
      content: { kind: 'text', body: { text } },
      critical: true,
      clientMessageId: `wx-${++n}`,
      sentAt: t,
      receivedAt: t,
      meta: {},
    };
    return s.services.ingest.accept(draft, 'general');
  };
  /** agent1 takes the session (an offer, a waiting contact or one with the AI). */
  const take = async (sessionId: string) => {
    await until(async () => {
      const session = await s.services.store.getSession(sessionId);
      return session !== null && session.status !== 'queued';
    }, 1500).catch(() => undefined);
    const accepted = await ack<SessionDetail>(agent1, 'offer:accept', { sessionId });
    expect(accepted).toMatchObject({ ok: true, data: { status: 'active' } });
  };

  it('moves a WeChat customer who opens the app to the same agent, one conversation, and answers on the app', async () => {
    const wx = await fromWeChat('o-continuity-1', 'My parcel 2024 has not arrived', 'union-continuity-01');
    await take(wx.session.id);
    // The app's signed-in user: the app verified the same WeChat unionid (WeChat login).
    const ap = await fromApp('u-continuity-1', 'I opened the app instead', { wechatUnionId: 'union-continuity-01' });
    expect(ap.sessionId.startsWith('AP')).toBe(true);
    expect(ap.conversationId).toBe(wx.session.conversationId);
    const moved = await s.services.store.getSession(ap.sessionId);
    expect(moved).toMatchObject({ status: 'active', assignedAgentId: expect.any(String), movedFrom: wx.session.id });
    expect(await s.services.store.getSession(wx.session.id)).toMatchObject({ status: 'closed', movedTo: ap.sessionId });

    // The agent's workstation is told: the new session's row names the one it carries on from, and
    // the customer's new message reaches the agent who has the chat.
    await until(() => rows.some((r) => r.id === ap.sessionId && r.status === 'active' && r.movedFrom === wx.session.id));
    await until(() => pushed.some((m) => m.sessionId === ap.sessionId && m.channel === 'AP'));

    // A reply sent from the tab still showing the WeChat session goes out on the app, where the customer is now.
    const reply = await ack<MessageView>(agent1, 'message:send', {
      sessionId: wx.session.id,
      clientMessageId: 'cont-reply-1',
      text: 'Found it, it ships today.',
    });
    expect(reply).toMatchObject({ ok: true, data: { sessionId: ap.sessionId, channel: 'AP' } });
    await until(() => outbound.some((e) => e.payload.envelope.clientMessageId === 'cont-reply-1'));
    expect(outbound.find((e) => e.payload.envelope.clientMessageId === 'cont-reply-1')!.payload.session.channel).toBe('AP');
    const polled = await s.app.inject({ method: 'GET', url: '/api/v1/channels/app/messages?externalId=u-continuity-1', headers: key });
    expect(polled.json<{ messages: { text?: string }[] }>().messages.map((m) => m.text)).toEqual([
      'I opened the app instead',
      'Found it, it ships today.',
    ]);
    // Paging counts the app's own messages: the WeChat messages before them never fill a page.
    const page = await s.app.inject({
      method: 'GET',
      url: `/api/v1/channels/app/messages?externalId=u-continuity-1&conversationId=${ap.conversationId}&afterSeq=0&limit=1`,
      headers: key,
    });
    expect(page.json<{ messages: { text?: string }[] }>().messages.map((m) => m.text)).toEqual(['I opened the app instead']);

    // The detail of the old session points at the new one; the new one's context names both channels.
    const oldDetail = await ack<SessionDetail>(agent1, 'session:open', { sessionId: wx.session.id });
    expect(oldDetail).toMatchObject({ ok: true, data: { movedTo: ap.sessionId, status: 'closed' } });
    const detail = await ack<SessionDetail>(agent1, 'session:open', { sessionId: ap.sessionId });
    expect(detail.ok && detail.data.context.customer.channels).toEqual(['AP', 'WX']);
    expect(detail.ok && detail.data.messages.map((m) => m.channel)).toEqual(['WX', 'AP', 'AP']);

    // The merge on the shared unionid is an audit event by the system.
    expect(merges.find((e) => e.payload.reason === 'link:wechat-unionid')).toMatchObject({ actor: 'system', payload: { undone: false } });

    // One timeline over both channels, newest first, paged.
    const customerId = moved!.customerId;
    const t1 = await api<TimelineView>('GET', `/api/v1/customers/${customerId}/timeline?limit=2`, token1);
    expect(t1.status).toBe(200);
    expect(t1.body.messages.map((m) => [m.channel, m.kind === 'text' ? m.body.text : ''])).toEqual([
      ['AP', 'Found it, it ships today.'],
      ['AP', 'I opened the app instead'],
    ]);
    expect(t1.body.hasOlder).toBe(true);
    const t2 = await api<TimelineView>('GET', `/api/v1/customers/${customerId}/timeline?before=${t1.body.messages[1]!.id}`, token1);
    expect(t2.body.messages.map((m) => m.channel)).toEqual(['WX']);
    expect(t2.body.hasOlder).toBe(false);
  });

  it('shows identities masked, merges on request, undoes it, and keeps other groups out', async () => {
    const a = await fromWeChat('o-continuity-2', 'hello from wechat');
    await take(a.session.id);
    const b = await fromApp('u-continuity-2', 'hello from the app', { phone: '+86 138 0013 8000' });
    const bSession = (await s.services.store.getSession(b.sessionId))!;
    expect(b.conversationId).not.toBe(a.session.conversationId);

    // The agent finds the app customer by the verified phone and merges the two.
    const found = await api<CustomerLookupView>('GET', '/api/v1/customers/lookup?kind=phone&value=%2B8613800138000', token1);
    expect(found).toMatchObject({ status: 200, body: { customerId: bSession.customerId } });
    const merged = await api<CustomerMergeView>('POST', '/api/v1/customers/merges', token1, {
      survivorId: a.session.customerId,
      mergedId: bSession.customerId,
    });
    expect(merged.status).toBe(201);
    const ids = await api<CustomerIdentitiesView>('GET', `/api/v1/customers/${bSession.customerId}/identities`, token1);
    expect(ids.status).toBe(200);
    expect(ids.body.groupId).toBe(a.session.customerId);
    expect(ids.body.identities.map((i) => i.channel)).toEqual(['WX', 'AP']);
    expect(ids.body.links).toHaveLength(1);
    expect(ids.body.links[0]!.value).not.toContain('13800138000');
    expect(ids.body.merges.map((m) => m.id)).toEqual([merged.body.id]);
    expect(merges.find((e) => e.payload.mergeId === merged.body.id)).toMatchObject({
      actor: expect.any(String),
      payload: { reason: 'agent' },
    });
    const again = await api('POST', '/api/v1/customers/merges', token1, {
      survivorId: a.session.customerId,
      mergedId: bSession.customerId,
    });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'MERGE_SAME_CUSTOMER' } } });

    // An agent of another skill group cannot see either customer, nor merge them, nor learn they exist.
    const token2 = await s.login('agent2');
    expect((await api('GET', `/api/v1/customers/${a.session.customerId}/timeline`, token2)).status).toBe(404);
    expect((await api('POST', `/api/v1/customers/merges/${merged.body.id}/undo`, token2)).status).toBe(404);
    // An auditor may read but not merge.
    const auditor = await s.login('auditor');
    expect((await api('GET', `/api/v1/customers/${a.session.customerId}/identities`, auditor)).status).toBe(200);
    expect(
      (await api('POST', '/api/v1/customers/merges', auditor, { survivorId: a.session.customerId, mergedId: bSession.customerId })).status,
    ).toBe(403);

    const undone = await api<CustomerMergeView>('POST', `/api/v1/customers/merges/${merged.body.id}/undo`, token1);
    expect(undone).toMatchObject({ status: 200, body: { undoneBy: expect.any(String) } });
    expect(merges.find((e) => e.payload.mergeId === merged.body.id && e.payload.undone)).toBeDefined();
    const after = await api<CustomerIdentitiesView>('GET', `/api/v1/customers/${a.session.customerId}/identities`, token1);
    expect(after.body.identities.map((i) => i.channel)).toEqual(['WX']);
    const twice = await api('POST', `/api/v1/customers/merges/${merged.body.id}/undo`, token1);
    expect(twice).toMatchObject({ status: 409, body: { error: { code: 'MERGE_ALREADY_UNDONE' } } });
  });

  it('links a phone the agent verified, and says who holds it when it is taken', async () => {
    const a = await fromWeChat('o-continuity-3', 'hi there');
    await take(a.session.id);
    const linked = await api<{ kind: string; value: string }>('POST', `/api/v1/customers/${a.session.customerId}/links`, token1, {
      kind: 'phone',
      value: '+86 139 0000 1111',
    });
    expect(linked.status).toBe(201);
    expect(linked.body.value).not.toContain('13900001111');
    const other = await fromApp('u-continuity-3', 'hi', { phone: '+8613900002222' });
    const otherCustomer = (await s.services.store.getSession(other.sessionId))!.customerId;
    const taken = await api('POST', `/api/v1/customers/${a.session.customerId}/links`, token1, { kind: 'phone', value: '+8613900002222' });
    expect(taken).toMatchObject({ status: 409, body: { error: { code: 'LINK_CONFLICT', details: { customerId: otherCustomer } } } });
    const bad = await api('POST', `/api/v1/customers/${a.session.customerId}/links`, token1, { kind: 'phone', value: 'call me' });
    expect(bad).toMatchObject({ status: 400, body: { error: { code: 'VALIDATION_FAILED' } } });
    const badApp = await fromApp('u-continuity-4', 'hi', { phone: 'nope', shoeSize: '42' });
    expect(badApp.warnings).toEqual([
      expect.objectContaining({ field: 'customer.verified.phone', code: 'INVALID' }),
      expect.objectContaining({ field: 'customer.verified.shoeSize', code: 'UNKNOWN_ATTRIBUTE' }),
    ]);
  });

  it('does not let an app that is not trusted to merge claim a person by naming their phone; undo detaches a moved session', async () => {
    await s.services.channels.addAccount({
      key: 'other-app-key-0123456789',
      channel: 'AP',
      accountId: 'other',
      name: 'Other app',
      skillGroup: null,
    });
    const victim = await fromWeChat('o-continuity-5', 'my card was charged twice');
    await take(victim.session.id);
    await api('POST', `/api/v1/customers/${victim.session.customerId}/links`, token1, { kind: 'phone', value: '+8613500000005' });
    const claim = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'other-app-key-0123456789' },
      payload: {
        customer: { externalId: 'mallory', verified: { phone: '+8613500000005' } },
        text: 'hi it is me',
        clientMessageId: 'claim-1',
      },
    });
    expect(claim.statusCode).toBe(202);
    expect(claim.json<{ conversationId: string }>().conversationId).not.toBe(victim.session.conversationId);
    expect(await s.services.store.getSession(victim.session.id)).toMatchObject({ status: 'active', movedTo: null });

    // The demo app is trusted: its user with the same phone continues the conversation; undoing that merge
    // closes the app session inside the WeChat customer's conversation, and the agent is told.
    const closed: EventOf<'session.changed'>[] = [];
    await s.services.bus.subscribeAll('session.changed', (e) => void closed.push(e));
    const moved = await fromApp('u-continuity-5', 'me again, from the app', { phone: '+8613500000005' });
    expect(moved.conversationId).toBe(victim.session.conversationId);
    const merge = merges.find((e) => e.payload.reason === 'link:phone' && e.payload.survivorId === victim.session.customerId)!;
    const undone = await api<CustomerMergeView>('POST', `/api/v1/customers/merges/${merge.payload.mergeId}/undo`, token1);
    expect(undone.status).toBe(200);
    await until(() => closed.some((e) => e.sessionId === moved.sessionId && e.payload.reason === 'closed'));
    expect(await s.services.store.getSession(moved.sessionId)).toMatchObject({ status: 'closed' });
  });
});
