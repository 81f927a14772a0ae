import type { WechatAccount } from './account';

/**
 * The few WeChat API calls the channel makes (Tencent: 获取Access token, 客服消息, 获取临时素材,
 * 获取用户基本信息), against the account's `apiBaseUrl`:
 * - `GET {base}/cgi-bin/token?grant_type=client_credential&appid=&secret=` → `{access_token, expires_in}`
 * - `POST {base}/cgi-bin/message/custom/send?access_token=` `{touser, msgtype:'text', text:{content}}`
 * - `GET {base}/cgi-bin/media/get?access_token=&media_id=` → the bytes (or `{errcode}` JSON)
 * - `GET {base}/cgi-bin/user/info?access_token=&openid=&lang=zh_CN` → `{subscribe, openid, unionid?}`
 *
 * The access token is cached per (apiBaseUrl, appId) until shortly before `expires_in` runs out,
 * fetched by one call at a time (concurrent callers wait for it: no stampede), and refreshed once when
 * a call answers that it is invalid or expired (40001, 40014, 42001), then the call is retried once.
 * Tokens, secrets and openids never appear in an error message here.
 */

/** errcodes that mean "get a new access token" (invalid credential, invalid token, token expired). */
export const TOKEN_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001]);

/** What WeChat answered instead of success: `errcode` (a number, or ours: `timeout`, `network`, `http_<status>`, `bad_answer`, `too_large`, `no_secret`). */
export class WechatApiError extends Error {
  constructor(
    readonly errcode: number | string,
    message: string,
  ) {
    super(message);
    this.name = 'WechatApiError';
  }
}

export interface WechatApiOptions {
  /** The clock (ms), for token expiry; tests move it. */
  now?: () => number;
  /** Per-call timeouts (ms). */
  timeouts?: { token?: number; send?: number; media?: number; userInfo?: number };
  /** How long a unionid (or "none") stays cached per openid (ms); default 10 min, "none" 1 min. */
  userInfoTtlMs?: number;
}

interface CachedToken {
  token: string;
  /** ms: when to stop using it (shortly before WeChat's expiry). */
  refreshAt: number;
}

export class WechatApi {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly fetching = new Map<string, Promise<string>>();
  private readonly unionids = new Map<string, { value: string | null; until: number }>();
  /** How many access tokens were fetched (for tests and metrics). */
  tokenFetches = 0;

  constructor(private readonly options: WechatApiOptions = {}) {}

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private static key(account: WechatAccount): string {
    return `${account.apiBaseUrl} ${account.appId}`;
  }

  /**
   * A valid access token for the account: the cached one, or a new one (one fetch at a time).
   * @param stale a token a call was just refused with: another one is fetched unless the cache
   *   already moved past it
   */
  async accessToken(account: WechatAccount, stale?: string): Promise<string> {
    const key = WechatApi.key(account);
    const cached = this.tokens.get(key);
    if (cached && cached.token !== stale && cached.refreshAt > this.now()) return cached.token;
    let pending = this.fetching.get(key);
    if (!pending) {
      pending = this.fetchToken(account).finally(() => this.fetching.delete(key));
      this.fetching.set(key, pending);
    }
    return pending;
  }

  private async fetchToken(account: WechatAccount): Promise<string> {
    if (!account.appSecret) throw new WechatApiError('no_secret', 'The account has no appSecret: outbound calls are not possible.');
    this.tokenFetches++;
    const url = `${account.apiBaseUrl}/cgi-bin/token?grant_type=client_credential&appid=${encodeURIComponent(account.appId)}&secret=${encodeURIComponent(account.appSecret)}`;
    const answer = await this.json(url, { method: 'GET' }, this.options.timeouts?.token ?? 5000);
    const token = answer.access_token;
    const expiresIn = answer.expires_in;
    if (typeof token !== 'string' || !token || typeof expiresIn !== 'number' || expiresIn <= 0) {
      throw new WechatApiError('bad_answer', 'The token endpoint answered without a token.');
    }
    // Renew 5 minutes early (or at half-life for short tokens), so no call goes out with a dying token.
    const margin = Math.min(300, expiresIn / 2);
    this.tokens.set(WechatApi.key(account), { token, refreshAt: this.now() + (expiresIn - margin) * 1000 });
    return token;
  }

  /** Forgets the account's cached token (an operator rotated the AppSecret). */
  forgetToken(account: WechatAccount): void {
    this.tokens.delete(WechatApi.key(account));
  }

  /**
   * Runs `call` with a token; on a token errcode gets a new token and runs it once more.
   * @throws WechatApiError
   */
  private async withToken<T>(account: WechatAccount, call: (token: string) => Promise<T>): Promise<T> {
    const token = await this.accessToken(account);
    try {
      return await call(token);
    } catch (error) {
      if (!(error instanceof WechatApiError) || typeof error.errcode !== 'number' || !TOKEN_ERRCODES.has(error.errcode)) throw error;
      return call(await this.accessToken(account, token));
    }
  }

