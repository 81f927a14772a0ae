import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { REPO_ROOT } from '../src/runtime/paths';
import { voiceEdgePath } from '../src/voice/edge';
import { assertVoiceBinaries, freeSipPort, startVoiceEdge, type RunningEdge } from '../src/voice/edge-process';
import { startTestServer, type TestServer } from './support/harness';
import { edgeCertificate, edgeTlsArgs, edgeTlsSetting } from './support/sip';

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
 * Issue 18, WSS by default: `npm run voice -- up` (and `startVoiceEdge`) listens for the agents'
 * WebSockets on `wss://` alone; plain `ws://` is opt-in (`--ws`, `{ws: true}`: loopback tools, http
 * pages). Without it the WS port is closed, a WebSocket upgrade on the SIP TCP port is refused (403),
 * `edge.json` (the credentials' and the CSP's URIs) names no `ws://`, and `wss://` upgrades. `--no-ws`
 * (the old way to ask for this) is still accepted.
 */
describe('the voice edge listens on wss:// only unless plain ws:// is asked for', () => {
  let s: TestServer;
  let edge: RunningEdge | null = null;
  let ca: string;

  beforeAll(async () => {
    assertVoiceBinaries();
    s = await startTestServer();
    // The server's CA; in the scale-out lane (server key sealed) the CA of the edge's own certificate.
    ca = (await edgeCertificate(s.dataDir, s.url)).caPem;
  }, 60_000);

  afterAll(async () => {
    await edge?.stop();
    await s?.cleanup();
  });

  /** `npm run voice -- <args>` against the test server's data dir (the same script, run with node). */
  const voiceCli = (...args: string[]) =>
    spawnSync(process.execPath, [join(REPO_ROOT, 'server', 'scripts', 'voice.mjs'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, HUILIU_DATA_DIR: s.dataDir, HUILIU_URL: s.url },
      timeout: 60_000,
    });

  it('`npm run voice -- up` listens on wss:// only; --ws adds ws://; --no-ws is the default, accepted', async () => {
    const up = voiceCli('up', ...(await edgeTlsArgs(s.dataDir, s.url)));
    try {
      expect(up.status, up.stderr + up.stdout).toBe(0);
      const lines = up.stdout.split('\n');
      expect(lines[0]).toMatch(/^sip:127\.0\.0\.1:\d+$/);
      expect(up.stdout).toMatch(/^wss:\/\/127\.0\.0\.1:\d+ /m);
      expect(up.stdout).not.toMatch(/^ws:\/\//m);
      expect(up.stdout).toContain('no ws: WSS only');
      const described = JSON.parse(readFileSync(voiceEdgePath(s.dataDir), 'utf8')) as { uris: string[] };
      expect(described.uris).toHaveLength(2);
      expect(described.uris.some((u) => u.startsWith('ws://'))).toBe(false);
      expect(await upgrade(described.uris[1]!, ca)).toBe('open');
      const rendered = readFileSync(join(s.dataDir, 'voice', 'run', 'kamailio.cfg'), 'utf8');
      expect(rendered).not.toMatch(/^#!define WITH_WS$/m);
    } finally {
      voiceCli('down');
    }

    const withWs = voiceCli('up', '--ws', ...(await edgeTlsArgs(s.dataDir, s.url)));
    try {
      expect(withWs.status, withWs.stderr + withWs.stdout).toBe(0);
      const wsUri = /^(ws:\/\/127\.0\.0\.1:\d+) /m.exec(withWs.stdout)?.[1];
      expect(wsUri, withWs.stdout).toBeDefined();
      expect(await upgrade(wsUri!)).toBe('open');
    } finally {
      voiceCli('down');
    }

    const noWs = voiceCli('up', '--no-ws', ...(await edgeTlsArgs(s.dataDir, s.url)));
    try {
      expect(noWs.status, noWs.stderr + noWs.stdout).toBe(0);
      expect(noWs.stdout).not.toMatch(/^ws:\/\//m);
    } finally {
      voiceCli('down');
    }
    const both = voiceCli('up', '--ws', '--no-ws');
    expect(both.status).toBe(1);
    expect(both.stderr).toMatch(/contradict/);
  }, 120_000);

  it('refuses plain ws:// by default (WS port closed, 403 on the SIP port) and upgrades it when asked for', async () => {
    const wsPort = await freeSipPort();
    edge = await startVoiceEdge({
      dataDir: s.dataDir,
      serverUrl: s.url,
      wsPort,
      rtpengine: false,
      ...(await edgeTlsSetting(s.dataDir, s.url)),
    });
    expect(edge.wsUri).toBeNull();
    expect(edge.wsPort).toBeNull();
    expect(readFileSync(edge.configPath, 'utf8')).not.toMatch(/^#!define WITH_WS$/m);
    // Nothing listens where ws:// would be; the SIP TCP port refuses an upgrade; WSS upgrades.
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
    await edge.stop();
    edge = null;

    edge = await startVoiceEdge({
      dataDir: s.dataDir,
      serverUrl: s.url,
      wsPort,
      rtpengine: false,
      ws: true,
      ...(await edgeTlsSetting(s.dataDir, s.url)),
    });
    expect(edge.wsUri).toBe(`ws://127.0.0.1:${wsPort}`);
    expect(readFileSync(edge.configPath, 'utf8')).toMatch(/^#!define WITH_WS$/m);
    expect(await upgrade(edge.wsUri!)).toBe('open');
    expect(await upgrade(`ws://127.0.0.1:${edge.sipPort}`)).toBe('http 403');
    expect(await upgrade(edge.wssUri!, ca)).toBe('open');
  }, 60_000);

  it('will not start without wss unless ws is asked for: the softphones would have no way in', async () => {
    await expect(startVoiceEdge({ dataDir: s.dataDir, serverUrl: s.url, rtpengine: false, tls: false })).rejects.toThrow(
      /WSS is off .*--tls-cert\/--tls-key\) or ask for ws \(--ws/,
    );
  });
});
