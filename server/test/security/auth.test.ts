import Database from 'better-sqlite3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HuiliuError, type ErrorCode } from '../../../common/errors/codes';
import { DEFAULT_ROUTING_CONFIG } from '../../../common/routing/types';
import { AuthService, tokenHash, type AuthOptions } from '../../src/auth/auth';
import { retryAfterSeconds } from '../../src/http/errors';
import { openDatabase, type Db } from '../../src/db/sqlite';
import { ack, openAgentSocket } from '../support/agent-client';
import { startTestServer, type TestServer } from '../support/harness';
import { until } from '../support/until';

const PASSWORD = 'correct horse battery';

/** The outcome of a login as the error code (or 'ok'), with its Retry-After seconds. */
async function outcome(p: Promise<unknown>): Promise<{ code: ErrorCode | 'ok'; retryAfter?: number }> {
  try {
    await p;
    return { code: 'ok' };
  } catch (error) {
    if (!(error instanceof HuiliuError)) throw error;
    return { code: error.code, retryAfter: retryAfterSeconds(error) };
  }
}

describe('login throttling: attempts are counted atomically, in the database, before the password check', () => {
  let dir: string;
  let dbPath: string;
  let db: Db;
  let clock: number;
  const open = (options: AuthOptions = {}) => new AuthService(db, { now: () => clock, ...options });

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-auth-'));
    dbPath = join(dir, 'auth.db');
    db = openDatabase(dbPath);
    clock = Date.parse('2026-03-01T09:00:00Z');
    await open().createUser({ username: 'mei', displayName: 'Mei', password: PASSWORD, roles: ['agent'], skillGroups: ['general'] });
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lets no token out of 100 concurrent logins when the right password is the 80th', async () => {
    const auth = open();
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => outcome(auth.login('mei', i === 79 ? PASSWORD : `guess-${i}`, '203.0.113.7'))),
    );
    expect(results.filter((r) => r.code === 'ok')).toHaveLength(0);
    expect(results.filter((r) => r.code === 'INVALID_CREDENTIALS')).toHaveLength(10);
    expect(results[79]!.code).toBe('RATE_LIMITED');
    expect(results.filter((r) => r.code === 'RATE_LIMITED')).toHaveLength(90);
    expect(results.find((r) => r.code === 'RATE_LIMITED')!.retryAfter).toBe(300);
  });

  it('keeps a lockout across a restart: a new AuthService on the same database file still refuses', async () => {
    const before = open();
    for (let i = 0; i < 10; i++) expect((await outcome(before.login('mei', `guess-${i}`, '203.0.113.7'))).code).toBe('INVALID_CREDENTIALS');
    db.close();
    db = openDatabase(dbPath);
    const after = open();
    expect(await outcome(after.login('mei', PASSWORD, '203.0.113.7'))).toEqual({ code: 'RATE_LIMITED', retryAfter: 300 });
  });

  it('does not lift a lockout reached while a successful login was still being checked', async () => {
    const auth = open();
    // The right password goes first and is still being verified when the guesses behind it use up the limit.
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => outcome(auth.login('mei', i === 0 ? PASSWORD : `guess-${i}`, '203.0.113.7'))),
    );
    expect(results.map((r) => r.code)).toEqual(['ok', ...Array<string>(9).fill('INVALID_CREDENTIALS'), 'RATE_LIMITED', 'RATE_LIMITED']);
    expect((await outcome(auth.login('mei', PASSWORD, '203.0.113.7'))).code).toBe('RATE_LIMITED');
  });

  it('unlocks when the window ends (injected clock), and says how long to wait until then', async () => {
    const auth = open();
    for (let i = 0; i < 10; i++) await outcome(auth.login('mei', `guess-${i}`, '203.0.113.7'));
    clock += 120_000;
    expect(await outcome(auth.login('mei', PASSWORD, '203.0.113.7'))).toEqual({ code: 'RATE_LIMITED', retryAfter: 180 });
    clock += 180_000;
    expect((await outcome(auth.login('mei', PASSWORD, '203.0.113.7'))).code).toBe('ok');
  });

  it('gives back the attempt of a successful login, so a user who signs in often is never locked out', async () => {
    const auth = open();
    for (let i = 0; i < 25; i++) expect((await outcome(auth.login('mei', PASSWORD, '203.0.113.7'))).code).toBe('ok');
  });

  it('counts unknown usernames like known ones, so the answers do not tell which exist', async () => {
    const auth = open();
    const known: string[] = [];
    const unknown: string[] = [];
    for (let i = 0; i < 11; i++) {
      known.push((await outcome(auth.login('mei', `guess-${i}`, '203.0.113.7'))).code);
      unknown.push((await outcome(auth.login('ghost', `guess-${i}`, '203.0.113.7'))).code);
    }
    expect(unknown).toEqual(known);
    expect(known.at(-1)).toBe('RATE_LIMITED');
  });

  it('caps one username across client addresses: a botnet gets 30 guesses an hour, then RATE_LIMITED', async () => {
    const auth = open();
    for (let i = 0; i < 30; i++)
      expect((await outcome(auth.login('mei', `guess-${i}`, `198.51.100.${i}`))).code).toBe('INVALID_CREDENTIALS');
    expect(await outcome(auth.login('mei', PASSWORD, '198.51.100.200'))).toEqual({ code: 'RATE_LIMITED', retryAfter: 3600 });
    // Case and compatibility forms of the name are the same key.
    expect((await outcome(auth.login('MEI', PASSWORD, '198.51.100.201'))).code).toBe('RATE_LIMITED');
  });

  /** 30 wrong passwords for `mei`, each from its own address of 198.51.100.0/24: the per-username ceiling. */
  async function botnetExhausts(auth: AuthService): Promise<void> {
    for (let i = 0; i < 30; i++)
      expect((await outcome(auth.login('mei', `guess-${i}`, `198.51.100.${i}`))).code).toBe('INVALID_CREDENTIALS');
  }

  it('lets the agent in from a client they signed in from after a botnet used up the per-username ceiling, and nobody new', async () => {
    const auth = open();
    expect((await outcome(auth.login('mei', PASSWORD, '203.0.113.7'))).code).toBe('ok');
    expect((await outcome(auth.login('mei', PASSWORD, '2001:db8:1:2::1'))).code).toBe('ok');
    await botnetExhausts(auth);
    const again = await auth.login('mei', PASSWORD, '203.0.113.7');
    expect(again.user.username).toBe('mei');
    expect(auth.verify(again.token)?.username).toBe('mei');
    // An IPv6 client is known by its /64, like the throttle counts it.
    expect((await outcome(auth.login('mei', PASSWORD, '2001:db8:1:2:dead:beef:0:5'))).code).toBe('ok');
    expect(await outcome(auth.login('mei', PASSWORD, '198.51.100.200'))).toEqual({ code: 'RATE_LIMITED', retryAfter: 3600 });
    // A known client still has the per-username-and-address limit: 10 guesses in 5 minutes.
    for (let i = 0; i < 10; i++) expect((await outcome(auth.login('mei', `guess-${i}`, '203.0.113.7'))).code).toBe('INVALID_CREDENTIALS');
    expect(await outcome(auth.login('mei', PASSWORD, '203.0.113.7'))).toEqual({ code: 'RATE_LIMITED', retryAfter: 300 });
  });

  it('forgets a known client 30 days after its last successful sign-in (injected clock) and prunes its record', async () => {
    const auth = open();
    const start = clock;
    expect((await outcome(auth.login('mei', PASSWORD, '203.0.113.7'))).code).toBe('ok');
    clock = start + 24 * 3600_000;
    expect((await outcome(auth.login('mei', PASSWORD, '203.0.113.8'))).code).toBe('ok');
    clock = start + 30 * 24 * 3600_000;
    await botnetExhausts(auth);
    expect(await outcome(auth.login('mei', PASSWORD, '203.0.113.7'))).toEqual({ code: 'RATE_LIMITED', retryAfter: 3600 });
    // Signed in from .8 a day later: 29 days ago, still known.
    expect((await outcome(auth.login('mei', PASSWORD, '203.0.113.8'))).code).toBe('ok');
    const rows = db.prepare('SELECT key_hash FROM login_known_clients').all() as { key_hash: string }[];
    expect(rows).toHaveLength(1);
    expect(rows[0]!.key_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('keeps a known client across a restart: a new AuthService on the same database file still lets the agent in', async () => {
    expect((await outcome(open().login('mei', PASSWORD, '203.0.113.7'))).code).toBe('ok');
    db.close();
    db = openDatabase(dbPath);
    const after = open();
    await botnetExhausts(after);
    expect((await outcome(after.login('mei', PASSWORD, '203.0.113.7'))).code).toBe('ok');
    expect((await outcome(after.login('mei', PASSWORD, '198.51.100.200'))).code).toBe('RATE_LIMITED');
  });

  it('counts a whole IPv6 /64 as one client, so rotating interface ids buys no extra guesses', async () => {
    const auth = open();
    for (let i = 1; i <= 10; i++)
      expect((await outcome(auth.login('mei', `guess-${i}`, `2001:db8:1:2::${i.toString(16)}`))).code).toBe('INVALID_CREDENTIALS');
    expect((await outcome(auth.login('mei', PASSWORD, '2001:db8:1:2:dead:beef:0:1'))).code).toBe('RATE_LIMITED');
    // Another network still has its own budget (the per-username ceiling is 30).
    expect((await outcome(auth.login('mei', PASSWORD, '2001:db8:1:3::1'))).code).toBe('ok');
  });

  it('caps one client address across usernames (password spraying) at 100 attempts in 5 minutes', async () => {
    const auth = open();
    const results = [];
    for (let i = 0; i < 101; i++) results.push((await outcome(auth.login(`user-${i}`, 'spray', '192.0.2.1'))).code);
    expect(results.slice(0, 100).every((c) => c === 'INVALID_CREDENTIALS')).toBe(true);
    expect(results[100]).toBe('RATE_LIMITED');
  });

  it('runs at most a few argon2id checks at once and refuses a long queue with RATE_LIMITED, uncounted', async () => {
    const auth = open({ passwordChecks: { concurrent: 2, waiting: 3 } });
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) => outcome(auth.login(`user-${i}`, 'nope', `198.51.100.${i % 250}`))),
    );
    expect(results.filter((r) => r.code === 'INVALID_CREDENTIALS')).toHaveLength(5);
    expect(results.filter((r) => r.code === 'RATE_LIMITED').every((r) => r.retryAfter === 1)).toBe(true);
    expect(results.filter((r) => r.code === 'RATE_LIMITED')).toHaveLength(95);
    // A refused attempt guessed nothing, so it used none of the user's 10.
    for (let i = 0; i < 10; i++) expect((await outcome(auth.login('mei', `guess-${i}`, '198.51.100.99'))).code).toBe('INVALID_CREDENTIALS');
  });
});

