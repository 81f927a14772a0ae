import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventOf } from '../src/bus/bus';
import { newEvent, sessionFacts } from '../src/bus/events';
import { ConfigError, loadConfig } from '../src/config/config';
import type { DeliveryRecord } from '../src/gateway/channels';
import { createLogger } from '../src/logging/logger';
import { startServer, type RunningServer } from '../src/main';
import { writeConfigFile } from './support/config-file';
import { startTestServer, type TestServer } from './support/harness';
import { eventually, until } from './support/until';
import { startWebhookReceiver } from './support/webhook-receiver';
import { metricValue } from './support/metrics';
import { laneEnv } from './support/lane';

const SECRET = 'webhook-secret-0123456789abcdef';
const KEY = 'hooked-app-key-0123456789';
const RETRY = { baseDelayMs: 20, maxDelayMs: 80, maxAttempts: 3, timeoutMs: 2000 };

const hookedConfig = (url: string, retry: object = RETRY) =>
  writeConfigFile({
    channels: {
      app: { webhook: retry },
      accounts: [
        {
          channel: 'AP',
          accountId: 'hooked',
          name: 'Hooked app',
          key: KEY,
          settings: { webhookUrl: url },
          secrets: { webhookSecret: SECRET },
        },
      ],
    },
  });

/** The customer `externalId` writes through the app; an agent's reply is stored and published as the hub does. */
async function replyTo(s: RunningServer, externalId: string, text: string): Promise<{ messageId: string; sessionId: string }> {
  const res = await s.app.inject({
    method: 'POST',
    url: '/api/v1/channels/app/messages',
    headers: { 'x-huiliu-key': KEY },
    payload: { customer: { externalId }, text: 'hello?', clientMessageId: `in-${externalId}-${text.length}` },
  });
  expect(res.statusCode).toBe(202);
  const { sessionId } = res.json() as { sessionId: string };
  const { store, bus } = s.services;
  const session = (await store.getSession(sessionId))!;
  const { envelope } = await store.appendOutbound({
    sessionId,
    authorId: null,
    clientMessageId: `out-${externalId}-${text}`,
    content: { kind: 'text', body: { text } },
    critical: true,
  });
  await bus.publish(
    newEvent('message.out', {
      actor: 'system',
      sessionId,
      conversationId: envelope.conversationId,
      payload: { envelope, session: sessionFacts(session) },
    }),
  );
  return { messageId: envelope.id, sessionId };
}

const stateOf = (s: RunningServer, messageId: string, state: DeliveryRecord['state']) =>
  eventually(async () => {
    const d = await s.services.channels.delivery(messageId);
    return d?.state === state ? d : null;
  });

