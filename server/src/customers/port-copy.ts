import { HuiliuError } from '../../../common/errors/codes';
import type { IdentityLinkKind } from '../../../common/message/envelope';
import type { ChannelCode } from '../../../common/message/session-id';
import { openText } from '../crypto/aead';
import { migrate, openDatabase } from '../db/sqlite';
import type { KeyProvider } from '../keys/provider';
import { erasedIdentityAt } from '../privacy/erasure-log.redis';
import { migrationsDir } from '../runtime/paths';
import { DataKeyRing } from '../sessions/data-keys';
import { customerKeyOwner, externalIdAad, linkAad, nameAad, phoneAad } from '../sessions/sqlite-rows';
import type { SessionStore } from '../sessions/store';
import type { CustomerCopy, CustomerCopyResult } from './customers';

export interface PortCopyOptions {
  /** This node's sessions database (`huiliu.db`). */
  path: string;
  keys: KeyProvider;
  /** The Redis customers port (`createRedisCustomerStore`). */
  port: {
    copyCustomer(customer: CustomerCopy): Promise<CustomerCopyResult>;
    /** The port's blind hash of an identity (`<channel>:<64 hex>`); without it erased identities are not checked. */
    identityField?(channel: ChannelCode, externalId: string): string;
    /** Releases customers' lookups and keys on the port: a copied customer found erased by the log afterwards. */
    eraseCustomers?(customerIds: readonly string[]): Promise<unknown>;
  };
  /**
   * Applies the cluster's erasure log to this file again (redis mode: `SharedErasureLog.catchUp`), run
   * after each batch is copied: an erasure approved on another node while this copy ran (after the
   * catch-up before it) released the person's lookups, which this file's copy of them then claimed.
   * The batch's copied customers are checked against the refreshed hashes; one holding an erased
   * identity is erased on the port again (`port.eraseCustomers`) and shredded here (`shredErased`).
   * The approving node records the entry before it releases the lookups, so a claim that got them is
   * followed by a refresh that sees the entry. Without it only the catch-up before the copy counts.
   */
  refreshErased?: () => Promise<unknown>;
  /**
   * Crypto-shreds customers of this file (redis mode: `PrivacyService.applyRecordedErasure`) that hold
   * an identity the cluster's erasure log erased after this file recorded it. Without it such a
   * customer is still not copied, but stays in the file.
   */
  shredErased?: (customerIds: readonly string[]) => Promise<void>;
  /**
   * This node's SQLite store (not routed): an identity the cluster gives another customer is recorded
   * for that customer here too, and this file's customer merged into theirs (one person, one history).
   */
  wide: Pick<SessionStore, 'ensureCustomers' | 'mergeCustomers'>;
  /** Customers read per batch (the cursor moves once a batch is copied); default 200. */
  batch?: number;
  /** Customers copied at once; default 16 (each copy is a few durable round trips). */
  parallel?: number;
  now?: () => number;
}

/** What one run did (ids and counts only: safe to log). */
export interface PortCopyReport {
  /** The file was copied completely before: nothing was read. */
  alreadyDone: boolean;
  /** Customers handed to the port in this run (erased ones not counted). */
  copied: number;
  /** Customers this file erased (no data key): not copied. */
  erasedHere: number;
  /** Customers the port had erased already: not copied. */
  erasedOnPort: number;
  /**
   * Customers holding an identity the cluster's erasure log erased after this file recorded it (the
   * same person, erased on another node under another id): not copied, shredded here (`shredErased`).
   */
  erasedByLog: number;
  /** Identities the cluster already gave another customer: recorded for them here, this file's customer merged into theirs. */
  identitiesAdopted: number;
  /** Links another customer holds on the port: left to them. */
  linksHeldElsewhere: number;
  ms: number;
  /** Customers read per second over the run. */
  perSecond: number;
}

const JOB = 'customers';

