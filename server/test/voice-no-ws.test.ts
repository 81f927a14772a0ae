import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { voiceEdgePath } from '../src/voice/edge';
import { assertVoiceBinaries, freeSipPort, startVoiceEdge, type RunningEdge } from '../src/voice/edge-process';
import { startTestServer, type TestServer } from './support/harness';

/** Opens a SIP-over-WebSocket connection (RFC 7118 subprotocol `sip`): `open` (101), or why it failed. */
function upgrade(uri: string, ca?: string): Promise<string> {
  return new Promise((resolve) => {
    const ws = new WebSocket(uri, 'sip', ca ? { ca } : {});
    const timer = setTimeout(() => done('timeout'), 5000);
    const done = (result: string) => {
      clearTimeout(timer);
      ws.terminate();
      resolve(result);
    };
    ws.once('open', () => done('open'));
    ws.once('unexpected-response', (_req, res) => done(`http ${res.statusCode}`));
    ws.once('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

/**
 * Issue 18, WSS only (`npm run voice -- up --no-ws`, `startVoiceEdge({ws: false})`): a production edge
 * on a public address listens for agents on `wss://` alone. The same edge with the default `ws` on
 * upgrades plain `ws://` on its WS port; turned off, that port is closed, a WebSocket upgrade on the SIP
 * TCP port is refused (403), `edge.json` (the credentials' and the CSP's URIs) names no `ws://`, and
 * `wss://` still upgrades.
 */
describe('the voice edge without its plain ws:// listener', () => {
  let s: TestServer;
  let edge: RunningEdge | null = null;
  let ca: string;

  beforeAll(async () => {
    assertVoiceBinaries();
    s = await startTestServer();
    ca = readFileSync(join(s.dataDir, 'tls', 'ca.pem'), 'utf8');
  }, 60_000);

  afterAll(async () => {
    await edge?.stop();
    await s?.cleanup();
  });

  it('upgrades ws:// by default, and refuses it when turned off while wss:// still works', async () => {
    const wsPort = await freeSipPort();
    edge = await startVoiceEdge({ dataDir: s.dataDir, serverUrl: s.url, wsPort, rtpengine: false });
    expect(edge.wsUri).toBe(`ws://127.0.0.1:${wsPort}`);
    expect(await upgrade(edge.wsUri!)).toBe('open');
    expect(await upgrade(`ws://127.0.0.1:${edge.sipPort}`)).toBe('http 403');
    await edge.stop();
    edge = null;

    edge = await startVoiceEdge({ dataDir: s.dataDir, serverUrl: s.url, wsPort, rtpengine: false, ws: false });
    expect(edge.wsUri).toBeNull();
    expect(edge.wsPort).toBeNull();
    expect(readFileSync(edge.configPath, 'utf8')).toMatch(/^#!define NO_WS$/m);
    // Nothing listens where ws:// was; the SIP TCP port refuses an upgrade; WSS upgrades.
    expect(await upgrade(`ws://127.0.0.1:${wsPort}`)).toBe('ECONNREFUSED');
    expect(await upgrade(`ws://127.0.0.1:${edge.sipPort}`)).toBe('http 403');
    expect(await upgrade(edge.wssUri!, ca)).toBe('open');
    // What agents are told (credentials, the workstation's CSP connect-src): no ws:// URI.
    const described = JSON.parse(readFileSync(voiceEdgePath(s.dataDir), 'utf8')) as { uris: string[] };
    expect(described.uris).toEqual([edge.sipUri, edge.wssUri]);
    const credentials = await s.app.inject({
      method: 'GET',
      url: '/api/v1/voice/credentials',
      headers: { authorization: `Bearer ${await s.login('agent1')}` },
    });
    expect(credentials.json<{ uris: string[] }>().uris.some((u) => u.startsWith('ws://'))).toBe(false);
  }, 60_000);

  it('will not turn ws off without wss: the softphones would have no way in', async () => {
    await expect(startVoiceEdge({ dataDir: s.dataDir, serverUrl: s.url, rtpengine: false, ws: false, tls: false })).rejects.toThrow(
      /no ws needs wss/,
    );
  });
});