describe('login throttling over HTTP', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('answers 100 parallel logins with 10 checks and 90 × 429 with Retry-After, and no token for the right password at 80', async () => {
    const responses = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        s.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          payload: { username: 'agent2', password: i === 79 ? 'huiliu-demo' : `guess-${i}` },
        }),
      ),
    );
    expect(responses.filter((r) => r.statusCode === 200)).toHaveLength(0);
    expect(responses.filter((r) => r.statusCode === 401)).toHaveLength(10);
    const limited = responses.filter((r) => r.statusCode === 429);
    expect(limited).toHaveLength(90);
    for (const r of limited) {
      expect(Number(r.headers['retry-after'])).toBeGreaterThan(0);
      expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(300);
      expect((r.json() as { error: { code: string } }).error.code).toBe('RATE_LIMITED');
    }
    const after = await s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'agent2', password: 'huiliu-demo' },
    });
    expect(after.statusCode).toBe(429);
  });
});

describe('a name-guessing botnet behind the trusted proxy cannot lock an agent out at their desk', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s.cleanup();
  });
  const login = (password: string, from: string) =>
    s.app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      headers: { 'X-Forwarded-For': from },
      payload: { username: 'privacy', password },
    });

  it('answers the right password with 200 from the address the user signed in from and 429 from a new one', async () => {
    expect((await login('huiliu-demo', '203.0.113.50')).statusCode).toBe(200);
    for (let i = 0; i < 30; i++) expect((await login(`guess-${i}`, `198.51.100.${i}`)).statusCode).toBe(401);
    const desk = await login('huiliu-demo', '203.0.113.50');
    expect(desk.statusCode).toBe(200);
    expect(s.services.auth.verify((desk.json() as { token: string }).token)?.username).toBe('privacy');
    const elsewhere = await login('huiliu-demo', '198.51.100.200');
    expect(elsewhere.statusCode).toBe(429);
    // The hour-long window began with the first guess, moments ago (real clock here).
    expect(Number(elsewhere.headers['retry-after'])).toBeGreaterThan(3500);
    expect(Number(elsewhere.headers['retry-after'])).toBeLessThanOrEqual(3600);
  });
});

