import { client, xml, type Client } from '@xmpp/client';
import type { Element } from '@xmpp/component';
import { startTestServer, type TestServer } from './harness';
import { writeConfigFile } from './config-file';
import { PROSODY_USER_HOST, type ProsodyServer } from './prosody';

/** The component every XMPP test connects: domain, secret, and the support address customers write to. */
export const TEST_COMPONENT = { domain: 'support.localhost', secret: 'test-component-secret' } as const;
export const SUPPORT_JID = `support@${TEST_COMPONENT.domain}`;

export const NS_RECEIPTS = 'urn:xmpp:receipts';
export const NS_CHAT_STATES = 'http://jabber.org/protocol/chatstates';

/**
 * The real server (harness) with an `XM` account named `demo` (so the demo seed's own account is not
 * added) pointing at `prosody`'s component port, with a quick reconnect backoff (100 ms → 1 s) so a
 * restart test does not wait 30 s. Resolves once the component is online.
 */
export async function startXmppTestServer(
  prosody: ProsodyServer,
  options: { password?: string; waitOnline?: boolean } = {},
): Promise<TestServer> {
  const config = writeConfigFile({
    channels: {
      accounts: [
        {
          channel: 'XM',
          accountId: 'demo',
          name: 'Test XMPP support',
          settings: { service: prosody.componentService, domain: TEST_COMPONENT.domain, reconnectMinMs: 100, reconnectMaxMs: 1000 },
          secrets: { password: options.password ?? TEST_COMPONENT.secret },
        },
      ],
    },
  });
  const server = await startTestServer({ HUILIU_CONFIG: config });
  if (options.waitOnline !== false) await server.services.xmpp.link('demo')!.whenOnline(10_000);
  return server;
}

/** One customer on a real XMPP client (`@xmpp/client`) logged in to the test Prosody. */
export interface XmppCustomer {
  client: Client;
  /** `<user>@localhost/<resource>`. */
  jid: string;
  bare: string;
  /** Every stanza received so far, oldest first. */
  stanzas: Element[];
  send(el: Element): Promise<void>;
  /** A text message to the support address, with id and, by default, a receipt request. */
  say(text: string, id: string | null, options?: { receipt?: boolean }): Promise<void>;
  /** The first stanza (already received or coming) that matches; throws after `ms`. */
  next(match: (el: Element) => boolean, ms?: number): Promise<Element>;
  close(): Promise<void>;
}

let counter = 0;

/**
 * Registers a fresh user on `prosody` (unless `user` is given and exists) and logs it in, with
 * initial presence (so messages to its bare JID reach it). Auto-reconnect is off: a test decides.
 */
export async function xmppCustomer(
  prosody: ProsodyServer,
  options: { user?: string; resource?: string; register?: boolean } = {},
): Promise<XmppCustomer> {
  const user = options.user ?? `customer${process.pid}x${++counter}`;
  const password = `pw-${user}`;
  if (options.register !== false) prosody.register(user, password);
  const c = client({
    service: prosody.c2sService,
    domain: PROSODY_USER_HOST,
    username: user,
    password,
    resource: options.resource ?? 'phone',
  });
  c.reconnect.stop();
  const stanzas: Element[] = [];
  const waiters = new Set<() => void>();
  c.on('error', () => undefined);
  c.on('stanza', (el: Element) => {
    stanzas.push(el);
    for (const w of [...waiters]) w();
  });
  await c.start();
  await c.send(xml('presence'));
  const jid = c.jid!.toString();
  return {
    client: c,
    jid,
    bare: `${user}@${PROSODY_USER_HOST}`,
    stanzas,
    send: (el) => c.send(el),
    async say(text, id, { receipt = true } = {}) {
      await c.send(
        xml(
          'message',
          { to: SUPPORT_JID, type: 'chat', ...(id !== null ? { id } : {}) },
          xml('body', {}, text),
          receipt ? xml('request', { xmlns: NS_RECEIPTS }) : null,
        ),
      );
    },
    next(match, ms = 5000) {
      const found = stanzas.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching stanza within ${ms} ms; got:\n${stanzas.map((s) => s.toString()).join('\n')}`));
        }, ms);
        const check = () => {
          const el = stanzas.find(match);
          if (!el) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(el);
        };
        waiters.add(check);
      });
    },
    async close() {
      await c.stop().catch(() => undefined);
    },
  };
}

/** A receipt (`<received id=…>`) for the message with `id`. */
export const receiptFor = (id: string) => (el: Element) => el.is('message') && el.getChild('received', NS_RECEIPTS)?.attrs.id === id;
/** A chat message with this body. */
export const bodyIs = (text: string) => (el: Element) => el.is('message') && el.attrs.type !== 'error' && el.getChildText('body') === text;
