import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import {
  VoiceEventRequestSchema,
  VoiceRouteRequestSchema,
  type VoiceCredentials,
  type VoiceRouteResponse,
} from '../../../common/api/voice';
import { HuiliuError } from '../../../common/errors/codes';
import { staffOf } from '../auth/route-policy';
import { parseWith, rateLimited } from '../http/errors';
import { clientNetwork } from '../http/client-network';
import { ephemeralSipCredentials, SIP_CREDENTIAL_TTL_S } from './credentials';
import { VOICE_BASIC_USER, type VoiceSecrets } from './secrets';
import type { QueueAnnouncement } from './queue-announcement';
import type { VoiceService } from './service';

export interface VoicePluginOptions {
  voice: VoiceService;
  secrets: VoiceSecrets;
  /** The SIP domain agents register in (their AOR `sip:<username>@<domain>`), and where: `sip:…`, `ws(s)://…`. */
  sip: () => { domain: string; uris: readonly string[] };
  /** Calls and events Kamailio may post per second (default 1,000): a runaway loop is refused, not served. */
  requestsPerSecond?: number;
  now?: () => number;
  /** Plays the queue announcement to queued callers (docs/voice.md); without it callers hear ringback. */
  queueAnnouncement?: QueueAnnouncement;
  /** The server's voice API (`createVoiceApi`), shared with the loopback hop; made from these options when absent. */
  api?: VoiceApi;
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** What the voice API reads of a request: the client's address (`request.ip`) and the two credential headers. */
export interface VoiceApiRequest {
  ip: string;
  headers: { authorization?: string | string[] | undefined; 'x-huiliu-voice-token'?: string | string[] | undefined };
  /** The parsed JSON body (unknown: checked with the zod schemas here). */
  body: unknown;
}

/**
 * Kamailio's two voice endpoints as plain functions — shared by the HTTPS routes (`voicePlugin`) and the
 * loopback hop's direct path (`voice/edge-api.ts`), so both spend the same wrong-token budget and the same
 * 1,000/s limit. Each resolves with the answer body or rejects with the HuiliuError the route would send.
 */
export interface VoiceApi {
  /** `POST /api/v1/voice/route`. @throws HuiliuError INVALID_VOICE_TOKEN, RATE_LIMITED, VALIDATION_FAILED, or the service's */
  route(request: VoiceApiRequest): Promise<VoiceRouteResponse>;
  /** `POST /api/v1/voice/events`. @throws HuiliuError as `route` (an `ended` is never refused for the rate) */
  events(request: VoiceApiRequest): Promise<unknown>;
}

/**
 * The token a request presents: `X-Huiliu-Voice-Token`, or the password of `Authorization: Basic`
 * for the user `kamailio` — Kamailio's `http_connect` (a named `httpcon`, the only kind it keeps
 * alive between requests) can send credentials but no header of our own. '' when neither is there.
 */
function presentedToken(headers: VoiceApiRequest['headers']): string {
  const raw = headers['x-huiliu-voice-token'];
  if (typeof raw === 'string') return raw;
  const auth = headers.authorization;
  if (typeof auth !== 'string' || !/^basic /i.test(auth)) return '';
  const decoded = Buffer.from(auth.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && decoded.slice(0, colon) === VOICE_BASIC_USER ? decoded.slice(colon + 1) : '';
}

/** Builds the voice API once per server (its rate limiters live here). */
export function createVoiceApi(opts: Pick<VoicePluginOptions, 'voice' | 'secrets' | 'requestsPerSecond' | 'queueAnnouncement'>): VoiceApi {
  const token = digest(opts.secrets.routeToken);
  const calls = new RateLimiterMemory({ points: opts.requestsPerSecond ?? 1_000, duration: 1, keyPrefix: 'voice' });
  // Ten wrong tokens a minute per client network: guessing a 256-bit token is hopeless, flooding is refused.
  const wrongTokens = new RateLimiterMemory({ points: 10, duration: 60, keyPrefix: 'voice-bad-token' });

  const refusal = (res: unknown, limit: string): unknown =>
    res instanceof RateLimiterRes ? rateLimited(res.msBeforeNext / 1000, undefined, { limit }) : res;

  /**
   * The route token, then the 1,000/s budget — unless `spend` is false: a call's `ended` is never refused
   * for the rate (it still counts), since a hang-up refused away would keep its agent busy (docs/voice.md "Liveness").
   * A wrong token is refused 401, past ten a minute from its client network 429; the right one is never
   * refused for others' wrong ones: every post through the loopback hop or the edge's forwarder comes from
   * 127.0.0.1, so any local process could otherwise lock Kamailio out with ten posts a minute (review5).
   */
  async function kamailio(request: VoiceApiRequest, spend = true): Promise<void> {
    const presented = presentedToken(request.headers);
    if (!timingSafeEqual(digest(presented), token)) {
      const client = clientNetwork(request.ip);
      const spent = await wrongTokens.get(client);
      if (spent && spent.consumedPoints >= 10) throw rateLimited(spent.msBeforeNext / 1000, undefined, { limit: 'voice-bad-token' });
      await wrongTokens.consume(client).catch(() => undefined);
      throw new HuiliuError('INVALID_VOICE_TOKEN');
    }
    try {
      await calls.consume('kamailio');
    } catch (res) {
      if (spend) throw refusal(res, 'voice');
    }
  }

  return {
    async route(request) {
      await kamailio(request);
      const body = parseWith(VoiceRouteRequestSchema, request.body);
      const answer = await opts.voice.route(body);
      return opts.queueAnnouncement ? opts.queueAnnouncement.onRoute(body, answer) : answer;
    },
    async events(request) {
      const raw = request.body;
      const ended = typeof raw === 'object' && raw !== null && (raw as { event?: unknown }).event === 'ended';
      await kamailio(request, !ended);
      const body = parseWith(VoiceEventRequestSchema, raw);
      if (body.event === 'ended') await opts.queueAnnouncement?.ended(body.callId);
      return opts.voice.event(body);
    },
  };
}

/**
 * The voice API (issue 18, DESIGN §6): `POST /api/v1/voice/route` and `POST /api/v1/voice/events` for
 * Kamailio (header `X-Huiliu-Voice-Token` or HTTP Basic as `kamailio`, compared in constant time; wrong tokens are budgeted per
 * client network like wrong app keys), and `GET /api/v1/voice/credentials` for a signed-in agent's
 * softphone. Bodies are checked with the zod schemas of common/api/voice.ts. `opts.api`: the server's
 * `createVoiceApi` (shared with the loopback hop); made here when absent.
 */
export async function voicePlugin(app: FastifyInstance, opts: VoicePluginOptions): Promise<void> {
  const now = opts.now ?? Date.now;
  const api = opts.api ?? createVoiceApi(opts);

  app.post(
    '/api/v1/voice/route',
    { config: { policy: 'channel-key' }, bodyLimit: 8 * 1024 },
    async (request): Promise<VoiceRouteResponse> => api.route({ ip: request.ip, headers: request.headers, body: request.body }),
  );

  app.post('/api/v1/voice/events', { config: { policy: 'channel-key' }, bodyLimit: 8 * 1024 }, async (request) =>
    api.events({ ip: request.ip, headers: request.headers, body: request.body }),
  );

  app.get('/api/v1/voice/credentials', { config: { policy: 'queue.view' } }, async (request): Promise<VoiceCredentials> => {
    const user = staffOf(request);
    const sip = opts.sip();
    const issued = ephemeralSipCredentials(opts.secrets.authSecret, user.username, now(), SIP_CREDENTIAL_TTL_S);
    return {
      username: issued.username,
      password: issued.password,
      ttl: SIP_CREDENTIAL_TTL_S,
      expiresAt: new Date(issued.expiresAt * 1000).toISOString(),
      aor: `sip:${user.username}@${sip.domain}`,
      realm: sip.domain,
      uris: [...sip.uris],
    };
  });
}
