import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Bus } from '../../bus/bus';
import { createLocalKeyProvider } from '../../keys/provider.local';
import type { KeyProvider } from '../../keys/provider';
import { createLogger } from '../../logging/logger';
import { createMetrics } from '../../metrics/metrics';
import type { SessionStore } from '../../sessions/store';
import { createSqliteChannelStore } from '../channels.sqlite';
import type { ChannelStore } from '../channels';
import { createSqliteWebhookOutbox, type WebhookOutbox } from './webhook-outbox.sqlite';
import { createAppWebhooks } from './webhooks';

const DAY = 24 * 3600_000;

/** Issue 13: the outbox keeps delivered rows for `keepDeliveredDays`, then the worker deletes them. */
describe('webhook outbox cleanup', () => {
  let dir: string;
  let keys: KeyProvider;
  let channels: ChannelStore;
  let outbox: WebhookOutbox;
  let clock = Date.parse('2026-11-01T00:00:00Z');
  const now = () => clock;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-outbox-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    channels = createSqliteChannelStore({ path: join(dir, 'db.sqlite'), keys });
    outbox = createSqliteWebhookOutbox({ path: join(dir, 'db.sqlite'), now });
  });
  afterEach(async () => {
    outbox.close();
    await channels.close();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const queue = (n: number) => {
    outbox.enqueue({
      messageId: `m-${n}`,
      appId: 'shop',
      sessionId: `AP-${n}`,
      conversationId: `c-${n}`,
      seq: n,
      customerId: 'cust',
      sessionJson: '{}',
    });
    return outbox.claimDue(clock, clock + 1000, 10).find((d) => d.messageId === `m-${n}`)!;
  };

  it('deletes delivered rows older than the age, never pending or dead ones, and counts them', () => {
    clock = Date.parse('2026-11-01T00:00:00Z');
    const old = queue(1);
    outbox.markDelivered(old.id, 1);
    const oldDead = queue(2);
    outbox.markDead(oldDead.id, 3, 'exhausted', 'HTTP 503');
    queue(3); // stays pending (claimed, never finished)
    clock += 6 * DAY;
    const recent = queue(4);
    outbox.markDelivered(recent.id, 1);
    clock += 2 * DAY; // old: 8 days, recent: 2 days

    const metrics = createMetrics();
    const webhooks = createAppWebhooks({
      outbox,
      channels,
      // Neither is touched by the cleanup; the worker is not started.
      store: {} as SessionStore,
      bus: {} as Bus,
      logger: createLogger({ level: 'silent' }),
      retry: { baseDelayMs: 10, maxDelayMs: 10, maxAttempts: 1, timeoutMs: 100 },
      metrics,
      now,
      keepDeliveredMs: 7 * DAY,
    });
    expect(outbox.countByStatus()).toEqual({ pending: 1, delivered: 2, dead: 1 });
    expect(webhooks.cleanup()).toBe(1);
    expect(outbox.get(old.id)).toBeNull();
    expect(outbox.get(recent.id)?.status).toBe('delivered');
    expect(outbox.get(oldDead.id)?.status).toBe('dead');
    expect(outbox.countByStatus()).toEqual({ pending: 1, delivered: 1, dead: 1 });
    expect(webhooks.deadLetterCounts()).toEqual(new Map([['shop', 1]]));
    expect(webhooks.cleanup()).toBe(0);
    return metrics.registry.getSingleMetricAsString('huiliu_app_webhook_purged_total').then((text) => {
      expect(text).toMatch(/huiliu_app_webhook_purged_total 1$/m);
    });
  });
});
