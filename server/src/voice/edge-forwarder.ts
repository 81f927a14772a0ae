import { Agent, request as httpsRequest } from 'node:https';
import { isLoopbackHost } from '../http/loopback';
import {
  closeEdgeApiServer,
  createEdgeApiServer,
  EDGE_HOP_HEADERS,
  edgeApiHeaders,
  edgeApiServerUrl,
  listenEdgeApiServer,
} from './edge-listener';

/**
 * The voice edge's HTTPS forwarder (docs/voice.md "An edge on another host"): when Kamailio would post
 * the voice API over HTTPS — an edge on another host than the server, so the server's loopback hop
 * (`edge-api.ts`) is out of reach — the process that supervises the edge listens on loopback in plain
 * HTTP and posts each request on to the server over HTTPS itself (TLS 1.3 only, the data dir's CA
 * pinned, connections kept alive). Kamailio's libcurl then makes no TLS connection at all: Kamailio
 * 5.6.3's `tls` module and libcurl corrupt each other's OpenSSL 3 memory under load (the crash the
 * loopback hop fixed on the server's host). It serves exactly what the hop serves — `POST
 * /api/v1/voice/route` and `POST /api/v1/voice/events`, 16 KB bodies at most, only the `content-type`,
 * `authorization` and `X-Huiliu-Voice-Token` headers handed on — so the server's route token, limits,
 * schemas and error bodies answer as over HTTPS; nothing on the plain leg leaves the machine.
 */

/** Largest answer read back from the server (its voice answers are well under 2 KB). */
const MAX_ANSWER = 64 * 1024;
/**
 * How long one post may take on the server (ms): under Kamailio's own `http_client` time-out (4 s), so
 * Kamailio gets this listener's 503 rather than a time-out of its own.
 */
const DEFAULT_UPSTREAM_TIMEOUT_MS = 3500;
/** How long a pooled connection to the server may stay idle before it is closed (ms). */
const IDLE_UPSTREAM_MS = 30_000;

export interface EdgeForwarderOptions {
  /** The server's HTTPS URL (`HUILIU_URL`); its path, if any, is kept as a prefix. Must be `https:`. */
  target: string;
  /** PEM trust anchors for the server's certificate (the data dir's `tls/ca.pem`); default: Node's roots. */
  ca?: string;
  /** Loopback address to listen on (default 127.0.0.1); anything else is refused. */
  host?: string;
  /** Port (default 0: a free one). */
  port?: number;
  /** Time-out of one post towards the server in ms, from its start to its answer's last byte (default 3,500). */
  upstreamTimeoutMs?: number;
  /**
   * How long a client may take to send one whole request, head and body, in ms (default 10,000; checked
   * every second). Kamailio sends each post at once; Node's defaults (60 s for the head, 300 s for the
   * whole request, checked every 30 s) let a local process trickling requests hold a socket and up to
   * 32 KB for five minutes each — 3,000 such connections grew the process by ~130 MB.
   */
  clientTimeoutMs?: number;
}

export interface EdgeForwarder {
  /** `http://127.0.0.1:PORT` — what Kamailio's httpcon names. */
  url: string;
  /** Requests answered by the server, and those answered 503 here because the server did not answer. */
  stats(): { forwarded: number; failed: number };
  close(): Promise<void>;
}

/**
 * Starts the forwarder. Answers: the server's own status, headers (not framing ones) and body; 404
 * `NOT_FOUND` for another path or method, 413 `PAYLOAD_TOO_LARGE` for a body over 16 KB (both close the
 * connection), 403 `FORBIDDEN` for a peer not on loopback, 503 `NOT_READY` when the server does not
 * answer within `upstreamTimeoutMs`, refuses TLS below 1.3 or a certificate the CA does not sign (logged
 * by the caller through `stats().failed`).
 * @throws Error when `target` is not an https URL or `host` is not a loopback IP; the listen error
 */
