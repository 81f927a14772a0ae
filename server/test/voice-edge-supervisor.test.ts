import { readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import Fastify from 'fastify';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoiceCredentials } from '../../common/api/voice';
import { loadConfig } from '../src/config/config';
import { readVoiceEdgeApiUrl, startVoiceEdgeApi } from '../src/voice/edge-api';
import { assertVoiceBinaries, sipOptions, type EdgeSupervisorEvent, type RunningEdge } from '../src/voice/edge-process';
import { loadVoiceSecrets } from '../src/voice/secrets';
import { startTestServer, type TestServer } from './support/harness';
import { expectRoutedCallResolved, onlineVoiceAgent, startTestEdge } from './support/sip';
import { eventually, until } from './support/until';

/** One plain-HTTP request to the loopback hop: status and body. */
function post(
  url: string,
  path: string,
  body: string,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, url), { method, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * The voice edge keeps running (docs/voice.md "Supervisor", "Kamailio → server over loopback"): Kamailio
 * posts to the server's loopback plain-HTTP hop (no TLS inside libcurl, where Kamailio 5.6.3 crashed under
 * load), and a Kamailio killed with SIGKILL is restarted with the same config — a call placed after that
 * is routed to the agent and its SP session closes cleanly.
 */
describe('voice edge supervisor and loopback hop', () => {
  let s: TestServer;
  let edge: RunningEdge;
  let agent: Socket;
  let creds: VoiceCredentials;
  const events: EdgeSupervisorEvent[] = [];
  const logged: string[] = [];

  beforeAll(async () => {
    assertVoiceBinaries();
    s = await startTestServer();
    const line = (obj: unknown, msg?: string) => void logged.push(JSON.stringify({ ...(obj as object), msg }));
    // A certificate of its own when the server's key is sealed (the scale-out lane's PKCS#11 KEK): startTestEdge.
    edge = await startTestEdge(
      s,
      {},
      { supervisor: { baseDelayMs: 100, onEvent: (e) => events.push(e), logger: { info: line, warn: line, error: line } as never } },
    );
    ({ socket: agent, creds } = await onlineVoiceAgent(s));
  }, 60_000);

  afterAll(async () => {
    agent?.close();
    await edge?.stop();
    await s?.cleanup();
  });

  it('points Kamailio at the loopback plain-HTTP hop, which serves only the route and events API with the route token', async () => {
    const hop = readVoiceEdgeApiUrl(s.dataDir);
    expect(hop).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(edge.apiUrl).toBe(hop);
    expect(readFileSync(edge.configPath, 'utf8')).toContain(
      `#!define HUILIU_HTTPCON "huiliu=>http://kamailio:${loadVoiceSecrets(s.dataDir).routeToken}@${new URL(hop!).host}/api/v1/voice"`,
    );
    const token = loadVoiceSecrets(s.dataDir).routeToken;
    const basic = (t: string) => ({ authorization: `Basic ${Buffer.from(`kamailio:${t}`).toString('base64')}` });
    // Wrong token: the API's own refusal; a bad body: its schema error; other paths: 404.
    expect((await post(hop!, '/api/v1/voice/events', '{}', basic('wrong'))).body).toContain('INVALID_VOICE_TOKEN');
    const bad = await post(hop!, '/api/v1/voice/events', '{"event":"nope"}', basic(token));
    expect(bad.status).toBe(400);
    expect((await post(hop!, '/api/v1/voice/credentials', '', basic(token), 'GET')).status).toBe(404);
    expect((await post(hop!, '/api/v1/auth/login', '{"username":"admin","password":"huiliu-demo"}')).status).toBe(404);
    expect((await post(hop!, '/api/v1/voice/route', 'x'.repeat(20_000), basic(token))).status).toBe(413);

    // Never on anything but loopback: the listener and the config refuse it.
    await expect(startVoiceEdgeApi(Fastify(), { host: '0.0.0.0', port: 0 })).rejects.toThrow(/not a loopback address/);
    const file = join(s.dataDir, 'edge-http.yaml');
    writeFileSync(file, 'voice:\n  edgeHttp:\n    host: 0.0.0.0\n');
    expect(() => loadConfig({ env: { HUILIU_DATA_DIR: s.dataDir, HUILIU_CONFIG: file }, argv: [], cwd: process.cwd() })).toThrow(
      /loopback/,
    );
  });

  it('restarts a SIGKILLed Kamailio with the same config; a new call is then routed to the agent and ends cleanly', async () => {
    const pidFile = join(edge.runDir, 'kamailio.pid');
    const before = Number(readFileSync(pidFile, 'utf8').trim());
    expect(alive(before)).toBe(true);
    process.kill(before, 'SIGKILL');

    await until(() => edge.restarts().kamailio === 1, 15_000);
    await eventually(async () => (await sipOptions('127.0.0.1', edge.sipPort, 500)) ?? null, 20_000);
    await until(() => events.some((e) => e.kind === 'restarted'), 15_000);
    expect(events.map((e) => e.kind)).toEqual(['exited', 'restarting', 'restarted']);
    expect(events[0]).toMatchObject({ daemon: 'kamailio', signal: 'SIGKILL' });
    const after = Number(readFileSync(pidFile, 'utf8').trim());
    expect(after).not.toBe(before);
    expect(alive(after)).toBe(true);
    expect(edge.restarts()).toEqual({ kamailio: 1, rtpengine: 0 });
    // The log says what happened with names and counts only (no numbers, URIs or addresses of callers).
    expect(logged.join('\n')).toMatch(/kamailio exited unexpectedly/);
    expect(logged.join('\n')).not.toMatch(/sip:|tel:|\+86/);
    expect(readFileSync(join(edge.runDir, 'kamailio.log'), 'utf8')).toContain('restarted by the voice edge supervisor');

    // Registrations lived in the killed Kamailio's memory: the phone registers again, as JsSIP does on reconnect.
    await expectRoutedCallResolved(s, edge, creds);
  }, 120_000);
});
