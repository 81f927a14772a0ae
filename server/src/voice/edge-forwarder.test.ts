import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureTlsMaterial, type TlsMaterial } from '../tls/certificates';
import { startEdgeForwarder, type EdgeForwarder } from './edge-forwarder';
import { trickledHeadAndBody } from '../../test/support/slow-client';

/** One plain-HTTP request to the forwarder: status, headers and body. */
function post(url: string, path: string, body: string, headers: Record<string, string> = {}, method = 'POST') {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = request(new URL(path, url), { method, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

interface Seen {
  path: string;
  headers: Record<string, unknown>;
  body: string;
  tls: string;
}

/**
 * The edge's HTTPS forwarder against a real TLS server (the data dir's CA and server certificate, as
 * `ensureTlsMaterial` makes them for the server): what it hands on, what it refuses, TLS 1.3 only and
 * kept-alive connections.
 */
describe('voice edge HTTPS forwarder (docs/voice.md "An edge on another host")', () => {
  let dir: string;
  let tls: TlsMaterial;
  let upstream: Server;
  let upstreamUrl: string;
  let connections = 0;
  const seen: Seen[] = [];
  let answer: (s: Seen) => { status: number; headers?: Record<string, string>; body: string; delayMs?: number } = () => ({
    status: 200,
    body: '{"action":"queue"}',
  });
  const forwarders: EdgeForwarder[] = [];
  const start = async (options: Partial<Parameters<typeof startEdgeForwarder>[0]> = {}) => {
    const f = await startEdgeForwarder({ target: upstreamUrl, ca: tls.caPem, ...options });
    forwarders.push(f);
    return f;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-forwarder-'));
    tls = await ensureTlsMaterial(join(dir, 'tls'), ['127.0.0.1', 'localhost']);
    upstream = createServer({ cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.3' }, (req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const s: Seen = {
          path: req.url ?? '',
          headers: req.headers,
          body,
          tls: (req.socket as unknown as { getProtocol(): string }).getProtocol(),
        };
        seen.push(s);
        const a = answer(s);
        setTimeout(() => res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers }).end(a.body), a.delayMs ?? 0);
      });
    });
    upstream.on('secureConnection', () => connections++);
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    upstreamUrl = `https://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  });
  afterEach(async () => {
    for (const f of forwarders.splice(0)) await f.close();
    seen.length = 0;
    connections = 0;
    answer = () => ({ status: 200, body: '{"action":"queue"}' });
  });
  afterAll(async () => {
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('hands the route and events posts on over TLS 1.3 with only the API’s headers, and answers what the server answered', async () => {
    const f = await start();
    expect(f.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    answer = () => ({ status: 429, headers: { 'retry-after': '3', 'x-request-id': 'r1' }, body: '{"error":{"code":"RATE_LIMITED"}}' });
    const res = await post(f.url, '/api/v1/voice/route', '{"event":"invite"}', {
      authorization: 'Basic a2FtYWlsaW86dA==',
      'x-huiliu-voice-token': 't',
      'x-forwarded-for': '203.0.113.9',
      cookie: 'a=b',
    });
    expect(res).toMatchObject({ status: 429, body: '{"error":{"code":"RATE_LIMITED"}}' });
    expect(res.headers).toMatchObject({ 'retry-after': '3', 'x-request-id': 'r1', 'content-type': 'application/json' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({ path: '/api/v1/voice/route', body: '{"event":"invite"}', tls: 'TLSv1.3' });
    expect(seen[0]!.headers).toMatchObject({
      authorization: 'Basic a2FtYWlsaW86dA==',
      'x-huiliu-voice-token': 't',
      'content-type': 'application/json',
    });
    expect(seen[0]!.headers).not.toHaveProperty('x-forwarded-for');
    expect(seen[0]!.headers).not.toHaveProperty('cookie');
    answer = () => ({ status: 200, body: '{}' });
    expect((await post(f.url, '/api/v1/voice/events', '{"event":"ended"}')).status).toBe(200);
    expect(seen.map((s) => s.path)).toEqual(['/api/v1/voice/route', '/api/v1/voice/events']);
    expect(f.stats()).toEqual({ forwarded: 2, failed: 0 });
  });

  it('keeps its TLS connection: 50 posts one after the other make one handshake', async () => {
    const f = await start();
    for (let i = 0; i < 50; i++) expect((await post(f.url, '/api/v1/voice/events', `{"n":${i}}`)).status).toBe(200);
    expect(seen).toHaveLength(50);
    expect(connections).toBe(1);
  });

  it('refuses other paths, methods and bodies over 16 KB itself (nothing reaches the server)', async () => {
    const f = await start();
    expect((await post(f.url, '/api/v1/voice/credentials', '', {}, 'GET')).status).toBe(404);
    expect((await post(f.url, '/api/v1/voice/route', '', {}, 'GET')).status).toBe(404);
    expect((await post(f.url, '/api/v1/auth/login', '{"username":"admin","password":"x"}')).status).toBe(404);
    expect((await post(f.url, '/api/v1/voice/route/../../auth/login', '{}')).status).toBe(404);
    const big = await post(f.url, '/api/v1/voice/route', 'x'.repeat(20_000));
    expect(big.status).toBe(413);
    expect(JSON.parse(big.body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect(seen).toEqual([]);
  });

  it('does not hand a redirect on (Kamailio’s libcurl would follow it): 503, and the post is not made again', async () => {
    answer = () => ({ status: 302, headers: { location: 'https://203.0.113.7/api/v1/voice/route' }, body: '' });
    const f = await start();
    const res = await post(f.url, '/api/v1/voice/route', '{"event":"invite"}');
    expect(res.status).toBe(503);
    expect(res.headers).not.toHaveProperty('location');
    expect(seen).toHaveLength(1);
    expect(f.stats()).toEqual({ forwarded: 0, failed: 1 });
  });

  it('answers 503 NOT_READY when the server is slow, down, below TLS 1.3 or signed by another CA', async () => {
    answer = () => ({ status: 200, body: '{}', delayMs: 1500 });
    const slow = await start({ upstreamTimeoutMs: 300 });
    const late = await post(slow.url, '/api/v1/voice/route', '{}');
    expect(late.status).toBe(503);
    expect(JSON.parse(late.body)).toMatchObject({ error: { code: 'NOT_READY' } });
    expect(slow.stats()).toEqual({ forwarded: 0, failed: 1 });

    const down = await start({ target: 'https://127.0.0.1:1' });
    expect((await post(down.url, '/api/v1/voice/route', '{}')).status).toBe(503);

    const other = await ensureTlsMaterial(join(dir, 'other-ca'), ['127.0.0.1']);
    const stranger = await start({ ca: other.caPem });
    expect((await post(stranger.url, '/api/v1/voice/route', '{}')).status).toBe(503);

    const old = createServer({ cert: tls.certPem, key: tls.keyPem, maxVersion: 'TLSv1.2' }, (_req, res) => res.end('{}'));
    await new Promise<void>((r) => old.listen(0, '127.0.0.1', r));
    try {
      const tls12 = await start({ target: `https://127.0.0.1:${(old.address() as { port: number }).port}` });
      expect((await post(tls12.url, '/api/v1/voice/route', '{}')).status).toBe(503);
    } finally {
      old.closeAllConnections();
      await new Promise<void>((r) => old.close(() => r()));
    }
  });

  it('closes a connection whose request is trickled (head or body) after clientTimeoutMs, not Node’s 60 s / 300 s', async () => {
    const f = await start({ clientTimeoutMs: 500 });
    const port = Number(new URL(f.url).port);
    const { head, body } = await trickledHeadAndBody(port, 5000);
    expect(head).toBeLessThan(3000);
    expect(body).toBeLessThan(3000);
    expect(seen).toEqual([]);
  });

  it('keeps a path prefix of the server URL, and refuses a plain-http target or a listener off loopback', async () => {
    const f = await start({ target: `${upstreamUrl}/huiliu/` });
    await post(f.url, '/api/v1/voice/events', '{}');
    expect(seen[0]!.path).toBe('/huiliu/api/v1/voice/events');
    await expect(startEdgeForwarder({ target: 'http://127.0.0.1:8080' })).rejects.toThrow(/not https/);
    await expect(startEdgeForwarder({ target: upstreamUrl, host: '0.0.0.0' })).rejects.toThrow(/not a loopback address/);
  });
});

