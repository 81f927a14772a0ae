import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageReveal, CustomerReveal } from '../../../common/api/reveal';
import type { SessionDetail } from '../../../common/api/sessions';
import { maskPii } from '../../../common/privacy/mask';
import type { AuditPage } from '../../src/audit/audit';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/logging/logger';
import { startServer, type RunningServer } from '../../src/main';
import { ack, openAgentSocket } from '../support/agent-client';
import { withAiTier } from '../support/config-file';
import { httpsRequest } from '../support/https';
import { eventually } from '../support/until';
import { openWidget } from '../support/widget-client';
import { laneEnv } from '../support/lane';

// Public PII vectors (validator.js and id-validator, MIT): /work/shared/data/pii-test-vectors/SOURCE.md
const VECTORS = fileURLToPath(new URL('../../../../shared/data/pii-test-vectors/pii_vectors.json', import.meta.url));
const data = JSON.parse(readFileSync(VECTORS, 'utf8')) as Record<string, { value: string; expected_valid: boolean | null }[]>;
const pick = (list: string, valid: boolean) => data[list]!.filter((v) => v.expected_valid === valid).map((v) => v.value);
// Luhn-valid numbers shorter than a card (`0`, `5421`) are no personal data: only card-length ones count.
const LUHN = pick('luhn_isLuhnNumber', true).filter((v) => /^\d{13,19}$/.test(v));
const EMAILS = ['li.lei@example.com', 'han.meimei+cs@example.org', 'zhang_san@mail.example.cn'];
const VALID = [...pick('cn_resident_id', true), ...pick('cn_mobile', true), ...pick('payment_card_isCreditCard', true), ...LUHN, ...EMAILS];
// Invalid vectors that masking leaves alone (look-alikes: wrong checksum, wrong prefix): staff see them as written.
const INVALID = [...pick('cn_resident_id', false), ...pick('cn_mobile', false), ...pick('payment_card_isCreditCard', false)].filter(
  (v) => /^\d{11,19}$/.test(v) && maskPii(`x ${v} x`) === `x ${v} x`,
);

const KEY = { 'x-huiliu-key': 'demo-app-key' };
const APP = '/api/v1/channels/app/messages';
const PHONE = pick('cn_mobile', true)[0]!;
const IDNO = pick('cn_resident_id', true)[0]!;
const CARD = pick('payment_card_isCreditCard', true)[0]!;

/** The forms a value can take in a log line or a URL: raw, percent-encoded once and twice, form-encoded. */
const forms = (value: string) => {
  const encoded = encodeURIComponent(value);
  return [...new Set([value, encoded, encodeURIComponent(encoded), encoded.replace(/%20/g, '+')])];
};

/**
 * Each form of each value found in `text` as a whole token (an invalid look-alike such as `013838389438`
 * holds a valid mobile inside it), with the characters around it, to name the output that leaked.
 */
const leaks = (text: string, values: readonly string[]) =>
  values.flatMap((value) =>
    forms(value)
      .map((form) => ({ form, at: text.search(new RegExp(`(?<!\\d)${form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?!\\d)`)) }))
      .filter(({ at }) => at >= 0)
      .map(({ form, at }) => {
        return `${form}: …${text.slice(Math.max(0, at - 80), at + form.length + 20)}…`;
      }),
  );

/** Every file under `dir` whose name says it is a log. */
function logFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...logFiles(path));
    else if (/\.log(\.\d+)?$/.test(name)) out.push(path);
  }
  return out;
}

/**
 * Issue 17, privacy: the product driven with personal data — the PII vectors in customer messages
 * (app and web channels), in customer names and phone fields, in URLs (query strings, paths,
 * percent-encoded) and in an agent's reply — and then every log file in the data dir and every
 * answer an agent got (REST bodies and socket frames, acks included) is searched for the raw values.
 * Valid vectors must be nowhere; invalid ones (look-alikes) are left as written. The customer still
 * gets the agent's real text, and `pii.reveal` shows a value again, audited without it.
 */