describe('login limits from HUILIU_CONFIG', () => {
  let s: TestServer;
  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-login-limits-'));
    writeFileSync(join(dir, 'c.json'), JSON.stringify({ limits: { login: { perUserAndIp: { points: 3, seconds: 60 } } } }));
    s = await startTestServer({ HUILIU_CONFIG: join(dir, 'c.json') });
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('locks a username out after the configured number of attempts, with Retry-After within the window', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await s.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload: { username: 'agent1', password: `nope-${i}` } });
      codes.push(r.statusCode);
      if (r.statusCode === 429) expect(Number(r.headers['retry-after'])).toBeLessThanOrEqual(60);
    }
    expect(codes).toEqual([401, 401, 401, 429]);
  });
});

/** A customer writes on the app channel; returns the new session's id. */
async function customerWrites(s: TestServer, externalId: string): Promise<string> {
  const res = await s.app.inject({
    method: 'POST',
    url: '/api/v1/channels/app/messages',
    headers: { 'x-huiliu-key': 'demo-app-key' },
    payload: { customer: { externalId, name: `Customer ${externalId}` }, text: `help ${externalId}`, clientMessageId: `c-${externalId}` },
  });
  expect(res.statusCode).toBe(202);
  return (res.json() as { sessionId: string }).sessionId;
}

