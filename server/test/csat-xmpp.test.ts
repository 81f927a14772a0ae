import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionDetail } from '../../common/api/sessions';
import { openDatabase } from '../src/db/sqlite';
import { csatTexts } from '../src/gateway/csat-survey';
import { ack, openAgentSocket } from './support/agent-client';
import type { TestServer } from './support/harness';
import { startProsody, type ProsodyServer } from './support/prosody';
import { eventually, until } from './support/until';
import { TEST_COMPONENT, bodyIs, receiptFor, startXmppTestServer, xmppCustomer, type XmppCustomer } from './support/xmpp';

/**
 * Issue 15 on XMPP, against a real Prosody and the real server: the customer whose conversation an
 * agent closes gets the "reply 1–5" prompt from the support address in their language; "一" (or "4")
 * in the window is the session's CSAT — receipted, thanked, not stored as a message, not routed — and a
 * resend of the same stanza id changes nothing; after the window "5" is an ordinary message.
 */
describe('CSAT asked on XMPP after a close (issue 15)', () => {
  let prosody: ProsodyServer;
  let server: TestServer;
  let agent: Socket;
  const open: XmppCustomer[] = [];

  beforeAll(async () => {
    prosody = await startProsody({ components: [TEST_COMPONENT] });
    server = await startXmppTestServer(prosody);
    agent = await openAgentSocket(server, await server.login('agent1'));
  });
  afterAll(async () => {
    agent?.close();
    for (const c of open) await c.close();
    await server?.cleanup();
    await prosody?.stop();
  });

  const customer = async () => {
    const c = await xmppCustomer(prosody);
    open.push(c);
    return c;
  };
  const latestOf = async (c: XmppCustomer) => {
    const { store } = server.services;
    const found = await store.findCustomerByIdentity('XM', c.bare);
    return found ? store.latestSession(found.id, 'XM') : null;
  };
  /** agent1 takes the customer's newest session once it is stored, then closes it. */
  const takeAndClose = async (c: XmppCustomer, after?: string) => {
    const session = await eventually(async () => {
      const s = await latestOf(c);
      return s && s.id !== after && s.status !== 'closed' ? s : null;
    });
    expect((await ack<SessionDetail>(agent, 'offer:accept', { sessionId: session.id })).ok).toBe(true);
    expect(await ack(agent, 'session:close', { sessionId: session.id, wrapUpCode: 'resolved' })).toMatchObject({ ok: true });
    return session.id;
  };
  const bodies = (c: XmppCustomer) =>
    c.stanzas.filter((el) => el.getName() === 'message' && el.getChildText('body') !== null).map((el) => el.getChildText('body'));

  it('asks in Chinese, records "一" once (a resent stanza changes nothing), thanks, and routes nothing', async () => {
    const c = await customer();
    await c.say('我的订单还没发货', 'zh-1');
    const sessionId = await takeAndClose(c);
    await c.next(bodyIs(csatTexts.prompt('zh', 24)));

    await c.say('一', 'zh-rate');
    await c.next(receiptFor('zh-rate'));
    await c.next(bodyIs(csatTexts.thanks('zh', 1)));
    expect(await server.services.store.sessionRating(sessionId)).toMatchObject({ score: 1 });
    // The same stanza again (a client's resend): receipted again, nothing recorded or said again.
    await c.say('一', 'zh-rate');
    await until(() => c.stanzas.filter(receiptFor('zh-rate')).length === 2);
    await c.say('marker', 'zh-marker');
    await c.next(receiptFor('zh-marker'));
    expect(bodies(c).filter((b) => b === csatTexts.thanks('zh', 1))).toHaveLength(1);
    // The rating is not a message of any session: the one after it ("marker") opened the next contact.
    const next = await eventually(async () => {
      const s = await latestOf(c);
      return s && s.id !== sessionId ? s : null;
    });
    const rated = (await server.services.store.getSession(sessionId))!;
    const texts = new Set<string>();
    for (const id of new Set([rated.conversationId, next.conversationId]))
      for (const m of await server.services.store.listMessages(id)) texts.add(m.kind === 'text' ? m.body.text : '');
    expect([...texts].sort()).toEqual(['marker', '我的订单还没发货']);
    const log = server.services.kpis.log;
    await until(() => log.has(sessionId, 'csat.answered'));
    expect(await ack(agent, 'offer:accept', { sessionId: next.id })).toMatchObject({ ok: true });
    expect(await ack(agent, 'session:close', { sessionId: next.id, wrapUpCode: 'duplicate' })).toMatchObject({ ok: true });
  });

  it('asks in English; "5" after the window is an ordinary message', async () => {
    const c = await customer();
    await c.say('Where is my refund?', 'en-1');
    const sessionId = await takeAndClose(c);
    await c.next(bodyIs(csatTexts.prompt('en', 24)));
    const db = openDatabase(server.config.paths.db);
    try {
      expect(db.prepare('UPDATE csat_surveys SET expires_at = 0 WHERE session_id = ?').run(sessionId).changes).toBe(1);
    } finally {
      db.close();
    }
    await c.say('5', 'en-late');
    await c.next(receiptFor('en-late'));
    const next = await eventually(async () => {
      const s = await latestOf(c);
      return s && s.id !== sessionId ? s : null;
    });
    const texts = (await server.services.store.listMessages(next.conversationId)).map((m) => (m.kind === 'text' ? m.body.text : ''));
    expect(texts.at(-1)).toBe('5');
    expect(await server.services.store.sessionRating(sessionId)).toBeNull();
  });
});