describe('personal data in every output (issue 17)', () => {
  let server: RunningServer;
  let dataDir: string;
  let agent: Socket;
  let agentToken: string;
  const stdout: string[] = [];
  /** Everything the agent received: REST bodies, socket frames, acks. */
  const received: string[] = [];
  const offers: string[] = [];
  let appSession = '';
  let webSession = '';
  let webReplies: string[] = [];
  let detail: SessionDetail;

  const login = async (username: string) => {
    const res = await server.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username, password: 'huiliu-demo' } });
    return (res.json() as { token: string }).token;
  };
  /** A REST call over real HTTPS as the agent; the body is kept as received. */
  const get = async (path: string, token = agentToken) => {
    const res = await httpsRequest(`${server.url}${path}`, { ca: server.tls.caPem, headers: { authorization: `Bearer ${token}` } });
    if (token === agentToken) received.push(res.body);
    return res;
  };
  const emit = async <T>(event: string, payload: unknown) => {
    const answer = await ack<T>(agent, event, payload);
    received.push(JSON.stringify(answer));
    return answer;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'huiliu-pii-'));
    const config = loadConfig({
      env: laneEnv(withAiTier({ HUILIU_DATA_DIR: dataDir, HUILIU_PORT: '0' }, false), dataDir),
      argv: ['--demo'],
      cwd: process.cwd(),
    });
    // Debug, to the data dir's log file as main.ts does, and to a stream read back here.
    const logger = createLogger({ level: 'debug', dir: config.paths.logs, destination: { write: (l: string) => void stdout.push(l) } });
    server = await startServer(config, logger);
    agentToken = await login('agent1');
    agent = await openAgentSocket({ url: server.url, tls: server.tls } as never, agentToken);
    agent.onAny((event: string, ...args: unknown[]) => void received.push(JSON.stringify([event, args])));
    agent.on('offer:new', (o: { sessionId: string }) => void offers.push(o.sessionId));

    // App channel: PII in the name, the phone field, the external id and the text; and in the URL.
    const half = Math.ceil(VALID.length / 2);
    const posted = await httpsRequest(`${server.url}${APP}?ref=${encodeURIComponent(`+86 ${PHONE}`)}&id=${IDNO}`, {
      ca: server.tls.caPem,
      method: 'POST',
      headers: KEY,
      json: {
        customer: { externalId: EMAILS[0], name: `Li ${PHONE}`, phone: `+86${PHONE}` },
        text: `Please help, my numbers: ${VALID.slice(0, half).join(', ')}. Not mine: ${INVALID.join(' ')}`,
        clientMessageId: 'pii-app-1',
        hints: { skillGroup: 'general' },
      },
    });
    expect(posted.status).toBe(202);
    appSession = (JSON.parse(posted.body) as { sessionId: string }).sessionId;
    // The app's poll, with the external id in the query, raw and percent-encoded.
    for (const value of [EMAILS[0]!, `+86${PHONE}`, CARD]) {
      await httpsRequest(`${server.url}${APP}?externalId=${encodeURIComponent(value)}`, { ca: server.tls.caPem, headers: KEY });
      await httpsRequest(`${server.url}${APP}?externalId=${encodeURIComponent(encodeURIComponent(value))}`, {
        ca: server.tls.caPem,
        headers: KEY,
      });
    }

    // Web channel: PII in the visitor's name, the pre-chat form and the text.
    const widget = await openWidget({ url: server.url, tls: server.tls });
    widget.send({ type: 'hello', name: `Wang ${IDNO}` });
    await widget.next('welcome');
    widget.send({ type: 'pre-chat', name: `Wang ${IDNO}`, email: EMAILS[1], phone: pick('cn_mobile', true)[1] });
    widget.send({ type: 'message', clientMessageId: 'pii-web-0001', text: `card ${CARD}, also ${VALID.slice(half).join(' ; ')}` });
    await widget.next('ack', (a) => a.clientMessageId === 'pii-web-0001');

    await eventually(() => (offers.includes(appSession) && offers.length >= 2 ? true : null), 10_000);
    webSession = offers.find((o) => o !== appSession)!;
    for (const sessionId of [appSession, webSession]) expect((await emit<SessionDetail>('offer:accept', { sessionId })).ok).toBe(true);

    // The agent's own reply quotes the customer's number: the customer gets it as written.
    const reply = `I will call you back at ${PHONE} about card ${CARD}.`;
    expect(await emit('message:send', { sessionId: webSession, clientMessageId: 'pii-reply-0001', text: reply })).toMatchObject({
      ok: true,
    });
    const got = await widget.next('message', (m) => m.message.direction === 'out' && m.message.author === 'agent');
    webReplies = [JSON.stringify(got)];
    widget.ws.close();

    // Everything staff read: lists, details, pages, timeline, identities, facts, AI help, paths with PII.
    const opened = await emit<SessionDetail>('session:open', { sessionId: appSession });
    detail = (opened as { ok: true; data: SessionDetail }).data;
    await emit('session:open', { sessionId: webSession });
    await emit('session:history', { sessionId: appSession });
    await emit('ai:suggest', { sessionId: appSession });
    await emit('session:summary', { sessionId: webSession });
    await get('/api/v1/sessions');
    for (const id of [appSession, webSession]) {
      await get(`/api/v1/sessions/${id}`);
      await get(`/api/v1/sessions/${id}/messages`);
    }
    for (const customerId of [detail.customerId]) {
      await get(`/api/v1/customers/${customerId}/timeline`);
      await get(`/api/v1/customers/${customerId}/identities`);
      await get(`/api/v1/customers/${customerId}/facts`);
    }
    // Paths and queries with PII: refused, and neither the answer nor the log quotes them.
    await get(`/api/v1/sessions/${encodeURIComponent(`+86${PHONE}`)}`);
    await get(`/api/v1/sessions/${IDNO}`);
    await get(`/api/v1/customers/lookup?kind=phone&value=${encodeURIComponent(`+86${PHONE}`)}`);
    await get(`/api/v1/customers/lookup?kind=email&value=${encodeURIComponent(EMAILS[1]!)}`);
    await get(`/api/v1/sessions?customerId=${CARD}`);
    await new Promise((r) => setTimeout(r, 300));
  }, 60_000);

  afterAll(async () => {
    agent?.disconnect();
    await server?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('shows no valid vector to the agent, in any REST answer or socket frame, but leaves look-alikes as written', () => {
    const all = received.join('\n');
    expect(received.length).toBeGreaterThan(20);
    // What the agent got is the conversation: masked tails are there, so the test saw real views.
    expect(all).toContain(`*******${PHONE.slice(-4)}`);
    expect(all).toContain(`**************${IDNO.slice(-4)}`);
    expect(leaks(all, VALID)).toEqual([]);
    for (const value of INVALID) expect(all, value).toContain(value);
    expect(detail.customerName).toBe(`Li *******${PHONE.slice(-4)}`);
  });

  it('writes no valid vector, raw or encoded, to any log file in the data dir or the log stream', () => {
    const files = logFiles(dataDir);
    expect(files.length).toBeGreaterThan(0);
    const written = [...files.map((f) => readFileSync(f, 'utf8')), ...stdout].join('\n');
    expect(written).toContain('incoming request');
    expect(leaks(written, [...VALID, `+86${PHONE}`])).toEqual([]);
  });

  it('gives the customer the real text of the reply the agent saw masked', () => {
    expect(webReplies.join('')).toContain(`I will call you back at ${PHONE} about card ${CARD}.`);
  });

  it('reveals a message and a customer field to the agent, audited without the value; admins and auditors may not', async () => {
    const message = detail.messages.find((m) => m.direction === 'in')!;
    const reveal = await server.app.inject({
      method: 'POST',
      url: `/api/v1/sessions/${appSession}/messages/${message.id}/reveal`,
      headers: { authorization: `Bearer ${agentToken}` },
    });
    expect(reveal.statusCode).toBe(200);
    const revealed = reveal.json() as MessageReveal;
    expect(revealed.text).toContain(PHONE);
    expect(revealed.text).toContain(IDNO);
    const name = await server.app.inject({
      method: 'POST',
      url: `/api/v1/customers/${detail.customerId}/reveal`,
      headers: { authorization: `Bearer ${agentToken}` },
      payload: { field: 'name' },
    });
    expect(name.json()).toEqual({ customerId: detail.customerId, field: 'name', values: [`Li ${PHONE}`] } satisfies CustomerReveal);
    const bad = await server.app.inject({
      method: 'POST',
      url: `/api/v1/customers/${detail.customerId}/reveal`,
      headers: { authorization: `Bearer ${agentToken}` },
      payload: { field: 'password' },
    });
    expect(bad.json()).toMatchObject({ error: { code: 'VALIDATION_FAILED' } });
    for (const who of ['admin', 'auditor']) {
      const denied = await server.app.inject({
        method: 'POST',
        url: `/api/v1/sessions/${appSession}/messages/${message.id}/reveal`,
        headers: { authorization: `Bearer ${await login(who)}` },
      });
      expect(denied.statusCode, who).toBe(403);
    }
    // agent2 serves only `vip`: the general session is not there for them.
    const other = await server.app.inject({
      method: 'POST',
      url: `/api/v1/sessions/${appSession}/messages/${message.id}/reveal`,
      headers: { authorization: `Bearer ${await login('agent2')}` },
    });
    expect(other.json()).toMatchObject({ error: { code: 'SESSION_NOT_FOUND' } });

    const auditor = await login('auditor');
    const entries = await eventually(async () => {
      const res = await server.app.inject({
        url: `/api/v1/audit?userId=agent1&limit=500&from=${new Date(Date.now() - 600_000).toISOString()}`,
        headers: { authorization: `Bearer ${auditor}` },
      });
      const page = res.json() as AuditPage;
      // The answered reveals (the refused one with a bad field is an entry of its own, outcome failed).
      const reveals = page.entries.filter((e) => e.action === 'pii.reveal' && e.outcome === 'ok');
      return reveals.length >= 2 ? reveals : null;
    });
    expect(entries.map((e) => e.target)).toEqual(
      expect.arrayContaining([
        { kind: 'session', id: appSession },
        { kind: 'customer', id: detail.customerId },
      ]),
    );
    expect(entries.find((e) => e.target?.kind === 'session')!.detail).toEqual({ messageId: message.id });
    expect(entries.find((e) => e.target?.kind === 'customer')!.detail).toEqual({ field: 'name' });
    const log = JSON.stringify(entries);
    for (const value of [PHONE, IDNO]) expect(log).not.toContain(value);
    // A refused attempt by someone with the role is audited too, under the same action.
    const refused = await eventually(async () => {
      const res = await server.app.inject({
        url: `/api/v1/audit?userId=agent2&limit=500&from=${new Date(Date.now() - 600_000).toISOString()}`,
        headers: { authorization: `Bearer ${auditor}` },
      });
      return (res.json() as AuditPage).entries.find((e) => e.action === 'pii.reveal') ?? null;
    });
    expect(refused).toMatchObject({ outcome: 'failed', target: { id: appSession } });
  });
});
