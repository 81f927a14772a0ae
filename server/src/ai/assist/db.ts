import { migrate, openDatabase, type Db } from '../../db/sqlite';
import type { KeyProvider } from '../../keys/provider';
import { migrationsDir } from '../../runtime/paths';
import { DataKeyRing } from '../../sessions/data-keys';
import { customerKeyOwner } from '../../sessions/sqlite-rows';

/**
 * The assist tables' connection (migrations in `ai/assist/migrations`) on the server's database file,
 * and the customers' data keys to seal with. The keys are the session store's (table `data_keys`,
 * wrapped by the KeyProvider): this side only reads them — the session writer creates a customer's
 * key with the customer — so drafts and past replies go when an erasure destroys the key.
 */
export interface AssistDb {
  readonly db: Db;
  /** The customer's data key, or null when it does not exist (never created, or destroyed by an erasure). */
  customerKey(customerId: string): Promise<Buffer | null>;
  close(): void;
}

const MIGRATIONS = migrationsDir('ai/assist');

/**
 * Opens (and migrates) the assist tables. `path` is the session store's database file, which must
 * have been opened by the session store first (its `data_keys` table holds the customers' keys).
 */
export function openAssistDb(options: { path: string; keys: KeyProvider }): AssistDb {
  // NORMAL, not FULL: these writes run on the sockets' thread, and an fsync per draft or outcome would
  // stall every socket for milliseconds. What they hold is derived (drafts, feedback, learned pairs):
  // a power cut may lose the last ones, never the conversation, which the session writer keeps durable.
  const db = openDatabase(options.path, { synchronous: 'NORMAL' });
  migrate(db, 'assist', MIGRATIONS);
  // Reads only: a write through this ring would be a bug (keys are created by the session writer).
  const ring = new DataKeyRing(db, options.keys, () => Promise.reject(new Error('customer keys are created by the session writer')));
  return {
    db,
    customerKey: (customerId) => ring.get(customerKeyOwner(customerId)),
    close: () => db.close(),
  };
}
