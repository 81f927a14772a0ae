import { randomUUID } from 'node:crypto';
import { xml, type Element } from '@xmpp/component';
import type { LRUCache } from 'lru-cache';
import { HuiliuError } from '../../../../common/errors/codes';
import type { Bus } from '../../bus/bus';
import { newEvent, sessionFacts } from '../../bus/events';
import type { Logger } from '../../logging/logger';
import type { Metrics } from '../../metrics/metrics';
import type { InboundResult, SessionStore } from '../../sessions/store';
import type { ChannelStore } from '../channels';
import { parseRatingReply, type CsatSurveyor } from '../csat-survey';
import type { Ingest } from '../ingest';
import type { XmppAccount } from './account';
import {
  NS,
  classifyStanza,
  errorReply,
  maskJid,
  clientMessageIdOf,
  normalizeXmppMessage,
  parseJid,
  parseStanzas,
  reusedIdClientMessageId,
  type Classified,
  type RejectReason,
  type XmppCondition,
} from './normalize';

/** What handling one stanza did: the corpus test asserts these per stanza category. */
export type Outcome =
  /** Issue 15: a rating reply to a CSAT prompt, recorded as the session's CSAT (`duplicate`: it already was); not stored as a message. */
  | { kind: 'csat'; sessionId: string; duplicate: boolean }
  /** A customer text was stored (`duplicate`: it already was) and published. */
  | { kind: 'message'; messageId: string; sessionId: string; duplicate: boolean }
  /** A chat state: `published` when an open session's agent was told (volatile, never stored). */
  | { kind: 'typing'; typing: boolean; published: boolean }
  /** A XEP-0184 receipt: `recorded` when it named a message of ours and moved it to `delivered`. */
  | { kind: 'receipt'; recorded: boolean }
  /** An error bounce: `recorded` when it named a message of ours and moved it to `failed`. */
  | { kind: 'bounce'; recorded: boolean; condition: string }
  /** A presence or iq answered (`subscribed` + presence, presence to a probe, an iq result). */
  | { kind: 'reply'; what: 'subscribed' | 'probe' | 'disco-info' | 'disco-items' | 'ping' }
  /** Refused with an error stanza back (or, without a usable sender, unanswerable), counted and logged. */
  | { kind: 'error'; condition: XmppCondition; reason: RejectReason; answered: boolean }
  /** Nothing is due (presence updates, iq results, headlines, others' errors …). */
  | { kind: 'ignore'; reason: string };

/** One outbound message of ours, remembered to match receipts and bounces (which name it by id). */
export interface SentMessage {
  /** The recipient's bare JID: only they may confirm or bounce it. */
  to: string;
  sessionId: string;
  conversationId: string;
}

/** Outbound messages remembered for receipts and bounces; older ones are forgotten (their late receipts ignored). */
export const SENT_MEMORY = 10_000;
/** How long a bounce waits for the dispatcher to record `sent` before recording `failed` over it (ms). */
const BOUNCE_WAIT_MS = 5_000;

export interface InboundDeps {
  account: XmppAccount;
  ingest: Ingest;
  store: SessionStore;
  bus: Bus;
  channels: ChannelStore;
  metrics: Metrics;
  log: Logger;
  /** Sends one stanza on the component stream (rejects when the link is down). */
  send: (el: Element) => Promise<void>;
  /** Our outbound messages by id (shared with the adapter's `send`). */
  sent: LRUCache<string, SentMessage>;
  /** Where to reply in a session: the account and the full JID the customer last wrote from (shared with the adapter). */
  routes: LRUCache<string, { accountId: string; to: string }>;
  /** Issue 15: a rating reply to a CSAT prompt is recorded by it (and thanked), not stored as a message. */
  csat?: Pick<CsatSurveyor, 'answer'>;
  now?: () => Date;
}

