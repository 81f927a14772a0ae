import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestServer, type TestServer } from '../support/harness';
import { httpsRequest } from '../support/https';
import { openWidget, widgetRoundTrip } from '../support/widget-client';

/**
 * Issue 6 A1: no frame, byte string or broken handshake ends the server. Every socket the server
 * owns has an error handler; an unexpected frame closes that one connection with a clear code.
 */

type Frame = { data: string | Buffer; binary: boolean };
const text = (data: string): Frame => ({ data, binary: false });

const widgetFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((b) => ({ data: Buffer.from(b), binary: true })),
  fc.string({ maxLength: 256 }).map(text),
  fc.constant(text('x'.repeat(70 * 1024))),
  fc.json({ maxDepth: 3 }).map(text),
  fc
    .record({
      type: fc.constantFrom('hello', 'message', 'ping', 'history', 'shout'),
      visitorToken: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
      conversationId: fc.option(fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })), { nil: undefined }),
      lastSeq: fc.option(fc.oneof(fc.integer(), fc.double()), { nil: undefined }),
      afterSeq: fc.option(fc.integer({ min: -5, max: 1e9 }), { nil: undefined }),
      clientMessageId: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
      text: fc.option(fc.string({ maxLength: 300 }), { nil: undefined }),
      sentAt: fc.option(
        fc.oneof(
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
          fc.string(),
        ),
        { nil: undefined },
      ),
      t: fc.option(fc.double(), { nil: undefined }),
    })
    .map((r) => text(JSON.stringify(r))),
);

const agentFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc.uint8Array({ maxLength: 512 }).map((b) => ({ data: Buffer.from(b), binary: true })),
  fc.string({ maxLength: 256 }).map(text),
  fc.constant(text(`42/agent,["message:send","${'y'.repeat(300 * 1024)}"]`)),
  fc
    .tuple(
      fc.constantFrom('0', '1', '2', '3', '4', '40', '41', '42', '43', '44', '45', '46', '451-', '6'),
      fc.constantFrom('', '/agent,', '/nope,', '/agent,7'),
      fc.oneof(
        fc.json({ maxDepth: 3 }),
        fc
          .tuple(
            fc.constantFrom(
              'queue:list',
              'offer:accept',
              'session:open',
              'message:send',
              'session:close',
              'session:release',
              'presence:set',
              'x',
            ),
            fc.json({ maxDepth: 2 }),
          )
          .map((t) => JSON.stringify(t)),
      ),
    )
    .map(([p, nsp, body]) => text(`${p}${nsp}${body}`)),
);

/** Opens a raw WebSocket, sends the frames, and waits for the answers or the close to settle. */
async function throwFrames(url: string, ca: string, frames: Frame[], first: string[] = []): Promise<number | null> {
  const ws = new WebSocket(url, { ca, maxPayload: 1024 * 1024 });
  ws.on('error', () => undefined);
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  const opened = await Promise.race([new Promise<boolean>((r) => ws.once('open', () => r(true))), closed.then(() => false)]);
  if (!opened) return closed;
  for (const f of [...first.map(text), ...frames]) {
    if (ws.readyState !== WebSocket.OPEN) break;
    ws.send(f.data, { binary: f.binary });
  }
  const settled = await Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), 40))]);
  ws.terminate();
  return settled;
}

// Codes a server may close with for bad input (RFC 6455 §7.4.1); 1005/1006 when it just drops the link.
const CLEAR_CODES = [1000, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1013];

describe('fuzzing the sockets (oversized, binary, malformed and random frames)', () => {
  let s: TestServer;
  let agentToken: string;
  beforeAll(async () => {
    s = await startTestServer();
    agentToken = await s.login('agent1');
  });
  afterAll(async () => {
    await s.cleanup();
  });

  const healthy = async () => {
    expect((await httpsRequest(`${s.url}/healthz`, { ca: s.tls.caPem })).status).toBe(200);
    expect(await widgetRoundTrip(s)).toBeGreaterThanOrEqual(1);
  };

  it('closes one oversized widget frame with 1009 and keeps serving others', async () => {
    const bystander = await openWidget(s);
    bystander.send({ type: 'hello' });
    await bystander.next('welcome');
    const attacker = await openWidget(s);
    attacker.send('x'.repeat(70 * 1024));
    expect(await attacker.closed).toBe(1009);
    bystander.send({ type: 'ping', t: 1 });
    expect(await bystander.next('pong')).toEqual({ type: 'pong', t: 1 });
    bystander.ws.close();
    await healthy();
  });

  it('closes a binary widget frame with 1003 (frames are JSON text)', async () => {
    const w = await openWidget(s);
    w.ws.send(Buffer.from([0, 1, 2, 3]), { binary: true });
    expect(await w.closed).toBe(1003);
    await healthy();
  });

  it('survives random frames on the widget socket, closing only the offending connection', async () => {
    const url = `${s.url.replace('https', 'wss')}/channels/web`;
    await fc.assert(
      fc.asyncProperty(fc.array(widgetFrame, { minLength: 1, maxLength: 4 }), async (frames) => {
        const code = await throwFrames(url, s.tls.caPem, frames);
        if (code !== null) expect(CLEAR_CODES).toContain(code);
      }),
      { numRuns: 40 },
    );
    await healthy();
  });

  it('survives random frames on the agent socket, signed in and not', async () => {
    const url = `${s.url.replace('https', 'wss')}/socket.io/?EIO=4&transport=websocket`;
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(agentFrame, { minLength: 1, maxLength: 4 }), async (signedIn, frames) => {
        const hello = signedIn ? [`40/agent,${JSON.stringify({ token: agentToken })}`] : [];
        const code = await throwFrames(url, s.tls.caPem, frames, hello);
        if (code !== null) expect(CLEAR_CODES).toContain(code);
      }),
      { numRuns: 40 },
    );
    await healthy();
  });

  it('survives broken handshakes, raw bytes and resets on the HTTPS port', async () => {
    const { port } = new URL(s.url);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/channels/web', '/socket.io/?EIO=4&transport=websocket', '/nowhere', '%%%'),
        fc.oneof(fc.constant(''), fc.string({ maxLength: 64 })),
        fc.boolean(),
        async (path, junk, reset) => {
          // TLS over a TCP socket of our own, so the TCP side can be reset (RST) mid-handshake.
          const tcp = netConnect(Number(port), '127.0.0.1');
          tcp.on('error', () => undefined);
          const socket = tlsConnect({ socket: tcp, ca: s.tls.caPem, servername: 'localhost' });
          socket.on('error', () => undefined);
          await new Promise<void>((resolve) => {
            socket.once('secureConnect', () => resolve());
            socket.once('close', () => resolve());
          });
          socket.write(
            `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n` +
              `Sec-WebSocket-Key: ${junk.replace(/[\r\n]/g, '')}\r\n\r\n${junk}`,
          );
          await new Promise((r) => setTimeout(r, 10));
          if (reset) tcp.resetAndDestroy();
          else socket.destroy();
        },
      ),
      { numRuns: 30 },
    );
    // Not TLS at all: random bytes straight to the port.
    for (const bytes of fc.sample(fc.uint8Array({ minLength: 1, maxLength: 300 }), 10)) {
      const raw = netConnect(Number(port), '127.0.0.1');
      raw.on('error', () => undefined);
      await new Promise((r) => raw.once('connect', r));
      raw.write(Buffer.from(bytes));
      await new Promise((r) => setTimeout(r, 10));
      raw.resetAndDestroy();
    }
    await healthy();
  });
});