describe('app webhooks (issue 13)', () => {
  let s: TestServer;
  let hook: Awaited<ReturnType<typeof startWebhookReceiver>>;
  const changes: EventOf<'delivery.changed'>[] = [];
  const lines: string[] = [];
  beforeAll(async () => {
    hook = await startWebhookReceiver(SECRET);
    const logger = createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } });
    s = await startTestServer({ HUILIU_CONFIG: hookedConfig(hook.url) }, { logger });
    await s.services.bus.subscribeAll('delivery.changed', (e) => void changes.push(e));
  });
  afterAll(async () => {
    await s.cleanup();
    await hook.close();
  });

  it('POSTs a reply signed, with its timestamp and delivery id, and records it delivered', async () => {
    hook.answerWith(() => 200);
    const before = Math.floor(Date.now() / 1000);
    const { messageId, sessionId } = await replyTo(s, 'user-ok', 'Your parcel left today.');
    await stateOf(s, messageId, 'delivered');
    const [got, ...more] = hook.of('user-ok');
    expect(more).toHaveLength(0);
    expect(got!.verified).toBe(true);
    expect(got!.headers['x-huiliu-delivery']).toBe(messageId);
    expect(got!.headers['content-type']).toBe('application/json');
    expect(Number(got!.headers['x-huiliu-timestamp'])).toBeGreaterThanOrEqual(before);
    expect(got!.headers['x-huiliu-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    const body = JSON.parse(got!.body) as Record<string, unknown>;
    const session = (await s.services.store.getSession(sessionId))!;
    expect(body).toEqual({
      type: 'message',
      id: messageId,
      sessionId,
      conversationId: session.conversationId,
      externalId: 'user-ok',
      seq: expect.any(Number) as number,
      author: 'system',
      kind: 'text',
      text: 'Your parcel left today.',
      sentAt: expect.any(String) as string,
    });
    await until(() => changes.some((e) => e.payload.messageId === messageId && e.payload.state === 'delivered'));
  });

  it('refuses a forged signature on the receiving side (the receiver answers 401: the check can fail)', async () => {
    const { verifyWebhook } = await import('../src/gateway/app/webhook');
    const [got] = hook.of('user-ok');
    const headers = { timestamp: got!.headers['x-huiliu-timestamp'] as string, signature: got!.headers['x-huiliu-signature'] as string };
    expect(verifyWebhook(SECRET, headers, got!.body, Date.now())).toBe(true);
    expect(verifyWebhook('another-secret-0123456789', headers, got!.body, Date.now())).toBe(false);
    expect(verifyWebhook(SECRET, headers, got!.body.replace('left', 'lost'), Date.now())).toBe(false);
    // Replayed an hour later: the timestamp is out of tolerance.
    expect(verifyWebhook(SECRET, headers, got!.body, Date.now() + 3_600_000)).toBe(false);
  });

  it('tries again after a 500 and records the message delivered on the 200', async () => {
    hook.answerWith((user, n) => (user === 'user-flaky' && n === 0 ? 500 : 200));
    const { messageId } = await replyTo(s, 'user-flaky', 'One moment please.');
    await stateOf(s, messageId, 'delivered');
    expect(hook.of('user-flaky').map((r) => r.headers['x-huiliu-delivery'])).toEqual([messageId, messageId]);
  });

  it('dead-letters after maxAttempts failures (message failed, WEBHOOK_DEAD_LETTERED), and an admin redelivers it', async () => {
    hook.answerWith((user) => (user === 'user-down' ? 503 : 200));
    const { messageId } = await replyTo(s, 'user-down', 'Secret order details 42');
    const failed = await stateOf(s, messageId, 'failed');
    expect(failed.error?.code).toBe('WEBHOOK_DEAD_LETTERED');
    expect(hook.of('user-down')).toHaveLength(RETRY.maxAttempts);
    await until(() => changes.some((e) => e.payload.messageId === messageId && e.payload.error?.code === 'WEBHOOK_DEAD_LETTERED'));

    const admin = await s.login('admin');
    const list = await s.app.inject({
      method: 'GET',
      url: '/api/v1/channels/app/webhooks/dead-letters?app=hooked',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain('Secret order details');
    expect(list.body).not.toContain('user-down');
    const dead = (list.json() as { deadLetters: { id: string; messageId: string; attempts: number; lastError: string; reason: string }[] })
      .deadLetters;
    const letter = dead.find((d) => d.messageId === messageId)!;
    expect(letter).toMatchObject({ attempts: RETRY.maxAttempts, lastError: 'HTTP 503', reason: 'exhausted' });

    const agent = await s.login('agent1');
    const refused = await s.app.inject({
      method: 'POST',
      url: `/api/v1/channels/app/webhooks/dead-letters/${letter.id}/redeliver`,
      headers: { authorization: `Bearer ${agent}` },
    });
    expect(refused.statusCode).toBe(403);

    hook.answerWith(() => 200);
    const redeliver = await s.app.inject({
      method: 'POST',
      url: `/api/v1/channels/app/webhooks/dead-letters/${letter.id}/redeliver`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(redeliver.statusCode).toBe(202);
    await stateOf(s, messageId, 'delivered');
    expect(hook.of('user-down')).toHaveLength(RETRY.maxAttempts + 1);
    const again = await s.app.inject({
      method: 'POST',
      url: `/api/v1/channels/app/webhooks/dead-letters/${letter.id}/redeliver`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(again.statusCode).toBe(404);
    const after = await s.app.inject({
      method: 'GET',
      url: '/api/v1/channels/app/webhooks/dead-letters',
      headers: { authorization: `Bearer ${admin}` },
    });
    expect((after.json() as { deadLetters: { messageId: string }[] }).deadLetters.map((d) => d.messageId)).not.toContain(messageId);
  });

  it('takes a 400 as a refusal for good: one try, message failed WEBHOOK_REFUSED', async () => {
    hook.answerWith((user) => (user === 'user-bad' ? 400 : 200));
    const { messageId } = await replyTo(s, 'user-bad', 'Thanks for waiting.');
    const failed = await stateOf(s, messageId, 'failed');
    expect(failed.error?.code).toBe('WEBHOOK_REFUSED');
    await new Promise((r) => setTimeout(r, 4 * RETRY.maxDelayMs));
    expect(hook.of('user-bad')).toHaveLength(1);
  });

  it('counts tries and outcomes and shows the outbox depth and dead letters in /metrics', async () => {
    const value = (name: string, label: string) => metricValue(s, name, label);
    expect(await value('huiliu_app_webhook_attempts_total', 'outcome="delivered"')).toBeGreaterThanOrEqual(2);
    expect(await value('huiliu_app_webhook_attempts_total', 'outcome="retry"')).toBeGreaterThanOrEqual(1);
    expect(await value('huiliu_app_webhook_attempts_total', 'outcome="refused"')).toBeGreaterThanOrEqual(1);
    expect(await value('huiliu_app_webhook_deliveries_total', 'outcome="delivered"')).toBeGreaterThanOrEqual(2);
    expect(await value('huiliu_app_webhook_deliveries_total', 'outcome="exhausted"')).toBeGreaterThanOrEqual(1);
    expect(await value('huiliu_app_webhook_deliveries_total', 'outcome="refused"')).toBe(1);
    // The 400 test's delivery stays dead; nothing is pending once the tries are done.
    expect(await value('huiliu_app_webhook_outbox', 'status="dead"')).toBeGreaterThanOrEqual(1);
    expect(await value('huiliu_app_webhook_outbox', 'status="pending"')).toBe(0);
  });

  it('logs the tries by id and status, never the secret, the text or the app user id', () => {
    const webhookLines = lines.filter((l) => l.includes('gateway.app.webhooks'));
    expect(webhookLines.some((l) => l.includes('dead-lettered') && l.includes('HTTP 503'))).toBe(true);
    expect(webhookLines.some((l) => l.includes('try failed'))).toBe(true);
    const all = lines.join('\n');
    for (const secretOrPersonal of [SECRET, 'Secret order details 42', 'Your parcel left today.', 'user-down', 'user-flaky'])
      expect(all).not.toContain(secretOrPersonal);
  });

  it('leaves the demo app (no webhook) to polling: its replies are sent, nothing is POSTed', async () => {
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId: 'poller' }, text: 'hi', clientMessageId: 'poll-1' },
    });
    const { sessionId } = res.json() as { sessionId: string };
    const { store, bus } = s.services;
    const session = (await store.getSession(sessionId))!;
    const { envelope } = await store.appendOutbound({
      sessionId,
      authorId: null,
      clientMessageId: 'poll-out',
      content: { kind: 'text', body: { text: 'hello' } },
      critical: true,
    });
    await bus.publish(
      newEvent('message.out', {
        actor: 'system',
        sessionId,
        conversationId: envelope.conversationId,
        payload: { envelope, session: sessionFacts(session) },
      }),
    );
    await stateOf(s, envelope.id, 'sent');
    expect(hook.of('poller')).toHaveLength(0);
  });
});

describe('app webhooks across a restart (issue 13)', () => {
  it('sends a delivery still pending when the server stopped once it is back', async () => {
    const hook = await startWebhookReceiver(SECRET);
    const dataDir = mkdtempSync(join(tmpdir(), 'huiliu-webhook-'));
    // The first try fails; the next is due only after the server has stopped.
    const configFile = hookedConfig(hook.url, { ...RETRY, baseDelayMs: 1500, maxDelayMs: 1500 });
    const start = () =>
      startServer(
        loadConfig({
          env: laneEnv({ HUILIU_DATA_DIR: dataDir, HUILIU_PORT: '0', HUILIU_CONFIG: configFile }, dataDir),
          argv: ['--demo'],
          cwd: process.cwd(),
        }),
        createLogger({ level: 'silent' }),
      );
    try {
      hook.answerWith(() => 503);
      const first = await start();
      const { messageId } = await replyTo(first, 'user-restart', 'See you tomorrow.');
      await until(() => hook.of('user-restart').length === 1);
      await first.close();
      // Stopped before its next try: nothing more reached the app.
      await new Promise((r) => setTimeout(r, 1600));
      expect(hook.of('user-restart')).toHaveLength(1);

      hook.answerWith(() => 200);
      const second = await start();
      try {
        await eventually(async () => ((await second.services.channels.delivery(messageId))?.state === 'delivered' ? true : null), 8000);
        expect(hook.of('user-restart')).toHaveLength(2);
        expect(hook.of('user-restart').every((r) => r.verified)).toBe(true);
      } finally {
        await second.close();
      }
    } finally {
      await hook.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
    // Two server starts: in the scale-out lane each also joins the cluster and opens the PKCS#11 token
    // (20 s ran out there at load ≈ 5).
  }, 60_000);
});

describe('webhook URLs in HUILIU_CONFIG (issue 13)', () => {
  const load = (settings: object, secrets: object = { webhookSecret: SECRET }) =>
    loadConfig({
      env: {
        HUILIU_DATA_DIR: tmpdir(),
        HUILIU_CONFIG: writeConfigFile({
          channels: { accounts: [{ channel: 'AP', accountId: 'x', name: 'X', key: KEY, settings, secrets }] },
        }),
      },
      argv: [],
      cwd: process.cwd(),
    });

  it.each([
    ['http://example.com/hook', /must be https/],
    ['https://user:pass@example.com/hook', /must not carry a user or password/],
    ['https://token@example.com/hook', /must not carry a user or password/],
    ['ftp://example.com/hook', /must be https:\/\/ \(not ftp:\)/],
    ['file:///etc/passwd', /must be https:\/\/ \(not file:\)/],
    ['javascript:alert(1)', /must be https/],
    ['not a url', /not a valid URL/],
    ['http://127.0.0.1.evil.example/hook', /must be https/],
  ])('refuses %s with an error naming the field', (url, why) => {
    expect(() => load({ webhookUrl: url })).toThrow(ConfigError);
    expect(() => load({ webhookUrl: url })).toThrow(/channels\.accounts\.0\.settings\.webhookUrl/);
    expect(() => load({ webhookUrl: url })).toThrow(why);
  });

  it('refuses a webhook without a signing secret, and takes https or loopback http with one', () => {
    expect(() => load({ webhookUrl: 'https://example.com/hook' }, {})).toThrow(/secrets\.webhookSecret/);
    expect(() => load({ webhookUrl: 'https://example.com/hook' }, { webhookSecret: 'short' })).toThrow(/at least 16/);
    expect(load({ webhookUrl: 'https://example.com/hook' }).channelAccounts[0]?.settings).toEqual({
      webhookUrl: 'https://example.com/hook',
    });
    expect(load({ webhookUrl: 'http://localhost:8080/hook' }).channelAccounts).toHaveLength(1);
    expect(load({ webhookUrl: 'http://[::1]:8080/hook' }).channelAccounts).toHaveLength(1);
  });
});
