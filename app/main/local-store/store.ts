import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { HuiliuError } from '../../../common/errors/codes';
import {
  LOCAL_HISTORY_SIZE,
  type ErasureReport,
  type LocalDraft,
  type OutboxEnqueue,
  type OutboxEntry,
  type OutboxSettle,
} from '../../../common/ipc/local-store';
import type { MessageView } from '../../../common/api/sessions';
import { RecordSealer } from './sealing';

/**
 * Electron's `safeStorage` (the OS keychain / DPAPI / libsecret), injected. On Linux,
 * `getSelectedStorageBackend()` answering `basic_text` means no real keyring: treated as unavailable.
 */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plain: string): Buffer;
  decryptString(encrypted: Buffer): string;
  getSelectedStorageBackend?(): string;
}

export interface LocalStoreOptions {
  /** The SQLite file (in Electron: `app.getPath('userData')/local-store.db`); `:memory:` in some tests. */
  file: string;
  safeStorage: SafeStorageLike;
  /** Conversations kept (the least recently touched go first). */
  maxConversations?: number;
  now?: () => number;
  /** Called with counts and codes only, never content or identifiers. */
  log?: (event: string, fields: Record<string, number | string>) => void;
}

/** How the data key is kept: wrapped by safeStorage, or (no OS keyring) in memory only for this run. */
export type KeyMode = 'safe-storage' | 'ephemeral';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL);
  CREATE TABLE IF NOT EXISTS conversation (
    conv_ix BLOB PRIMARY KEY, customer_ix BLOB NOT NULL, touched_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS conversation_customer ON conversation (customer_ix);
  CREATE INDEX IF NOT EXISTS conversation_touched ON conversation (touched_at);
  CREATE TABLE IF NOT EXISTS history (
    conv_ix BLOB PRIMARY KEY, nonce BLOB NOT NULL, sealed BLOB NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS draft (
    conv_ix BLOB PRIMARY KEY, nonce BLOB NOT NULL, sealed BLOB NOT NULL, updated_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key_ix BLOB NOT NULL UNIQUE, conv_ix BLOB NOT NULL,
    customer_ix BLOB NOT NULL, nonce BLOB NOT NULL, sealed BLOB NOT NULL,
    enqueued_at INTEGER NOT NULL, attempts INTEGER NOT NULL DEFAULT 0);
  CREATE INDEX IF NOT EXISTS outbox_customer ON outbox (customer_ix);
`;
const CONTENT_TABLES = ['history', 'draft', 'outbox', 'conversation'] as const;

interface SealedRow {
  nonce: Buffer;
  sealed: Buffer;
}
type StoredOutbox = Omit<OutboxEntry, 'id' | 'enqueuedAt' | 'attempts'>;

const hex = (b: Buffer) => b.toString('hex');

/**
 * The workstation's local store in Electron main (DESIGN §7, issue 15), on better-sqlite3: the last
 * 10 interactions per conversation, per-conversation drafts and the outbox of unsent critical messages.
 *
 * Encrypted at rest: one random 256-bit data key, wrapped by `safeStorage`, seals every record with
 * AES-256-GCM (random nonce per record, AAD = the record's identity); conversation, customer, user and
 * idempotency-key identifiers are stored only as keyed blind indexes. Erasing everything destroys the
 * key and makes a new one; `secure_delete` zeroes freed pages. The store is bound to one signed-in
 * user (`bindUser`); every other call before that throws `UNAUTHENTICATED`.
 */
export class LocalStore {
  readonly #db: Database.Database;
  readonly #safeStorage: SafeStorageLike;
  readonly #now: () => number;
  readonly #maxConversations: number;
  readonly #log: NonNullable<LocalStoreOptions['log']>;
  #sealer!: RecordSealer;
  #keyMode!: KeyMode;
  #user: string | null = null;

  constructor(o: LocalStoreOptions) {
    this.#safeStorage = o.safeStorage;
    this.#now = o.now ?? Date.now;
    this.#maxConversations = o.maxConversations ?? 500;
    this.#log = o.log ?? (() => undefined);
    this.#db = new Database(o.file);
    this.#db.pragma('journal_mode = WAL');
    // Deleted records are overwritten with zeros, not left in free pages (erasure, DESIGN §8).
    this.#db.pragma('secure_delete = ON');
    this.#db.pragma('foreign_keys = ON');
    this.#db.exec(SCHEMA);
    this.#loadKey();
  }

  readonly #statements = new Map<string, Database.Statement>();
  /** Prepared once per SQL text (a prepare costs more than the read it serves). */
  #sql(text: string): Database.Statement {
    let st = this.#statements.get(text);
    if (!st) this.#statements.set(text, (st = this.#db.prepare(text)));
    return st;
  }

  /** How the data key is kept on this machine. */
  get keyMode(): KeyMode {
    return this.#keyMode;
  }

  #keyring(): boolean {
    if (!this.#safeStorage.isEncryptionAvailable()) return false;
    return this.#safeStorage.getSelectedStorageBackend?.() !== 'basic_text';
  }

  #meta(name: string): Buffer | null {
    const row = this.#sql('SELECT value FROM meta WHERE name = ?').get(name) as { value: Buffer } | undefined;
    return row ? row.value : null;
  }

  #setMeta(name: string, value: Buffer | string): void {
    this.#sql('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value').run(name, value);
  }

  /** Unwraps the stored data key; a missing, ephemeral or unreadable one means the records cannot be read: start over. */
  #loadKey(): void {
    const wrapped = this.#meta('key');
    if (wrapped && this.#keyring()) {
      try {
        const key = Buffer.from(this.#safeStorage.decryptString(wrapped), 'base64');
        if (key.length === 32) {
          this.#sealer = new RecordSealer(key);
          this.#keyMode = 'safe-storage';
          return;
        }
      } catch {
        // The keychain entry changed (another OS user, a reinstalled OS): the records are unreadable.
      }
    }
    const hadContent = Boolean(wrapped) || this.#count() > 0;
    this.#newKey();
    if (hadContent) this.#log('local-store.key-lost', { mode: this.#keyMode });
  }

  #count(): number {
    return CONTENT_TABLES.reduce((n, t) => n + (this.#sql(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n, 0);
  }

  /** Wipes every record and the owner, and replaces the data key (the old one is gone: crypto-erasure). */
  #newKey(): void {
    const key = randomBytes(32);
    this.#db.transaction(() => {
      for (const t of CONTENT_TABLES) this.#sql(`DELETE FROM ${t}`).run();
      this.#sql("DELETE FROM meta WHERE name IN ('key', 'owner')").run();
      if (this.#keyring()) this.#setMeta('key', this.#safeStorage.encryptString(key.toString('base64')));
    })();
    this.#keyMode = this.#keyring() ? 'safe-storage' : 'ephemeral';
    this.#sealer = new RecordSealer(key);
    key.fill(0);
    // The WAL may still hold the old pages: fold it into the (zeroed) main file and truncate it.
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
  }

  /**
   * Binds the store to the signed-in user. Data of another user (a shared desk) is erased first.
   * Returns whether it was.
   */
  bindUser(userId: string): { erasedPrevious: boolean } {
    const owner = this.#sealer.index('user', userId);
    const stored = this.#meta('owner');
    let erasedPrevious = false;
    if (stored && !stored.equals(owner)) {
      this.#newKey();
      erasedPrevious = true;
      this.#log('local-store.erased', { reason: 'other-user' });
    }
    this.#setMeta('owner', this.#sealer.index('user', userId));
    this.#user = userId;
    return { erasedPrevious };
  }

  #requireUser(): void {
    if (this.#user === null) throw new HuiliuError('UNAUTHENTICATED', 'The local store opens after sign-in.');
  }

  #touch(convIx: Buffer, customerId: string): void {
    this.#db
      .prepare(
        `INSERT INTO conversation (conv_ix, customer_ix, touched_at) VALUES (?, ?, ?)
         ON CONFLICT (conv_ix) DO UPDATE SET touched_at = excluded.touched_at, customer_ix = excluded.customer_ix`,
      )
      .run(convIx, this.#sealer.index('customer', customerId), this.#now());
  }

  /**
   * Keeps the newest interactions of a conversation: `messages` are merged into what is held by seq
   * (a newer copy of a seq — an OCR text, a delivery state — replaces the older) and the last
   * `LOCAL_HISTORY_SIZE` kept. The ten are one sealed record, so opening a conversation is one read
   * and one decryption. Messages of another conversation are refused (VALIDATION_FAILED).
   */
  saveHistory(conversationId: string, customerId: string, messages: readonly MessageView[]): { kept: number } {
    this.#requireUser();
    if (messages.some((m) => m.conversationId !== conversationId))
      throw new HuiliuError('VALIDATION_FAILED', 'Every message must belong to the conversation.');
    const convIx = this.#sealer.index('conversation', conversationId);
    let kept = 0;
    this.#db.transaction(() => {
      this.#touch(convIx, customerId);
      const bySeq = new Map(this.#readHistory(convIx).map((m) => [m.seq, m]));
      for (const m of messages) bySeq.set(m.seq, m);
      const newest = [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-LOCAL_HISTORY_SIZE);
      const r = this.#sealer.seal(newest, `history|${hex(convIx)}`);
      this.#sql(
        `INSERT INTO history (conv_ix, nonce, sealed) VALUES (?, ?, ?)
         ON CONFLICT (conv_ix) DO UPDATE SET nonce = excluded.nonce, sealed = excluded.sealed`,
      ).run(convIx, r.nonce, r.sealed);
      kept = newest.length;
      this.#evictOldConversations();
    })();
    return { kept };
  }

  #readHistory(convIx: Buffer): MessageView[] {
    const row = this.#sql('SELECT nonce, sealed FROM history WHERE conv_ix = ?').get(convIx) as SealedRow | undefined;
    return row ? this.#sealer.open<MessageView[]>(row, `history|${hex(convIx)}`) : [];
  }

  /** The conversation's local history, oldest first (at most `LOCAL_HISTORY_SIZE`); empty when none. */
  history(conversationId: string): MessageView[] {
    this.#requireUser();
    return this.#readHistory(this.#sealer.index('conversation', conversationId));
  }

  /** Saves the conversation's draft (a reply, or an internal note with `note`); empty text removes it. */
  saveDraft(conversationId: string, customerId: string, text: string, note = false): { saved: boolean } {
    this.#requireUser();
    const convIx = this.#sealer.index('conversation', conversationId);
    this.#db.transaction(() => {
      if (text === '') {
        this.#sql('DELETE FROM draft WHERE conv_ix = ?').run(convIx);
        return;
      }
      this.#touch(convIx, customerId);
      const r = this.#sealer.seal({ text, note }, `draft|${hex(convIx)}`);
      this.#db
        .prepare(
          `INSERT INTO draft (conv_ix, nonce, sealed, updated_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (conv_ix) DO UPDATE SET nonce = excluded.nonce, sealed = excluded.sealed, updated_at = excluded.updated_at`,
        )
        .run(convIx, r.nonce, r.sealed, this.#now());
      this.#evictOldConversations();
    })();
    return { saved: text !== '' };
  }

  draft(conversationId: string): LocalDraft | null {
    this.#requireUser();
    const convIx = this.#sealer.index('conversation', conversationId);
    const row = this.#sql('SELECT nonce, sealed, updated_at FROM draft WHERE conv_ix = ?').get(convIx) as
      (SealedRow & { updated_at: number }) | undefined;
    if (!row) return null;
    const opened = this.#sealer.open<{ text: string; note?: boolean }>(row, `draft|${hex(convIx)}`);
    return { text: opened.text, note: opened.note === true, updatedAt: row.updated_at };
  }

  /**
   * Queues a critical message. The same idempotency key again is the same entry (`duplicate`), so a
   * double click or a retried IPC call never sends twice.
   */
  enqueue(entry: OutboxEnqueue): { id: number; duplicate: boolean } {
    this.#requireUser();
    const keyIx = this.#sealer.index('client-message', entry.clientMessageId);
    const held = this.#sql('SELECT id FROM outbox WHERE key_ix = ?').get(keyIx) as { id: number } | undefined;
    if (held) return { id: held.id, duplicate: true };
    const stored: StoredOutbox = {
      kind: entry.kind,
      clientMessageId: entry.clientMessageId,
      conversationId: entry.conversationId,
      customerId: entry.customerId,
      payload: entry.payload,
    } as StoredOutbox;
    const r = this.#sealer.seal(stored, `outbox|${hex(keyIx)}`);
    const info = this.#db
      .prepare('INSERT INTO outbox (key_ix, conv_ix, customer_ix, nonce, sealed, enqueued_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(
        keyIx,
        this.#sealer.index('conversation', entry.conversationId),
        this.#sealer.index('customer', entry.customerId),
        r.nonce,
        r.sealed,
        this.#now(),
      );
    return { id: Number(info.lastInsertRowid), duplicate: false };
  }

  /** Every queued entry, oldest first (the order they must be sent in). */
  pending(): OutboxEntry[] {
    this.#requireUser();
    const rows = this.#sql('SELECT id, key_ix, nonce, sealed, enqueued_at, attempts FROM outbox ORDER BY id').all() as (SealedRow & {
      id: number;
      key_ix: Buffer;
      enqueued_at: number;
      attempts: number;
    })[];
    return rows.map(
      (r) =>
        ({
          ...this.#sealer.open<StoredOutbox>(r, `outbox|${hex(r.key_ix)}`),
          id: r.id,
          enqueuedAt: r.enqueued_at,
          attempts: r.attempts,
        }) as OutboxEntry,
    );
  }

  /** Records a send's outcome: `sent` / `refused` remove the entry, `failed` counts an attempt. Unknown ids are a no-op. */
  settle(s: OutboxSettle): { removed: boolean } {
    this.#requireUser();
    if (s.outcome === 'failed') {
      this.#sql('UPDATE outbox SET attempts = attempts + 1 WHERE id = ?').run(s.id);
      return { removed: false };
    }
    const removed = this.#sql('DELETE FROM outbox WHERE id = ?').run(s.id).changes > 0;
    if (removed && s.outcome === 'refused') this.#log('local-store.outbox-refused', { code: s.code ?? 'UNKNOWN' });
    return { removed };
  }

  /**
   * The server erased these customers (`customer:erased`, issue 17): their conversations' history,
   * drafts and unsent outbox entries go at once. Works without a bound user (an erasure never waits).
   */
  eraseCustomers(customerIds: readonly string[]): ErasureReport {
    const report: ErasureReport = { conversations: 0, outboxDropped: 0 };
    this.#db.transaction(() => {
      for (const id of customerIds) {
        const customerIx = this.#sealer.index('customer', id);
        const convs = this.#sql('SELECT conv_ix FROM conversation WHERE customer_ix = ?').all(customerIx) as { conv_ix: Buffer }[];
        for (const { conv_ix } of convs) {
          this.#sql('DELETE FROM history WHERE conv_ix = ?').run(conv_ix);
          this.#sql('DELETE FROM draft WHERE conv_ix = ?').run(conv_ix);
          report.outboxDropped += this.#sql('DELETE FROM outbox WHERE conv_ix = ?').run(conv_ix).changes;
        }
        report.conversations += this.#sql('DELETE FROM conversation WHERE customer_ix = ?').run(customerIx).changes;
        report.outboxDropped += this.#sql('DELETE FROM outbox WHERE customer_ix = ?').run(customerIx).changes;
      }
    })();
    this.#db.pragma('wal_checkpoint(TRUNCATE)');
    this.#log('local-store.erased', { reason: 'customer', conversations: report.conversations, outboxDropped: report.outboxDropped });
    return report;
  }

  /** Sign-out: every record and the data key are destroyed; the store waits for the next `bindUser`. */
  eraseAll(): void {
    this.#newKey();
    this.#user = null;
    this.#log('local-store.erased', { reason: 'sign-out' });
  }

  /** Counts by table (tests and the bench; no content). */
  counts(): Record<(typeof CONTENT_TABLES)[number], number> {
    return Object.fromEntries(
      CONTENT_TABLES.map((t) => [t, (this.#sql(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n]),
    ) as Record<(typeof CONTENT_TABLES)[number], number>;
  }

  #evictOldConversations(): void {
    const old = this.#db
      .prepare('SELECT conv_ix FROM conversation ORDER BY touched_at DESC LIMIT -1 OFFSET ?')
      .all(this.#maxConversations) as { conv_ix: Buffer }[];
    for (const { conv_ix } of old) {
      // Unsent outbox entries stay: losing a reply to make room would break DESIGN §7.
      this.#sql('DELETE FROM history WHERE conv_ix = ?').run(conv_ix);
      this.#sql('DELETE FROM draft WHERE conv_ix = ?').run(conv_ix);
      this.#sql('DELETE FROM conversation WHERE conv_ix = ?').run(conv_ix);
    }
  }

  close(): void {
    this.#db.close();
  }
}
