import type { Server } from 'node:http';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { errorAnswer } from '../http/errors';
import type { Logger } from '../logging/logger';
import type { VoiceApi, VoiceApiRequest } from './plugin';
import { isLoopbackHost } from '../http/loopback';
import {
  closeEdgeApiServer,
  createEdgeApiServer,
  EDGE_API_PATHS,
  EDGE_HOP_HEADERS,
  edgeApiHeaders,
  edgeApiServerUrl,
  listenEdgeApiServer,
} from './edge-listener';

export { isLoopbackHost };

/**
 * The voice edge's loopback hop (docs/voice.md "Kamailio → server over loopback"): a plain-HTTP listener
 * bound to a loopback address only, serving only `POST /api/v1/voice/route` and `POST /api/v1/voice/events`
 * — each answered by the same voice API as the HTTPS routes (`createVoiceApi`: directly for a plain JSON
 * body, else handed to the main app with `app.inject` as it is), so the route token, rate limits, schemas
 * and error bodies are exactly those of the HTTPS API. It exists because Kamailio 5.6.3's `tls` module and
 * http_client's libcurl corrupt each other's OpenSSL 3 memory under load (Kamailio crashed in the SIP
 * bench): with this hop libcurl makes no TLS connection at all. Nothing leaves the machine over it, so
 * DESIGN §6 "TLS 1.3 only" still holds for every byte on a network; any other bind is refused.
 */

export { EDGE_API_PATHS };

/** Where the server says its loopback hop listens (`<dataDir>/voice/edge-api.json`, `{url}`), for `npm run voice -- up`. */
export const voiceEdgeApiPath = (dataDir: string) => join(dataDir, 'voice', 'edge-api.json');

/** The voice routes' own body limit (`bodyLimit` in `voice/plugin.ts`): larger bodies go to the app, which answers 413. */
const ROUTE_BODY_LIMIT = 8 * 1024;

/**
 * The JSON body the app's parser would accept as it is, or undefined when only the app can say what to
 * answer (no or another content type, another charset, empty, over the routes' limit, not JSON, or a key
 * Fastify's secure-json-parse refuses or strips: `__proto__`, `constructor`) — such requests are injected.
 */
