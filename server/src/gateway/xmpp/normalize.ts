import { createHash } from 'node:crypto';
import { xml, type Element } from '@xmpp/component';
import { MAX_TEXT_LENGTH, TextBodySchema, type InboundDraft } from '../../../../common/message/envelope';
import { truncateText } from '../../../../common/text/text';

/** XML namespaces this channel reads or writes. */
export const NS = {
  component: 'jabber:component:accept',
  stream: 'http://etherx.jabber.org/streams',
  stanzas: 'urn:ietf:params:xml:ns:xmpp-stanzas',
  /** XEP-0184 message delivery receipts. */
  receipts: 'urn:xmpp:receipts',
  /** XEP-0085 chat state notifications. */
  chatStates: 'http://jabber.org/protocol/chatstates',
  /** XEP-0203 delayed delivery. */
  delay: 'urn:xmpp:delay',
  /** XEP-0172 user nickname. */
  nick: 'http://jabber.org/protocol/nick',
  discoInfo: 'http://jabber.org/protocol/disco#info',
  discoItems: 'http://jabber.org/protocol/disco#items',
  /** XEP-0199 ping. */
  ping: 'urn:xmpp:ping',
  /** XEP-0045 multi-user chat (room invitations). */
  mucUser: 'http://jabber.org/protocol/muc#user',
  /** XEP-0249 direct room invitations. */
  conference: 'jabber:x:conference',
} as const;

/** RFC 6120 §5.3.1: each JID part is at most 1023 bytes. */
const JID_PART_MAX = 1023;

/** A parsed JID. `bare` is `local@domain` (or `domain`) lower-cased: the customer's identity. */
export interface Jid {
  local: string | null;
  domain: string;
  resource: string | null;
  bare: string;
  /** As given (resource kept). */
  full: string;
}

/**
 * Parses a JID (RFC 7622 shape: `[local@]domain[/resource]`). Not a full PRECIS check: Prosody has
 * already checked the JIDs of every stanza it routes to us; this guards our own code against what it
 * cannot use. Returns null for a missing or unusable JID.
 */
