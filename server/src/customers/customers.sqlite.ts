import { v7 as uuidv7 } from 'uuid';
import { HuiliuError } from '../../../common/errors/codes';
import type { ChannelCode } from '../../../common/message/session-id';
import { normalizeLinkValue, type IdentityLinkKind } from '../../../common/message/envelope';
import { placeholderName } from '../../../common/message/placeholder-names';
import { openText, sealText } from '../crypto/aead';
import { joinKey } from '../crypto/composite-key';
import { GroupCommit } from '../db/group-commit';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import type { KeyProvider } from '../keys/provider';
import { migrationsDir } from '../runtime/paths';
import { DataKeyRing } from '../sessions/data-keys';
import {
  applyContactDetails,
  blindIndex,
  changeAad,
  customerKeyOwner,
  externalIdAad,
  INDEX_KEY_OWNER,
  linkAad,
  loadCustomerKey,
  nameAad,
  PROFILE_SQL,
  CUSTOMER_ROW_SQL,
  insertCustomerRow,
  insertIdentityRow,
} from '../sessions/sqlite-rows';
import type { CustomerRecord, IdentityView, LinkView, ProfileChange } from '../sessions/store';
import type { CustomerStore } from './customers';

export interface SqliteCustomerOptions {
  /** The sessions database (`huiliu.db`), or `:memory:`. */
  path: string;
  keys: KeyProvider;
  /** Test clock (ms since epoch); default `Date.now`. */
  now?: () => number;
}

/**
 * The customers port (customers.ts) on the embedded sessions schema: the tables `customers`,
 * `customer_identities`, `customer_links`, `customer_profile_changes` and `data_keys`, with the same
 * sealing labels (`nameAad`, `externalIdAad`, `phoneAad`, `linkAad`, `changeAad`), blind index
 * (`blindIndex` under the `index` data key: `identity`, `name`, `phone`, `link` labels) and data keys
 * as the wide SQLite store's writer (sessions/writer.ts) — rows written by either are read by the other.
 * Writes go through group commit on this connection (BEGIN IMMEDIATE, synchronous=FULL): two
 * processes on one file serialize, and the identity's primary key keeps one customer per identity.
 */
