import { xml } from '@xmpp/component';
import { LRUCache } from 'lru-cache';
import type { Envelope } from '../../../../common/message/envelope';
import type { Bus } from '../../bus/bus';
import type { Logger } from '../../logging/logger';
import type { Metrics } from '../../metrics/metrics';
import type { SessionStore } from '../../sessions/store';
import { carries, unsupportedKind, type ChannelAdapter, type ChannelCapabilities, type DeliveryResult } from '../channel-adapter';
import type { CsatSurveyor } from '../csat-survey';
import type { ChannelStore } from '../channels';
import type { Ingest } from '../ingest';
import { loadXmppAccounts, type XmppAccount } from './account';
import { SENT_MEMORY, createInboundHandler, type SentMessage } from './inbound';
import { ComponentLink } from './link';
import { NS } from './normalize';

/**
 * What the XMPP channel carries: text both ways; the customer's typing reaches the agent (XEP-0085);
 * `delivered` comes back by XEP-0184 receipts, but nothing says "read" (XEP-0333 is not read), so
 * `readReceipts` is false. Images, files and audio would need XEP-0066/0363 and are refused.
 */
export const XMPP_CAPABILITIES: ChannelCapabilities = {
  text: true,
  image: false,
  file: false,
  audio: false,
  typing: true,
  readReceipts: false,
  passiveReply: false,
};

/** Sessions whose reply address is remembered in memory (older ones are read back from the store). */
const ROUTE_MEMORY = 10_000;

export interface XmppChannel {
  readonly adapter: ChannelAdapter;
  /** The checked accounts this node connects (one component link each). */
  readonly accounts: readonly XmppAccount[];
  /** Connects every account in the background; returns at once (see ComponentLink). */
  start(): void;
  /** The link of one account (tests, scripts). */
  link(accountId: string): ComponentLink | null;
  /** The stanza handler of one account (the stanza-corpus tests drive it directly). */
  handler(accountId: string): ReturnType<typeof createInboundHandler> | null;
  /** Closes every component stream cleanly; replies after this are `failed` with CHANNEL_NOT_CONNECTED. */
  close(): Promise<void>;
}

export interface XmppChannelDeps {
  channels: ChannelStore;
  store: SessionStore;
  ingest: Ingest;
  bus: Bus;
  metrics: Metrics;
  logger: Logger;
  skillGroups: readonly string[];
  /** Issue 15: a rating reply to a CSAT prompt is recorded by it, not stored as a message. */
  csat?: Pick<CsatSurveyor, 'answer'>;
}

/**
 * The XMPP channel (`XM`, issue 12; DESIGN §1: "XMPP ── XEP-0114 component"). The server joins an
 * XMPP server (Prosody, ejabberd) as an external component for each `XM` account's domain; customers
 * write to `support@<domain>` from any XMPP client. Accounts are data (channels store: settings +
 * sealed `password`); an account that fails its checks is logged (field names only) and counted
 * (`huiliu_channel_rejected_total{channel="XM",code="bad_account"}`), and the rest run.
 *
 * Readiness (`/readyz`) does not depend on the links: a node whose XMPP server is down still serves
 * every other channel and the workstation; XMPP replies fail visibly (CHANNEL_NOT_CONNECTED) and
 * `huiliu_channel_connected{channel="XM"}` says why. Inbound is the link's stanzas → inbound.ts;
 * outbound is `adapter.send`, called by the one dispatcher.
 */