async function logout(s: TestServer, token: string): Promise<void> {
  const res = await s.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { authorization: `Bearer ${token}` } });
  expect(res.statusCode).toBe(204);
}

/** Records the events a socket receives, and why it was disconnected. */
function record(socket: Socket) {
  const events: { event: string; payload: unknown }[] = [];
  let reason: string | null = null;
  socket.onAny((event: string, payload: unknown) => events.push({ event, payload }));
  socket.on('disconnect', (r) => (reason = r));
  return { events, reason: () => reason };
}

describe('revocation reaches live agent sockets at once', () => {
  let s: TestServer;
  let configDir: string;
  const sockets: Socket[] = [];
  beforeAll(async () => {
    configDir = mkdtempSync(join(tmpdir(), 'huiliu-auth-config-'));
    // Offers would time out only after 10 minutes: a re-offer within seconds proves it came from the logout.
    const config = join(configDir, 'huiliu.json');
    writeFileSync(config, JSON.stringify({ routing: { ...DEFAULT_ROUTING_CONFIG, offerTimeoutMs: 600_000 } }));
    s = await startTestServer({ HUILIU_CONFIG: config });
  });
  afterEach(() => {
    for (const x of sockets.splice(0)) x.close();
  });
  afterAll(async () => {
    await s.cleanup();
    rmSync(configDir, { recursive: true, force: true });
  });

  it('disconnects the socket on logout, stops its queue pushes and offers its pending contact to another agent now', async () => {
    const agentToken = await s.login('agent1');
    const agent = await openAgentSocket(s, agentToken);
    sockets.push(agent);
    const seen = record(agent);
    const offered = new Promise<{ sessionId: string }>((resolve) => agent.once('offer:new', resolve));
    const sessionId = await customerWrites(s, 'revoke-1');
    expect((await offered).sessionId).toBe(sessionId);

    const lead = await openAgentSocket(s, await s.login('lead'));
    sockets.push(lead);
    const reoffered = new Promise<{ sessionId: string }>((resolve) =>
      lead.on('offer:new', (o: { sessionId: string }) => o.sessionId === sessionId && resolve(o)),
    );
    await logout(s, agentToken);
    await until(() => seen.reason() !== null, 2000);
    expect(seen.reason()).toBe('io server disconnect');
    expect((await reoffered).sessionId).toBe(sessionId);

    const countBefore = seen.events.length;
    const leadSeen = record(lead);
    const next = await customerWrites(s, 'revoke-2');
    await until(() => leadSeen.events.some((e) => e.event === 'queue:upsert' && (e.payload as { id: string }).id === next));
    expect(seen.events.slice(countBefore)).toEqual([]);
  });

  it('gives the chats of an agent who signs out back to the queue at once and offers them to a colleague', async () => {
    const agentToken = await s.login('agent1');
    const agent = await openAgentSocket(s, agentToken);
    sockets.push(agent);
    const sessionId = await customerWrites(s, 'signout-1');
    await until(async () => (await ack(agent, 'offer:accept', { sessionId })).ok);
    const lead = await openAgentSocket(s, await s.login('lead'));
    sockets.push(lead);
    const reoffered = new Promise<{ sessionId: string }>((resolve) =>
      lead.on('offer:new', (o: { sessionId: string }) => o.sessionId === sessionId && resolve(o)),
    );
    await logout(s, agentToken);
    // reassignAfterMs is 2 minutes; a sign-out does not wait for it.
    expect((await reoffered).sessionId).toBe(sessionId);
    expect(await s.services.store.getSession(sessionId)).toMatchObject({ status: 'offered', assignedAgentId: null });
  });

  it('disconnects every socket of the revoked token and keeps the same user’s other token connected', async () => {
    const first = await s.login('agent1');
    const second = await s.login('agent1');
    const a = await openAgentSocket(s, first);
    const b = await openAgentSocket(s, first);
    const other = await openAgentSocket(s, second);
    sockets.push(a, b, other);
    const [seenA, seenB, seenOther] = [record(a), record(b), record(other)];
    await logout(s, first);
    await until(() => seenA.reason() !== null && seenB.reason() !== null, 2000);
    expect(other.connected).toBe(true);
    expect(seenOther.reason()).toBeNull();
    expect((await ack(other, 'queue:list', {})).ok).toBe(true);
    // Still routed: the agent is still in the pool. Contacts the earlier tests left waiting were offered
    // to it on reconnect; once it takes those, a new contact is offered on the remaining connection.
    const me = await s.app.inject({ url: '/api/v1/auth/me', headers: { authorization: `Bearer ${second}` } });
    const agentId = (me.json() as { user: { id: string } }).user.id;
    for (const waiting of await s.services.store.listSessions({ status: ['offered'], offeredAgentId: agentId })) {
      expect((await ack(other, 'offer:accept', { sessionId: waiting.id })).ok).toBe(true);
      expect((await ack(other, 'session:close', { sessionId: waiting.id, wrapUpCode: 'resolved' })).ok).toBe(true);
    }
    const offers: string[] = [];
    other.on('offer:new', (o: { sessionId: string }) => offers.push(o.sessionId));
    const sessionId = await customerWrites(s, 'revoke-3');
    await until(() => offers.includes(sessionId), 3000);
    expect((await s.services.store.getSession(sessionId))?.offeredAgentId).toBe(agentId);
  });

  it('disconnects every socket of a user whose tokens are all revoked (revokeUser)', async () => {
    const a = await openAgentSocket(s, await s.login('agent2'));
    const b = await openAgentSocket(s, await s.login('agent2'));
    sockets.push(a, b);
    const [seenA, seenB] = [record(a), record(b)];
    const userId = s.services.auth.verify(await s.login('agent2'))!.id;
    s.services.auth.revokeUser(userId);
    await until(() => seenA.reason() === 'io server disconnect' && seenB.reason() === 'io server disconnect', 2000);
  });

  it('disconnects the socket when its token expires, without waiting for an event', async () => {
    const token = await s.login('agent1');
    // A token that expires 400 ms from now, as if issued long ago: the expiry is the stored one.
    const db = new Database(join(s.dataDir, 'huiliu.db'));
    db.prepare('UPDATE auth_tokens SET expires_at = ? WHERE token_hash = ?').run(
      new Date(Date.now() + 400).toISOString(),
      tokenHash(token),
    );
    db.close();
    const socket = await openAgentSocket(s, token);
    sockets.push(socket);
    const seen = record(socket);
    expect(socket.connected).toBe(true);
    await until(() => seen.reason() !== null, 3000);
    expect(seen.reason()).toBe('io server disconnect');
    const again = (await openAgentSocket(s, token).catch((e: unknown) => e)) as Error & { data?: { code: string } };
    expect(again.data?.code).toBe('UNAUTHENTICATED');
  });
});