/**
 * Issue 14: hands the customers this node's SQLite file made before the deployment switched to
 * `HUILIU_STORE=redis` to the Redis customers port (docs/store.md "Customers made before redis mode"),
 * so a returning customer keeps their id and history. Run at start in redis mode, before the node
 * takes messages; once the file is copied completely (`customer_port_copy.done_at`), later starts read
 * nothing.
 *
 * - Each customer keeps their SQLite id on the port (`copyCustomer`): record, identities claimed with the
 *   port's own first-claimer-wins, links by the port's link rules. Re-running copies nothing twice.
 * - Resumable: customers are copied in id order and the cursor is kept in this file after each batch; a
 *   crash re-copies at most one batch (idempotently).
 * - Nodes starting together (each with its own file) are safe: an identity two files hold under two ids
 *   ends with ONE customer on the port, the first claimer's.
 * - An identity the cluster already gives another customer X keeps X (the cluster is the truth): this
 *   file records it for X (`ensureCustomers` with X, which moves the identity row) and merges its own
 *   customer into X's group (`mergeCustomers`, reason `identity:<channel>`, by `system`), so the history
 *   under the SQLite id reads as X's person on this node; the SQLite id stays on the port for what it
 *   still holds (its other identities, its name for old sessions).
 * - Profile change history (`customer_profile_changes`), facts and ratings are not copied (they stay in
 *   this file; facts and ratings are read there in redis mode anyway).
 * - A customer holding an identity the cluster's erasure log (privacy/erasure-log.redis.ts) erased at or
 *   after this file recorded it (`privacy_erased_identities`, compared by the port's blind hash) is the
 *   erased person under this file's id: not copied, and shredded here (`shredErased`).
 * - Plain values exist in memory only; sealed again under the port's data key of the same customer.
 * @throws HuiliuError NOT_READY when the cluster does not acknowledge (the next start resumes)
 */