export async function createXmppChannel(deps: XmppChannelDeps): Promise<XmppChannel> {
  const log = deps.logger.child({ component: 'gateway.xmpp' });
  const { accounts, invalid } = await loadXmppAccounts(deps.channels, deps.skillGroups);
  for (const bad of invalid) {
    deps.metrics.channelRejected.inc({ channel: 'XM', code: 'bad_account' });
    log.error({ accountId: bad.accountId, problems: bad.problems, code: 'CHANNEL_ACCOUNT_INVALID' }, 'XMPP account skipped: not valid');
  }
  const sent = new LRUCache<string, SentMessage>({ max: SENT_MEMORY });
  const routes = new LRUCache<string, { accountId: string; to: string }>({ max: ROUTE_MEMORY });
  const links = new Map<string, ComponentLink>();
  const handlers = new Map<string, ReturnType<typeof createInboundHandler>>();

  for (const account of accounts) {
    const alog = log.child({ accountId: account.accountId });
    let link: ComponentLink | null = null;
    const handler = createInboundHandler({
      account,
      ingest: deps.ingest,
      store: deps.store,
      bus: deps.bus,
      channels: deps.channels,
      metrics: deps.metrics,
      log: alog,
      send: (el) => (link ? link.send(el) : Promise.reject(new Error('not connected'))),
      sent,
      routes,
      ...(deps.csat ? { csat: deps.csat } : {}),
    });
    link = new ComponentLink({
      service: account.service,
      domain: account.domain,
      password: account.password,
      reconnectMinMs: account.reconnectMinMs,
      reconnectMaxMs: account.reconnectMaxMs,
      log: alog,
      onStanza: (el) => void handler.handle(el),
      onStatus: (online) => deps.metrics.channelConnected.set({ channel: 'XM', account: account.accountId }, online ? 1 : 0),
      onAttemptFailed: () => deps.metrics.channelConnectFailures.inc({ channel: 'XM' }),
      onMalformed: () => deps.metrics.channelRejected.inc({ channel: 'XM', code: 'malformed_xml' }),
    });
    deps.metrics.channelConnected.set({ channel: 'XM', account: account.accountId }, 0);
    links.set(account.accountId, link);
    handlers.set(account.accountId, handler);
  }

  /** Where a reply in this session goes: remembered from the customer's last message, else read from the store. */
  async function routeOf(envelope: Envelope): Promise<{ accountId: string; to: string } | null> {
    const known = routes.get(envelope.sessionId);
    if (known) return known;
    const page = await deps.store.recentMessages(envelope.conversationId, { limit: 200 });
    const last = page.messages.filter((m) => m.direction === 'in' && m.sessionId === envelope.sessionId).at(-1);
    const accountId = last?.meta['xmppAccount'];
    const to = last?.meta['xmppFrom'];
    if (typeof accountId !== 'string' || typeof to !== 'string') return null;
    const route = { accountId, to };
    routes.set(envelope.sessionId, route);
    return route;
  }

  const notConnected = (): DeliveryResult => ({
    state: 'failed',
    error: { code: 'CHANNEL_NOT_CONNECTED', message: 'The XMPP component is not connected right now.' },
  });

  const adapter: ChannelAdapter = {
    channel: 'XM',
    capabilities: XMPP_CAPABILITIES,
    /**
     * `<message type='chat' to=<customer's full JID> from=support@domain id=<envelope.id>>` with the
     * body, a XEP-0184 receipt request and XEP-0085 `active`. Answers `sent` once written to the
     * component stream; `delivered` follows by receipt, `failed` by an error bounce (inbound.ts).
     * Not connected → `failed` CHANNEL_NOT_CONNECTED. A redelivered envelope is sent again with the
     * same id (clients that dedupe by id show it once).
     */
    async send(envelope) {
      if (!carries(XMPP_CAPABILITIES, envelope.kind) || envelope.kind !== 'text') return unsupportedKind('XM', envelope.kind);
      const route = await routeOf(envelope);
      if (!route) return { state: 'failed', error: { code: 'NO_RECIPIENT', message: 'No XMPP address is known for this session.' } };
      const link = links.get(route.accountId);
      const account = accounts.find((a) => a.accountId === route.accountId);
      if (!link || !account) {
        return {
          state: 'failed',
          error: { code: 'CHANNEL_ACCOUNT_INVALID', message: 'The XMPP account of this session is not configured.' },
        };
      }
      if (!link.online) return notConnected();
      const bare = route.to.split('/')[0]!.toLowerCase();
      sent.set(envelope.id, { to: bare, sessionId: envelope.sessionId, conversationId: envelope.conversationId });
      try {
        await link.send(
          xml(
            'message',
            { type: 'chat', to: route.to, from: account.supportJid, id: envelope.id },
            xml('body', {}, envelope.body.text),
            xml('request', { xmlns: NS.receipts }),
            xml('active', { xmlns: NS.chatStates }),
          ),
        );
      } catch {
        return notConnected();
      }
      return { state: 'sent' };
    },
  };

  return {
    adapter,
    accounts,
    start() {
      for (const link of links.values()) link.start();
    },
    link: (accountId) => links.get(accountId) ?? null,
    handler: (accountId) => handlers.get(accountId) ?? null,
    async close() {
      await Promise.all([...links.values()].map((l) => l.stop()));
    },
  };
}
