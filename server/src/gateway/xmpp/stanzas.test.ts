import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LRUCache } from 'lru-cache';
import type { Element } from '@xmpp/component';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../logging/logger';
import { createMetrics } from '../../metrics/metrics';
import { Ingest } from '../ingest';
import { REPO_ROOT } from '../../runtime/paths';
import { startTestServer, type TestServer } from '../../../test/support/harness';
import type { XmppAccount } from './account';
import { createInboundHandler, type Outcome, type SentMessage } from './inbound';
import { NS, parseStanzas } from './normalize';

/**
 * Every stanza of Prosody's scansion suite (../shared/data/xmpp-stanzas, SOURCE.md) goes through the
 * component's own parser (`parseStanzas`: xmpp.js's stream parser) and the one inbound handler, as if
 * a customer had sent it to the support address. Each must end in what its category calls for — a
 * stored message, a typing signal, a receipt/bounce, an answer, an error stanza or an ignore — and the
 * handler's side effects (store, answers) must match.
 */
const DATA = join(REPO_ROOT, '..', 'shared', 'data', 'xmpp-stanzas');
const DOMAIN = 'corpus.localhost';
const SUPPORT = `support@${DOMAIN}`;

interface ManifestEntry {
  file: string;
  script: string;
  actor: string;
  direction: 'sends' | 'receives';
  top_element: 'message' | 'presence' | 'iq';
}

/** `${Romeo's full JID}` → romeo@localhost/romeo-res; `${Juliet's phone's full JID}` → juliet@localhost/phone. */
function jidOf(actor: string, full: boolean): string {
  const phone = actor.endsWith("'s phone");
  const user = (phone ? actor.slice(0, -"'s phone".length) : actor).toLowerCase();
  return full ? `${user}@localhost/${phone ? 'phone' : `${user}-res`}` : `${user}@localhost`;
}

