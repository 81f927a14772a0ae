/**
 * The rig of the softphone e2e tests (issue 18): the real server as a child process, the voice edge
 * (Kamailio + rtpengine) wired to it, and Chromium with fake media devices that trusts both TLS
 * certificates. Shared by softphone.e2e, softphone-transfer.e2e and softphone-blind-transfer.e2e.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext } from 'playwright-core';
import { spkiPin } from '../../src/tls/certificates';
import { assertVoiceBinaries, startVoiceEdge, type RunningEdge } from '../../src/voice/edge-process';
import { launchChromium } from './browser';
import { httpsRequest } from './https';
import { startServerProcess, type ServerProcess } from './server-process';
import { edgeCertificate } from './sip';

export interface SoftphoneRig {
  server: ServerProcess;
  /** The server's CA (PEM), for HTTPS calls of the test. */
  ca: string;
  edge: RunningEdge;
  browser: Browser;
}

/**
 * Starts the server, its voice edge (`ringMs`: how long Kamailio rings an agent, ms; `ws`: the plain
 * `ws://` listener too, for a caller page served over http) and Chromium.
 * The edge serves WSS with the server's certificate; with a PKCS#11 KEK (scale-out lane) the server's
 * key is sealed and the edge gets one of its own (docs/voice.md, `--tls-cert/--tls-key`): the browser
 * pins both. Throws when Kamailio, rtpengine or sipp is missing (`assertVoiceBinaries`).
 */
export async function startSoftphoneRig(options: { ringMs: number; startTimeoutMs?: number; ws?: boolean }): Promise<SoftphoneRig> {
  assertVoiceBinaries();
  const server = await startServerProcess(options.startTimeoutMs ? { startTimeoutMs: options.startTimeoutMs } : {});
  const ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
  const edgeCert = await edgeCertificate(server.dataDir, server.url);
  const edge = await startVoiceEdge({
    dataDir: server.dataDir,
    serverUrl: server.url,
    ringMs: options.ringMs,
    queuePollSeconds: 1,
    ...(edgeCert.tls ? { tls: edgeCert.tls } : {}),
    // Plain ws is opt-in (docs/voice.md): only a test whose caller page is served over http asks for it.
    ...(options.ws ? { ws: true } : {}),
  });
  const pins = [...new Set([spkiPin(readFileSync(join(server.dataDir, 'tls', 'server.pem'), 'utf8')), edgeCert.spkiPin])].join(',');
  const browser = await launchChromium([
    `--ignore-certificate-errors-spki-list=${pins}`,
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
  ]);
  return { server, ca, edge, browser };
}

/** A bearer token of a demo user (`POST /api/v1/auth/login`). Throws unless the server answers one. */
export async function demoToken(rig: Pick<SoftphoneRig, 'server' | 'ca'>, username: string): Promise<string> {
  const login = await httpsRequest(`${rig.server.url}/api/v1/auth/login`, {
    ca: rig.ca,
    method: 'POST',
    json: { username, password: 'huiliu-demo' },
  });
  const token = (JSON.parse(login.body) as { token?: string }).token;
  if (!token) throw new Error(`login of ${username}: HTTP ${login.status} ${login.body.slice(0, 200)}`);
  return token;
}

/** With `SOFTPHONE_E2E_LOG` set: prints the tail of Kamailio's log and the server's voice/transfer/warn lines. */
export function printSoftphoneLogs(server: ServerProcess | undefined, edge: RunningEdge | undefined): void {
  if (!process.env.SOFTPHONE_E2E_LOG) return;
  if (edge) process.stdout.write(readFileSync(join(edge.runDir, 'kamailio.log'), 'utf8').slice(-6000));
  if (server)
    process.stdout.write(
      server
        .output()
        .split('\n')
        .filter((l) => /voice|transfer|"level":[45]0/.test(l))
        .join('\n')
        .slice(-8000),
    );
}

/**
 * Test-side only: every page of `ctx` keeps its RTCPeerConnections in `window.__peers`, so a test can
 * read their RTP statistics (`getStats`) to see media flow.
 */
export async function trackPeerConnections(ctx: BrowserContext): Promise<void> {
  await ctx.addInitScript({
    content: `{
      const Native = window.RTCPeerConnection;
      const peers = [];
      window.__peers = peers;
      window.RTCPeerConnection = class extends Native {
        constructor(config) { super(config); peers.push(this); }
      };
    }`,
  });
}
