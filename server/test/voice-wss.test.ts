import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { VoiceCredentials } from '../../common/api/voice';
import { voiceEdgePath } from '../src/voice/edge';
import { assertVoiceBinaries, checkKamailioConfig, startVoiceEdge, type RunningEdge } from '../src/voice/edge-process';
import { startTestServer, type TestServer } from './support/harness';
import { challengeOf, digestResponse, edgeCertificate, type EdgeCertificate } from './support/sip';

/** Kamailio's tls module (kamailio-tls-modules): the WSS listener needs it. */
const TLS_MODULE = '/usr/lib/x86_64-linux-gnu/kamailio/modules/tls.so';

/** One TLS handshake to `port` limited to `version`; resolves with the protocol agreed or the error's text. */
function handshake(port: number, version: 'TLSv1.2' | 'TLSv1.3', ca: string): Promise<{ protocol: string | null; error: string | null }> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost', minVersion: version, maxVersion: version });
    const timer = setTimeout(() => done({ protocol: null, error: 'timeout' }), 5000);
    const done = (r: { protocol: string | null; error: string | null }) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    socket.once('secureConnect', () => done({ protocol: socket.getProtocol(), error: null }));
    socket.once('error', (e) => done({ protocol: null, error: e.message }));
  });
}

/**
 * A SIP-over-WebSocket client (RFC 7118) in Node: what JsSIP does on the wire for a REGISTER, over
 * `wss://` to the real Kamailio. `send` writes one SIP message as a text frame; `next` resolves with the
 * next SIP message Kamailio sends back.
 */