export async function createSqliteCustomerStore(options: SqliteCustomerOptions): Promise<CustomerStore> {
  const db: Db = openDatabase(options.path);
  migrate(db, 'sessions', migrationsDir('sessions'));
  const now = options.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();
  const commit = new GroupCommit(db);
  const ring = new DataKeyRing(db, options.keys, (fn) => commit.run(fn));
  const blind = blindIndex(await ring.getOrCreate(INDEX_KEY_OWNER));

  const q = {
    identity: db.prepare('SELECT customer_id FROM customer_identities WHERE channel = ? AND external_id_hmac = ?'),
    insertCustomer: db.prepare(CUSTOMER_ROW_SQL.insertCustomer),
    insertIdentity: db.prepare(CUSTOMER_ROW_SQL.insertIdentity),
    customer: db.prepare('SELECT id, name_ct, created_at, merged_into, group_id FROM customers WHERE id = ?'),
    customerChannels: db.prepare('SELECT DISTINCT channel FROM customer_identities WHERE customer_id = ? ORDER BY channel'),
    groupOf: db.prepare('SELECT group_id FROM customers WHERE id = ?'),
    groupIdentities: db.prepare(
      `SELECT channel, external_id_hmac, customer_id, external_id_ct, created_at FROM customer_identities
       WHERE customer_id IN (SELECT id FROM customers WHERE group_id = (SELECT coalesce(group_id, id) FROM customers WHERE id = ?))
       ORDER BY created_at, rowid`,
    ),
    groupLinks: db.prepare(
      `SELECT kind, value_hmac, customer_id, value_ct, source, created_at FROM customer_links
       WHERE customer_id IN (SELECT id FROM customers WHERE group_id = (SELECT coalesce(group_id, id) FROM customers WHERE id = ?))
       ORDER BY created_at, rowid`,
    ),
    link: db.prepare('SELECT customer_id, trusted FROM customer_links WHERE kind = ? AND value_hmac = ?'),
    insertLink: db.prepare(
      `INSERT INTO customer_links (kind, value_hmac, customer_id, value_ct, source, trusted, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       RETURNING created_at`,
    ),
    takeLink: db.prepare(
      `UPDATE customer_links SET customer_id = ?, value_ct = ?, source = ?, trusted = 1, created_at = ? WHERE kind = ? AND value_hmac = ?
       RETURNING created_at`,
    ),
    profileState: db.prepare(PROFILE_SQL.profileState),
    setName: db.prepare(PROFILE_SQL.setName),
    setPhone: db.prepare(PROFILE_SQL.setPhone),
    insertProfileChange: db.prepare(PROFILE_SQL.insertProfileChange),
    profileChanges: db.prepare('SELECT * FROM customer_profile_changes WHERE customer_id = ? ORDER BY id'),
    // Erasure, as the privacy service does it (privacy/privacy.sqlite.ts): lookups gone, name index cleared.
    delIdentities: db.prepare('DELETE FROM customer_identities WHERE customer_id = ?'),
    delLinks: db.prepare('DELETE FROM customer_links WHERE customer_id = ?'),
    clearNameIndex: db.prepare('UPDATE customers SET name_hmac = NULL WHERE id = ?'),
    ping: db.prepare('SELECT 1 AS ok'),
  };

  /** The identity's customer, created when new; the blind index computed once. Keys left in the ring's cache. */
  async function resolve(identity: { channel: ChannelCode; externalId: string; displayName?: string; phone?: string }) {
    const hmac = blind('identity', identity.channel, identity.externalId);
    const found = q.identity.get(identity.channel, hmac) as { customer_id: string } | undefined;
    if (found) return { customerId: found.customer_id, identityHmac: hmac, created: false };
    const customerId = uuidv7();
    const key = await ring.getOrCreate(customerKeyOwner(customerId));
    // Re-checked inside the transaction (BEGIN IMMEDIATE): a concurrent first contact may have won.
    const resolved = await commit.run(() => {
      const again = q.identity.get(identity.channel, hmac) as { customer_id: string } | undefined;
      if (again) return again.customer_id;
      const t = iso();
      const name = identity.displayName ?? placeholderName(identity.channel);
      insertCustomerRow(q, blind, key, customerId, name, t);
      insertIdentityRow(q, blind, key, identity, hmac, customerId, t);
      return customerId;
    });
    return { customerId: resolved, identityHmac: hmac, created: resolved === customerId };
  }

  function groupOf(customerId: string): string {
    const row = q.groupOf.get(customerId) as { group_id: string | null } | undefined;
    if (!row) throw new HuiliuError('NOT_FOUND', 'No such customer.');
    return row.group_id ?? customerId;
  }

  const store: CustomerStore = {
    kind: 'sqlite',

    async ensureCustomers(identities) {
      const distinct = new Map<string, ReturnType<typeof resolve>>();
      const pending = identities.map((identity) => {
        const id = joinKey('\u0000', [identity.channel, identity.externalId]);
        let p = distinct.get(id);
        if (!p) distinct.set(id, (p = resolve(identity)));
        return p;
      });
      const resolved = await Promise.all(pending);
      const seen = new Set<string>();
      return resolved.map(({ customerId, created }) => {
        const first = !seen.has(customerId);
        seen.add(customerId);
        return { customerId, created: created && first };
      });
    },

    async getCustomer(id) {
      const row = q.customer.get(id) as
        { id: string; name_ct: Buffer; created_at: string; merged_into: string | null; group_id: string | null } | undefined;
      if (!row) return null;
      const key = await loadCustomerKey(ring, id);
      return {
        id,
        name: openText(key, row.name_ct, nameAad(id)),
        channels: (q.customerChannels.all(id) as { channel: ChannelCode }[]).map((r) => r.channel),
        createdAt: row.created_at,
        mergedInto: row.merged_into,
        groupId: row.group_id ?? id,
      } satisfies CustomerRecord;
    },

    async findCustomerByIdentity(channel, externalId) {
      const found = q.identity.get(channel, blind('identity', channel, externalId)) as { customer_id: string } | undefined;
      return found ? store.getCustomer(found.customer_id) : null;
    },

    async linkIdentity(customerId, link, source) {
      const value = normalizeLinkValue(link.kind, link.value);
      if (value === null) throw new HuiliuError('VALIDATION_FAILED', `That is not a valid ${link.kind}.`);
      groupOf(customerId); // NOT_FOUND before any key is asked for
      const key = await loadCustomerKey(ring, customerId);
      return commit.run((): LinkView => {
        const group = groupOf(customerId);
        const hmac = blind('link', link.kind, value);
        const owner = q.link.get(link.kind, hmac) as { customer_id: string; trusted: number } | undefined;
        const sealed = sealText(key, value, linkAad(link.kind, hmac));
        if (owner && groupOf(owner.customer_id) === group) {
          if (owner.trusted) return { customerId: owner.customer_id, kind: link.kind, value, source, createdAt: iso() };
          q.takeLink.run(customerId, sealed, source, iso(), link.kind, hmac);
          return { customerId, kind: link.kind, value, source, createdAt: iso() };
        }
        if (owner?.trusted) throw new HuiliuError('LINK_CONFLICT', undefined, { customerId: groupOf(owner.customer_id) });
        const row = (
          owner
            ? q.takeLink.get(customerId, sealed, source, iso(), link.kind, hmac)
            : q.insertLink.get(link.kind, hmac, customerId, sealed, source, 1, iso())
        ) as { created_at: string };
        return { customerId, kind: link.kind, value, source, createdAt: row.created_at };
      });
    },

    async findCustomerByLink(kind, value) {
      const normal = normalizeLinkValue(kind, value);
      if (normal === null) return null;
      const found = q.link.get(kind, blind('link', kind, normal)) as { customer_id: string } | undefined;
      return found ? store.getCustomer(found.customer_id) : null;
    },

    async customerIdentities(customerId) {
      const identityRows = q.groupIdentities.all(customerId) as {
        channel: ChannelCode;
        external_id_hmac: string;
        customer_id: string;
        external_id_ct: Buffer;
        created_at: string;
      }[];
      const linkRows = q.groupLinks.all(customerId) as {
        kind: IdentityLinkKind;
        value_hmac: string;
        customer_id: string;
        value_ct: Buffer;
        source: string;
        created_at: string;
      }[];
      const identities: IdentityView[] = [];
      for (const r of identityRows) {
        const externalId = openText(
          await loadCustomerKey(ring, r.customer_id),
          r.external_id_ct,
          externalIdAad(r.channel, r.external_id_hmac),
        );
        identities.push({ customerId: r.customer_id, channel: r.channel, externalId, createdAt: r.created_at });
      }
      const links: LinkView[] = [];
      for (const r of linkRows) {
        const value = openText(await loadCustomerKey(ring, r.customer_id), r.value_ct, linkAad(r.kind, r.value_hmac));
        links.push({ customerId: r.customer_id, kind: r.kind, value, source: r.source, createdAt: r.created_at });
      }
      return { identities, links };
    },

    async saveContactDetails(identity, source) {
      const { customerId, identityHmac, created } = await resolve(identity);
      const key = await loadCustomerKey(ring, customerId);
      await commit.run(() => {
        const t = iso();
        // Later details win (C10), decided on keyed hashes; an identity with no row records nothing.
        if (!applyContactDetails(q, blind, key, customerId, identity, identityHmac, t)) return;
        // Typed by the customer: recorded untrusted when nobody holds it, never taken from a holder.
        for (const link of identity.links ?? []) {
          const value = normalizeLinkValue(link.kind, link.value);
          if (value === null) continue;
          const hmac = blind('link', link.kind, value);
          if (q.link.get(link.kind, hmac)) continue;
          q.insertLink.run(link.kind, hmac, customerId, sealText(key, value, linkAad(link.kind, hmac)), source, 0, t);
        }
      });
      return { customerId, created };
    },

    async profileChanges(customerId) {
      const rows = q.profileChanges.all(customerId) as {
        id: string;
        field: ProfileChange['field'];
        channel: ChannelCode;
        previous_ct: Buffer | null;
        value_ct: Buffer;
        changed_at: string;
      }[];
      if (rows.length === 0) return [];
      const key = await loadCustomerKey(ring, customerId);
      return rows.map((r) => ({
        field: r.field,
        channel: r.channel,
        previous: r.previous_ct ? openText(key, r.previous_ct, changeAad(customerId, r.id, r.field) + ':prev') : null,
        value: openText(key, r.value_ct, changeAad(customerId, r.id, r.field)),
        changedAt: r.changed_at,
      }));
    },

    async eraseCustomers(customerIds) {
      const owners = [...new Set(customerIds)];
      const destroyed = await commit.run(() => {
        for (const id of owners) {
          q.delIdentities.run(id);
          q.delLinks.run(id);
          q.clearNameIndex.run(id);
        }
        return DataKeyRing.destroy(db, owners.map(customerKeyOwner));
      });
      DataKeyRing.announceShred(options.keys);
      return destroyed;
    },

    async ping() {
      q.ping.get();
    },

    async shutdown() {
      await commit.run(() => undefined);
      db.close();
    },
  };
  return store;
}
