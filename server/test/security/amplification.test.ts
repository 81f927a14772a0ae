import type { Duplex } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/harness';
import { metricValue } from '../support/metrics';
import { until } from '../support/until';
import { writeConfigFile } from '../support/config-file';
import { openWidget, type WidgetClient } from '../support/widget-client';
import { visitorExternalId } from '../../src/gateway/web/normalize';

/**
 * Issue 6 A2: a client that never reads cannot make the server buffer without bound. Replays are
 * paged, hellos are limited per connection, and every push respects the socket's send buffer.
 */

const BIG = 'z'.repeat(7000);
const PAGE = 100;

/** The raw TLS socket under a ws client: pausing it stops reading, so the server's sends back up. */
const rawOf = (w: WidgetClient) => (w.ws as unknown as { _socket: Duplex })._socket;

async function conversation(s: TestServer, count: number): Promise<{ visitorToken: string; conversationId: string }> {
  const w = await openWidget(s);
  w.send({ type: 'hello' });
  const { visitorToken } = await w.next('welcome');
  let conversationId = '';
  for (let i = 0; i < count; i++) w.send({ type: 'message', clientMessageId: `amp-${String(i).padStart(6, '0')}`, text: `${i} ${BIG}` });
  for (let i = 0; i < count; i++) conversationId = (await w.next('ack')).conversationId;
  w.ws.close();
  return { visitorToken, conversationId };
}

const counter = metricValue;

describe('amplification and unbounded buffering on the widget socket', () => {
  let s: TestServer;
  let visitor: { visitorToken: string; conversationId: string };
  beforeAll(async () => {
    const config = writeConfigFile({
      limits: {
        widget: { messageBurst: 1000, replayPageSize: PAGE },
        visitor: { messages: { points: 10_000, seconds: 60 } },
      },
    });
    s = await startTestServer({ HUILIU_CONFIG: config });
    visitor = await conversation(s, 150);
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('answers 80 hellos from a connection that never reads with a bounded replay and closes it', async () => {
    const w = await openWidget(s);
    rawOf(w).pause();
    for (let i = 0; i < 80; i++) w.send({ type: 'hello', visitorToken: visitor.visitorToken });
    // The server closes it for policy (too many hellos) or as a slow consumer, whichever comes first.
    await until(
      async () =>
        (await counter(s, 'huiliu_widget_closed_total', 'reason="policy"')) +
          (await counter(s, 'huiliu_widget_closed_total', 'reason="slow_consumer"')) >=
        1,
    );
    rawOf(w).resume();
    await w.closed;
    const replayed = w.frames.filter((f) => f.type === 'message').length;
    // At most one page per allowed hello (replayBurst 10), against 80 × 150 before the fix.
    expect(replayed).toBeLessThanOrEqual(10 * PAGE);
  });

  it('closes a connection that says hello more often than its replay budget with 1008', async () => {
    const w = await openWidget(s);
    for (let i = 0; i < 12; i++)
      w.send({ type: 'hello', visitorToken: visitor.visitorToken, conversationId: visitor.conversationId, lastSeq: 149 });
    expect(await w.closed).toBe(1008);
    expect(w.frames.filter((f) => f.type === 'welcome').length).toBe(10);
    expect(await counter(s, 'huiliu_rate_limited_total', 'limit="widget_connection_replays"')).toBeGreaterThanOrEqual(1);
  });

  it('replays one page at a time: the newest page for a new tab, the rest on request from lastSeq', async () => {
    const fresh = await openWidget(s);
    fresh.send({ type: 'hello', visitorToken: visitor.visitorToken });
    await fresh.next('welcome');
    const newest = await fresh.next('replayed');
    expect(newest).toMatchObject({ lastSeq: 150, more: false });
    const seqs = fresh.frames.flatMap((f) => (f.type === 'message' ? [f.message.seq] : []));
    expect(seqs).toEqual(Array.from({ length: PAGE }, (_, i) => 51 + i));
    fresh.ws.close();

    const behind = await openWidget(s);
    behind.send({ type: 'hello', visitorToken: visitor.visitorToken, conversationId: visitor.conversationId, lastSeq: 10 });
    expect(await behind.next('replayed')).toMatchObject({ lastSeq: 10 + PAGE, more: true });
    behind.send({ type: 'history', conversationId: visitor.conversationId, afterSeq: 10 + PAGE });
    expect(await behind.next('replayed', (r) => r.lastSeq === 150)).toMatchObject({ more: false });
    const got = behind.frames.flatMap((f) => (f.type === 'message' ? [f.message.seq] : []));
    expect(got).toEqual(Array.from({ length: 140 }, (_, i) => 11 + i));
    behind.ws.close();
  });

  it('refuses history of a conversation that is not the visitor’s own', async () => {
    const other = await openWidget(s);
    other.send({ type: 'hello' });
    await other.next('welcome');
    other.send({ type: 'message', clientMessageId: 'other-000001', text: 'mine' });
    await other.next('ack');
    other.send({ type: 'history', conversationId: visitor.conversationId, afterSeq: 0 });
    expect((await other.next('error')).code).toBe('SESSION_NOT_FOUND');
    expect(other.frames.filter((f) => f.type === 'message' && f.message.text !== 'mine')).toEqual([]);
    other.ws.close();
  });
});

describe('a widget consumer that stops reading', () => {
  let s: TestServer;
  beforeAll(async () => {
    const config = writeConfigFile({
      limits: {
        widget: { messageBurst: 1000, replayPageSize: 600, sendBufferBytes: 64 * 1024 },
        visitor: { messages: { points: 10_000, seconds: 60 } },
      },
    });
    s = await startTestServer({ HUILIU_CONFIG: config });
  });
  afterAll(async () => {
    await s.cleanup();
  });

  it('is closed with 1013 once its send buffer passes the high-water mark', async () => {
    // About 4 MB of replay: more than the kernel's socket buffers take, so the rest queues in the server.
    // Written through the store in parallel (one fsync per batch) rather than 600 widget round trips.
    const w0 = await openWidget(s);
    w0.send({ type: 'hello' });
    const { visitorToken } = await w0.next('welcome');
    w0.ws.close();
    const at = new Date().toISOString();
    for (let i = 0; i < 600; i += 100) {
      await Promise.all(
        Array.from({ length: 100 }, (_, k) =>
          s.services.store.appendInbound(
            {
              identity: { channel: 'WB', externalId: visitorExternalId(visitorToken) },
              content: { kind: 'text', body: { text: `${i + k} ${BIG}` } },
              critical: true,
              clientMessageId: `buf-${String(i + k).padStart(6, '0')}`,
              sentAt: at,
              receivedAt: at,
              meta: {},
            },
            { skillGroup: 'general' },
          ),
        ),
      );
    }
    const w = await openWidget(s);
    rawOf(w).pause();
    w.send({ type: 'hello', visitorToken });
    await until(async () => (await counter(s, 'huiliu_widget_closed_total', 'reason="slow_consumer"')) >= 1);
    rawOf(w).resume();
    expect(await w.closed).toBe(1013);
    expect(w.frames.filter((f) => f.type === 'message').length).toBeLessThan(600);
  });
});
