import { Writable } from 'node:stream';
import { xml } from '@xmpp/client';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionDetail } from '../../../../common/api/sessions';
import { MAX_TEXT_LENGTH } from '../../../../common/message/envelope';
import type { MessageDelivery } from '../../../../common/socket/agent-events';
import { createLogger } from '../../logging/logger';
import { ack, openAgentSocket } from '../../../test/support/agent-client';
import type { TestServer } from '../../../test/support/harness';
import { metricValue } from '../../../test/support/metrics';
import { freePort } from '../../../test/support/server-process';
import { startProsody, type ProsodyServer } from '../../../test/support/prosody';
import { eventually, until } from '../../../test/support/until';
import {
  NS_CHAT_STATES,
  SUPPORT_JID,
  TEST_COMPONENT,
  bodyIs,
  receiptFor,
  startXmppTestServer,
  xmppCustomer,
  type XmppCustomer,
} from '../../../test/support/xmpp';
import { startTestServer } from '../../../test/support/harness';
import { writeConfigFile } from '../../../test/support/config-file';

const NS_STANZAS = 'urn:ietf:params:xml:ns:xmpp-stanzas';

/** The stored session and messages of an XMPP customer (by bare JID). */
async function conversationOf(server: TestServer, bare: string) {
  const { store } = server.services;
  const customer = await store.findCustomerByIdentity('XM', bare);
  const session = customer && (await store.latestSession(customer.id, 'XM'));
  if (!session) return null;
  return { session, messages: await store.listMessages(session.conversationId) };
}

/** A log sink the test reads back (the server's own logger, masking included). */
function captureLogs() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, logger: createLogger({ level: 'debug', destination }) };
}

