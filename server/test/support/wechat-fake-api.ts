import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One customer-service message the fake received. */
export interface SentCustomMessage {
  touser: string;
  msgtype: string;
  text?: { content: string };
  /** The access token it came with. */
  token: string;
}

type Endpoint = 'token' | 'send' | 'media' | 'userInfo';

/**
 * A small fake of the WeChat API on loopback (plain HTTP, 127.0.0.1, an ephemeral port) for the
 * channel's outbound calls: token issuing with expiry, user/info with unionids, media/get and
 * message/custom/send recording what was sent, and error or delay injection. Answers like WeChat:
 * HTTP 200 with `{errcode, errmsg}` on errors.
 */
export class FakeWechatApi {
  readonly sent: SentCustomMessage[] = [];
  /** Token requests, in order (appid asked for). */
  readonly tokenRequests: string[] = [];
  /** user/info and media/get requests (openid / media_id asked for). */
  readonly userInfoRequests: string[] = [];
  readonly mediaRequests: string[] = [];
  /** Seconds each issued token lives (WeChat: 7200). */
  expiresIn = 7200;
  private readonly apps = new Map<string, string>();
  private readonly tokens = new Map<string, { appId: string; expiresAt: number }>();
  private readonly unionids = new Map<string, string>();
  private readonly media = new Map<string, { bytes: Buffer; contentType: string }>();
  private readonly failures = new Map<Endpoint, { errcode: number; times: number }[]>();
  private readonly delays = new Map<Endpoint, number>();
  private server: Server | null = null;
  private issued = 0;
  url = '';

  /** Starts listening; resolves with the base URL (`http://127.0.0.1:<port>`). */
  async start(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive connections of the server's fetch would hold `close` for seconds.
    server.closeAllConnections();
    await closed;
  }

  /** An account the fake knows (AppID + AppSecret). */
  addApp(appId: string, secret: string): this {
    this.apps.set(appId, secret);
    return this;
  }

  setUnionid(openid: string, unionid: string): this {
    this.unionids.set(openid, unionid);
    return this;
  }

  setMedia(mediaId: string, bytes: Buffer, contentType: string): this {
    this.media.set(mediaId, { bytes, contentType });
    return this;
  }

  /** Every token issued so far stops working now (calls with them answer 42001). */
  expireTokens(): void {
    for (const t of this.tokens.values()) t.expiresAt = 0;
  }

  /** The next `times` calls of `endpoint` answer `errcode` (a token check comes first). */
  failNext(endpoint: Endpoint, errcode: number, times = 1): void {
    const list = this.failures.get(endpoint) ?? [];
    list.push({ errcode, times });
    this.failures.set(endpoint, list);
  }

  /** Every call of `endpoint` waits `ms` before answering (0: no wait). */
  delay(endpoint: Endpoint, ms: number): void {
    this.delays.set(endpoint, ms);
  }

  private injected(endpoint: Endpoint): number | null {
    const list = this.failures.get(endpoint);
    const next = list?.[0];
    if (!next) return null;
    if (--next.times <= 0) list.shift();
    return next.errcode;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const json = (value: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(value));
    };
    const error = (errcode: number, errmsg = 'fake error') => json({ errcode, errmsg });
    const endpoint: Endpoint | null =
      url.pathname === '/cgi-bin/token'
        ? 'token'
        : url.pathname === '/cgi-bin/message/custom/send'
          ? 'send'
          : url.pathname === '/cgi-bin/media/get'
            ? 'media'
            : url.pathname === '/cgi-bin/user/info'
              ? 'userInfo'
              : null;
    if (!endpoint) return error(404, 'no such api');
    const wait = this.delays.get(endpoint) ?? 0;
    if (wait) await new Promise((r) => setTimeout(r, wait));

    if (endpoint === 'token') {
      const appId = url.searchParams.get('appid') ?? '';
      this.tokenRequests.push(appId);
      const injected = this.injected('token');
      if (injected !== null) return error(injected);
      if (url.searchParams.get('grant_type') !== 'client_credential') return error(40002, 'invalid grant_type');
      const secret = this.apps.get(appId);
      if (secret === undefined) return error(40013, 'invalid appid');
      if (url.searchParams.get('secret') !== secret) return error(40125, 'invalid appsecret');
      const token = `fake-token-${++this.issued}`;
      this.tokens.set(token, { appId, expiresAt: Date.now() + this.expiresIn * 1000 });
      return json({ access_token: token, expires_in: this.expiresIn });
    }

    const token = url.searchParams.get('access_token') ?? '';
    const known = this.tokens.get(token);
    if (!known) return error(40001, 'invalid credential, access_token is invalid or not latest');
    if (known.expiresAt <= Date.now()) return error(42001, 'access_token expired');
    const injected = this.injected(endpoint);
    if (injected !== null) return error(injected);

    if (endpoint === 'send') {
      let message: Omit<SentCustomMessage, 'token'>;
      try {
        message = JSON.parse(body) as Omit<SentCustomMessage, 'token'>;
      } catch {
        return error(47001, 'data format error');
      }
      this.sent.push({ ...message, token });
      return json({ errcode: 0, errmsg: 'ok' });
    }
    if (endpoint === 'userInfo') {
      const openid = url.searchParams.get('openid') ?? '';
      this.userInfoRequests.push(openid);
      const unionid = this.unionids.get(openid);
      return json({ subscribe: 1, openid, language: 'zh_CN', ...(unionid ? { unionid } : {}) });
    }
    const mediaId = url.searchParams.get('media_id') ?? '';
    this.mediaRequests.push(mediaId);
    const file = this.media.get(mediaId);
    if (!file) return error(40007, 'invalid media_id');
    res.writeHead(200, { 'content-type': file.contentType, 'content-length': file.bytes.length });
    res.end(file.bytes);
  }
}
