import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { HuiliuError } from '../../../common/errors/codes';
import { DELIVERY_RANK, type DeliveryState } from '../../../common/message/delivery';
import type { ChannelCode } from '../../../common/message/session-id';
import { openText, sealText } from '../crypto/aead';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import { migrationsDir } from '../runtime/paths';
import type { KeyProvider } from '../keys/provider';
import { LRUCache } from 'lru-cache';
import type { AccountSettings, ChannelAccount, ChannelStore, DeliveryRecord } from './channels';

const MIGRATIONS = migrationsDir('gateway');
const ACCOUNT_ID = /^[A-Za-z0-9._-]{1,64}$/;
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
// The sealed secrets are bound to their row: a sealed blob copied onto another account does not open.
const aad = (id: string) => `huiliu:channel-account:${id}`;

interface AccountRow {
  id: string;
  channel: ChannelCode;
  account_id: string;
  name: string;
  skill_group: string | null;
  kek_id: string | null;
  wrapped_key: Buffer | null;
  sealed_secrets: Buffer | null;
  settings_json: string | null;
  created_at: string;
}

interface DeliveryRow {
  message_id: string;
  channel: ChannelCode;
  state: DeliveryState;
  error_code: string | null;
  error_message: string | null;
  updated_at: string;
}

const toAccount = (r: AccountRow): ChannelAccount => ({
  id: r.id,
  channel: r.channel,
  accountId: r.account_id,
  name: r.name,
  skillGroup: r.skill_group,
  settings: r.settings_json ? (JSON.parse(r.settings_json) as AccountSettings) : {},
  createdAt: r.created_at,
});

const toDelivery = (r: DeliveryRow): DeliveryRecord => ({
  messageId: r.message_id,
  channel: r.channel,
  state: r.state,
  error: r.error_code ? { code: r.error_code, message: r.error_message ?? '' } : null,
  updatedAt: r.updated_at,
});

/** Keys whose accounts are kept in memory, and for how long (see `createSqliteChannelStore`). */
const KEY_CACHE = { max: 1024, ttlMs: 30_000 };

/**
 * ChannelStore on SQLite, in the server's database file (its own connection and migrations,
 * component `channels`). On its first migration it takes over the app keys the auth component kept
 * in `channel_keys` (same SHA-256 hashes), so an existing data dir keeps its keys working.
 *
 * `accountByKey` runs on every app-channel request, so the accounts of known keys are cached by key
 * hash (issue 8: the SELECT was ~4 % of the server's CPU under load): at most `KEY_CACHE.max`, each
 * for `KEY_CACHE.ttlMs`. Every write of this store (add, update, revoke) empties the cache, so this
 * node refuses a revoked key on the very next request. Another process writing the same database
 * file (two nodes on one data dir, a script) is not seen until the entry's time runs out: that is
 * the bound on a stale key elsewhere, 30 s. Unknown keys are not cached, so guessing fills nothing.
 */
