import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect, createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/logging/logger';
import { startServer } from '../src/main';
import { readVoiceEdgeApiUrl, startVoiceEdgeApi, voiceEdgeApiPath } from '../src/voice/edge-api';
import { loadVoiceSecrets } from '../src/voice/secrets';
import { startTestServer, type TestServer } from './support/harness';
import { trickledHeadAndBody } from './support/slow-client';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One plain-HTTP request to the loopback hop. */
function send(url: string, path: string, body: string, headers: Record<string, string> = {}, method = 'POST'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(url), { method, path, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Raw bytes on one connection (pipelining, odd request lines); answers what came back before the peer closed or `ms`. */
function raw(url: string, bytes: string, ms = 1500): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes));
    let text = '';
    socket.on('data', (c: Buffer) => (text += c.toString()));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, ms).unref();
  });
}

/**
 * The voice edge's loopback hop under hostile input (docs/voice.md "Kamailio → server over loopback"):
 * it answers exactly as the HTTPS API does for the two voice paths (status, body and the headers a
 * client acts on), nothing else is reachable through it, and it is gone after shutdown.
 */
describe('voice edge loopback hop: hostile input', () => {
  let s: TestServer;
  let hop: string;
  let token: string;
  const basic = (t: string) => ({ authorization: `Basic ${Buffer.from(`kamailio:${t}`).toString('base64')}` });

  beforeAll(async () => {
    s = await startTestServer();
    hop = readVoiceEdgeApiUrl(s.dataDir)!;
    token = loadVoiceSecrets(s.dataDir).routeToken;
  }, 60_000);

  afterAll(async () => {
    await s?.cleanup();
  });

  it('serves only POST on the two exact paths: path tricks, other methods and absolute forms are 404', async () => {
    const json = { 'content-type': 'application/json', ...basic(token) };
    for (const path of [
      '//api/v1/voice/route',
      '/api/v1/voice/route/',
      '/api/v1/voice/route/../../admin',
      '/api/v1/voice/route/..%2F..%2Fauth%2Flogin',
      '/api/v1/voice%2Froute',
      '/api/v1/Voice/route',
      '/api/v1/voice/route;x',
      '/api/v1/voice/credentials',
      '/api/v1/health',
    ]) {
      expect((await send(hop, path, '{}', json)).status, path).toBe(404);
    }
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
      // Refused with its body unread: told to close, so a client's next request never meets a closed socket.
      const refused = await send(hop, '/api/v1/voice/events', '{}', json, method);
      expect(refused.status, method).toBe(404);
      expect(refused.headers.connection, method).toBe('close');
    }
    const absolute = await raw(hop, 'GET http://127.0.0.1/api/v1/voice/credentials HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(absolute).toMatch(/^HTTP\/1\.1 404/);
    // A query string is dropped, never handed on as part of the path.
    const queried = await send(hop, '/api/v1/voice/events?x=../../auth/login', '{"event":"nope"}', json);
    expect(queried.status).toBe(400);
  });

  it('answers pipelined requests in order; a path it does not serve closes the connection, so nothing after it is handled', async () => {
    const body = '{"event":"nope"}';
    const one = (path: string) =>
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAuthorization: ${basic(token).authorization}\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]);
    expect(statuses(await raw(hop, one('/api/v1/voice/events') + one('/api/v1/voice/route') + one('/api/v1/voice/events')))).toEqual([
      '400',
      '400',
      '400',
    ]);
    expect(statuses(await raw(hop, one('/api/v1/voice/events') + one('/api/v1/auth/login') + one('/api/v1/voice/events')))).toEqual([
      '400',
      '404',
    ]);
  });

  it('a body without a content type gets the same answer as over HTTPS', async () => {
    const over = await send(hop, '/api/v1/voice/events', '{"event":"nope"}', basic(token));
    const https = await s.app.inject({ method: 'POST', url: '/api/v1/voice/events', headers: basic(token), payload: '{"event":"nope"}' });
    expect(over.status).toBe(https.statusCode);
    expect((JSON.parse(over.body) as { error: { code: string } }).error.code).toBe(https.json<{ error: { code: string } }>().error.code);
  });

  it('answers with the same status and body as over HTTPS, whether it answers directly or through the app', async () => {
    // Plain JSON (answered by the voice API directly), other charsets, `__proto__` and broken JSON (through the app).
    const cases: [string, Record<string, string>][] = [
      ['{"event":"nope"}', { 'content-type': 'application/json' }],
      ['{"event":"ringing","callId":"x"}', { 'content-type': 'application/json; charset=utf-8' }],
      ['{"event":"ringing","callId":"x","agent":"nobody","sessionId":"nope"}', { 'content-type': 'application/json' }],
      ['{"callId":"c","from":"sip:1@x","to":"sip:support@x"}', { 'content-type': 'application/json' }],
      ['{"event":"nope"}', { 'content-type': 'application/json; charset=latin1' }],
      ['{"__proto__":{"event":"ended"}}', { 'content-type': 'application/json' }],
      ['{"event":', { 'content-type': 'application/json' }],
      ['', { 'content-type': 'application/json' }],
      [`{"event":"${'x'.repeat(9000)}"}`, { 'content-type': 'application/json' }],
    ];
    for (const path of ['/api/v1/voice/events', '/api/v1/voice/route']) {
      for (const [body, headers] of cases) {
        const over = await send(hop, path, body, { ...headers, ...basic(token) });
        const https = await s.app.inject({ method: 'POST', url: path, headers: { ...headers, ...basic(token) }, payload: body });
        const label = `${path} ${headers['content-type']} ${body.slice(0, 40)}`;
        expect(over.status, label).toBe(https.statusCode);
        expect(JSON.parse(over.body), label).toEqual(https.json());
        expect(over.headers['content-type'], label).toBe(https.headers['content-type']);
      }
    }
  });

  it('a refusal for wrong tokens carries Retry-After as over HTTPS, x-forwarded-for does not move the budget, and the right token is still served', async () => {
    const json = { 'content-type': 'application/json' };
    let last: Answer | undefined;
    for (let i = 0; i < 12; i++) {
      last = await send(hop, '/api/v1/voice/events', '{}', { ...json, ...basic('wrong'), 'x-forwarded-for': `203.0.113.${i}` });
    }
    expect(last!.status).toBe(429);
    expect((JSON.parse(last!.body) as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    const https = await s.app.inject({
      method: 'POST',
      url: '/api/v1/voice/events',
      headers: { ...json, ...basic('wrong') },
      payload: '{}',
      remoteAddress: '127.0.0.1',
    });
    expect(https.statusCode).toBe(429);
    expect(https.headers['retry-after']).toMatch(/^\d+$/);
    expect(last!.headers['retry-after']).toBe(https.headers['retry-after']);
    // Kamailio's own posts (the right token, from the same 127.0.0.1) are still served: past the token, the body is what is wrong.
    const right = await send(hop, '/api/v1/voice/events', '{}', { ...json, ...basic(token) });
    expect(right.status, right.body).toBe(400);
    expect((JSON.parse(right.body) as { error: { code: string } }).error.code).toBe('VALIDATION_FAILED');
  });

  it('closes a connection whose request is trickled (head or body) within its client time-out (10 s by default, not Node’s 60 s / 300 s)', async () => {
    const quick = await startVoiceEdgeApi(Fastify(), { host: '127.0.0.1', port: 0, clientTimeoutMs: 500 });
    const plain = await startVoiceEdgeApi(Fastify(), { host: '127.0.0.1', port: 0 });
    try {
      expect([plain.server.headersTimeout, plain.server.requestTimeout]).toEqual([10_000, 10_000]);
      const port = Number(new URL(quick.url).port);
      const { head, body } = await trickledHeadAndBody(port, 8000);
      expect(head).toBeLessThan(4000);
      expect(body).toBeLessThan(4000);
    } finally {
      await quick.close();
      await plain.close();
    }
  });

  it('writes only its URL, owner-only, and closes the listener and removes the file on shutdown', async () => {
    const path = voiceEdgeApiPath(s.dataDir);
    expect(statSync(path).mode & 0o077).toBe(0);
    expect(Object.keys(JSON.parse((await import('node:fs')).readFileSync(path, 'utf8')) as object)).toEqual(['url']);
    await s.close();
    expect(existsSync(path)).toBe(false);
    await expect(send(hop, '/api/v1/voice/events', '{}')).rejects.toThrow(/ECONNREFUSED/);
  });
});