  /**
   * Sends one customer-service text message (客服消息) to `openid`.
   * @throws WechatApiError with WeChat's errcode (45015: the customer has not written for 48 hours;
   *   45047: too many messages without an answer from the customer; 43004: unsubscribed …)
   */
  async sendText(account: WechatAccount, openid: string, content: string): Promise<void> {
    await this.withToken(account, async (token) => {
      const answer = await this.json(
        `${account.apiBaseUrl}/cgi-bin/message/custom/send?access_token=${encodeURIComponent(token)}`,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json; charset=utf-8' },
          body: JSON.stringify({ touser: openid, msgtype: 'text', text: { content } }),
        },
        this.options.timeouts?.send ?? 5000,
      );
      return answer;
    });
  }

  /**
   * The unionid of a follower, or null (the account is not bound to an Open Platform account, the
   * user unsubscribed, or the call failed or timed out: no link then). Cached per (account, openid);
   * never throws.
   */
  async unionid(account: WechatAccount, openid: string): Promise<string | null> {
    const key = `${WechatApi.key(account)} ${openid}`;
    const hit = this.unionids.get(key);
    if (hit && hit.until > this.now()) return hit.value;
    let value: string | null;
    let ok = false;
    try {
      const answer = await this.withToken(account, (token) =>
        this.json(
          `${account.apiBaseUrl}/cgi-bin/user/info?access_token=${encodeURIComponent(token)}&openid=${encodeURIComponent(openid)}&lang=zh_CN`,
          { method: 'GET' },
          this.options.timeouts?.userInfo ?? 1500,
        ),
      );
      value = typeof answer.unionid === 'string' && /^[A-Za-z0-9_-]{1,128}$/.test(answer.unionid) ? answer.unionid : null;
      ok = true;
    } catch {
      value = null;
    }
    const ttl = this.options.userInfoTtlMs ?? 10 * 60_000;
    this.unionids.set(key, { value, until: this.now() + (ok && value ? ttl : Math.min(ttl, 60_000)) });
    if (this.unionids.size > 10_000) this.unionids.delete(this.unionids.keys().next().value!);
    return value;
  }

  /**
   * Downloads a temporary media file (an image a customer sent) of at most `maxBytes`.
   * @throws WechatApiError (`too_large`, a WeChat errcode, `timeout`, `network`, `http_<status>`)
   */
  async media(account: WechatAccount, mediaId: string, maxBytes: number): Promise<{ bytes: Buffer; contentType: string }> {
    return this.withToken(account, async (token) => {
      const url = `${account.apiBaseUrl}/cgi-bin/media/get?access_token=${encodeURIComponent(token)}&media_id=${encodeURIComponent(mediaId)}`;
      const res = await this.request(url, { method: 'GET' }, this.options.timeouts?.media ?? 2500);
      const contentType = (res.headers.get('content-type') ?? '').toLowerCase();
      const bytes = await readBounded(res, maxBytes);
      // Errors come back as JSON (or text/plain JSON) with status 200.
      if (contentType.includes('json') || contentType.startsWith('text/')) {
        throwIfErrcode(parseJson(bytes));
        throw new WechatApiError('bad_answer', 'The media endpoint answered text instead of a file.');
      }
      if (!res.ok) throw new WechatApiError(`http_${res.status}`, `The media endpoint answered HTTP ${res.status}.`);
      return { bytes, contentType };
    });
  }

  private async request(url: string, init: RequestInit, timeoutMs: number): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    } catch (error) {
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError')
        throw new WechatApiError('timeout', `WeChat did not answer within ${timeoutMs} ms.`);
      throw new WechatApiError('network', 'WeChat could not be reached.');
    }
  }

  private async json(url: string, init: RequestInit, timeoutMs: number): Promise<Record<string, unknown>> {
    const res = await this.request(url, init, timeoutMs);
    const bytes = await readBounded(res, 64 * 1024);
    if (!res.ok) throw new WechatApiError(`http_${res.status}`, `WeChat answered HTTP ${res.status}.`);
    const answer = parseJson(bytes);
    throwIfErrcode(answer);
    return answer;
  }
}

function parseJson(bytes: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new WechatApiError('bad_answer', 'WeChat answered something that is not a JSON object.');
}

function throwIfErrcode(answer: Record<string, unknown>): void {
  const errcode = answer.errcode;
  if (typeof errcode === 'number' && errcode !== 0) {
    // errmsg is WeChat's text (it may carry a request id "rid: …"); no customer data.
    const errmsg = typeof answer.errmsg === 'string' ? answer.errmsg.slice(0, 200) : '';
    throw new WechatApiError(errcode, `WeChat error ${errcode}${errmsg ? `: ${errmsg}` : ''}`);
  }
}

/** Reads a response body, refusing more than `max` bytes (by Content-Length, then while reading). */
async function readBounded(res: Response, max: number): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel();
    throw new WechatApiError('too_large', `The answer is larger than ${max} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (!res.body) return Buffer.alloc(0);
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > max) {
        await reader.cancel();
        throw new WechatApiError('too_large', `The answer is larger than ${max} bytes.`);
      }
      chunks.push(Buffer.from(value));
    }
  } catch (error) {
    if (error instanceof WechatApiError) throw error;
    const name = (error as Error).name;
    throw new WechatApiError(name === 'TimeoutError' || name === 'AbortError' ? 'timeout' : 'network', 'The answer was cut off.');
  }
  return Buffer.concat(chunks);
}