/** A hostile or broken upstream: its own TLS server per test, answering as `handler` says. */
describe('voice edge HTTPS forwarder against a broken upstream', () => {
  let dir: string;
  let tls: TlsMaterial;
  const servers: Server[] = [];
  const forwarders: EdgeForwarder[] = [];
  const closing: (() => Promise<void>)[] = [];
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-forwarder-broken-'));
    tls = await ensureTlsMaterial(join(dir, 'tls'), ['127.0.0.1', 'localhost']);
  });
  afterEach(async () => {
    for (const f of forwarders.splice(0)) await f.close();
    for (const s of servers.splice(0)) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    for (const close of closing.splice(0)) await close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const upstreamWith = async (handler: Parameters<typeof createServer>[1]) => {
    const s = createServer({ cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.3' }, handler);
    servers.push(s);
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return `https://127.0.0.1:${(s.address() as { port: number }).port}`;
  };

  it('answers 503 within its time-out when the server trickles its answer and never ends it (a total deadline, not an idle one)', async () => {
    const target = await upstreamWith((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        const t = setInterval(() => res.write(' '), 50);
        res.on('close', () => clearInterval(t));
      });
    });
    const f = await startEdgeForwarder({ target, ca: tls.caPem, upstreamTimeoutMs: 300 });
    forwarders.push(f);
    const t0 = Date.now();
    const res = await Promise.race([
      post(f.url, '/api/v1/voice/route', '{}'),
      new Promise<{ status: number }>((r) => setTimeout(() => r({ status: -1 }), 3000)),
    ]);
    expect(res.status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(f.stats()).toEqual({ forwarded: 0, failed: 1 });
  });

  it('answers 503 at once to a 101 Switching Protocols (it hung for ever: no error, no answer), and passes 1xx interim answers over', async () => {
    let answer = '';
    const raw: TlsServer = createTlsServer({ cert: tls.certPem, key: tls.keyPem, minVersion: 'TLSv1.3' }, (socket) => {
      let seen = '';
      socket.on('data', (c: Buffer) => {
        seen += c.toString();
        const head = seen.indexOf('\r\n\r\n');
        const length = Number(/content-length: *(\d+)/i.exec(seen)?.[1] ?? 0);
        if (head < 0 || seen.length < head + 4 + length) return;
        seen = seen.slice(head + 4 + length);
        socket.write(answer);
      });
    });
    const sockets = new Set<Socket>();
    raw.on('secureConnection', (socket) => sockets.add(socket));
    await new Promise<void>((r) => raw.listen(0, '127.0.0.1', r));
    closing.push(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => raw.close(() => r()));
    });
    const f = await startEdgeForwarder({
      target: `https://127.0.0.1:${(raw.address() as { port: number }).port}`,
      ca: tls.caPem,
      upstreamTimeoutMs: 2000,
    });
    forwarders.push(f);
    answer = 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\nrest';
    const t0 = Date.now();
    const res = await Promise.race([
      post(f.url, '/api/v1/voice/route', '{}'),
      new Promise<{ status: number }>((r) => setTimeout(() => r({ status: -1 }), 4000)),
    ]);
    expect(res.status).toBe(503);
    expect(Date.now() - t0).toBeLessThan(1000);
    answer = 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </x>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}';
    expect(await post(f.url, '/api/v1/voice/route', '{}')).toMatchObject({ status: 200, body: '{}' });
    expect(f.stats()).toEqual({ forwarded: 1, failed: 1 });
  });
});