function substitute(text: string): string {
  return (
    text
      .replace(/\$\{(.+?)'s (full )?JID\}/g, (_m, actor: string, full?: string) => jidOf(actor, Boolean(full)))
      // Scansion's match directives are not XMPP (SOURCE.md): values become a token, attributes go.
      .replace(/\{scansion:any\}/g, 'any-value')
      .replace(/\s+scansion:[\w-]+=(["']).*?\1/g, '')
  );
}

/** The stanza as the component would see it: sent by its author to the support address. */
function asInbound(el: Element, entry: ManifestEntry): Element {
  if (entry.direction === 'sends' || !el.attrs.from) el.attrs.from = jidOf(entry.actor, true);
  el.attrs.to = SUPPORT;
  return el;
}

const visibleBody = (el: Element) =>
  el.getChildren('body').some((b) => b.attrs.xmlns === undefined && b.getText().trim() !== '') &&
  el.getChildElements().every((c) => !(c.getName() === 'x' && (c.getNS() === NS.mucUser || c.getNS() === NS.conference)));
const hasChild = (el: Element, ns: string) => el.getChildElements().some((c) => c.getNS() === ns);

/**
 * What each stanza must come to, from its category alone (RFC 6120/6121, the XEPs the channel reads),
 * written independently of the classifier.
 */
function expected(el: Element): string {
  const type = el.attrs.type;
  switch (el.getName()) {
    case 'message':
      if (type === 'error') return 'bounce';
      if (type === 'headline') return 'ignore';
      if (type === 'groupchat') return 'error:feature-not-implemented';
      if (visibleBody(el)) return 'message';
      if (el.getChildElements().some((c) => c.getName() === 'x' && (c.getNS() === NS.mucUser || c.getNS() === NS.conference)))
        return 'error:feature-not-implemented';
      if (hasChild(el, NS.chatStates)) return 'typing';
      if (el.getChildElements().some((c) => c.getName() === 'received' && c.getNS() === NS.receipts)) return 'receipt';
      return 'error:feature-not-implemented';
    case 'presence':
      if (type === 'subscribe') return 'reply:subscribed';
      if (type === 'probe') return 'reply:probe';
      return 'ignore';
    default: {
      if (type === 'result' || type === 'error') return 'ignore';
      const children = el.getChildElements();
      if ((type !== 'get' && type !== 'set') || children.length !== 1 || !el.attrs.id) return 'error:bad-request';
      const [c] = children;
      if (type === 'get' && c!.is('query') && c!.getNS() === NS.discoInfo) return 'reply:disco-info';
      if (type === 'get' && c!.is('query') && c!.getNS() === NS.discoItems) return 'reply:disco-items';
      if (type === 'get' && c!.is('ping') && c!.getNS() === NS.ping) return 'reply:ping';
      return 'error:service-unavailable';
    }
  }
}

const label = (o: Outcome) =>
  o.kind === 'error' ? `error:${o.condition}` : o.kind === 'reply' ? `reply:${o.what}` : o.kind === 'message' ? 'message' : o.kind;

describe('the XMPP stanza corpus (Prosody scansion, 185 stanzas) through the component parser and inbound handler', () => {
  let server: TestServer;
  const answers: Element[] = [];
  let handler: ReturnType<typeof createInboundHandler>;
  const manifest = JSON.parse(readFileSync(join(DATA, 'stanzas', 'MANIFEST.json'), 'utf8')) as ManifestEntry[];

  beforeAll(async () => {
    server = await startTestServer();
    const { store, bus, channels } = server.services;
    const account: XmppAccount = {
      accountId: 'corpus',
      name: 'Corpus',
      service: 'xmpp://127.0.0.1:9',
      domain: DOMAIN,
      supportJid: SUPPORT,
      supportLocal: 'support',
      password: 'unused',
      skillGroup: 'general',
      reconnectMinMs: 500,
      reconnectMaxMs: 30_000,
    };
    // The channel's own ingest path: an Ingest over the server's store and bus.
    handler = createInboundHandler({
      account,
      ingest: new Ingest(store, bus),
      store,
      bus,
      channels,
      metrics: createMetrics(),
      log: createLogger({ level: 'silent' }),
      send: async (el) => void answers.push(el),
      sent: new LRUCache<string, SentMessage>({ max: 100 }),
      routes: new LRUCache<string, { accountId: string; to: string }>({ max: 100 }),
    });
  });
  afterAll(async () => {
    await server?.cleanup();
  });

  it('has the 185 stanzas SOURCE.md lists, one file each', () => {
    expect(manifest).toHaveLength(185);
    const files = readdirSync(join(DATA, 'stanzas')).filter((f) => f.endsWith('.xml'));
    expect(files.sort()).toEqual(manifest.map((m) => m.file).sort());
  });

  it('gives every stanza the outcome its category calls for, with the matching answer or stored message', async () => {
    const tally: Record<string, number> = {};
    for (const entry of manifest) {
      const { elements, error } = parseStanzas(substitute(readFileSync(join(DATA, 'stanzas', entry.file), 'utf8')));
      expect(error, entry.file).toBeNull();
      expect(elements, entry.file).toHaveLength(1);
      const el = asInbound(elements[0]!, entry);
      expect(el.getName(), entry.file).toBe(entry.top_element);
      const want = expected(el);
      const before = answers.length;
      const outcomes = await handler.handle(el);
      const got = outcomes.map(label);
      expect(got[0], `${entry.file}: ${el.toString()}`).toBe(want);
      tally[want] = (tally[want] ?? 0) + 1;
      const answered = answers.slice(before);
      if (want.startsWith('error:')) {
        // One error stanza back to the sender: same kind, same id, the condition named.
        expect(answered, entry.file).toHaveLength(1);
        expect(answered[0]!.attrs).toMatchObject({ type: 'error', to: el.attrs.from, from: SUPPORT });
        expect(answered[0]!.getName()).toBe(el.getName());
        expect(answered[0]!.attrs.id).toBe(el.attrs.id);
        expect(
          answered[0]!.getChild('error')!.getChild(want.slice('error:'.length), 'urn:ietf:params:xml:ns:xmpp-stanzas'),
          entry.file,
        ).toBeDefined();
      } else if (want === 'message') {
        const o = outcomes[0] as Extract<Outcome, { kind: 'message' }>;
        const session = (await server.services.store.getSession(o.sessionId))!;
        const stored = (await server.services.store.listMessages(session.conversationId)).find((m) => m.id === o.messageId)!;
        const body = el
          .getChildren('body')
          .find((b) => b.attrs.xmlns === undefined)!
          .getText();
        expect(stored).toMatchObject({ channel: 'XM', direction: 'in', kind: 'text', body: { text: body } });
      } else if (want === 'reply:subscribed') {
        expect(answered.map((a) => `${a.getName()}:${a.attrs.type ?? 'available'}`)).toEqual(['presence:subscribed', 'presence:available']);
      } else if (want.startsWith('reply:')) {
        expect(answered, entry.file).toHaveLength(1);
        expect(answered[0]!.attrs.type === 'result' || answered[0]!.is('presence')).toBe(true);
      } else {
        // ignore, typing, receipt, bounce: nothing is answered (never an error to an error, RFC 6120 §8.3.1).
        expect(answered, entry.file).toHaveLength(0);
      }
    }
    // The corpus's mix, pinned: a change in how a category is handled shows up here.
    expect(tally).toEqual(TALLY);
  });

  it('parses every send/receive block of the 14 scansion scripts with the same parser', () => {
    const scripts = readdirSync(join(DATA, 'scansion')).filter((f) => f.endsWith('.scs'));
    expect(scripts).toHaveLength(14);
    let blocks = 0;
    for (const script of scripts) {
      const text = readFileSync(join(DATA, 'scansion', script), 'utf8');
      // A block: "<Actor> sends:" / "receives:" then tab-indented XML lines.
      for (const m of text.matchAll(/^[^\n#]+ (sends|receives):\n((?:\t[^\n]*\n?)+)/gm)) {
        const xmlText = substitute(m[2]!.replace(/^\t/gm, ''));
        const { elements, error } = parseStanzas(xmlText.replace(/xmlns:scansion=(["']).*?\1/g, ''));
        expect(error, `${script}: ${xmlText}`).toBeNull();
        expect(elements.length, script).toBeGreaterThan(0);
        blocks += 1;
      }
    }
    expect(blocks).toBe(185);
  });

  it('counts malformed XML and answers nothing, and the handler goes on with the next stanza', async () => {
    const before = answers.length;
    const bad = await handler.handleText(
      `<message from="mallory@localhost/x" to="${SUPPORT}" type="chat"><body>unterminated</bod></message>`,
    );
    expect(bad.map(label)).toContain('ignore');
    expect(bad.some((o) => o.kind === 'ignore' && o.reason === 'malformed_xml')).toBe(true);
    expect(answers.length).toBe(before);
    const next = await handler.handleText(
      `<message from="mallory@localhost/x" to="${SUPPORT}" type="chat" id="ok-1"><body>fine now</body></message>`,
    );
    expect(next.map(label)).toEqual(['message']);
  });
});

/**
 * 22 chats with a body are stored; 37 are refused as not implemented (30 group-chat messages, room
 * invitations, a body-less chat); 24 iqs ask for what a support address does not serve (roster,
 * vCard, version, MAM, blocking …) → service-unavailable; one disco#info is answered; 8 presence
 * subscriptions approved; the 2 error messages name no message of ours; 91 need nothing (presence
 * updates, iq results, headlines).
 */
const TALLY: Record<string, number> = {
  message: 22,
  'error:feature-not-implemented': 37,
  'error:service-unavailable': 24,
  'reply:disco-info': 1,
  'reply:subscribed': 8,
  bounce: 2,
  ignore: 91,
};
