import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WidgetMessage } from '../../../common/web/widget-protocol';
import { startTestServer, type TestServer } from '../support/harness';
import { openWidget } from '../support/widget-client';

/**
 * Issue 17: CSRF / CORS and path traversal.
 * - Staff authenticate with a bearer token in the Authorization header only; no cookie authenticates
 *   anything (the OIDC flow-binding cookie is scoped to the OIDC routes and only binds a sign-in to its
 *   browser). So a cross-site page cannot ride on a victim's session (no ambient credential), and the
 *   server grants no CORS allowance, so it cannot read answers either.
 * - Attachments are stored in the database (sealed), never under a path built from input; ids are
 *   32 hex digits, and file names are cleaned. These tests try traversal anyway.
 */
describe('cross-origin requests and CSRF', () => {
  let s: TestServer;
  let admin: string;
  beforeAll(async () => {
    s = await startTestServer();
    admin = await s.login('admin');
  }, 60_000);
  afterAll(async () => {
    await s.cleanup();
  });
  const EVIL = 'https://evil.example';

  it('answers a CORS preflight from another origin with no allowance, on staff, sign-in and channel routes', async () => {
    for (const url of [
      '/api/v1/auth/login',
      '/api/v1/auth/me',
      '/api/v1/sessions',
      '/api/v1/channels/app/messages',
      '/api/v1/auth/sessions/revoke-all',
    ]) {
      const res = await s.app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin: EVIL, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
      });
      expect(res.headers['access-control-allow-origin'], url).toBeUndefined();
      expect(res.headers['access-control-allow-credentials'], url).toBeUndefined();
      expect(res.headers['access-control-allow-headers'], url).toBeUndefined();
    }
  });

  it('adds no CORS allowance to answers of requests that carry an Origin', async () => {
    const me = await s.app.inject({ url: '/api/v1/auth/me', headers: { origin: EVIL, authorization: `Bearer ${admin}` } });
    expect(me.statusCode).toBe(200);
    expect(me.headers['access-control-allow-origin']).toBeUndefined();
    const providers = await s.app.inject({ url: '/api/v1/auth/providers', headers: { origin: EVIL } });
    expect(providers.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('lets no cookie stand in for the bearer token', async () => {
    for (const cookie of [`token=${admin}`, `huiliu_oidc=${admin}`, `authorization=Bearer%20${admin}`, `session=${admin}`]) {
      const res = await s.app.inject({ method: 'POST', url: '/api/v1/auth/sessions/revoke-all', headers: { cookie, origin: EVIL } });
      expect(res.statusCode, cookie).toBe(401);
    }
    // The admin's session survived every attempt.
    expect((await s.app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${admin}` } })).statusCode).toBe(200);
  });

  it('refuses the bodies a cross-site form can send without a preflight (sign-in CSRF)', async () => {
    for (const [type, payload] of [
      ['application/x-www-form-urlencoded', 'username=admin&password=huiliu-demo'],
      ['text/plain', '{"username":"admin","password":"huiliu-demo"}'],
      ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nadmin\r\n--x--\r\n'],
    ] as const) {
      const res = await s.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'content-type': type, origin: EVIL },
        payload,
      });
      // 415 for the form types; text/plain is read as a string, which is no JSON object: 400.
      expect([400, 415], type).toContain(res.statusCode);
      expect(res.json()).not.toHaveProperty('token');
    }
  });
});

describe('path traversal: uploads, attachment ids and static pages', () => {
  let s: TestServer;
  let visitorToken: string;
  let staff: string;
  beforeAll(async () => {
    s = await startTestServer();
    const w = await openWidget(s);
    w.send({ type: 'hello' });
    visitorToken = (await w.next('welcome')).visitorToken;
    w.ws.close();
    staff = await s.login('admin');
  }, 60_000);
  afterAll(async () => {
    await s.cleanup();
  });

  const upload = (name: string, n: number) =>
    s.app.inject({
      method: 'POST',
      url: `/channels/web/uploads?clientMessageId=traversal-${n}-${Date.now()}&name=${encodeURIComponent(name)}`,
      headers: { 'content-type': 'text/plain', authorization: `Bearer ${visitorToken}` },
      payload: Buffer.from(`file ${n}`),
    });

  it('keeps no directory part of an uploaded file’s name, whatever the separators or encodings', async () => {
    const names = [
      '../../../etc/passwd',
      '..\\..\\windows\\win.ini',
      '/var/lib/huiliu/huiliu.db',
      'a/../../b.txt',
      '..%2F..%2Fsecret.txt',
      '....//....//x.txt',
    ];
    for (const [i, name] of names.entries()) {
      const res = await upload(name, i);
      expect(res.statusCode, `${name}: ${res.body}`).toBe(201);
      const stored = (res.json() as { message: WidgetMessage }).message.attachment!.name;
      expect(stored, name).not.toMatch(/[/\\]/);
      expect(stored.startsWith('..'), `${name} → ${stored}`).toBe(false);
    }
  });

  it('refuses traversal in attachment ids on the staff route and the visitor link', async () => {
    const ids = [
      '..%2F..%2Fhuiliu.db',
      '..%2f..%2f..%2fetc%2fpasswd',
      '%2e%2e%2f%2e%2e%2fhuiliu.db',
      '..',
      '0123456789abcdef0123456789abcdef%2F..',
    ];
    for (const id of ids) {
      const staffRes = await s.app.inject({ url: `/api/v1/attachments/${id}`, headers: { authorization: `Bearer ${staff}` } });
      expect([400, 404], `staff ${id}: ${staffRes.statusCode}`).toContain(staffRes.statusCode);
      const visitorRes = await s.app.inject({ url: `/channels/web/attachments/${id}?exp=9999999999&sig=AAAA` });
      expect([400, 403, 404], `visitor ${id}: ${visitorRes.statusCode}`).toContain(visitorRes.statusCode);
      expect(visitorRes.body).not.toContain('SQLite format');
    }
  });

  it('serves nothing outside the page folders through /app/ and /widget', async () => {
    for (const url of [
      '/app/..%2F..%2F..%2Fpackage.json',
      '/app/%2e%2e/%2e%2e/%2e%2e/package.json',
      '/app/../../../package.json',
      '/widget/..%2F..%2F..%2F..%2Fpackage.json',
      '/app/..%5C..%5C..%5Cpackage.json',
    ]) {
      const res = await s.app.inject({ url });
      expect(res.body, url).not.toContain('"devDependencies"');
      expect(res.body, url).not.toContain('"name": "huiliu"');
      expect(res.statusCode, url).not.toBe(200);
    }
  });
});
