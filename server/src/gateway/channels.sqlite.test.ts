import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuthService } from '../auth/auth';
import { TamperError } from '../crypto/aead';
import { openDatabase } from '../db/sqlite';
import { createLocalKeyProvider } from '../keys/provider.local';
import type { KeyProvider } from '../keys/provider';
import { createSqliteChannelStore } from './channels.sqlite';

describe('channels store (SQLite)', () => {
  let dir: string;
  let keys: KeyProvider;
  let db: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-channels-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    db = join(dir, 'huiliu.db');
  });
  afterEach(async () => {
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("takes over the app keys auth kept in channel_keys, so an existing data dir's keys keep working", async () => {
    // A data dir from before the channels store: auth's migration made channel_keys and held the key.
    const authDb = openDatabase(db);
    new AuthService(authDb);
    authDb
      .prepare('INSERT INTO channel_keys (key_hash, channel, app_id, name, skill_group, created_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(createHash('sha256').update('old-shop-key').digest('hex'), 'AP', 'shop', 'Shop', 'vip', '2026-01-01T00:00:00.000Z');
    authDb.close();
    const channels = createSqliteChannelStore({ path: db, keys });
    expect(await channels.accountByKey('AP', 'old-shop-key')).toMatchObject({
      channel: 'AP',
      accountId: 'shop',
      name: 'Shop',
      skillGroup: 'vip',
    });
    expect(await channels.accountByKey('WB', 'old-shop-key')).toBeNull();
    await channels.close();
    // Reopening does not copy again (a removed or changed account would otherwise come back).
    const again = createSqliteChannelStore({ path: db, keys });
    expect(await again.accounts('AP')).toHaveLength(1);
    await again.close();
  });

  it('stores a presented key only as its hash and re-adding the key updates its account', async () => {
    const channels = createSqliteChannelStore({ path: db, keys });
    await channels.addAccount({ key: 'secret-app-key', channel: 'AP', accountId: 'shop', name: 'Shop', skillGroup: null });
    await channels.addAccount({ key: 'secret-app-key', channel: 'AP', accountId: 'shop', name: 'Shop (renamed)', skillGroup: 'vip' });
    const raw = openDatabase(db);
    const dump = JSON.stringify(raw.prepare('SELECT * FROM channel_accounts').all());
    raw.close();
    expect(dump).not.toContain('secret-app-key');
    expect(await channels.accounts('AP')).toEqual([expect.objectContaining({ name: 'Shop (renamed)', skillGroup: 'vip' })]);
    expect(await channels.accountByKey('AP', 'x'.repeat(257))).toBeNull();
    await channels.close();
  });

  it('caches known keys, and refuses a revoked key or serves an updated account on the very next lookup', async () => {
    const channels = createSqliteChannelStore({ path: db, keys });
    await channels.addAccount({ key: 'shop-key', channel: 'AP', accountId: 'shop', name: 'Shop', skillGroup: null });
    expect(await channels.accountByKey('AP', 'shop-key')).toMatchObject({ name: 'Shop' });
    // Served from the cache now: the row is changed behind the store's back and the answer stays.
    const raw = openDatabase(db);
    raw.prepare("UPDATE channel_accounts SET name = 'Changed elsewhere'").run();
    expect(await channels.accountByKey('AP', 'shop-key')).toMatchObject({ name: 'Shop' });
    // A change through the store is seen at once.
    await channels.addAccount({ key: 'shop-key', channel: 'AP', accountId: 'shop', name: 'Shop (renamed)', skillGroup: 'vip' });
    expect(await channels.accountByKey('AP', 'shop-key')).toMatchObject({ name: 'Shop (renamed)', skillGroup: 'vip' });
    expect(await channels.revokeKey('shop-key')).toBe(true);
    expect(await channels.accountByKey('AP', 'shop-key')).toBeNull();
    expect(await channels.revokeKey('shop-key')).toBe(false);
    // The account itself stays; a new key opens it again.
    expect(await channels.accounts('AP')).toEqual([expect.objectContaining({ accountId: 'shop' })]);
    raw.close();
    await channels.close();
  });

  it('sees a revocation made by another process on the same file once the cached entry expires', async () => {
    let t = Date.parse('2026-11-30T00:00:00.000Z');
    const here = createSqliteChannelStore({ path: db, keys, now: () => t, keyCache: { max: 10, ttlMs: 30_000 } });
    const elsewhere = createSqliteChannelStore({ path: db, keys });
    await here.addAccount({ key: 'shop-key', channel: 'AP', accountId: 'shop', name: 'Shop', skillGroup: null });
    expect(await here.accountByKey('AP', 'shop-key')).not.toBeNull();
    expect(await elsewhere.revokeKey('shop-key')).toBe(true);
    t += 30_000; // lru-cache serves an entry for its whole ttl, inclusive
    expect(await here.accountByKey('AP', 'shop-key')).not.toBeNull();
    t += 1;
    expect(await here.accountByKey('AP', 'shop-key')).toBeNull();
    await elsewhere.close();
    await here.close();
  });

  it("seals an account's secrets: never plain on disk, and a sealed blob moved to another account does not open", async () => {
    const channels = createSqliteChannelStore({ path: db, keys });
    const wechat = await channels.addAccount({
      channel: 'WX',
      accountId: 'wx1234',
      name: 'Official account',
      skillGroup: null,
      secrets: { appSecret: 'wx-app-secret-value' },
    });
    const other = await channels.addAccount({
      channel: 'WX',
      accountId: 'wx5678',
      name: 'Other account',
      skillGroup: null,
      secrets: { appSecret: 'other' },
    });
    expect(await channels.secrets(wechat.id)).toEqual({ appSecret: 'wx-app-secret-value' });
    const raw = openDatabase(db);
    const bytes = Buffer.concat(
      (raw.prepare('SELECT sealed_secrets FROM channel_accounts').all() as { sealed_secrets: Buffer }[]).map((r) => r.sealed_secrets),
    );
    expect(bytes.includes(Buffer.from('wx-app-secret-value'))).toBe(false);
    raw
      .prepare(
        'UPDATE channel_accounts SET sealed_secrets = (SELECT sealed_secrets FROM channel_accounts WHERE id = ?), kek_id = (SELECT kek_id FROM channel_accounts WHERE id = ?), wrapped_key = (SELECT wrapped_key FROM channel_accounts WHERE id = ?) WHERE id = ?',
      )
      .run(wechat.id, wechat.id, wechat.id, other.id);
    raw.close();
    await expect(channels.secrets(other.id)).rejects.toBeInstanceOf(TamperError);
    await channels.close();
  });

  it('never moves a delivery state backwards: a late sent after read, or a failed after sent, leaves it', async () => {
    const channels = createSqliteChannelStore({ path: db, keys });
    const id = '0190a5a0-0000-7000-8000-000000000001';
    expect((await channels.recordDelivery(id, 'WX', { state: 'sent' })).changed).toBe(true);
    expect((await channels.recordDelivery(id, 'WX', { state: 'read' })).changed).toBe(true);
    expect((await channels.recordDelivery(id, 'WX', { state: 'sent' })).changed).toBe(false);
    expect((await channels.recordDelivery(id, 'WX', { state: 'failed', error: { code: '45015', message: 'out of window' } })).changed).toBe(
      false,
    );
    expect(await channels.delivery(id)).toMatchObject({ state: 'read', error: null });
    const failed = '0190a5a0-0000-7000-8000-000000000002';
    await channels.recordDelivery(failed, 'WX', { state: 'failed', error: { code: '45015', message: 'out of window' } });
    expect((await channels.deliveries([id, failed])).get(failed)).toMatchObject({
      state: 'failed',
      error: { code: '45015', message: 'out of window' },
    });
    // A retry that got through replaces the failure.
    expect((await channels.recordDelivery(failed, 'WX', { state: 'sent' })).record).toMatchObject({ state: 'sent', error: null });
    await channels.close();
  });

  it('lets a bounce (a failure the channel reported after taking the message) replace sent, never delivered', async () => {
    const channels = createSqliteChannelStore({ path: db, keys });
    const bounce = { state: 'failed' as const, error: { code: 'service-unavailable', message: 'bounced' } };
    const sent = '0190a5a0-0000-7000-8000-000000000003';
    await channels.recordDelivery(sent, 'XM', { state: 'sent' });
    // Without the option a late failure is a redelivery's answer and leaves the success.
    expect((await channels.recordDelivery(sent, 'XM', bounce)).changed).toBe(false);
    expect(await channels.recordDelivery(sent, 'XM', bounce, { bounce: true })).toMatchObject({
      changed: true,
      record: { state: 'failed', error: { code: 'service-unavailable' } },
    });
    const delivered = '0190a5a0-0000-7000-8000-000000000004';
    await channels.recordDelivery(delivered, 'XM', { state: 'delivered' });
    expect((await channels.recordDelivery(delivered, 'XM', bounce, { bounce: true })).changed).toBe(false);
    expect(await channels.delivery(delivered)).toMatchObject({ state: 'delivered', error: null });
    await channels.close();
  });

  it("takes an app account's changed secrets when it is added again with its key (a rotated webhook secret, issue 13)", async () => {
    const channels = createSqliteChannelStore({ path: db, keys });
    const app = { channel: 'AP' as const, accountId: 'shop', name: 'Shop', skillGroup: null, key: 'shop-key-0123456789abcdef' };
    const first = await channels.addAccount({
      ...app,
      settings: { webhookUrl: 'https://shop.example.com/h' },
      secrets: { webhookSecret: 'old-secret-0123456789' },
    });
    expect(await channels.secrets(first.id)).toEqual({ webhookSecret: 'old-secret-0123456789' });
    const again = await channels.addAccount({
      ...app,
      settings: { webhookUrl: 'https://shop.example.com/h' },
      secrets: { webhookSecret: 'new-secret-0123456789' },
    });
    expect(again.id).toBe(first.id);
    expect(await channels.secrets(first.id)).toEqual({ webhookSecret: 'new-secret-0123456789' });
    // Added again without secrets: the sealed ones stay.
    await channels.addAccount(app);
    expect(await channels.secrets(first.id)).toEqual({ webhookSecret: 'new-secret-0123456789' });
    await channels.close();
  });

  it('keeps one keyless account per channel and account id: adding it again updates settings and secrets', async () => {
    const channels = createSqliteChannelStore({ path: db, keys });
    const first = await channels.addAccount({
      channel: 'WX',
      accountId: 'demo',
      name: 'Demo WeChat',
      skillGroup: null,
      settings: { appId: 'wx0000000000demo0', mode: 'safe' },
      secrets: { token: 'old-token' },
    });
    expect(first.settings).toEqual({ appId: 'wx0000000000demo0', mode: 'safe' });
    const again = await channels.addAccount({
      channel: 'WX',
      accountId: 'demo',
      name: 'Demo WeChat (renamed)',
      skillGroup: 'vip',
      settings: { appId: 'wx0000000000demo0', mode: 'plain' },
      secrets: { token: 'new-token' },
    });
    expect(again.id).toBe(first.id);
    expect(await channels.accounts('WX')).toHaveLength(1);
    expect(await channels.account('WX', 'demo')).toMatchObject({
      name: 'Demo WeChat (renamed)',
      skillGroup: 'vip',
      settings: { mode: 'plain' },
    });
    expect(await channels.secrets(first.id)).toEqual({ token: 'new-token' });
    // The same account id on another channel is another account; an unknown one is null.
    expect(await channels.account('XM', 'demo')).toBeNull();
    await channels.addAccount({ channel: 'XM', accountId: 'demo', name: 'Demo XMPP', skillGroup: null });
    expect((await channels.account('XM', 'demo'))?.settings).toEqual({});
    await channels.close();
  });
});