export async function startEdgeForwarder(options: EdgeForwarderOptions): Promise<EdgeForwarder> {
  const target = new URL(options.target);
  if (target.protocol !== 'https:')
    throw new Error(`voice edge forwarder: ${target.protocol} is not https (the forwarder posts over TLS 1.3 only)`);
  const host = options.host ?? '127.0.0.1';
  if (!isLoopbackHost(host))
    throw new Error(`voice edge forwarder: ${host} is not a loopback address; it listens on 127.0.0.1 or ::1 only`);
  const prefix = target.pathname.replace(/\/+$/, '');
  const timeoutMs = options.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  // Kept-alive TLS 1.3 connections to the server: one handshake per connection, not per post.
  // An idle pooled connection is dropped after 30 s: a middlebox that forgets idle connections silently
  // would otherwise turn the next post on it into a time-out (a lost route; posts are never retried here,
  // so none is ever made twice).
  const agent = new Agent({
    keepAlive: true,
    maxSockets: 64,
    timeout: IDLE_UPSTREAM_MS,
    minVersion: 'TLSv1.3',
    ...(options.ca ? { ca: options.ca } : {}),
  });
  let forwarded = 0;
  let failed = 0;

  const upstream = (path: string, headers: Record<string, string>, body: Buffer) =>
    new Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }>((resolve, reject) => {
      const req = httpsRequest(
        {
          protocol: 'https:',
          hostname: target.hostname,
          port: target.port || 443,
          path: prefix + path,
          method: 'POST',
          agent,
          headers: { ...headers, 'content-length': String(body.length) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_ANSWER) return req.destroy(new Error('answer too large'));
            chunks.push(c);
          });
          res.on('end', () => {
            clearTimeout(deadline);
            // A redirect is not followed and not handed on: Kamailio's libcurl would follow it itself
            // (over TLS inside Kamailio, or off the machine).
            const status = res.statusCode ?? 502;
            if (status >= 300 && status < 400) return reject(new Error(`the server answered a redirect (${status})`));
            const answer: Record<string, string | string[]> = {};
            for (const [name, value] of Object.entries(res.headers))
              if (value !== undefined && !EDGE_HOP_HEADERS.has(name.toLowerCase())) answer[name] = value;
            resolve({ status, headers: answer, body: Buffer.concat(chunks) });
          });
          res.on('error', reject);
        },
      );
      // A deadline for the whole post (a socket from the pool, the answer's head and its whole body):
      // a request `timeout` is an idle one, so a server trickling its answer held the post — and Kamailio's
      // child — far past Kamailio's own 4 s.
      // It settles the post itself: a request closed without an 'error' (a 101 Switching Protocols answer,
      // which Node answers by dropping the socket) left the post pending for ever.
      const deadline = setTimeout(() => {
        reject(new Error(`no whole answer from the server within ${timeoutMs} ms`));
        req.destroy();
      }, timeoutMs);
      req.on('close', () => {
        clearTimeout(deadline);
        // Settled already when the answer ended (then this does nothing).
        reject(new Error('the server closed the connection without a whole answer'));
      });
      req.on('error', (error) => {
        clearTimeout(deadline);
        reject(error);
      });
      req.end(body);
    });

  const server = createEdgeApiServer({
    failCode: 'NOT_READY',
    onFail: () => void failed++,
    ...(options.clientTimeoutMs !== undefined ? { clientTimeoutMs: options.clientTimeoutMs } : {}),
    handle: async (req, res, path, body) => {
      const out = await upstream(path, edgeApiHeaders(req), body);
      forwarded++;
      res.writeHead(out.status, out.headers).end(out.body);
    },
  });
  await listenEdgeApiServer(server, options.port ?? 0, host);
  return {
    url: edgeApiServerUrl(server, host),
    stats: () => ({ forwarded, failed }),
    close: async () => {
      const closed = closeEdgeApiServer(server);
      agent.destroy();
      await closed;
    },
  };
}
