import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { ERROR_CODES, type ErrorCode } from '../../../common/errors/codes';
import { errorBody } from '../http/errors';
import { isLoopbackHost } from '../http/loopback';

/**
 * What the two plain-HTTP listeners Kamailio posts the voice API to have in common — the server's
 * loopback hop (`edge-api.ts`) and the edge's HTTPS forwarder (`edge-forwarder.ts`): a peer on loopback
 * only, `POST` of the two voice paths only, bodies of 16 KB at most, only the API's own headers handed
 * on, and a client that must send its whole request within 10 s.
 */

/** The paths served; everything else is 404 (the API's other routes stay HTTPS only). */
export const EDGE_API_PATHS: ReadonlySet<string> = new Set(['/api/v1/voice/route', '/api/v1/voice/events']);

/** Framing headers of an answer that the listener sets itself (RFC 9110 §7.6.1 and the length). */
export const EDGE_HOP_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'date',
  'upgrade',
]);

/** Largest body read (the voice API's own limit is 8 KB; a little more so the API answers 413 itself). */
const MAX_BODY = 16 * 1024;

/**
 * How long a client may take to send one whole request, head and body (ms; checked every second).
 * Kamailio sends each post at once; Node's defaults (60 s for the head, 300 s for the whole request,
 * checked every 30 s) let a local process trickling requests hold a socket and up to 32 KB for five
 * minutes each — 3,000 such connections grew a process by ~130 MB (review4, 2026-12-02).
 */
export const EDGE_CLIENT_TIMEOUT_MS = 10_000;

/** The request headers the voice API reads (no content type stays none: the API answers 415 as over HTTPS). */
export function edgeApiHeaders(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const h of ['content-type', 'authorization', 'x-huiliu-voice-token'] as const) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  return headers;
}

function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      // Too large: answered 413 at once (and the connection closed); the rest is read and dropped.
      if (size > MAX_BODY) return resolve(null);
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Answers `code` with the API's error body. */
export function sendEdgeError(res: ServerResponse, code: ErrorCode): void {
  res.writeHead(ERROR_CODES[code].status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(errorBody(code)));
}

/**
 * An HTTP server (not listening yet) that refuses, itself: a peer not on loopback (403 `FORBIDDEN`),
 * another path or method (404 `NOT_FOUND`), a body over 16 KB (413 `PAYLOAD_TOO_LARGE`) — each closing
 * the connection, so nothing pipelined after it is served — and a client slower than `clientTimeoutMs`.
 * Anything else goes to `handle(req, res, path, body)`; when that throws, the request is answered
 * `failCode` (the connection kept) or, if the answer had begun, its socket destroyed, and `onFail` runs.
 */
export function createEdgeApiServer(options: {
  handle: (req: IncomingMessage, res: ServerResponse, path: string, body: Buffer) => Promise<void>;
  failCode: ErrorCode;
  onFail?: (error: unknown) => void;
  clientTimeoutMs?: number;
}): Server {
  const clientTimeoutMs = options.clientTimeoutMs ?? EDGE_CLIENT_TIMEOUT_MS;
  return createServer(
    { keepAliveTimeout: 65_000, requestTimeout: clientTimeoutMs, headersTimeout: clientTimeoutMs, connectionsCheckingInterval: 1000 },
    (req, res) => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const refuse = (code: ErrorCode) => {
        // Refused before its body was read: the connection is not reused (a client that sent a body
        // would otherwise find the socket closed under its next request).
        res.shouldKeepAlive = false;
        sendEdgeError(res, code);
      };
      // A peer that is not on loopback cannot reach a loopback bind; checked anyway (defence in depth).
      if (!isLoopbackHost(req.socket.remoteAddress ?? '')) return refuse('FORBIDDEN');
      if (!EDGE_API_PATHS.has(path) || req.method !== 'POST') return refuse('NOT_FOUND');
      void (async () => {
        const body = await readBody(req);
        if (body === null) return refuse('PAYLOAD_TOO_LARGE');
        await options.handle(req, res, path, body);
      })().catch((error: unknown) => {
        options.onFail?.(error);
        if (!res.headersSent) sendEdgeError(res, options.failCode);
        else res.destroy();
      });
    },
  );
}

/** Listens on `host:port` (a loopback address); rejects with the listen error (e.g. EADDRINUSE). */
export function listenEdgeApiServer(server: Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** `http://host:port` of a listening server (an IPv6 host in brackets). */
export function edgeApiServerUrl(server: Server, host: string): string {
  const { port } = server.address() as { port: number };
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Stops listening and drops every open connection (kept-alive ones included); resolves once closed. */
export function closeEdgeApiServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