describe('voice edge loopback hop: the port across restarts', () => {
  // Kamailio's httpcon names the hop's URL as it was when `npm run voice -- up` rendered it, and the edge
  // runs on while the server restarts: with the default `voice.edgeHttp.port: 0` the restarted server must
  // listen where the running edge posts (found by the review of the hop: a new port each start).
  it('serves the hop at the same URL after a restart on the same data dir, and elsewhere (moved) only while that port stays taken', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-hop-restart-'));
    const config = () =>
      loadConfig({ env: { HUILIU_DATA_DIR: dataDir, HUILIU_PORT: '0', HUILIU_LOG_LEVEL: 'silent' }, argv: ['--demo'], cwd: process.cwd() });
    try {
      const first = await startServer(config(), createLogger({ level: 'silent' }));
      const given = readVoiceEdgeApiUrl(dataDir)!;
      expect(given).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      await first.close();
      const second = await startServer(config(), createLogger({ level: 'silent' }));
      expect(readVoiceEdgeApiUrl(dataDir)).toBe(given);
      await second.close();
      // Another process holds the port past the wait: the hop listens elsewhere, and says so.
      const squatter = createNetServer();
      await new Promise<void>((resolve) => squatter.listen(Number(new URL(given).port), '127.0.0.1', () => resolve()));
      const warnings: string[] = [];
      const logger = createLogger({ level: 'warn' });
      const warn = logger.warn.bind(logger);
      logger.warn = ((...args: unknown[]) => {
        warnings.push(String(args.find((a) => typeof a === 'string') ?? ''));
        return (warn as (...a: unknown[]) => void)(...args);
      }) as typeof logger.warn;
      try {
        const third = await startServer(config(), logger);
        try {
          expect(readVoiceEdgeApiUrl(dataDir)).not.toBe(given);
          expect(warnings.some((w) => /previous port stayed taken/.test(w))).toBe(true);
        } finally {
          await third.close();
        }
      } finally {
        await new Promise<void>((resolve) => squatter.close(() => resolve()));
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