/**
 * The one handler of every stanza a component receives (DESIGN §1: the XMPP way in ends in
 * `normalize` → `Ingest.accept`). Never throws and never lets a stanza break the stream: every
 * stanza ends as one or more `Outcome`s. Order of effects for a customer message: stored (durable,
 * seq assigned) → published → only then the XEP-0184 `<received/>` answer, so a receipt never
 * promises a message the store does not have. Logs name the peer masked (`***@domain`), never the
 * text nor the JID.
 */
export function createInboundHandler(deps: InboundDeps): {
  handle(el: Element): Promise<Outcome[]>;
  handleText(text: string): Promise<Outcome[]>;
} {
  const { account, log, metrics } = deps;
  const now = deps.now ?? (() => new Date());
  const support = { domain: account.domain, local: account.supportLocal };

  const reply = async (el: Element) => {
    try {
      await deps.send(el);
    } catch (error) {
      log.debug({ err: error }, 'XMPP answer not sent (link down)');
    }
  };

  const reject = async (el: Element, reason: RejectReason, condition: XmppCondition, text?: string): Promise<Outcome> => {
    metrics.channelRejected.inc({ channel: 'XM', code: reason });
    const from = parseJid(el.attrs.from);
    log.warn({ reason, condition, stanza: el.getName(), peer: maskJid(from) }, 'XMPP stanza refused');
    // Never an error in answer to an error (RFC 6120 §8.3.1), and only to a sender we can address.
    const answerable = from !== null && el.attrs.type !== 'error';
    if (answerable) await reply(errorReply(el, condition, text));
    return { kind: 'error', condition, reason, answered: answerable };
  };

  const openSession = async (bare: string) => {
    const customer = await deps.store.findCustomerByIdentity('XM', bare);
    if (!customer) return null;
    const session = await deps.store.latestSession(customer.id, 'XM');
    return session && session.status !== 'closed' ? session : null;
  };

  async function accept(c: Extract<Classified, { kind: 'chat' }> & { text: string }): Promise<InboundResult> {
    const at = now();
    try {
      return await deps.ingest.accept(normalizeXmppMessage(c, account.accountId, at), account.skillGroup);
    } catch (error) {
      // The sender reused an id for another text (ids are unique per stream only, RFC 6120 §8.1.3):
      // a new message, kept under a key of its own.
      if (error instanceof HuiliuError && error.code === 'IDEMPOTENCY_CONFLICT' && c.id !== null) {
        return deps.ingest.accept(normalizeXmppMessage(c, account.accountId, at, reusedIdClientMessageId(c)), account.skillGroup);
      }
      throw error;
    }
  }

  /** XEP-0184 `<received/>` for the customer's message `id`. */
  async function receiptOf(c: Extract<Classified, { kind: 'chat' }>, id: string): Promise<void> {
    await reply(
      xml('message', { to: c.from.full, from: account.supportJid, id: randomUUID() }, xml('received', { xmlns: NS.receipts, id })),
    );
  }

  /**
   * Issue 15: the text as an answer to the customer's CSAT prompt, when it is one (recorded once and
   * thanked by the surveyor); null: an ordinary message. A surveyor failure leaves it ordinary.
   */
  async function csatReply(c: Extract<Classified, { kind: 'chat' }>, text: string): Promise<Outcome | null> {
    try {
      const customer = await deps.store.findCustomerByIdentity('XM', c.from.bare);
      const answer = await deps.csat!.answer({ channel: 'XM', customerId: customer?.id ?? null, messageId: clientMessageIdOf(c), text });
      if (answer.kind === 'not-rating') return null;
      metrics.channelAcknowledged.inc({ channel: 'XM', type: 'text', reason: answer.kind === 'recorded' ? 'csat' : 'csat-duplicate' });
      return { kind: 'csat', sessionId: answer.sessionId, duplicate: answer.kind === 'duplicate' };
    } catch (error) {
      log.error({ err: error, peer: maskJid(c.from) }, 'XMPP CSAT reply could not be checked; handled as a message');
      return null;
    }
  }

  async function chat(el: Element, c: Extract<Classified, { kind: 'chat' }>): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    // Only a text that is a rating costs a customer look-up.
    const rated = c.text !== null && deps.csat && parseRatingReply(c.text) !== null ? await csatReply(c, c.text) : null;
    if (rated) {
      outcomes.push(rated);
      if (c.receiptRequested && c.id !== null) await receiptOf(c, c.id);
    } else if (c.text !== null) {
      let result: InboundResult;
      try {
        result = await accept({ ...c, text: c.text });
      } catch (error) {
        if (error instanceof HuiliuError && error.code === 'VALIDATION_FAILED') {
          return [await reject(el, 'invalid_text', 'bad-request', 'The message is not valid.')];
        }
        // Not stored: the customer's client is told to try later (`wait`); nothing was promised.
        log.error({ err: error, peer: maskJid(c.from) }, 'XMPP message not stored');
        return [await reject(el, 'not_stored', 'internal-server-error', 'The message could not be stored; try again.')];
      }
      deps.routes.set(result.envelope.sessionId, { accountId: account.accountId, to: c.from.full });
      // XEP-0184 §5.4: the receipt only after the message is durably stored (also for a resent duplicate).
      if (c.receiptRequested && c.id !== null) await receiptOf(c, c.id);
      outcomes.push({ kind: 'message', messageId: result.envelope.id, sessionId: result.envelope.sessionId, duplicate: result.duplicate });
    }
    if (c.typing !== null) outcomes.push(await typing(c.from.bare, c.typing));
    if (c.receivedId !== null) outcomes.push(await receipt(c.from.bare, c.receivedId));
    return outcomes;
  }

  /** XEP-0085 → `customer.typing` (fan-out, volatile) for the customer's open session, if any. */
  async function typing(bare: string, isTyping: boolean): Promise<Outcome> {
    const session = await openSession(bare);
    if (!session) return { kind: 'typing', typing: isTyping, published: false };
    await deps.bus.publish(
      newEvent('customer.typing', {
        actor: 'customer',
        sessionId: session.id,
        conversationId: session.conversationId,
        payload: { typing: isTyping, session: sessionFacts(session) },
      }),
    );
    return { kind: 'typing', typing: isTyping, published: true };
  }

  /** Records a state the channel reported later for one of our messages and tells the agent (delivery.changed). */
  async function record(id: string, sent: SentMessage, result: Parameters<ChannelStore['recordDelivery']>[2], bounce: boolean) {
    const { record: row, changed } = await deps.channels.recordDelivery(id, 'XM', result, { bounce });
    if (!changed) return false;
    const session = await deps.store.getSession(sent.sessionId);
    if (!session) return true;
    await deps.bus.publish(
      newEvent('delivery.changed', {
        actor: 'system',
        sessionId: sent.sessionId,
        conversationId: sent.conversationId,
        payload: {
          messageId: row.messageId,
          channel: 'XM',
          state: row.state,
          ...(row.error ? { error: row.error } : {}),
          session: sessionFacts(session),
        },
      }),
    );
    return true;
  }

  async function receipt(bare: string, id: string): Promise<Outcome> {
    const sent = deps.sent.get(id);
    if (!sent || sent.to !== bare) return { kind: 'receipt', recorded: false };
    return { kind: 'receipt', recorded: await record(id, sent, { state: 'delivered' }, false) };
  }

  async function bounce(c: Extract<Classified, { kind: 'bounce' }>): Promise<Outcome> {
    const sent = c.id === null ? undefined : deps.sent.get(c.id);
    if (!sent || sent.to !== c.from.bare) {
      metrics.channelRejected.inc({ channel: 'XM', code: 'unknown_bounce' });
      log.warn({ condition: c.condition, peer: maskJid(c.from) }, 'XMPP error stanza for no message of ours');
      return { kind: 'bounce', recorded: false, condition: c.condition };
    }
    // The dispatcher records `sent` after our send returned; a bounce can be quicker. Wait for that
    // row, so the failure is recorded over it and not overwritten by it.
    const id = c.id!;
    const deadline = Date.now() + BOUNCE_WAIT_MS;
    while ((await deps.channels.delivery(id)) === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    log.warn({ condition: c.condition, peer: maskJid(c.from), messageId: id }, 'XMPP message bounced');
    const recorded = await record(
      id,
      sent,
      { state: 'failed', error: { code: c.condition, message: "The customer's XMPP server refused the message." } },
      true,
    );
    return { kind: 'bounce', recorded, condition: c.condition };
  }

  async function presence(c: Extract<Classified, { kind: 'subscribe' | 'probe' }>): Promise<Outcome> {
    if (c.kind === 'subscribe') {
      // RFC 6121 §3.1.3: approve, then send our presence so the customer sees the support JID online.
      await reply(xml('presence', { type: 'subscribed', to: c.from.bare, from: account.supportJid }));
      await reply(xml('presence', { to: c.from.bare, from: account.supportJid }));
      return { kind: 'reply', what: 'subscribed' };
    }
    await reply(xml('presence', { to: c.from.full, from: account.supportJid }));
    return { kind: 'reply', what: 'probe' };
  }

  async function iq(el: Element, c: Extract<Classified, { kind: 'iq' }>): Promise<Outcome> {
    const result = (...children: Element[]) => xml('iq', { type: 'result', to: c.from.full, from: el.attrs.to, id: c.id }, ...children);
    if (c.type === 'get' && c.child.name === 'query' && c.child.ns === NS.discoInfo) {
      const features = [NS.discoInfo, NS.receipts, NS.chatStates, NS.ping];
      await reply(
        result(
          xml(
            'query',
            { xmlns: NS.discoInfo },
            xml('identity', { category: 'component', type: 'generic', name: account.name }),
            ...features.map((v) => xml('feature', { var: v })),
          ),
        ),
      );
      return { kind: 'reply', what: 'disco-info' };
    }
    if (c.type === 'get' && c.child.name === 'query' && c.child.ns === NS.discoItems) {
      await reply(result(xml('query', { xmlns: NS.discoItems })));
      return { kind: 'reply', what: 'disco-items' };
    }
    if (c.type === 'get' && c.child.name === 'ping' && c.child.ns === NS.ping) {
      await reply(result());
      return { kind: 'reply', what: 'ping' };
    }
    // RFC 6120 §8.4: an iq for a namespace we do not serve.
    return reject(el, 'unsupported_iq', 'service-unavailable');
  }

  async function handle(el: Element): Promise<Outcome[]> {
    try {
      const c = classifyStanza(el, support);
      switch (c.kind) {
        case 'chat':
          return await chat(el, c);
        case 'bounce':
          return [await bounce(c)];
        case 'subscribe':
        case 'probe':
          return [await presence(c)];
        case 'iq':
          return [await iq(el, c)];
        case 'reject':
          return [await reject(el, c.reason, c.condition, c.text)];
        case 'ignore':
          return [{ kind: 'ignore', reason: c.reason }];
      }
    } catch (error) {
      // A bug or a store failure must not break the stream: answer `internal-server-error`.
      log.error({ err: error }, 'XMPP stanza handler failed');
      return [await reject(el, 'not_stored', 'internal-server-error')];
    }
  }

  return {
    handle,
    /**
     * Parses stanza text (the stream's own parser, `parseStanzas`) and handles each element. Malformed
     * XML is counted (`malformed_xml`) and logged, and yields an `ignore`: there is nothing to answer.
     * On a live stream the XMPP server never passes malformed XML on (it closes the sender's stream);
     * were it to send some itself, xmpp.js ends our stream with `bad-format` and the link reconnects.
     */
    async handleText(text: string): Promise<Outcome[]> {
      const { elements, error } = parseStanzas(text);
      const outcomes: Outcome[] = [];
      for (const el of elements) outcomes.push(...(await handle(el)));
      if (error) {
        metrics.channelRejected.inc({ channel: 'XM', code: 'malformed_xml' });
        log.warn({ reason: 'malformed_xml' }, 'XMPP input is not well-formed XML');
        outcomes.push({ kind: 'ignore', reason: 'malformed_xml' });
      }
      return outcomes;
    },
  };
}