export function directJsonBody(contentType: string | undefined, body: Buffer): unknown {
  if (contentType === undefined || body.length === 0 || body.length > ROUTE_BODY_LIMIT) return undefined;
  const [type, ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return undefined;
  if (params.some((p) => p !== '' && p !== 'charset=utf-8' && p !== 'charset="utf-8"')) return undefined;
  const text = body.toString('utf8');
  if (text.includes('__proto__') || text.includes('constructor')) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export interface VoiceEdgeApi {
  /** `http://127.0.0.1:PORT` */
  url: string;
  server: Server;
  /** True when `preferPort` was asked for but stayed taken, so the hop listens elsewhere (the edge must be re-rendered). */
  moved: boolean;
  close(): Promise<void>;
}

/** Where the hop's last port is kept across stops (`edge-api.json` is removed on close; this is not). */
export const voiceEdgeApiPortPath = (dataDir: string) => join(dataDir, 'voice', 'edge-api.port');

/** How long a start waits for its previous port to be released (a server that is still stopping) before taking another. */
const PREFERRED_PORT_WAIT_MS = 3000;

/** The hop port the last start of this data dir listened on, or null. */
export function rememberedVoiceEdgeApiPort(dataDir: string): number | null {
  try {
    const port = Number(readFileSync(voiceEdgeApiPortPath(dataDir), 'utf8').trim());
    return Number.isInteger(port) && port > 0 && port < 65536 ? port : null;
  } catch {
    return null;
  }
}

/** Keeps the hop's port for the next start of this data dir (0600). */
export function rememberVoiceEdgeApiPort(dataDir: string, port: number): void {
  const path = voiceEdgeApiPortPath(dataDir);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.tmp`, `${port}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/**
 * Starts the loopback hop for `app` on `host:port`. Port 0: `preferPort` when given (the port of this
 * data dir's last start, `rememberedVoiceEdgeApiPort` — a running edge keeps posting there across a
 * server restart), waiting up to 3 s for it to be released, else a free one (`moved: true`).
 * @throws Error when `host` is not a loopback IP address (127.0.0.0/8, ::1): the hop is plain HTTP;
 *   the listen error (e.g. EADDRINUSE) when a fixed `port` is taken
 */
export async function startVoiceEdgeApi(
  app: FastifyInstance,
  options: {
    host: string;
    port: number;
    preferPort?: number | null;
    /**
     * The server's voice API (`createVoiceApi`, the one its HTTPS routes use): a post with a plain JSON
     * body (`directJsonBody`) is answered by it directly instead of through `app.inject` and Fastify's
     * hooks (issue 18, docs/benchmarks.md "sixth pass": ≈ 0.4 ms of the server's CPU per post). Same
     * token check, budgets, schemas and error bodies (`errorAnswer`); without it every post is injected.
     */
    direct?: { api: VoiceApi; logger: Logger };
    /** How long a client may take to send one whole request (ms, default `EDGE_CLIENT_TIMEOUT_MS`, 10 s). */
    clientTimeoutMs?: number;
  },
): Promise<VoiceEdgeApi> {
  if (!isLoopbackHost(options.host))
    throw new Error(`voice edge API: ${options.host} is not a loopback address; the plain-HTTP hop binds 127.0.0.1 or ::1 only`);
  const server = createEdgeApiServer({
    failCode: 'INTERNAL',
    ...(options.clientTimeoutMs !== undefined ? { clientTimeoutMs: options.clientTimeoutMs } : {}),
    handle: async (req, res, path, body) => {
      const parsed = options.direct ? directJsonBody(req.headers['content-type'], body) : undefined;
      if (parsed !== undefined && options.direct) {
        const { api, logger } = options.direct;
        const request: VoiceApiRequest = {
          ip: req.socket.remoteAddress ?? '127.0.0.1',
          headers: { authorization: req.headers.authorization, 'x-huiliu-voice-token': req.headers['x-huiliu-voice-token'] },
          body: parsed,
        };
        let status = 200;
        let payload: string;
        const answerHeaders: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
        try {
          payload = JSON.stringify(await (path === '/api/v1/voice/route' ? api.route(request) : api.events(request)));
        } catch (error) {
          const answer = errorAnswer(error);
          if (answer.log?.level === 'warn') logger.warn({ code: (error as { code?: unknown }).code, path }, answer.log.message);
          else if (answer.log) logger.error({ err: error, path }, answer.log.message);
          if (answer.retryAfter !== undefined) answerHeaders['retry-after'] = String(answer.retryAfter);
          status = answer.status;
          payload = JSON.stringify(answer.body);
        }
        return void res.writeHead(status, answerHeaders).end(payload);
      }
      const out = await app.inject({
        method: 'POST',
        url: path,
        headers: edgeApiHeaders(req),
        payload: body,
        remoteAddress: req.socket.remoteAddress ?? '127.0.0.1',
      });
      // The API's own headers (Retry-After on a 429, content type), not the inject's framing ones.
      const answer: Record<string, string | string[]> = {};
      for (const [name, value] of Object.entries(out.headers)) {
        if (value !== undefined && !EDGE_HOP_HEADERS.has(name.toLowerCase()))
          answer[name] = typeof value === 'number' ? String(value) : value;
      }
      res.writeHead(out.statusCode, answer).end(out.rawPayload);
    },
  });
  const listen = (port: number) => listenEdgeApiServer(server, port, options.host);
  let moved = false;
  const prefer = options.port === 0 ? (options.preferPort ?? null) : null;
  if (prefer === null) await listen(options.port);
  else {
    const until = Date.now() + PREFERRED_PORT_WAIT_MS;
    for (;;) {
      try {
        await listen(prefer);
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
        if (Date.now() >= until) {
          await listen(0);
          moved = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }
  return { url: edgeApiServerUrl(server, options.host), server, moved, close: () => closeEdgeApiServer(server) };
}

/** Writes `<dataDir>/voice/edge-api.json` (`{url}`, no secret) atomically. */
export function writeVoiceEdgeApiFile(dataDir: string, url: string): void {
  const path = voiceEdgeApiPath(dataDir);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.tmp`, `${JSON.stringify({ url })}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function removeVoiceEdgeApiFile(dataDir: string): void {
  rmSync(voiceEdgeApiPath(dataDir), { force: true });
}

/**
 * The loopback hop's URL the server wrote, or null (no file, unreadable, or not a plain-HTTP loopback URL:
 * a file naming anything else is ignored, so the edge never posts in the clear off the machine).
 */
export function readVoiceEdgeApiUrl(dataDir: string): string | null {
  try {
    const raw = JSON.parse(readFileSync(voiceEdgeApiPath(dataDir), 'utf8')) as { url?: unknown };
    if (typeof raw.url !== 'string') return null;
    const u = new URL(raw.url);
    return u.protocol === 'http:' && isLoopbackHost(u.hostname) && u.pathname === '/' && !u.username ? `http://${u.host}` : null;
  } catch {
    return null;
  }
}