export async function copyCustomersToPort(options: PortCopyOptions): Promise<PortCopyReport> {
  const started = performance.now();
  const db = openDatabase(options.path);
  try {
    migrate(db, 'customers', migrationsDir('customers'));
    const iso = () => new Date((options.now ?? Date.now)()).toISOString();
    const report: PortCopyReport = {
      alreadyDone: false,
      copied: 0,
      erasedHere: 0,
      erasedOnPort: 0,
      erasedByLog: 0,
      identitiesAdopted: 0,
      linksHeldElsewhere: 0,
      ms: 0,
      perSecond: 0,
    };
    const state = db.prepare('SELECT cursor, copied, done_at FROM customer_port_copy WHERE name = ?').get(JOB) as
      { cursor: string; copied: number; done_at: string | null } | undefined;
    if (state?.done_at) return { ...report, alreadyDone: true };
    const q = {
      page: db.prepare('SELECT id, name_ct, created_at FROM customers WHERE id > ? ORDER BY id LIMIT ?'),
      identities: db.prepare(
        `SELECT channel, external_id_hmac, external_id_ct, phone_ct, created_at FROM customer_identities
         WHERE customer_id = ? ORDER BY created_at, rowid`,
      ),
      links: db.prepare(
        'SELECT kind, value_hmac, value_ct, source, trusted, created_at FROM customer_links WHERE customer_id = ? ORDER BY created_at, rowid',
      ),
      save: db.prepare(
        `INSERT INTO customer_port_copy (name, cursor, copied, done_at, updated_at) VALUES (@name, @cursor, @copied, @done, @at)
         ON CONFLICT(name) DO UPDATE SET cursor = @cursor, copied = @copied, done_at = @done, updated_at = @at`,
      ),
    };
    // Reads only: a customer without a key here was erased in this file and is never given one.
    const ring = new DataKeyRing(db, options.keys);
    // The identities the cluster's erasure log erased (kept in this file by its catch-up, which runs first).
    let erasedAt = erasedIdentityAt(db);
    const identityField = options.port.identityField?.bind(options.port);
    const batch = options.batch ?? 200;
    const parallel = options.parallel ?? 16;
    let cursor = state?.cursor ?? '';
    let copiedTotal = state?.copied ?? 0;
    let read = 0;

    /** The customer opened (in memory only), or null when this file erased them. */
    async function open(row: { id: string; name_ct: Buffer; created_at: string }): Promise<CustomerCopy | null> {
      const key = await ring.get(customerKeyOwner(row.id));
      if (!key) return null;
      const identities = (
        q.identities.all(row.id) as {
          channel: ChannelCode;
          external_id_hmac: string;
          external_id_ct: Buffer;
          phone_ct: Buffer | null;
          created_at: string;
        }[]
      ).map((r) => ({
        channel: r.channel,
        externalId: openText(key, r.external_id_ct, externalIdAad(r.channel, r.external_id_hmac)),
        phone: r.phone_ct ? openText(key, r.phone_ct, phoneAad(r.channel, r.external_id_hmac)) : null,
        createdAt: r.created_at,
      }));
      const links = (
        q.links.all(row.id) as {
          kind: IdentityLinkKind;
          value_hmac: string;
          value_ct: Buffer;
          source: string;
          trusted: number;
          created_at: string;
        }[]
      ).map((r) => ({
        kind: r.kind,
        value: openText(key, r.value_ct, linkAad(r.kind, r.value_hmac)),
        trusted: r.trusted === 1,
        source: r.source,
        createdAt: r.created_at,
      }));
      return { id: row.id, createdAt: row.created_at, name: openText(key, row.name_ct, nameAad(row.id)), identities, links };
    }

    /** Holds `customer` an identity the cluster erased at or after this file recorded it? */
    const heldErased = (customer: CustomerCopy): boolean =>
      !!identityField &&
      customer.identities.some((i) => {
        const at = erasedAt(identityField(i.channel, i.externalId));
        return at !== null && at >= i.createdAt;
      });
    /** Customers of the current batch handed to the port: checked again after `refreshErased`. */
    let copiedInBatch: CustomerCopy[] = [];

    async function copyOne(row: { id: string; name_ct: Buffer; created_at: string }): Promise<void> {
      const customer = await open(row);
      if (!customer) {
        report.erasedHere++;
        return;
      }
      // An identity the cluster erased after this file recorded it is the erased person's: copying
      // would claim the released lookup and put them back on the port under this file's id.
      if (heldErased(customer)) {
        await options.shredErased?.([customer.id]);
        report.erasedByLog++;
        return;
      }
      const result = await options.port.copyCustomer(customer);
      if (result.outcome === 'erased') {
        report.erasedOnPort++;
        return;
      }
      copiedInBatch.push(customer);
      report.copied++;
      report.linksHeldElsewhere += result.linksHeldElsewhere;
      for (const { index, customerId } of result.claimedElsewhere) {
        const identity = customer.identities[index]!;
        try {
          // The cluster's customer for this identity: recorded here (the identity row moves to them) …
          await options.wide.ensureCustomers([{ channel: identity.channel, externalId: identity.externalId }], {
            customerIds: [customerId],
          });
        } catch (error) {
          // … unless this file erased them: their identity stays where it is here (the port says who it is).
          if (error instanceof HuiliuError && error.code === 'CUSTOMER_ERASED') continue;
          throw error;
        }
        try {
          // … and this file's customer joins their group: one person, one history on this node.
          await options.wide.mergeCustomers({
            survivorId: customerId,
            mergedId: customer.id,
            by: 'system',
            reason: `identity:${identity.channel}`,
          });
        } catch (error) {
          if (!(error instanceof HuiliuError && error.code === 'MERGE_SAME_CUSTOMER')) throw error;
        }
        report.identitiesAdopted++;
      }
    }

    for (;;) {
      const rows = q.page.all(cursor, batch) as { id: string; name_ct: Buffer; created_at: string }[];
      if (rows.length === 0) break;
      let next = 0;
      let failed = false;
      // The first failure stops every worker of the batch (the cursor stays before it; the next run resumes).
      const worker = async () => {
        while (!failed && next < rows.length) {
          await copyOne(rows[next++]!).catch((error: unknown) => {
            failed = true;
            throw error;
          });
        }
      };
      await Promise.all(Array.from({ length: Math.min(parallel, rows.length) }, worker));
      // Erasures approved elsewhere while this batch was copied: their person's copy comes off the port
      // again (before the cursor moves: a failure re-runs the batch, which checks them before copying).
      if (options.refreshErased) {
        await options.refreshErased();
        erasedAt = erasedIdentityAt(db); // the table may be new (a file the catch-up migrated just now)
        for (const customer of copiedInBatch.filter(heldErased)) {
          await options.port.eraseCustomers?.([customer.id]);
          await options.shredErased?.([customer.id]);
          report.copied--;
          report.erasedByLog++;
        }
      }
      copiedInBatch = [];
      read += rows.length;
      cursor = rows[rows.length - 1]!.id;
      copiedTotal += rows.length;
      q.save.run({ name: JOB, cursor, copied: copiedTotal, done: null, at: iso() });
    }
    q.save.run({ name: JOB, cursor, copied: copiedTotal, done: iso(), at: iso() });
    report.ms = Math.round(performance.now() - started);
    report.perSecond = report.ms > 0 ? Math.round((read * 1000) / report.ms) : read;
    return report;
  } finally {
    db.close();
  }
}