export function parseJid(value: string | undefined): Jid | null {
  if (!value || value.length > 3 * JID_PART_MAX + 2) return null;
  const slash = value.indexOf('/');
  const beforeResource = slash === -1 ? value : value.slice(0, slash);
  const resource = slash === -1 ? null : value.slice(slash + 1);
  const at = beforeResource.indexOf('@');
  const local = at === -1 ? null : beforeResource.slice(0, at);
  const domain = at === -1 ? beforeResource : beforeResource.slice(at + 1);
  const bad = (part: string | null) => part !== null && (part.length === 0 || part.length > JID_PART_MAX || /[\s<>"'&]/.test(part));
  if (!domain || bad(domain) || bad(local) || (resource !== null && (resource.length === 0 || resource.length > JID_PART_MAX))) return null;
  if (local !== null && /[@/:]/.test(local)) return null;
  if (!/^[^@/]+$/.test(domain)) return null;
  const bare = (local !== null ? `${local}@${domain}` : domain).toLowerCase();
  return { local, domain: domain.toLowerCase(), resource, bare, full: value };
}

/**
 * A JID as it may appear in a log line (DESIGN §8: channel external ids are personal data): the local
 * part and resource are hidden, the domain stays (which server the customer uses is operational).
 */
export function maskJid(jid: Jid | string | null | undefined): string {
  const parsed = typeof jid === 'string' ? parseJid(jid) : (jid ?? null);
  if (!parsed) return '[jid]';
  return parsed.local !== null ? `***@${parsed.domain}` : parsed.domain;
}

/** Stanza error conditions (RFC 6120 §8.3.3) this channel answers with. */
export type XmppCondition =
  'bad-request' | 'feature-not-implemented' | 'service-unavailable' | 'policy-violation' | 'internal-server-error';

/** The error `type` RFC 6120 §8.3.3 pairs with each condition. */
const CONDITION_TYPE: Record<XmppCondition, 'modify' | 'cancel' | 'wait'> = {
  'bad-request': 'modify',
  'feature-not-implemented': 'cancel',
  'service-unavailable': 'cancel',
  'policy-violation': 'modify',
  'internal-server-error': 'wait',
};

/** Why an inbound stanza was refused or set aside: the metrics label (`huiliu_channel_rejected_total{code}`). */
export type RejectReason =
  | 'bad_from'
  | 'unknown_recipient'
  | 'too_long'
  | 'invalid_text'
  | 'unsupported_payload'
  | 'groupchat'
  | 'bad_iq'
  | 'unsupported_iq'
  | 'unknown_element'
  | 'malformed_xml'
  | 'unknown_bounce'
  | 'not_stored';

/** What one inbound stanza is, for the inbound handler (inbound.ts). Nothing XMPP-shaped leaves this module but these. */
export type Classified =
  /** A chat or normal message: a text to store, and/or a typing change, and/or a receipt for one of ours. */
  | {
      kind: 'chat';
      from: Jid;
      to: Jid;
      id: string | null;
      text: string | null;
      /** XEP-0085: `composing` → true; `paused`, `active`, `inactive`, `gone` → false; null: no chat state. */
      typing: boolean | null;
      /** XEP-0184 `<received id>`: the id of our outbound message the customer's client got. */
      receivedId: string | null;
      /** XEP-0184 `<request/>`: answer with `<received/>` once the message is stored. */
      receiptRequested: boolean;
      nick: string | null;
      thread: string | null;
      /** XEP-0203 `<delay stamp>`, when valid (ISO 8601). */
      stamp: string | null;
    }
  /** A message of type `error`: a bounce of one of ours, when `id` is one we sent. */
  | { kind: 'bounce'; from: Jid; id: string | null; condition: string }
  | { kind: 'subscribe'; from: Jid; to: Jid }
  | { kind: 'probe'; from: Jid; to: Jid }
  /** An iq get/set with exactly one child. */
  | { kind: 'iq'; from: Jid; to: Jid; id: string; type: 'get' | 'set'; child: { name: string; ns: string | undefined } }
  /** Refused: answered with an error stanza of `condition` (when it can be addressed: `from` known). */
  | { kind: 'reject'; reason: RejectReason; condition: XmppCondition; text?: string }
  /** Nothing to do (no answer is due): presence updates, iq results, headlines, errors of others. */
  | { kind: 'ignore'; reason: string };

/** The support JID's local part and domain this component serves. */
export interface SupportAddress {
  domain: string;
  local: string;
}

const CHAT_STATES: Record<string, boolean> = { composing: true, paused: false, active: false, inactive: false, gone: false };

/** Children in the stanza's own namespace (`<body>`, `<thread>`): no xmlns of their own, or the stream's. */
function own(el: Element, name: string): Element[] {
  return el.getChildren(name).filter((c) => {
    const ns = c.attrs.xmlns;
    return ns === undefined || ns === NS.component || ns === 'jabber:client' || ns === 'jabber:server';
  });
}

function child(el: Element, name: string, ns: string): Element | undefined {
  return el.getChildElements().find((c) => c.getName() === name && c.getNS() === ns);
}

/** Whether `to` is this component's support JID (`support@domain`) or the bare domain itself. */
function isSupport(to: Jid, support: SupportAddress): boolean {
  if (to.domain !== support.domain.toLowerCase()) return false;
  return to.local === null || to.local.toLowerCase() === support.local.toLowerCase();
}

/**
 * Classifies one stanza the component received (RFC 6120/6121 semantics, the XEPs in `NS`). Pure:
 * never throws for any element, never answers anything itself.
 * - `message` `chat`/`normal` (or no/unknown type, RFC 6121 §5.2.2) → `chat` when it has a visible
 *   body, a chat state or a receipt; a body longer than MAX_TEXT_LENGTH → `policy-violation`; text
 *   the store would refuse (no visible character is just "no body") → `bad-request`; nothing we read
 *   → `feature-not-implemented`. `error` → `bounce`; `groupchat` and room invitations →
 *   `feature-not-implemented` (the support JID joins no rooms); `headline` → ignored (RFC 6121).
 * - `presence` `subscribe` / `probe` → answered by the handler; every other presence is ignored.
 * - `iq` `get`/`set` → `iq` (one child) or `bad-request`; `result`/`error` → ignored.
 * - a stanza to another local part of our domain → `service-unavailable` (RFC 6121 §8.5.2).
 * Errors are never answered with errors (RFC 6120 §8.3.1), and stanzas without a usable `from`
 * cannot be answered at all (`bad_from`, counted by the handler).
 */
export function classifyStanza(el: Element, support: SupportAddress): Classified {
  const name = el.getName();
  if (name !== 'message' && name !== 'presence' && name !== 'iq') return { kind: 'ignore', reason: 'unknown_element' };
  const type = el.attrs.type;
  const from = parseJid(el.attrs.from);
  if (type === 'error') {
    if (name !== 'message' || !from) return { kind: 'ignore', reason: `${name}_error` };
    const error = el.getChild('error');
    const condition =
      error
        ?.getChildElements()
        .find((c) => c.getNS() === NS.stanzas)
        ?.getName() ?? 'undefined-condition';
    return { kind: 'bounce', from, id: el.attrs.id ?? null, condition };
  }
  if (!from) return { kind: 'reject', reason: 'bad_from', condition: 'bad-request', text: 'The stanza has no usable from address.' };
  // Our own domain talking to us would loop: nothing from it is a customer.
  if (from.domain === support.domain.toLowerCase()) return { kind: 'ignore', reason: 'own_domain' };
  const to = parseJid(el.attrs.to);
  if (!to || !isSupport(to, support)) {
    // Presence to an address that does not exist is dropped silently (RFC 6121 §8.5.2.1.1/§8.5.2.2.1).
    if (name === 'presence') return { kind: 'ignore', reason: 'presence_unknown_recipient' };
    if (name === 'iq' && (type === 'result' || type === 'error')) return { kind: 'ignore', reason: 'iq_response' };
    return { kind: 'reject', reason: 'unknown_recipient', condition: 'service-unavailable' };
  }

  if (name === 'presence') {
    if (type === 'subscribe') return { kind: 'subscribe', from, to };
    if (type === 'probe') return { kind: 'probe', from, to };
    return { kind: 'ignore', reason: `presence_${type ?? 'available'}` };
  }

  if (name === 'iq') {
    if (type === 'result') return { kind: 'ignore', reason: 'iq_result' };
    if (type !== 'get' && type !== 'set')
      return { kind: 'reject', reason: 'bad_iq', condition: 'bad-request', text: 'An iq needs type get or set.' };
    const children = el.getChildElements();
    const id = el.attrs.id;
    if (!id || children.length !== 1) {
      return { kind: 'reject', reason: 'bad_iq', condition: 'bad-request', text: 'An iq get or set needs an id and exactly one child.' };
    }
    return { kind: 'iq', from, to, id, type, child: { name: children[0]!.getName(), ns: children[0]!.getNS() } };
  }

  // message
  if (type === 'headline') return { kind: 'ignore', reason: 'headline' };
  if (type === 'groupchat') {
    return {
      kind: 'reject',
      reason: 'groupchat',
      condition: 'feature-not-implemented',
      text: 'The support address takes one-to-one chat only.',
    };
  }
  // A room invitation (XEP-0045 mediated, XEP-0249 direct) carries a body for old clients: not a customer's words.
  if (child(el, 'x', NS.mucUser)?.getChild('invite') || child(el, 'x', NS.conference)) {
    return { kind: 'reject', reason: 'groupchat', condition: 'feature-not-implemented', text: 'The support address does not join rooms.' };
  }
  const bodies = own(el, 'body');
  const body = bodies.find((b) => b.attrs['xml:lang'] === undefined) ?? bodies[0];
  const raw = body ? body.getText() : null;
  if (raw !== null && raw.length > MAX_TEXT_LENGTH) {
    return {
      kind: 'reject',
      reason: 'too_long',
      condition: 'policy-violation',
      text: `A message may have at most ${MAX_TEXT_LENGTH} characters.`,
    };
  }
  let text: string | null = null;
  if (raw !== null && raw.trim() !== '') {
    const checked = TextBodySchema.safeParse({ text: raw });
    // Text with no visible character (only zero-width marks) is refused, never stored (DESIGN §8).
    if (!checked.success)
      return { kind: 'reject', reason: 'invalid_text', condition: 'bad-request', text: 'The message has no visible text.' };
    text = raw;
  }
  const stateEl = el.getChildElements().find((c) => c.getNS() === NS.chatStates && c.getName() in CHAT_STATES);
  const typing = stateEl ? CHAT_STATES[stateEl.getName()]! : null;
  const received = child(el, 'received', NS.receipts);
  const receivedId = received?.attrs.id ?? null;
  if (text === null && typing === null && receivedId === null) {
    return {
      kind: 'reject',
      reason: 'unsupported_payload',
      condition: 'feature-not-implemented',
      text: 'The support address reads message bodies, chat states and receipts only.',
    };
  }
  const stampRaw = child(el, 'delay', NS.delay)?.attrs.stamp;
  const stamp =
    stampRaw && !Number.isNaN(Date.parse(stampRaw)) && /^\d{4}-\d\d-\d\dT/.test(stampRaw) ? new Date(stampRaw).toISOString() : null;
  const nickText = child(el, 'nick', NS.nick)?.getText().trim();
  const thread = own(el, 'thread')[0]?.getText() ?? null;
  return {
    kind: 'chat',
    from,
    to,
    id: el.attrs.id || null,
    text,
    typing,
    receivedId,
    receiptRequested: Boolean(child(el, 'request', NS.receipts)),
    nick: nickText ? nickText : null,
    thread,
    stamp,
  };
}

const b64hash = (parts: readonly (string | null)[]) => createHash('sha256').update(JSON.stringify(parts)).digest('base64url');

/** Longest stanza id kept verbatim as `clientMessageId` (the envelope's bound). */
const CLIENT_ID_MAX = 128;

/**
 * The idempotency key of a customer message (the store scopes it by customer, i.e. the bare JID).
 * - a stanza `id` of at most 128 characters: the id itself (a client's resend keeps it);
 * - a longer id: `xmpp-id:` + SHA-256 of it;
 * - no id: `xmpp-nid:` + SHA-256 of (full sender JID, thread, delay stamp, body). Stable for a resend
 *   of the same stanza (XEP-0198 resends keep all four). The price: an id-less client sending the
 *   very same text twice from one resource, with no thread and no delay, is stored once. Every
 *   current client sets ids (RFC 6120 §8.1.3 recommends it), so this is the rare fallback.
 */
export function clientMessageIdOf(c: Pick<Extract<Classified, { kind: 'chat' }>, 'from' | 'id' | 'thread' | 'stamp' | 'text'>): string {
  if (c.id !== null) return c.id.length <= CLIENT_ID_MAX ? c.id : `xmpp-id:${b64hash([c.id])}`;
  return `xmpp-nid:${b64hash([c.from.full, c.thread, c.stamp, c.text])}`;
}

/**
 * The key for a message whose id its sender already used for another text (a client that reuses ids
 * across restarts, e.g. counters): RFC 6120 ids are unique per stream, not forever. Scoped by the
 * full JID and the text, so the new message is stored and a resend of it is still a duplicate.
 */
export function reusedIdClientMessageId(c: Pick<Extract<Classified, { kind: 'chat' }>, 'from' | 'id' | 'text'>): string {
  return `xmpp-idb:${b64hash([c.from.full, c.id, c.text])}`;
}

/** Longest customer name kept from a nick or a JID's local part. */
const NAME_MAX = 128;

/**
 * A chat message with text → the InboundDraft (DESIGN §4). `identity.externalId` is the bare JID
 * lower-cased; the name is the XEP-0172 nick when given, else the JID's local part. `meta` keeps what
 * a reply needs (the account and the full JID the customer wrote from) and the stanza id.
 */
export function normalizeXmppMessage(
  c: Extract<Classified, { kind: 'chat' }> & { text: string },
  accountId: string,
  now: Date,
  clientMessageId: string = clientMessageIdOf(c),
): InboundDraft {
  const receivedAt = now.toISOString();
  const name = c.nick ?? c.from.local ?? c.from.domain;
  return {
    identity: { channel: 'XM', externalId: c.from.bare, displayName: truncateText(name, NAME_MAX) },
    content: { kind: 'text', body: { text: c.text } },
    critical: true,
    clientMessageId,
    sentAt: c.stamp ?? receivedAt,
    receivedAt,
    meta: {
      xmppAccount: accountId,
      xmppFrom: c.from.full.length <= 1024 ? c.from.full : c.from.bare,
      ...(c.id !== null && c.id.length <= 1024 ? { xmppId: c.id } : {}),
    },
  };
}

/**
 * The error reply to a stanza (RFC 6120 §8.3): same name and id, addresses swapped, `type='error'`,
 * `<error type=…><condition/><text/></error>`. The original payload is not echoed (it may be a
 * long body or the customer's text).
 */
export function errorReply(el: Element, condition: XmppCondition, text?: string): Element {
  return xml(
    el.getName(),
    { type: 'error', to: el.attrs.from, from: el.attrs.to, id: el.attrs.id },
    xml(
      'error',
      { type: CONDITION_TYPE[condition] },
      xml(condition, { xmlns: NS.stanzas }),
      text ? xml('text', { xmlns: NS.stanzas, 'xml:lang': 'en' }, text) : null,
    ),
  );
}

/**
 * Parses stanza text with the very parser a component stream reads its socket with (`@xmpp/xml`'s
 * ltx-based streaming parser), inside a component stream header, so an element comes out exactly
 * as it would from Prosody. Returns the top-level elements, or the parser's error for malformed XML.
 */
export function parseStanzas(text: string): { elements: Element[]; error: Error | null } {
  const parser = new xml.Parser();
  const elements: Element[] = [];
  let error: Error | null = null;
  parser.on('element', (el: Element) => elements.push(el));
  parser.on('error', (e: Error) => (error ??= e));
  try {
    parser.write(`<stream:stream xmlns="${NS.component}" xmlns:stream="${NS.stream}">`);
    parser.write(text);
    parser.write('</stream:stream>');
  } catch (e) {
    error ??= e instanceof Error ? e : new Error(String(e));
  }
  return { elements, error };
}