export function createSqliteChannelStore(options: {
  path: string;
  keys: KeyProvider;
  now?: () => number;
  /** Overrides `KEY_CACHE` (tests). */
  keyCache?: { max: number; ttlMs: number };
}): ChannelStore {
  const db: Db = openDatabase(options.path);
  const now = options.now ?? Date.now;
  const cacheSize = options.keyCache ?? KEY_CACHE;
  const byKeyHash = new LRUCache<string, ChannelAccount>({ max: cacheSize.max, ttl: cacheSize.ttlMs, ttlResolution: 0, perf: { now } });
  db.transaction(() => {
    const ran = migrate(db, 'channels', MIGRATIONS);
    const legacy = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'channel_keys'").get();
    if (ran.includes(1) && legacy) {
      const rows = db.prepare('SELECT * FROM channel_keys').all() as {
        key_hash: string;
        channel: ChannelCode;
        app_id: string;
        name: string;
        skill_group: string | null;
        created_at: string;
      }[];
      const insert = db.prepare(
        'INSERT OR IGNORE INTO channel_accounts (id, channel, account_id, name, skill_group, key_hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      );
      for (const r of rows) insert.run(uuidv7(), r.channel, r.app_id, r.name, r.skill_group, r.key_hash, r.created_at);
    }
  }).immediate();

  const q = {
    byKey: db.prepare('SELECT * FROM channel_accounts WHERE key_hash = ?'),
    byId: db.prepare('SELECT * FROM channel_accounts WHERE id = ?'),
    byChannel: db.prepare('SELECT * FROM channel_accounts WHERE channel = ? ORDER BY created_at, id'),
    revokeKey: db.prepare('UPDATE channel_accounts SET key_hash = NULL WHERE key_hash = ?'),
    updateByKey: db.prepare(
      'UPDATE channel_accounts SET channel = ?, account_id = ?, name = ?, skill_group = ?, settings_json = ? WHERE key_hash = ? RETURNING *',
    ),
    keyless: db.prepare('SELECT * FROM channel_accounts WHERE channel = ? AND account_id = ? AND key_hash IS NULL'),
    updateKeyless: db.prepare(
      `UPDATE channel_accounts SET name = ?, skill_group = ?, settings_json = ?, kek_id = ?, wrapped_key = ?, sealed_secrets = ?
       WHERE id = ? RETURNING *`,
    ),
    insert: db.prepare(
      `INSERT INTO channel_accounts (id, channel, account_id, name, skill_group, key_hash, kek_id, wrapped_key, sealed_secrets, settings_json, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`,
    ),
    updateSecrets: db.prepare('UPDATE channel_accounts SET kek_id = ?, wrapped_key = ?, sealed_secrets = ? WHERE id = ?'),
    // Issue 13: the key's last 4 characters, so admins can tell keys apart (gateway/migrations/0004).
    keyHint: db.prepare('UPDATE channel_accounts SET key_hint = ? WHERE key_hash = ?'),
    delivery: db.prepare('SELECT * FROM message_deliveries WHERE message_id = ?'),
    upsertDelivery: db.prepare(
      `INSERT INTO message_deliveries (message_id, channel, state, error_code, error_message, updated_at) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (message_id) DO UPDATE SET state = excluded.state, error_code = excluded.error_code,
         error_message = excluded.error_message, updated_at = excluded.updated_at`,
    ),
  };

  return {
    async addAccount(input) {
      if (!ACCOUNT_ID.test(input.accountId))
        throw new HuiliuError('VALIDATION_FAILED', 'accountId (appId): letters, digits, ".", "_" or "-", at most 64');
      if (!input.name.trim()) throw new HuiliuError('VALIDATION_FAILED', 'name: required');
      const keyHash = input.key === undefined ? null : sha256(input.key);
      const settings = input.settings && Object.keys(input.settings).length > 0 ? JSON.stringify(input.settings) : null;
      if (keyHash) {
        const updated = q.updateByKey.get(input.channel, input.accountId, input.name, input.skillGroup, settings, keyHash) as
          AccountRow | undefined;
        if (updated) {
          // Issue 13: a secret changed in the config (an app's webhook secret) is taken on restart too.
          if (input.secrets) {
            const { plain, wrapped } = await options.keys.generateDataKey();
            q.updateSecrets.run(
              wrapped.kekId,
              wrapped.wrapped,
              sealText(plain, JSON.stringify(input.secrets), aad(updated.id)),
              updated.id,
            );
          }
          q.keyHint.run(input.key!.slice(-4), keyHash);
          byKeyHash.clear();
          return toAccount(updated);
        }
      }
      const existing = keyHash ? undefined : (q.keyless.get(input.channel, input.accountId) as AccountRow | undefined);
      const id = existing?.id ?? uuidv7();
      let sealed: { kekId: string; wrapped: Buffer; secrets: Buffer } | null = null;
      if (input.secrets) {
        const { plain, wrapped } = await options.keys.generateDataKey();
        sealed = { kekId: wrapped.kekId, wrapped: wrapped.wrapped, secrets: sealText(plain, JSON.stringify(input.secrets), aad(id)) };
      }
      if (existing) {
        const updated = q.updateKeyless.get(
          input.name,
          input.skillGroup,
          settings,
          sealed?.kekId ?? null,
          sealed?.wrapped ?? null,
          sealed?.secrets ?? null,
          id,
        ) as AccountRow;
        return toAccount(updated);
      }
      const row = q.insert.get(
        id,
        input.channel,
        input.accountId,
        input.name,
        input.skillGroup,
        keyHash,
        sealed?.kekId ?? null,
        sealed?.wrapped ?? null,
        sealed?.secrets ?? null,
        settings,
        new Date(now()).toISOString(),
      ) as AccountRow;
      if (keyHash) q.keyHint.run(input.key!.slice(-4), keyHash);
      byKeyHash.clear();
      return toAccount(row);
    },

    async accountByKey(channel, key) {
      // Looked up by SHA-256 of the key, so lookup time says nothing about the key itself.
      if (!key || key.length > 256) return null;
      const hash = sha256(key);
      let account = byKeyHash.get(hash);
      if (!account) {
        const row = q.byKey.get(hash) as AccountRow | undefined;
        if (!row) return null;
        // Frozen: every request shares the cached object.
        byKeyHash.set(hash, (account = Object.freeze(toAccount(row))));
      }
      return account.channel === channel ? account : null;
    },

    async revokeKey(key) {
      const revoked = q.revokeKey.run(sha256(key)).changes > 0;
      byKeyHash.clear();
      return revoked;
    },

    async accounts(channel) {
      return (q.byChannel.all(channel) as AccountRow[]).map(toAccount);
    },

    async account(channel, accountId) {
      const row = q.keyless.get(channel, accountId) as AccountRow | undefined;
      return row ? toAccount(row) : null;
    },

    async secrets(id) {
      const row = q.byId.get(id) as AccountRow | undefined;
      if (!row?.sealed_secrets || !row.kek_id || !row.wrapped_key) return null;
      const key = await options.keys.unwrapDataKey({ kekId: row.kek_id, wrapped: row.wrapped_key });
      return JSON.parse(openText(key, row.sealed_secrets, aad(row.id))) as Record<string, string>;
    },

    async recordDelivery(messageId, channel, result, options = {}) {
      return db
        .transaction(() => {
          const old = q.delivery.get(messageId) as DeliveryRow | undefined;
          const bounced = options.bounce === true && result.state === 'failed' && old?.state === 'sent';
          if (old && !bounced && DELIVERY_RANK[old.state] >= DELIVERY_RANK[result.state])
            return { record: toDelivery(old), changed: false };
          const at = new Date(now()).toISOString();
          q.upsertDelivery.run(messageId, channel, result.state, result.error?.code ?? null, result.error?.message ?? null, at);
          return { record: toDelivery(q.delivery.get(messageId) as DeliveryRow), changed: true };
        })
        .immediate();
    },

    async delivery(messageId) {
      const row = q.delivery.get(messageId) as DeliveryRow | undefined;
      return row ? toDelivery(row) : null;
    },

    async deliveries(messageIds) {
      const out = new Map<string, DeliveryRecord>();
      for (const id of messageIds) {
        const row = q.delivery.get(id) as DeliveryRow | undefined;
        if (row) out.set(id, toDelivery(row));
      }
      return out;
    },

    async close() {
      db.close();
    },
  };
}
