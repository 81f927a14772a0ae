import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoiceCredentials } from '../../common/api/voice';
import { callerOf } from '../src/voice/caller';
import { ephemeralSipCredentials } from '../src/voice/credentials';
import { assertVoiceBinaries, checkKamailioConfig, KAMAILIO_CFG, sipOptions, type RunningEdge } from '../src/voice/edge-process';
import { loadVoiceSecrets } from '../src/voice/secrets';
import { startTestServer, type TestServer } from './support/harness';
import {
  challengeOf,
  digestResponse,
  onlineVoiceAgent,
  registeredSippPhone,
  runSipp,
  SCENARIOS,
  sippRegisterArgs,
  startTestEdge,
  udpExchange,
} from './support/sip';
import { eventually } from './support/until';

const TORTURE = '/work/shared/data/sip-rfc4475-torture/messages';
const DIGEST_VECTORS = '/work/shared/data/sip-digest-auth-vectors/digest_vectors.json';

/**
 * Issue 18 with the real edge: Kamailio + rtpengine started by the test on free loopback ports (the
 * same code `npm run voice -- up` runs), wired to the real server; sipp as the caller and as the agent's
 * phone. A missing binary fails the suite with the Debian package to install (never a skip).
 */
describe('voice through Kamailio', () => {
  let s: TestServer;
  let edge: RunningEdge;
  let agent: Socket;
  let creds: VoiceCredentials;

  beforeAll(async () => {
    assertVoiceBinaries();
    s = await startTestServer();
    edge = await startTestEdge(s);
    ({ socket: agent, creds } = await onlineVoiceAgent(s));
  }, 60_000);

  afterAll(async () => {
    agent?.close();
    await edge?.stop();
    await s?.cleanup();
  });

  it('ships a Kamailio config that passes kamailio -c as shipped, as rendered for this edge and as the static-route baseline', () => {
    expect(checkKamailioConfig(KAMAILIO_CFG)).toMatch(/config file ok/i);
    expect(checkKamailioConfig(edge.configPath)).toMatch(/config file ok/i);
    const rendered = readFileSync(edge.configPath, 'utf8');
    expect(rendered).toContain(`#!define SIP_PORT ${edge.sipPort}`);
    const baseline = join(edge.runDir, 'static-check.cfg');
    writeFileSync(baseline, rendered.replace('#!define CHILDREN', '#!define STATIC_ROUTE\n#!define CHILDREN'));
    expect(checkKamailioConfig(baseline)).toMatch(/config file ok/i);
    expect(edge.sipUri).toMatch(/^sip:127\.0\.0\.1:\d+$/);
    expect(readFileSync(edge.prompts.en).subarray(0, 4).toString()).toBe('RIFF');
    expect(readFileSync(edge.prompts.zh).length).toBeGreaterThan(10_000);
    expect(creds.uris).toContain(edge.sipUri);
  });

  it('registers an agent with the server-issued ephemeral credentials and refuses wrong, expired or borrowed ones', async () => {
    const register = (user: string, username: string, password: string) =>
      runSipp([...sippRegisterArgs(edge.sipPort, { user, contactPort: 5999, username, password }), '-recv_timeout', '3000'], 15_000);
    const ok = await register('agent1', creds.username, creds.password);
    expect(ok.code, ok.out).toBe(0);
    expect((await register('agent1', creds.username, `${creds.password}x`)).code).not.toBe(0);
    const secret = loadVoiceSecrets(s.dataDir).authSecret;
    const expired = ephemeralSipCredentials(secret, 'agent1', Date.now() - 7200_000, 60);
    expect((await register('agent1', expired.username, expired.password)).code).not.toBe(0);
    // agent1's credentials do not register agent2's AOR.
    expect((await register('agent2', creds.username, creds.password)).code).not.toBe(0);
  }, 60_000);

  it('accepts digest answers computed the way the RFC 2617 vectors are, and refuses a changed nc, cnonce or response', async () => {
    const vectors = (
      JSON.parse(readFileSync(DIGEST_VECTORS, 'utf8')) as {
        vectors: (Parameters<typeof digestResponse>[0] & { expected_response: string })[];
      }
    ).vectors;
    expect(vectors).toHaveLength(5);
    for (const v of vectors) expect(digestResponse(v), v.method + v.uri).toBe(v.expected_response);

    const port = edge.sipPort;
    const uri = `sip:127.0.0.1:${port}`;
    const request = (cseq: number, auth?: string) =>
      [
        `REGISTER ${uri} SIP/2.0`,
        `Via: SIP/2.0/UDP 127.0.0.1:5998;branch=z9hG4bK-d${cseq}-${Date.now()};rport`,
        'Max-Forwards: 70',
        'From: <sip:agent1@127.0.0.1>;tag=digest1',
        'To: <sip:agent1@127.0.0.1>',
        'Call-ID: digest-vectors@127.0.0.1',
        `CSeq: ${cseq} REGISTER`,
        'Contact: <sip:agent1@127.0.0.1:5998>',
        'Expires: 0',
        ...(auth ? [`Authorization: ${auth}`] : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    const [challenge] = await udpExchange(port, request(1));
    expect(challenge).toMatch(/^SIP\/2\.0 401/);
    const c = challengeOf(challenge!);
    expect(c['qop']).toMatch(/auth/);
    const answer = (overrides: { nc?: string; cnonce?: string; response?: string } = {}) => {
      const nc = '00000001';
      const cnonce = '0a4f113b';
      const response = digestResponse({
        username: creds.username,
        password: creds.password,
        realm: c['realm']!,
        nonce: c['nonce']!,
        method: 'REGISTER',
        uri,
        qop: 'auth',
        nc,
        cnonce,
      });
      const v = { nc, cnonce, response, ...overrides };
      return `Digest username="${creds.username}", realm="${c['realm']}", nonce="${c['nonce']}", uri="${uri}", response="${v.response}", algorithm=MD5, qop=auth, nc=${v.nc}, cnonce="${v.cnonce}"`;
    };
    expect((await udpExchange(port, request(2, answer({ cnonce: 'deadbeef' }))))[0]).toMatch(/^SIP\/2\.0 (401|403)/);
    expect((await udpExchange(port, request(3, answer({ response: '0'.repeat(32) }))))[0]).toMatch(/^SIP\/2\.0 (401|403)/);
    expect((await udpExchange(port, request(4, answer()))).join('')).toMatch(/^SIP\/2\.0 200/);
    expect((await udpExchange(port, request(5, answer({ nc: '00000002' }))))[0]).toMatch(/^SIP\/2\.0 (401|403)/);
  }, 30_000);

  it('places a call through Kamailio: routed by the server to the registered agent, an SP session, ended cleanly', async () => {
    // The agent's phone: a sipp UAS that answers one call.
    const { phone } = await registeredSippPhone(edge.sipPort, 'agent1', creds);
    const caller = await runSipp(
      [
        `127.0.0.1:${edge.sipPort}`,
        '-sf',
        join(SCENARIOS, 'caller.xml'),
        '-s',
        'support',
        '-m',
        '1',
        '-d',
        '300',
        '-p',
        '0',
        '-recv_timeout',
        '20000',
      ],
      30_000,
    );
    expect(caller.code, `${caller.out}\n${readFileSync(join(edge.runDir, 'kamailio.log'), 'utf8').slice(-5000)}`).toBe(0);
    expect((await phone).code).toBe(0);

    const customer = await eventually(() => s.services.store.findCustomerByIdentity('SP', 'tel:+86138001'));
    const session = await eventually(async () => {
      const found = await s.services.store.latestSession(customer.id, 'SP');
      return found?.status === 'closed' ? found : null;
    });
    expect(session.id).toMatch(/^SP\d{18}$/);
    expect(session.wrapUpCode).toBe('resolved');
    const events = (await s.services.store.listMessages(session.conversationId)).flatMap((m) => (m.kind === 'event' ? [m.body.name] : []));
    expect(events).toEqual(expect.arrayContaining(['call.incoming', 'call.ringing', 'call.answered', 'call.ended']));
    const facts = s.services.kpis.log.read(0, Date.now() + 1000).filter((e) => e.sessionId === session.id);
    expect(facts.map((f) => f.kind)).toEqual(expect.arrayContaining(['contact.answered', 'call.answered', 'call.ended', 'contact.closed']));
    expect(facts.find((f) => f.kind === 'call.ended')!.data.talkMs).toBeGreaterThanOrEqual(250);
  }, 90_000);

  it('survives all 49 RFC 4475 torture messages over UDP, answering OPTIONS after each, and our caller parsing never throws', async () => {
    const files = readdirSync(TORTURE)
      .filter((f) => f.endsWith('.dat'))
      .sort();
    expect(files).toHaveLength(49);
    const table: { file: string; answer: string }[] = [];
    for (const file of files) {
      const bytes = readFileSync(join(TORTURE, file));
      const replies = await udpExchange(edge.sipPort, bytes, 200);
      table.push({ file, answer: replies[0]?.split('\r\n')[0] ?? '(no reply to this socket: dropped, or answered to its Via host)' });
      // Still alive and answering after each one.
      expect(await sipOptions('127.0.0.1', edge.sipPort, 2000), `after ${file}`).toMatch(/^SIP\/2\.0 200/);
      // The only SIP text the server reads is the caller's From URI: every torture From is handled.
      const from = bytes.toString('latin1').match(/^(?:From|f)\s*:\s*(.*)$/im)?.[1] ?? '';
      expect(() => callerOf(from)).not.toThrow();
      expect(callerOf(from).externalId.length).toBeGreaterThan(0);
    }
    // The RFC's must-reject cases are never forwarded as calls: none of them made an SP session.
    process.stdout.write(`RFC 4475 over UDP:\n${table.map((r) => `  ${r.file.padEnd(16)} ${r.answer}`).join('\n')}\n`);
  }, 120_000);
});