describe('XMPP channel (XM) against a real Prosody', () => {
  let prosody: ProsodyServer;
  let server: TestServer;
  let agent: Socket;
  const open: XmppCustomer[] = [];
  const customer = async (options?: Parameters<typeof xmppCustomer>[1]) => {
    const c = await xmppCustomer(prosody, options);
    open.push(c);
    return c;
  };
  /** The customer's session, once its first message is stored. */
  const sessionOf = (c: XmppCustomer) => eventually(async () => (await conversationOf(server, c.bare))?.session ?? null);
  /** agent1 takes the customer's session (offered to them or waiting). */
  const take = async (c: XmppCustomer) => {
    const session = await sessionOf(c);
    const taken = await ack<SessionDetail>(agent, 'offer:accept', { sessionId: session.id });
    expect(taken.ok).toBe(true);
    return session.id;
  };
  const close = (sessionId: string) => ack(agent, 'session:close', { sessionId, wrapUpCode: 'resolved' });

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

  it("brings a customer's message to the agent it is offered to, and the agent's reply to the customer's XMPP client", async () => {
    const offered = new Promise<{ sessionId: string }>((resolve) => agent.once('offer:new', resolve));
    const c = await customer();
    await c.say('My order #1234 has not arrived', 'first-1');
    const { sessionId } = await offered;
    expect(sessionId.startsWith('XM')).toBe(true);
    const detail = await ack<SessionDetail>(agent, 'offer:accept', { sessionId });
    expect(detail).toMatchObject({ ok: true, data: { id: sessionId, status: 'active' } });
    const stored = (await conversationOf(server, c.bare))!;
    expect(stored.messages).toHaveLength(1);
    expect(stored.messages[0]).toMatchObject({
      channel: 'XM',
      direction: 'in',
      clientMessageId: 'first-1',
      body: { text: 'My order #1234 has not arrived' },
    });
    // The customer's name is their JID's local part.
    expect((await server.services.store.getCustomer(stored.session.customerId))!.name).toBe(c.bare.split('@')[0]);

    const deliveries: MessageDelivery[] = [];
    agent.on('message:delivery', (d: MessageDelivery) => deliveries.push(d));
    const sent = await ack<{ id: string }>(agent, 'message:send', {
      sessionId,
      clientMessageId: 'agent-reply-1',
      text: 'Let me check that for you.',
    });
    expect(sent.ok).toBe(true);
    const messageId = sent.ok ? sent.data.id : '';
    const reply = await c.next(bodyIs('Let me check that for you.'));
    // Outbound shape: a chat from the support address, our message id, asking for a receipt.
    expect(reply.attrs).toMatchObject({ type: 'chat', from: SUPPORT_JID, id: messageId });
    expect(reply.getChild('request', 'urn:xmpp:receipts')).toBeDefined();
    await until(() => deliveries.some((d) => d.messageId === messageId && d.state === 'sent'));
    // XEP-0184: the customer's client confirms → delivered, pushed to the agent.
    await c.send(xml('message', { to: SUPPORT_JID, id: 'rcpt-1' }, xml('received', { xmlns: 'urn:xmpp:receipts', id: messageId })));
    await until(() => deliveries.some((d) => d.messageId === messageId && d.state === 'delivered'));
    expect(await server.services.channels.delivery(messageId)).toMatchObject({ state: 'delivered', channel: 'XM', error: null });
    await close(sessionId);
  });

  it('stores a resent message once and answers its receipt each time; an id reused for another text is a new message', async () => {
    const c = await customer();
    await c.say('where is my refund?', 'dup-1');
    await c.next(receiptFor('dup-1'));
    const receipts = () => c.stanzas.filter(receiptFor('dup-1')).length;
    await c.say('where is my refund?', 'dup-1');
    await until(() => receipts() === 2);
    // Same id, another text: a client that reuses ids (RFC 6120 ids are unique per stream only).
    await c.say('and my invoice', 'dup-1');
    await until(() => receipts() === 3);
    // No id at all: a stable fallback key, so a resend of the same stanza is still one message.
    await c.say('no id here', null, { receipt: false });
    await c.say('no id here', null, { receipt: false });
    await c.say('a different text without id', null, { receipt: false });
    await c.say('marker', 'dup-end');
    await c.next(receiptFor('dup-end'));
    const texts = (await conversationOf(server, c.bare))!.messages.map((m) => (m.kind === 'text' ? m.body.text : ''));
    expect(texts).toEqual(['where is my refund?', 'and my invoice', 'no id here', 'a different text without id', 'marker']);
  });

  it('turns chat states into a volatile typing signal for the assigned agent only, never stored', async () => {
    const c = await customer();
    await c.say('hello?', 'typing-1');
    await c.next(receiptFor('typing-1'));
    const sessionId = await take(c);
    const lead = await openAgentSocket(server, await server.login('lead'));
    try {
      const typing: { sessionId: string; typing: boolean }[] = [];
      const leadTyping: unknown[] = [];
      agent.on('customer:typing', (t: { sessionId: string; typing: boolean }) => typing.push(t));
      lead.on('customer:typing', (t: unknown) => leadTyping.push(t));
      await c.send(xml('message', { to: SUPPORT_JID, type: 'chat' }, xml('composing', { xmlns: NS_CHAT_STATES })));
      await until(() => typing.some((t) => t.sessionId === sessionId && t.typing));
      await c.send(xml('message', { to: SUPPORT_JID, type: 'chat' }, xml('paused', { xmlns: NS_CHAT_STATES })));
      await until(() => typing.some((t) => t.sessionId === sessionId && !t.typing));
      // A message after the signals proves they were all handled; the store holds the two texts only.
      await c.say('still there?', 'typing-2');
      await c.next(receiptFor('typing-2'));
      expect((await conversationOf(server, c.bare))!.messages.map((m) => m.clientMessageId)).toEqual(['typing-1', 'typing-2']);
      expect(leadTyping).toEqual([]);
    } finally {
      agent.off('customer:typing');
      lead.close();
      await close(sessionId);
    }
  });

  it('records a reply the customer’s server bounces as failed, with the XMPP condition as its code', async () => {
    const c = await customer();
    await c.say('call me later', 'bounce-1');
    await c.next(receiptFor('bounce-1'));
    const sessionId = await take(c);
    // Offline, and this Prosody keeps no offline messages: it bounces with service-unavailable.
    await c.close();
    const deliveries: MessageDelivery[] = [];
    agent.on('message:delivery', (d: MessageDelivery) => deliveries.push(d));
    const sent = await ack<{ id: string }>(agent, 'message:send', { sessionId, clientMessageId: 'agent-bounce-1', text: 'Are you there?' });
    const messageId = sent.ok ? sent.data.id : '';
    await until(() => deliveries.some((d) => d.messageId === messageId && d.state === 'failed'));
    expect(deliveries.find((d) => d.messageId === messageId && d.state === 'failed')).toMatchObject({
      error: { code: 'service-unavailable' },
    });
    expect(await server.services.channels.delivery(messageId)).toMatchObject({ state: 'failed', error: { code: 'service-unavailable' } });
    agent.off('message:delivery');
    await close(sessionId);
  });

  it('approves a presence subscription, shows the support address online, and answers the probe of a returning customer', async () => {
    const c = await customer({ resource: 'laptop' });
    // As every client does: fetch the roster first (roster pushes go to resources that did).
    await c.send(xml('iq', { type: 'get', id: 'roster-1' }, xml('query', { xmlns: 'jabber:iq:roster' })));
    await c.next((el) => el.is('iq') && el.attrs.id === 'roster-1');
    await c.send(xml('presence', { to: SUPPORT_JID, type: 'subscribe' }));
    await c.next((el) => el.is('presence') && el.attrs.type === 'subscribed' && el.attrs.from === SUPPORT_JID);
    await c.next((el) => el.is('presence') && el.attrs.type === undefined && el.attrs.from === SUPPORT_JID);
    const user = c.bare.split('@')[0]!;
    await c.close();
    // Signed in again, with the support address on the roster: Prosody probes the component for it.
    const again = await customer({ user, register: false, resource: 'laptop' });
    await again.next((el) => el.is('presence') && el.attrs.type === undefined && el.attrs.from === SUPPORT_JID);
    // Nothing about presence is stored: no customer exists for someone who never wrote.
    expect(await server.services.store.findCustomerByIdentity('XM', c.bare)).toBeNull();
  });

  it('answers stanzas it cannot use with an error stanza and keeps the stream: disco, unknown iq, too long, empty, group chat', async () => {
    const c = await customer();
    const rejectedBefore = await metricValue(server, 'huiliu_channel_rejected_total', 'code="too_long"');
    await c.send(
      xml('iq', { to: SUPPORT_JID, type: 'get', id: 'disco-1' }, xml('query', { xmlns: 'http://jabber.org/protocol/disco#info' })),
    );
    const disco = await c.next((el) => el.is('iq') && el.attrs.id === 'disco-1');
    expect(disco.attrs.type).toBe('result');
    const features = disco
      .getChild('query')!
      .getChildren('feature')
      .map((f) => f.attrs.var);
    expect(features).toEqual(expect.arrayContaining(['urn:xmpp:receipts', NS_CHAT_STATES]));

    await c.send(xml('iq', { to: SUPPORT_JID, type: 'get', id: 'vcard-1' }, xml('vCard', { xmlns: 'vcard-temp' })));
    const vcard = await c.next((el) => el.is('iq') && el.attrs.id === 'vcard-1');
    expect(vcard.attrs.type).toBe('error');
    expect(vcard.getChild('error')!.getChild('service-unavailable', NS_STANZAS)).toBeDefined();

    await c.say('x'.repeat(MAX_TEXT_LENGTH + 1), 'long-1');
    const tooLong = await c.next((el) => el.is('message') && el.attrs.id === 'long-1' && el.attrs.type === 'error');
    expect(tooLong.getChild('error')!.getChild('policy-violation', NS_STANZAS)).toBeDefined();
    expect(tooLong.toString()).not.toContain('xxxxxxxx'); // the body is not echoed back

    await c.send(xml('message', { to: SUPPORT_JID, type: 'chat', id: 'empty-1' }, xml('subject', {}, 'only a subject')));
    const empty = await c.next((el) => el.is('message') && el.attrs.id === 'empty-1' && el.attrs.type === 'error');
    expect(empty.getChild('error')!.getChild('feature-not-implemented', NS_STANZAS)).toBeDefined();

    await c.send(xml('message', { to: SUPPORT_JID, type: 'groupchat', id: 'gc-1' }, xml('body', {}, 'room talk')));
    const gc = await c.next((el) => el.is('message') && el.attrs.id === 'gc-1' && el.attrs.type === 'error');
    expect(gc.getChild('error')!.getChild('feature-not-implemented', NS_STANZAS)).toBeDefined();

    await c.send(xml('message', { to: `sales@${TEST_COMPONENT.domain}`, type: 'chat', id: 'other-1' }, xml('body', {}, 'hi sales')));
    const other = await c.next((el) => el.is('message') && el.attrs.id === 'other-1' && el.attrs.type === 'error');
    expect(other.getChild('error')!.getChild('service-unavailable', NS_STANZAS)).toBeDefined();

    // The stream survived all of it; none of the refused texts was stored.
    await c.say('a normal question', 'after-errors');
    await c.next(receiptFor('after-errors'));
    expect((await conversationOf(server, c.bare))!.messages.map((m) => m.clientMessageId)).toEqual(['after-errors']);
    expect(await metricValue(server, 'huiliu_channel_rejected_total', 'code="too_long"')).toBe(rejectedBefore + 1);
    expect(server.services.xmpp.link('demo')!.online).toBe(true);
  });

  it("keeps the component stream when a customer's client sends malformed XML (Prosody closes that client, not us)", async () => {
    const bad = await customer();
    const failuresBefore = await metricValue(server, 'huiliu_channel_connect_failures_total', 'channel="XM"');
    const closed = new Promise<void>((resolve) => bad.client.once('disconnect', () => resolve()));
    await bad.client.write(`<message to="${SUPPORT_JID}" type="chat" id="bad-1"><body>unterminated</bod></message>`);
    await closed;
    // Nothing of it reached the component: no message, and the link never dropped.
    const good = await customer();
    await good.say('I am fine', 'good-1');
    await good.next(receiptFor('good-1'));
    expect(await conversationOf(server, bad.bare)).toBeNull();
    expect(server.services.xmpp.link('demo')!.online).toBe(true);
    expect(await metricValue(server, 'huiliu_channel_connect_failures_total', 'channel="XM"')).toBe(failuresBefore);
  });

  it('comes back after Prosody is killed and restarted; a reply while it is down fails with CHANNEL_NOT_CONNECTED', async () => {
    const c = await customer();
    await c.say('before the restart', 'restart-1');
    await c.next(receiptFor('restart-1'));
    const sessionId = await take(c);
    const link = server.services.xmpp.link('demo')!;
    await prosody.kill();
    await until(() => !link.online, 5000);
    expect(await metricValue(server, 'huiliu_channel_connected', 'channel="XM"')).toBe(0);
    const down = await ack<{ id: string }>(agent, 'message:send', { sessionId, clientMessageId: 'agent-down-1', text: 'Still here.' });
    const downId = down.ok ? down.data.id : '';
    await until(async () => (await server.services.channels.delivery(downId)) !== null);
    expect(await server.services.channels.delivery(downId)).toMatchObject({ state: 'failed', error: { code: 'CHANNEL_NOT_CONNECTED' } });
    // Readiness does not depend on the XMPP link.
    expect((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);

    await prosody.restart();
    await link.whenOnline(10_000);
    expect(await metricValue(server, 'huiliu_channel_connected', 'channel="XM"')).toBe(1);
    // The customer's own client died with Prosody; they sign in again and the conversation goes on.
    const back = await customer({ user: c.bare.split('@')[0]!, register: false });
    await back.say('after the restart', 'restart-2');
    await back.next(receiptFor('restart-2'));
    const sent = await ack<{ id: string }>(agent, 'message:send', { sessionId, clientMessageId: 'agent-up-1', text: 'Welcome back.' });
    expect(sent.ok).toBe(true);
    await back.next(bodyIs('Welcome back.'));
    expect((await conversationOf(server, c.bare))!.messages.map((m) => m.clientMessageId)).toEqual([
      'restart-1',
      'agent-down-1',
      'restart-2',
      'agent-up-1',
    ]);
    await close(sessionId);
  });
});

describe('XMPP channel start-up without a usable XMPP server or account', () => {
  it('starts and is ready while the XMPP server is down, counting and logging the failed attempts without the secret', async () => {
    const { lines, logger } = captureLogs();
    const port = await freePort(); // nothing listens here
    const config = writeConfigFile({
      channels: {
        accounts: [
          {
            channel: 'XM',
            accountId: 'demo',
            name: 'Unreachable XMPP',
            settings: { service: `xmpp://127.0.0.1:${port}`, domain: 'support.localhost', reconnectMinMs: 50, reconnectMaxMs: 200 },
            secrets: { password: 'never-logged-secret' },
          },
        ],
      },
    });
    const server = await startTestServer({ HUILIU_CONFIG: config }, { logger });
    try {
      expect((await server.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
      await until(async () => (await metricValue(server, 'huiliu_channel_connect_failures_total', 'channel="XM"')) >= 4);
      expect(server.services.xmpp.link('demo')!.online).toBe(false);
      const failed = lines.filter((l) => l.includes('XMPP component could not connect') && l.includes('ECONNREFUSED'));
      expect(failed.length).toBeGreaterThanOrEqual(4);
      // One warning for the outage, the same reason again at debug (no warning every few seconds).
      expect(failed.filter((l) => l.includes('"level":40'))).toHaveLength(1);
      expect(lines.join('')).not.toContain('never-logged-secret');
    } finally {
      await server.cleanup();
    }
  });

  it('skips an account with bad settings or no secret with a clear, masked error, and keeps the good ones', async () => {
    const { lines, logger } = captureLogs();
    const config = writeConfigFile({
      channels: {
        accounts: [
          { channel: 'XM', accountId: 'broken', name: 'Broken', settings: { service: 'http://nope', domain: 'bad domain!' } },
          {
            channel: 'XM',
            accountId: 'demo',
            name: 'Fine',
            settings: { service: 'xmpp://127.0.0.1:9', domain: 'fine.localhost' },
            secrets: { password: 'fine-secret-value' },
          },
        ],
      },
    });
    const server = await startTestServer({ HUILIU_CONFIG: config }, { logger });
    try {
      expect(server.services.xmpp.accounts.map((a) => a.accountId)).toEqual(['demo']);
      expect(await metricValue(server, 'huiliu_channel_rejected_total', 'code="bad_account"')).toBe(1);
      const line = lines.find((l) => l.includes('CHANNEL_ACCOUNT_INVALID'))!;
      expect(line).toContain('settings.service');
      expect(line).toContain('settings.domain');
      expect(line).toContain('secrets.password');
      expect(line).not.toContain('bad domain!');
      expect(lines.join('')).not.toContain('fine-secret-value');
    } finally {
      await server.cleanup();
    }
  });
});
