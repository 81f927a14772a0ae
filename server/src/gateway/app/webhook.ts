import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * The app channel's webhook, the parts with no I/O (issue 13): which URLs an app account may name,
 * how a delivery is signed and verified, how long to wait before the next try, and what an answer
 * means. docs/channels/app.md describes the same contract for integrators.
 */

/** The setting (`settings.webhookUrl`) and the sealed secret (`secrets.webhookSecret`) of an app account. */
export const WEBHOOK_URL_SETTING = 'webhookUrl';
export const WEBHOOK_SECRET = 'webhookSecret';
/** A secret shorter than this is refused: HMAC-SHA256 with a guessable key proves nothing. */
export const WEBHOOK_SECRET_MIN = 16;

/** Hosts plain `http:` is allowed to: loopback only, for tests and local development. */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * Why `value` is not a usable webhook URL, or null when it is. `https:` only, except `http:` to a
 * loopback host (127.0.0.1, localhost, [::1]); no user or password in the URL (it would be logged
 * and stored in the clear — the secret goes in `webhookSecret`); at most 1024 characters.
 */
export function webhookUrlProblem(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0) return 'must be a URL string';
  if (value.length > 1024) return 'at most 1024 characters';
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'not a valid URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return `must be https:// (not ${url.protocol})`;
  if (url.protocol === 'http:' && !LOOPBACK_HOSTS.has(url.hostname))
    return 'must be https:// (plain http:// only to 127.0.0.1, localhost or [::1], for local development)';
  if (url.username || url.password) return 'must not carry a user or password; give the signing secret as secrets.webhookSecret';
  if (url.hash) return 'must not have a #fragment';
  return null;
}

/** The webhook URL as a host for logs: the path and query may carry an app's own tokens. */
export const webhookHost = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return 'invalid';
  }
};

/** `v1=` + hex HMAC-SHA256(secret, `${timestamp}.${body}`): the `X-Huiliu-Signature` header. */
export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * Checks a delivery the way an app should (and our tests do): the signature matches in constant
 * time, and the timestamp (Unix seconds) is within `toleranceSeconds` of `nowMs`, so a captured
 * delivery cannot be replayed later.
 */
export function verifyWebhook(
  secret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  body: string,
  nowMs: number,
  toleranceSeconds = 300,
): boolean {
  const { timestamp, signature } = headers;
  if (!timestamp || !signature || !/^\d{1,12}$/.test(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return false;
  const expected = Buffer.from(signWebhook(secret, timestamp, body));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Retry timing (`channels.app.webhook` of HUILIU_CONFIG). */
export interface WebhookRetryConfig {
  /** The wait after the first failed try; doubled after each further one. Milliseconds. */
  readonly baseDelayMs: number;
  /** The longest wait between two tries. Milliseconds. */
  readonly maxDelayMs: number;
  /** Tries before a delivery is dead-lettered (the first one included). */
  readonly maxAttempts: number;
  /** How long one try may take (connect to last byte). Milliseconds. */
  readonly timeoutMs: number;
}

export const DEFAULT_WEBHOOK_RETRY: WebhookRetryConfig = { baseDelayMs: 1000, maxDelayMs: 10 * 60_000, maxAttempts: 8, timeoutMs: 10_000 };

/**
 * The wait after the `attempts`-th failed try: base·2^(attempts−1), capped, with "equal jitter"
 * (half fixed, half random), so many apps failing together do not retry in lockstep.
 */
export function retryDelay(attempts: number, config: WebhookRetryConfig, random: () => number = Math.random): number {
  const exp = Math.min(config.maxDelayMs, config.baseDelayMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(exp / 2 + (random() * exp) / 2);
}

/** What an HTTP answer means: 2xx delivered; 408, 429, 5xx worth another try; any other status refused for good. */
export function classifyStatus(status: number): 'delivered' | 'retry' | 'refused' {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'refused';
}