async function openSipSocket(uri: string, ca: string) {
  const ws = new WebSocket(uri, 'sip', { ca });
  const inbox: string[] = [];
  const waiting: ((m: string) => void)[] = [];
  ws.on('message', (data) => {
    const text = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
    const w = waiting.shift();
    if (w) w(text);
    else inbox.push(text);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    send: (message: string) => ws.send(message),
    next: (ms = 5000) =>
      new Promise<string>((resolve, reject) => {
        const queued = inbox.shift();
        if (queued !== undefined) return resolve(queued);
        const timer = setTimeout(() => reject(new Error('no SIP message within ' + ms + ' ms')), ms);
        waiting.push((m) => {
          clearTimeout(timer);
          resolve(m);
        });
      }),
    close: () => ws.close(),
  };
}

/**
 * Issue 18, WSS (DESIGN §6: TLS 1.3 only): the real edge started the way `npm run voice -- up` starts it,
 * next to a server that serves TLS — so Kamailio gets `WITH_TLS`, the server's certificate and a
 * TLS-1.3-only OpenSSL floor, and the edge description the workstation reads names `wss://`. An agent
 * registers over wss:// with the server-issued ephemeral credentials (SIP digest); TLS 1.2 is refused.
 * With a PKCS#11 KEK (the scale-out lane) the server's key is sealed: the edge is given a certificate of
 * its own (`edgeCertificate`, what docs/voice.md tells the operator), the rest is the same.
 */
describe('the voice edge over WSS (TLS 1.3 only)', () => {
  let s: TestServer;
  let edge: RunningEdge;
  let ca: string;
  let cert: EdgeCertificate;
  let creds: VoiceCredentials;

  beforeAll(async () => {
    assertVoiceBinaries();
    if (!existsSync(TLS_MODULE)) throw new Error(`${TLS_MODULE} missing — apt-get install kamailio-tls-modules`);
    s = await startTestServer();
    // The server's own certificate; with a PKCS#11 KEK (scale-out lane) its key is sealed, and the edge
    // gets one of its own, as docs/voice.md tells the operator (--tls-cert/--tls-key).
    cert = await edgeCertificate(s.dataDir, s.url);
    ca = cert.caPem;
    edge = await startVoiceEdge({ dataDir: s.dataDir, serverUrl: s.url, rtpengine: false, ...(cert.tls ? { tls: cert.tls } : {}) });
    const res = await s.app.inject({
      method: 'GET',
      url: '/api/v1/voice/credentials',
      headers: { authorization: `Bearer ${await s.login('agent1')}` },
    });
    creds = res.json<VoiceCredentials>();
  }, 60_000);

  afterAll(async () => {
    await edge?.stop();
    await s?.cleanup();
  });

  it('renders WITH_TLS, a TLS-1.3-only floor and the wss:// URI by default when the server serves TLS', () => {
    expect(s.url).toMatch(/^https:/);
    // The server's key is plain (embedded: local KEK), or sealed (PKCS#11 KEK), in which case the edge
    // would run ws only without a certificate of its own: it was given one (edgeCertificate).
    const sealed = existsSync(join(s.dataDir, 'tls', 'server-key.pem.sealed'));
    expect(cert.serverKeySealed === null ? 'plain' : 'sealed').toBe(sealed ? 'sealed' : 'plain');
    if (sealed) expect(cert.serverKeySealed).toMatch(/server-key\.pem is not a plain file \(sealed by the PKCS#11 KEK\?\)/);
    expect(edge.tlsOffReason).toBeNull();
    expect(edge.wssUri).toBe(`wss://127.0.0.1:${edge.wssPort}`);
    const rendered = readFileSync(edge.configPath, 'utf8');
    expect(rendered).toContain('#!define WITH_TLS');
    expect(rendered).toContain(`#!define WSS_PORT ${edge.wssPort}`);
    expect(checkKamailioConfig(edge.configPath)).toMatch(/config file ok/i);
    expect(readFileSync(join(edge.runDir, 'openssl.cnf'), 'utf8')).toMatch(/^MinProtocol = TLSv1\.3$/m);
    // What the workstation reads: wss only (plain ws is opt-in, `--ws`).
    const described = JSON.parse(readFileSync(voiceEdgePath(s.dataDir), 'utf8')) as { uris: string[] };
    expect(edge.wsUri).toBeNull();
    expect(described.uris).toEqual([edge.sipUri, edge.wssUri]);
    expect(creds.uris).toContain(edge.wssUri);
  });

  it('speaks TLS 1.3 with the server’s certificate (local CA; its own with a sealed server key) and refuses TLS 1.2', async () => {
    const v13 = await handshake(edge.wssPort!, 'TLSv1.3', ca);
    expect(v13).toEqual({ protocol: 'TLSv1.3', error: null });
    const v12 = await handshake(edge.wssPort!, 'TLSv1.2', ca);
    expect(v12.protocol).toBeNull();
    expect(v12.error).toMatch(/protocol version|alert number 70/i);
  });

  it('registers an agent over wss:// with the server-issued credentials (digest) and refuses a wrong password', async () => {
    const host = 'x' + randomBytes(4).toString('hex') + '.invalid';
    const domain = '127.0.0.1';
    const register = (cseq: number, callId: string, auth?: string) =>
      [
        `REGISTER sip:${domain} SIP/2.0`,
        `Via: SIP/2.0/WSS ${host};branch=z9hG4bK${randomBytes(6).toString('hex')}`,
        'Max-Forwards: 70',
        `From: <sip:agent1@${domain}>;tag=${callId.slice(0, 8)}`,
        `To: <sip:agent1@${domain}>`,
        `Call-ID: ${callId}`,
        `CSeq: ${cseq} REGISTER`,
        `Contact: <sip:agent1@${host};transport=ws>;expires=300`,
        'Expires: 300',
        ...(auth ? [`Authorization: ${auth}`] : []),
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n');
    const authorize = (challenge: string, password: string) => {
      const c = challengeOf(challenge);
      const v = {
        username: creds.username,
        password,
        realm: c['realm']!,
        nonce: c['nonce']!,
        method: 'REGISTER',
        uri: `sip:${domain}`,
        qop: 'auth',
        nc: '00000001',
        cnonce: randomBytes(8).toString('hex'),
      };
      return `Digest username="${v.username}", realm="${v.realm}", nonce="${v.nonce}", uri="${v.uri}", response="${digestResponse(v)}", algorithm=MD5, qop=auth, nc=${v.nc}, cnonce="${v.cnonce}"`;
    };

    const phone = await openSipSocket(edge.wssUri!, ca);
    try {
      const callId = randomBytes(10).toString('hex');
      phone.send(register(1, callId));
      const challenge = await phone.next();
      expect(challenge).toMatch(/^SIP\/2\.0 401 /);
      expect(challengeOf(challenge)['realm']).toBe(domain);

      phone.send(register(2, callId, authorize(challenge, `${creds.password}x`)));
      const refused = await phone.next();
      expect(refused).toMatch(/^SIP\/2\.0 (401|403) /);

      phone.send(register(3, callId, authorize(refused.startsWith('SIP/2.0 401') ? refused : challenge, creds.password)));
      const ok = await phone.next();
      expect(ok).toMatch(/^SIP\/2\.0 200 /);
      expect(ok).toMatch(new RegExp(`^Contact: <sip:agent1@${host};transport=ws[^>]*>;expires=\\d+`, 'mi'));

      // The registrar holds the binding on the TLS socket (kamcmd over this edge's own control socket).
      const dump = spawnSync('/usr/sbin/kamcmd', ['-s', `unix:${join(edge.runDir, 'kamailio_ctl')}`, 'ul.lookup', 'location', 'agent1'], {
        encoding: 'utf8',
      });
      expect(dump.stdout, dump.stderr).toContain(`tls:127.0.0.1:${edge.wssPort}`);
    } finally {
      phone.close();
    }
  }, 30_000);
});
