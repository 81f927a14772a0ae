import { createHash, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { v7 as uuidv7 } from 'uuid';
import type { AppKeyView } from '../../../../common/api/app-channel';
import { openDatabase, type Db } from '../../db/sqlite';
import type { ChannelAccount, ChannelStore } from '../channels';

/** The prefix of every key issued here: recognisable in a leaked log or repository (secret scanners). */
export const APP_KEY_PREFIX = 'hlk_';
/** The prefix of webhook secrets generated here. */
export const WEBHOOK_SECRET_PREFIX = 'hlw_';
/** Random bytes in a key and in a webhook secret: 192 bits (≥ 128 asked by issue 13). */
const KEY_BYTES = 24;
const SECRET_BYTES = 32;
/** How often one key's `last_used_at` is written, at most (per node). Milliseconds. */
const LAST_USED_EVERY_MS = 60_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A new app key: `hlk_` + 192 random bits in base64url (36 characters). */
export const newAppKey = (): string => APP_KEY_PREFIX + randomBytes(KEY_BYTES).toString('base64url');
/** A new webhook signing secret: `hlw_` + 256 random bits in base64url. */
export const newWebhookSecret = (): string => WEBHOOK_SECRET_PREFIX + randomBytes(SECRET_BYTES).toString('base64url');

/** The account a key opens, and which key it was (an `app_keys` id, or the config row's id). */
export interface KeyMatch {
  account: ChannelAccount;
  keyId: string;
  source: 'config' | 'admin';
}

/**
 * App keys managed by admins (issue 13), beside the config keys the channels store keeps. Opened on
 * the server's database file after the channels store (whose migrations create the tables,
 * gateway/migrations/0004).
 */
export interface AppKeyStore {
  /**
   * The account a presented `X-Huiliu-Key` opens on the app channel: an admin key (active) first,
   * then a config key (`ChannelStore.accountByKey`). Null for none, unknown, revoked, or another
   * channel's key. Looked up by SHA-256, so timing says nothing about the key. Records the use
   * (`lastUsedAt`, at most once a minute per key and node).
   */
  accountByKey(key: string | undefined): Promise<KeyMatch | null>;
  /** Issues a key for the app (its keyless row `accountRow`): the key itself is returned once and stored hashed. */
  issueKey(appId: string, accountRow: string, label?: string): { key: string; view: AppKeyView };
  /** Revokes one admin key; refused on every node from the next lookup. Null when the app has no such key. */
  revokeKey(appId: string, keyId: string): AppKeyView | null;
  /** Every key of an app: config rows (`source: config`) and admin keys, oldest first. */
  keysOf(appId: string): AppKeyView[];
  /** Marks the keyless channel_accounts row as created by an admin (`source: admin`). */
  markAdmin(accountRow: string): void;
  /** Whether the row was created by an admin. */
  isAdmin(accountRow: string): boolean;
  /** Tells every node an admin app changed (its cached accounts are dropped at their next lookup). */
  bump(): void;
  close(): void;
}

interface KeyRow {
  id: string;
  account_row: string;
  app_id: string;
  hint: string;
  label: string | null;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

interface ConfigKeyRow {
  id: string;
  key_hint: string | null;
  created_at: string;
  last_used_at: string | null;
}

const adminView = (r: KeyRow): AppKeyView => ({
  id: r.id,
  hint: r.hint,
  label: r.label,
  source: 'admin',
  createdAt: r.created_at,
  lastUsedAt: r.last_used_at,
  revokedAt: r.revoked_at,
});

/**
 * AppKeyStore on SQLite. Admin keys' matches are cached by key hash (at most 1024), and the cache is checked
 * against `app_key_generation` on every lookup — one read of a one-row table — which every write of
 * any node bumps: a key revoked on one node is refused on every node sharing the file from its next
 * request, without the 30 s the channels store's own cache allows for config keys.
 */
export function createSqliteAppKeyStore(options: { path: string; channels: ChannelStore; now?: () => number }): AppKeyStore {
  const db: Db = openDatabase(options.path);
  const now = options.now ?? Date.now;
  const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'app_keys'").get();
  if (!table) {
    db.close();
    throw new Error('app_keys is missing: open the channels store (its migrations) before the app key store');
  }
  const iso = () => new Date(now()).toISOString();
  const q = {
    generation: db.prepare('SELECT generation FROM app_key_generation WHERE id = 1').pluck(),
    bump: db.prepare('UPDATE app_key_generation SET generation = generation + 1 WHERE id = 1'),
    byHash: db.prepare('SELECT * FROM app_keys WHERE key_hash = ? AND revoked_at IS NULL'),
    accountRow: db.prepare("SELECT id, account_id FROM channel_accounts WHERE id = ? AND channel = 'AP'"),
    insert: db.prepare(
      'INSERT INTO app_keys (id, account_row, app_id, key_hash, hint, label, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING *',
    ),
    revoke: db.prepare('UPDATE app_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND app_id = ? RETURNING *'),
    adminKeys: db.prepare('SELECT * FROM app_keys WHERE app_id = ? ORDER BY created_at, id'),
    configKeys: db.prepare(
      "SELECT id, key_hint, created_at, last_used_at FROM channel_accounts WHERE channel = 'AP' AND account_id = ? AND key_hash IS NOT NULL ORDER BY created_at, id",
    ),
    touchAdmin: db.prepare('UPDATE app_keys SET last_used_at = ? WHERE id = ?'),
    touchConfig: db.prepare('UPDATE channel_accounts SET last_used_at = ? WHERE id = ?'),
    markAdmin: db.prepare("UPDATE channel_accounts SET managed_by = 'admin' WHERE id = ?"),
    isAdmin: db.prepare("SELECT 1 FROM channel_accounts WHERE id = ? AND managed_by = 'admin'").pluck(),
  };
  const cache = new LRUCache<string, KeyMatch>({ max: 1024 });
  let seen = q.generation.get() as number;
  const lastTouched = new Map<string, number>();

  const fresh = () => {
    const generation = q.generation.get() as number;
    if (generation !== seen) {
      cache.clear();
      seen = generation;
    }
  };

  const touch = (match: KeyMatch) => {
    const at = now();
    const last = lastTouched.get(match.keyId);
    if (last !== undefined && at - last < LAST_USED_EVERY_MS) return;
    lastTouched.set(match.keyId, at);
    if (lastTouched.size > 10_000) lastTouched.clear();
    const stamp = new Date(at).toISOString();
    (match.source === 'admin' ? q.touchAdmin : q.touchConfig).run(stamp, match.keyId);
  };

  return {
    async accountByKey(key) {
      if (!key || key.length > 256) return null;
      const hash = sha256(key);
      fresh();
      let match = cache.get(hash) ?? null;
      if (!match) {
        const row = q.byHash.get(hash) as KeyRow | undefined;
        if (row) {
          const account = (await options.channels.accounts('AP')).find((a) => a.id === row.account_row);
          if (account) cache.set(hash, (match = { account: Object.freeze(account), keyId: row.id, source: 'admin' }));
        } else {
          // Config keys: the channels store caches them itself (and drops them on its own writes).
          const account = await options.channels.accountByKey('AP', key);
          if (account) match = { account, keyId: account.id, source: 'config' };
        }
        if (!match) return null;
      }
      touch(match);
      return match;
    },

    issueKey(appId, accountRow, label) {
      const row = q.accountRow.get(accountRow) as { id: string; account_id: string } | undefined;
      if (!row || row.account_id !== appId) throw new Error(`no app account row ${accountRow} for ${appId}`);
      const key = newAppKey();
      const inserted = db
        .transaction(() => {
          const r = q.insert.get(uuidv7(), accountRow, appId, sha256(key), key.slice(-4), label ?? null, iso()) as KeyRow;
          q.bump.run();
          return r;
        })
        .immediate();
      return { key, view: adminView(inserted) };
    },

    revokeKey(appId, keyId) {
      const row = db
        .transaction(() => {
          const r = q.revoke.get(iso(), keyId, appId) as KeyRow | undefined;
          if (r) q.bump.run();
          return r;
        })
        .immediate();
      if (row) cache.clear();
      return row ? adminView(row) : null;
    },

    keysOf(appId) {
      const config = (q.configKeys.all(appId) as ConfigKeyRow[]).map((r): AppKeyView => ({
        id: r.id,
        hint: r.key_hint,
        label: null,
        source: 'config',
        createdAt: r.created_at,
        lastUsedAt: r.last_used_at,
        revokedAt: null,
      }));
      return [...config, ...(q.adminKeys.all(appId) as KeyRow[]).map(adminView)];
    },

    markAdmin(accountRow) {
      q.markAdmin.run(accountRow);
      q.bump.run();
    },

    isAdmin(accountRow) {
      return q.isAdmin.get(accountRow) !== undefined;
    },

    bump() {
      q.bump.run();
      cache.clear();
    },

    close() {
      db.close();
    },
  };
}
