import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InboundDraft } from '../../../common/message/envelope';
import type { Bus } from '../bus/bus';
import { createMemoryBus } from '../bus/bus.memory';
import type { KeyProvider } from '../keys/provider';
import { createLocalKeyProvider } from '../keys/provider.local';
import { draft } from '../sessions/store.contract';
import type { SessionStore } from '../sessions/store';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { appExternalId } from './app/normalize';
import { Ingest } from './ingest';
import { until } from '../../test/support/until';

describe('Ingest', () => {
  let dir: string;
  let keys: KeyProvider;
  let store: SessionStore;
  let bus: Bus;
  let ingest: Ingest;
  let published: number;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-ingest-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    store = await createSqliteSessionStore({ path: join(dir, 'db.sqlite'), keys });
    bus = createMemoryBus();
    published = 0;
    await bus.subscribe('message.in', 'test', () => void (published += 1));
    ingest = new Ingest(store, bus);
  });
  afterEach(async () => {
    await bus.close();
    await store.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('idle() waits until accepts under way have stored and published (shutdown closes the bus after it)', async () => {
    const published: string[] = [];
    const publish = bus.publish.bind(bus);
    bus.publish = (async (event: Parameters<typeof publish>[0]) => {
      await publish(event);
      if (event.type === 'message.in')
        published.push((event.payload as { envelope: { clientMessageId: string } }).envelope.clientMessageId);
    }) as typeof bus.publish;
    const accepts = Array.from({ length: 20 }, (_, i) =>
      ingest.accept(draft({ identity: { channel: 'WB', externalId: `idle-${i % 4}` }, clientMessageId: `idle-${i}` }), 'general'),
    );
    expect(published).toHaveLength(0);
    await ingest.idle();
    // Every accept had stored and published when idle() resolved: closing the bus now loses nothing.
    expect(published.sort()).toEqual(accepts.map((_, i) => `idle-${i}`).sort());
    expect((await Promise.all(accepts)).every((r) => !r.duplicate)).toBe(true);
  });

  it('refuses a draft that breaks the InboundDraft schema with VALIDATION_FAILED, storing and publishing nothing', async () => {
    const good = draft();
    const bad: [string, unknown][] = [
      ['identity.externalId', { ...good, identity: { channel: 'WB', externalId: '' } }],
      ['identity.channel', { ...good, identity: { channel: 'ZZ', externalId: 'x' } }],
      ['content.body.text', { ...good, content: { kind: 'text', body: { text: '\u200B\u200B' } } }],
      ['clientMessageId', { ...good, clientMessageId: 'x'.repeat(129) }],
      ['sentAt', { ...good, sentAt: 'yesterday' }],
      ['meta.k', { ...good, meta: { k: { nested: true } } }],
    ];
    for (const [path, d] of bad) {
      const error = await ingest.accept(d as InboundDraft, 'general').catch((e: unknown) => e);
      expect(error, path).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect((error as { details: { path: string }[] }).details.map((x) => x.path).join(' '), path).toContain(path);
    }
    await new Promise((r) => setTimeout(r, 20));
    expect(await store.listSessions({})).toEqual([]);
    expect(published).toBe(0);
  });

  it('stores and publishes a valid draft, including an app customer id of 256 characters under a 64-character app id', async () => {
    const externalId = appExternalId('a'.repeat(64), 'u'.repeat(256));
    const r = await ingest.accept(draft({ identity: { channel: 'AP', externalId } }), 'general');
    expect(r).toMatchObject({ duplicate: false, newSession: true });
    expect((await store.findCustomerByIdentity('AP', externalId))?.id).toBe(r.envelope.customerId);
    await until(() => published === 1);
  });

  it("cleans every channel's name for the customer alike: bidi overrides out, an invisible name dropped", async () => {
    const names: (string | undefined)[] = [];
    await bus.subscribe('message.in', 'names', (e) => void names.push(e.payload.customerName));
    const xmpp = await ingest.accept(
      draft({ identity: { channel: 'XM', externalId: 'eve@example.org', displayName: 'Eve \u202Elive' } }),
      'general',
    );
    expect((await store.getCustomer(xmpp.session.customerId))?.name).toBe('Eve live');
    const invisible = await ingest.accept(
      draft({ identity: { channel: 'XM', externalId: 'zw@example.org', displayName: '\u200B\u200B' } }),
      'general',
    );
    expect((await store.getCustomer(invisible.session.customerId))?.name).toBe('XMPP user');
    await until(() => names.length === 2);
    expect(names).toEqual(['Eve live', undefined]);
  });
});
