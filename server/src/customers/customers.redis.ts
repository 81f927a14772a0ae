import { v7 as uuidv7 } from 'uuid';
import type { Cluster, Redis } from 'ioredis';
import { HuiliuError } from '../../../common/errors/codes';
import type { ChannelCode } from '../../../common/message/session-id';
import { normalizeLinkValue, type IdentityLinkKind } from '../../../common/message/envelope';
import { placeholderName } from '../../../common/message/placeholder-names';
import { openText, sealText } from '../crypto/aead';
import { joinKey } from '../crypto/composite-key';
import type { KeyProvider } from '../keys/provider';
import { createRedisIo, dataKeyName, isRedisCluster, RedisDataKeys } from '../sessions/redis-io';
import {
  blindIndex,
  changeAad,
  customerKeyOwner,
  externalIdAad,
  INDEX_KEY_OWNER,
  linkAad,
  nameAad,
  phoneAad,
} from '../sessions/sqlite-rows';
import type { CustomerRecord, IdentityView, LinkView, ProfileChange } from '../sessions/store';
import type { CustomerCopy, CustomerCopyResult, CustomerStore } from './customers';
import { CUSTOMER_LIBRARY, CUSTOMER_LIBRARY_VERSION } from './customers.redis.lua';

/**
 * The customers port (customers.ts) on Redis Cluster (ioredis `Cluster`), docs/store.md "Customers and
 * identities". `P` = prefix, `{…}` = hash tag:
 * | key | type | what |
 * |---|---|---|
 * | `P:cu:{<customerId>}` | hash | id, createdAt, name (sealed, b64), nameHmac |
 * | `P:cu:{<customerId>}:i` | hash | `<channel>:<identity HMAC>` → `{at, ext, ph?, phh?}` (ext, ph sealed) |
 * | `P:cu:{<customerId>}:l` | hash | `<kind>:<value HMAC>` → `{v, src, at}` (v sealed) |
 * | `P:cu:{<customerId>}:pc` | list | profile changes `{id, f, ch, p?, v, at}` (p, v sealed), oldest first |
 * | `P:ci:{<channel>:<identity HMAC>}` | string | the customer id owning the identity |
 * | `P:cl:{<kind>:<value HMAC>}` | hash | c (customer id), t (trusted 0/1), at |
 * | `P:dk:{customer:<id>}`, `P:dk:{index}` | string | data keys wrapped by the KEK (shared with conversations.redis.ts) |
 *
 * A customer's own data is in their slot; each lookup is in its own slot and claimed by a Redis
 * function (first claimer wins), so two nodes ensuring one identity agree on one customer. The
 * customer record is written BEFORE its identity is claimed: a lookup never points to a customer that
 * is not there (a loser's record is deleted; a crash leaves an unreachable orphan, never a dangling
 * lookup). Every write waits for one replica (`WAIT`, redis-io.ts). No `KEYS`/`SCAN` anywhere.
 * Sealed values are AES-256-GCM under the customer's data key with the SQLite store's AADs
 * (`nameAad`, `externalIdAad`, `phoneAad`, `linkAad`, `changeAad`); lookups are the SQLite store's
 * blind indexes (same `index` data key per prefix), so no plain external id, phone or e-mail is stored.
 */
export interface RedisCustomerOptions {
  redis: Cluster | Redis;
  keys: KeyProvider;
  /** Key prefix; default `huiliu` (the conversations adapter's, so data keys and blind indexes are shared). */
  prefix?: string;
  /** Replicas that must acknowledge a write before it resolves (default 1). */
  waitReplicas?: number;
  /** How long one `WAIT` may block, ms (default 1,000). */
  waitMs?: number;
  /** How long a write keeps retrying through a failover, ms (default 20,000). */
  retryMs?: number;
  now?: () => number;
  /** Tests only: runs after a new customer record is written (or a copied one checked) and before its identity is claimed. */
  beforeClaim?: (identityHmac: string) => Promise<void>;
}

export interface RedisCustomerStore extends CustomerStore {
  readonly kind: 'redis';
  /** The key names this store uses (tests and tools). */
  readonly layout: CustomerLayout;
  /** Drops this process's unwrapped data keys of these customers (another node erased them). Answers how many were cached. */
  forgetCustomers(customerIds: readonly string[]): number;
  /**
   * Copies one customer a node's SQLite made before redis mode (port-copy.ts) under its own id:
   * the record (`cust_import`: left as it is when it exists), then each identity CLAIMED with the
   * first-claimer-wins function every first contact uses (an identity the cluster already gives another
   * customer stays theirs: `claimedElsewhere`), its sealed copy written only when missing, then each link
   * (`cust_link`: trusted ones `verify`, others `record`). Idempotent and safe against nodes copying or
   * writing the same identities at once; a crash mid-way is finished by calling it again. A customer the
   * port erased (record without data key) answers `erased` and gets no new key.
   * @throws HuiliuError NOT_READY (retry: nothing is copied twice)
   */
  copyCustomer(customer: CustomerCopy): Promise<CustomerCopyResult>;
  /**
   * The blind hash the port names an identity by: `<channel>:<64 hex HMAC-SHA256 of the external id>`
   * under the cluster's blind-index key (the field of `P:cu:{id}:i`, the tag of `P:ci:{…}`). No I/O.
   */
  identityField(channel: ChannelCode, externalId: string): string;
  /**
   * The identities these customers hold on the port, as blind hashes (`identityField`), read before an
   * erasure releases them (the erasure log records them: erasure-log.redis.ts). One read per customer.
   * @throws HuiliuError NOT_READY when the cluster does not answer within the retry budget
   */
  identityFields(customerIds: readonly string[]): Promise<string[]>;
}

export function customerLayout(prefix = 'huiliu') {
  return {
    customer: (id: string) => `${prefix}:cu:{${id}}`,
    identities: (id: string) => `${prefix}:cu:{${id}}:i`,
    links: (id: string) => `${prefix}:cu:{${id}}:l`,
    changes: (id: string) => `${prefix}:cu:{${id}}:pc`,
    identityLookup: (channel: ChannelCode, hmac: string) => `${prefix}:ci:{${channel}:${hmac}}`,
    linkLookup: (kind: IdentityLinkKind, hmac: string) => `${prefix}:cl:{${kind}:${hmac}}`,
    dataKey: (owner: string) => dataKeyName(prefix, owner),
  };
}
export type CustomerLayout = ReturnType<typeof customerLayout>;

interface IdentityEntry {
  at: string;
  ext: string;
  ph?: string;
  phh?: string;
}
interface LinkEntry {
  v: string;
  src: string;
  at: string;
}
interface ChangeEntry {
  id: string;
  f: ProfileChange['field'];
  ch: ChannelCode;
  p?: string;
  v: string;
  at: string;
}

const b64 = (b: Buffer) => b.toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64');

function mapError(error: unknown): never {
  throw error;
}

/** Opens the adapter: loads its function library on every master (FUNCTION LOAD REPLACE when older). */
export async function createRedisCustomerStore(options: RedisCustomerOptions): Promise<RedisCustomerStore> {
  const redis = options.redis;
  const prefix = options.prefix ?? 'huiliu';
  const L = customerLayout(prefix);
  const now = options.now ?? Date.now;
  const iso = () => new Date(now()).toISOString();

  async function loadLibrary(): Promise<void> {
    const masters = isRedisCluster(redis) ? (redis as Cluster).nodes('master') : [redis as Redis];
    await Promise.all(
      masters.map(async (node) => {
        const have = await node.call('FCALL', 'cust_version', 0).catch(() => null);
        if (!(Number(have) >= CUSTOMER_LIBRARY_VERSION)) await node.call('FUNCTION', 'LOAD', 'REPLACE', CUSTOMER_LIBRARY);
      }),
    );
  }
  const io = createRedisIo({
    redis,
    waitReplicas: options.waitReplicas ?? 1,
    waitMs: options.waitMs ?? 1000,
    retryMs: options.retryMs ?? 20_000,
    loadLibrary,
    mapError,
  });
  const { durable, read } = io;
  const dataKeys = new RedisDataKeys(redis, io, options.keys, prefix);
  const customerKey = async (customerId: string) => {
    const key = await dataKeys.get(customerKeyOwner(customerId), false);
    if (!key) throw new HuiliuError('CUSTOMER_ERASED', "This customer's data was erased.");
    return key;
  };

  await loadLibrary();
  const blind = blindIndex((await dataKeys.get(INDEX_KEY_OWNER, true))!);
  const nameHmac = (customerId: string, name: string) => blind('name', customerId, name);
  const phoneHmac = (channel: ChannelCode, identityHmac: string, phone: string) => blind('phone', channel, identityHmac, phone);

  /** Best effort, never thrown: a leftover here is unreachable (no lookup names it). */
  const quietly = (p: Promise<unknown>) => p.catch(() => undefined);

  /** The identity's customer, created when new (record first, then the lookup claimed). */
  async function resolve(identity: { channel: ChannelCode; externalId: string; displayName?: string; phone?: string }) {
    const hmac = blind('identity', identity.channel, identity.externalId);
    const lookup = L.identityLookup(identity.channel, hmac);
    const found = await read(() => redis.get(lookup));
    if (found) {
      if (await dataKeys.get(customerKeyOwner(found), false)) return { customerId: found, identityHmac: hmac, created: false };
      // A lookup naming an erased customer (no data key): a copy or first contact claimed it again
      // while another node's erasure ran (it released the lookups before our claim). The identity is
      // free, as after any erasure: released, and this contact is a new customer (not CUSTOMER_ERASED forever).
      await durable((p) => p.call('FCALL', 'cust_release_identity', 1, lookup, found), { idempotent: true });
    }
    const id = uuidv7();
    const key = (await dataKeys.get(customerKeyOwner(id), true))!;
    const t = iso();
    const name = identity.displayName ?? placeholderName(identity.channel);
    const entry: IdentityEntry = { at: t, ext: b64(sealText(key, identity.externalId, externalIdAad(identity.channel, hmac))) };
    if (identity.phone) {
      entry.ph = b64(sealText(key, identity.phone, phoneAad(identity.channel, hmac)));
      entry.phh = phoneHmac(identity.channel, hmac, identity.phone);
    }
    await durable(
      (p) =>
        p.call(
          'FCALL',
          'cust_create',
          2,
          L.customer(id),
          L.identities(id),
          id,
          b64(sealText(key, name, nameAad(id))),
          nameHmac(id, name),
          t,
          `${identity.channel}:${hmac}`,
          JSON.stringify(entry),
        ),
      { idempotent: true },
    );
    await options.beforeClaim?.(hmac);
    const [owner] = (await durable((p) => p.call('FCALL', 'cust_claim_identity', 1, lookup, id), { idempotent: true })) as [string];
    if (owner !== id) {
      // Another node's first contact won: ours is an orphan nobody can reach; remove it and its key.
      await quietly(durable((p) => p.del(L.customer(id), L.identities(id)), { idempotent: true }));
      await quietly(durable((p) => p.del(L.dataKey(customerKeyOwner(id))), { idempotent: true }));
      dataKeys.forget(customerKeyOwner(id));
      return { customerId: owner, identityHmac: hmac, created: false };
    }
    return { customerId: id, identityHmac: hmac, created: true };
  }

  async function readIdentities(customerId: string): Promise<Map<string, IdentityEntry>> {
    const flat = await read(() => redis.hgetall(L.identities(customerId)));
    return new Map(Object.entries(flat).map(([f, v]) => [f, JSON.parse(v) as IdentityEntry]));
  }

  async function exists(customerId: string): Promise<boolean> {
    return (await read(() => redis.hexists(L.customer(customerId), 'id'))) === 1;
  }

  /** Sets `field` (name, or one identity's phone) by compare-and-set on its keyed hash; the change is kept. */
  async function setProfile(
    customerId: string,
    key: Buffer,
    channel: ChannelCode,
    field: ProfileChange['field'],
    identityField: string,
    value: string,
    current: () => Promise<{ hmac: string; sealed: string | null }>,
    nextHmac: string,
    aad: string,
  ): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const state = await current();
      if (state.hmac === nextHmac) return;
      const id = uuidv7();
      const previous = state.sealed === null ? null : openText(key, unb64(state.sealed), aad);
      const change: ChangeEntry = { id, f: field, ch: channel, v: b64(sealText(key, value, changeAad(customerId, id, field))), at: iso() };
      if (previous !== null) change.p = b64(sealText(key, previous, changeAad(customerId, id, field) + ':prev'));
      const [outcome] = (await durable(
        (p) =>
          p.call(
            'FCALL',
            'cust_profile',
            3,
            L.customer(customerId),
            L.identities(customerId),
            L.changes(customerId),
            field,
            identityField,
            state.hmac,
            b64(sealText(key, value, aad)),
            nextHmac,
            JSON.stringify(change),
          ),
        // A lost reply re-sent finds the hash changed ('stale') and then equal: no second change recorded.
        { idempotent: true },
      )) as [string];
      if (outcome !== 'stale') return;
    }
    throw new HuiliuError('NOT_READY', 'The contact details kept changing; retry.');
  }

  /** Records a link typed by the customer (untrusted) when nobody holds it. */
  async function recordLink(customerId: string, key: Buffer, kind: IdentityLinkKind, value: string, source: string) {
    const hmac = blind('link', kind, value);
    const t = iso();
    const [[outcome, holder]] = (await durable((p) => p.call('FCALL', 'cust_link', 1, L.linkLookup(kind, hmac), customerId, 'record', t), {
      idempotent: true,
    })) as [[string, string]];
    if (holder !== customerId) return;
    const entry: LinkEntry = { v: b64(sealText(key, value, linkAad(kind, hmac))), src: source, at: t };
    const field = `${kind}:${hmac}`;
    // Already theirs ('held' by them: recorded before, or this claim's first reply was lost): written only if missing.
    await durable(
      (p) =>
        outcome === 'new'
          ? p.hset(L.links(customerId), field, JSON.stringify(entry))
          : p.hsetnx(L.links(customerId), field, JSON.stringify(entry)),
      {
        idempotent: true,
      },
    );
  }

  const store: RedisCustomerStore = {
    kind: 'redis',
    layout: L,

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
      const [record, fields] = await read(async () => {
        const replies = (await redis.pipeline().hgetall(L.customer(id)).hkeys(L.identities(id)).exec())!;
        for (const [error] of replies) if (error) throw error;
        return [replies[0]![1] as Record<string, string>, replies[1]![1] as string[]] as const;
      });
      if (!record.id) return null;
      const key = await customerKey(id);
      const channels = [...new Set(fields.map((f) => f.slice(0, f.indexOf(':')) as ChannelCode))].sort();
      return {
        id,
        name: openText(key, unb64(record.name ?? ''), nameAad(id)),
        channels,
        createdAt: record.createdAt!,
        mergedInto: null,
        groupId: id,
      } satisfies CustomerRecord;
    },

    async findCustomerByIdentity(channel, externalId) {
      const found = await read(() => redis.get(L.identityLookup(channel, blind('identity', channel, externalId))));
      return found ? store.getCustomer(found) : null;
    },

    async linkIdentity(customerId, link, source) {
      const value = normalizeLinkValue(link.kind, link.value);
      if (value === null) throw new HuiliuError('VALIDATION_FAILED', `That is not a valid ${link.kind}.`);
      if (!(await exists(customerId))) throw new HuiliuError('NOT_FOUND', 'No such customer.');
      const key = await customerKey(customerId);
      const hmac = blind('link', link.kind, value);
      const field = `${link.kind}:${hmac}`;
      const t = iso();
      const [[outcome, holder]] = (await durable(
        (p) => p.call('FCALL', 'cust_link', 1, L.linkLookup(link.kind, hmac), customerId, 'verify', t),
        { idempotent: true },
      )) as [[string, string]];
      if (outcome === 'conflict') throw new HuiliuError('LINK_CONFLICT', undefined, { customerId: holder });
      const entry: LinkEntry = { v: b64(sealText(key, value, linkAad(link.kind, hmac))), src: source, at: t };
      if (outcome === 'have') {
        // Already theirs (and trusted): the record stays; written only if a crash lost it after the claim.
        const [set] = await durable((p) => p.hsetnx(L.links(customerId), field, JSON.stringify(entry)), { idempotent: true });
        if (Number(set) === 0) {
          const stored = JSON.parse((await read(() => redis.hget(L.links(customerId), field)))!) as LinkEntry;
          return { customerId, kind: link.kind, value, source: stored.src, createdAt: stored.at };
        }
        return { customerId, kind: link.kind, value, source, createdAt: t };
      }
      await durable((p) => p.hset(L.links(customerId), field, JSON.stringify(entry)), { idempotent: true });
      // Taken from an untrusted holder: their copy goes (readers check the lookup anyway).
      if (holder !== customerId) await quietly(durable((p) => p.hdel(L.links(holder), field), { idempotent: true }));
      return { customerId, kind: link.kind, value, source, createdAt: t };
    },

    async findCustomerByLink(kind, value) {
      const normal = normalizeLinkValue(kind, value);
      if (normal === null) return null;
      const holder = await read(() => redis.hget(L.linkLookup(kind, blind('link', kind, normal)), 'c'));
      return holder ? store.getCustomer(holder) : null;
    },

    async customerIdentities(customerId) {
      const identityEntries = await readIdentities(customerId);
      const linkEntries = Object.entries(await read(() => redis.hgetall(L.links(customerId))));
      if (identityEntries.size === 0 && linkEntries.length === 0) return { identities: [], links: [] };
      const key = await customerKey(customerId);
      const identities: IdentityView[] = [];
      for (const [field, e] of identityEntries) {
        const [channel, hmac] = field.split(':') as [ChannelCode, string];
        identities.push({ customerId, channel, externalId: openText(key, unb64(e.ext), externalIdAad(channel, hmac)), createdAt: e.at });
      }
      // The lookup is the truth: a link another customer has taken since is not this one's any more.
      const holders = await Promise.all(
        linkEntries.map(([field]) => {
          const [kind, hmac] = field.split(':') as [IdentityLinkKind, string];
          return read(() => redis.hget(L.linkLookup(kind, hmac), 'c'));
        }),
      );
      const links: LinkView[] = [];
      linkEntries.forEach(([field, raw], i) => {
        if (holders[i] !== customerId) return;
        const [kind, hmac] = field.split(':') as [IdentityLinkKind, string];
        const e = JSON.parse(raw) as LinkEntry;
        links.push({ customerId, kind, value: openText(key, unb64(e.v), linkAad(kind, hmac)), source: e.src, createdAt: e.at });
      });
      const byTime = <T extends { createdAt: string }>(a: T, b: T) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0);
      return { identities: identities.sort(byTime), links: links.sort(byTime) };
    },

    async saveContactDetails(identity, source) {
      const { customerId, identityHmac, created } = await resolve(identity);
      const key = await customerKey(customerId);
      const identityField = `${identity.channel}:${identityHmac}`;
      // Later details win (C10); "unchanged" is decided on keyed hashes, so the usual case opens nothing.
      if (identity.displayName) {
        await setProfile(
          customerId,
          key,
          identity.channel,
          'name',
          identityField,
          identity.displayName,
          async () => {
            const [sealed, hmac] = await read(() => redis.hmget(L.customer(customerId), 'name', 'nameHmac'));
            return { hmac: hmac ?? '', sealed: sealed ?? null };
          },
          nameHmac(customerId, identity.displayName),
          nameAad(customerId),
        );
      }
      if (identity.phone) {
        await setProfile(
          customerId,
          key,
          identity.channel,
          'phone',
          identityField,
          identity.phone,
          async () => {
            const raw = await read(() => redis.hget(L.identities(customerId), identityField));
            const e = raw ? (JSON.parse(raw) as IdentityEntry) : null;
            return { hmac: e?.phh ?? '', sealed: e?.ph ?? null };
          },
          phoneHmac(identity.channel, identityHmac, identity.phone),
          phoneAad(identity.channel, identityHmac),
        );
      }
      for (const link of identity.links ?? []) {
        const value = normalizeLinkValue(link.kind, link.value);
        if (value !== null) await recordLink(customerId, key, link.kind, value, source);
      }
      return { customerId, created };
    },

    async profileChanges(customerId) {
      const raw = await read(() => redis.lrange(L.changes(customerId), 0, -1));
      if (raw.length === 0) return [];
      const key = await customerKey(customerId);
      return raw.map((r) => {
        const c = JSON.parse(r) as ChangeEntry;
        return {
          field: c.f,
          channel: c.ch,
          previous: c.p === undefined ? null : openText(key, unb64(c.p), changeAad(customerId, c.id, c.f) + ':prev'),
          value: openText(key, unb64(c.v), changeAad(customerId, c.id, c.f)),
          changedAt: c.at,
        };
      });
    },

    async eraseCustomers(customerIds) {
      let destroyed = 0;
      for (const id of new Set(customerIds)) {
        const [identityFields, linkFields] = await read(async () => {
          const replies = (await redis.pipeline().hkeys(L.identities(id)).hkeys(L.links(id)).exec())!;
          for (const [error] of replies) if (error) throw error;
          return [replies[0]![1] as string[], replies[1]![1] as string[]] as const;
        });
        // Lookups first (each in its own slot, removed only while they still name this customer), so
        // nobody finds the customer by an identifier again; then their sealed details, then the key.
        for (const field of identityFields) {
          const [channel, hmac] = field.split(':') as [ChannelCode, string];
          await durable((p) => p.call('FCALL', 'cust_release_identity', 1, L.identityLookup(channel, hmac), id), { idempotent: true });
        }
        for (const field of linkFields) {
          const [kind, hmac] = field.split(':') as [IdentityLinkKind, string];
          await durable((p) => p.call('FCALL', 'cust_release_link', 1, L.linkLookup(kind, hmac), id), { idempotent: true });
        }
        // The sealed name and profile changes stay (unreadable without the key), as in SQLite.
        await durable((p) => p.del(L.identities(id), L.links(id)).hdel(L.customer(id), 'nameHmac'), { idempotent: true });
        const [n] = await durable((p) => p.del(L.dataKey(customerKeyOwner(id))), { idempotent: true });
        destroyed += Number(n);
        dataKeys.forget(customerKeyOwner(id));
      }
      return destroyed;
    },

    identityField(channel, externalId) {
      return `${channel}:${blind('identity', channel, externalId)}`;
    },

    async identityFields(customerIds) {
      const out = new Set<string>();
      for (const id of new Set(customerIds)) for (const field of await read(() => redis.hkeys(L.identities(id)))) out.add(field);
      return [...out];
    },

    async copyCustomer(c) {
      const owner = customerKeyOwner(c.id);
      const recorded = await exists(c.id);
      let key = await dataKeys.get(owner, false);
      // Erased on the port (the record stays without its key): never given a key again.
      if (recorded && !key) return { outcome: 'erased', claimedElsewhere: [], linksHeldElsewhere: 0 } satisfies CustomerCopyResult;
      key ??= (await dataKeys.get(owner, true))!;
      // The record before any lookup names it (as a first contact: a lookup never names a missing customer).
      if (!recorded) {
        await durable(
          (p) =>
            p.call(
              'FCALL',
              'cust_import',
              1,
              L.customer(c.id),
              c.id,
              b64(sealText(key, c.name, nameAad(c.id))),
              nameHmac(c.id, c.name),
              c.createdAt,
            ),
          { idempotent: true },
        );
      }
      const claimedElsewhere: CustomerCopyResult['claimedElsewhere'] = [];
      for (const [index, identity] of c.identities.entries()) {
        const hmac = blind('identity', identity.channel, identity.externalId);
        await options.beforeClaim?.(hmac);
        const [holder] = (await durable((p) => p.call('FCALL', 'cust_claim_identity', 1, L.identityLookup(identity.channel, hmac), c.id), {
          idempotent: true,
        })) as [string];
        if (holder !== c.id) {
          claimedElsewhere.push({ index, customerId: holder });
          continue;
        }
        const entry: IdentityEntry = {
          at: identity.createdAt,
          ext: b64(sealText(key, identity.externalId, externalIdAad(identity.channel, hmac))),
        };
        if (identity.phone) {
          entry.ph = b64(sealText(key, identity.phone, phoneAad(identity.channel, hmac)));
          entry.phh = phoneHmac(identity.channel, hmac, identity.phone);
        }
        // Written only when missing: a second copy (or a phone the customer changed on the port since) stays.
        await durable((p) => p.hsetnx(L.identities(c.id), `${identity.channel}:${hmac}`, JSON.stringify(entry)), { idempotent: true });
      }
      let linksHeldElsewhere = 0;
      for (const link of c.links) {
        const value = normalizeLinkValue(link.kind, link.value);
        if (value === null) continue;
        const hmac = blind('link', link.kind, value);
        const [[outcome, holder]] = (await durable(
          (p) => p.call('FCALL', 'cust_link', 1, L.linkLookup(link.kind, hmac), c.id, link.trusted ? 'verify' : 'record', link.createdAt),
          { idempotent: true },
        )) as [[string, string]];
        if (outcome === 'conflict' || (outcome === 'held' && holder !== c.id)) {
          linksHeldElsewhere++;
          continue;
        }
        const entry: LinkEntry = { v: b64(sealText(key, value, linkAad(link.kind, hmac))), src: link.source, at: link.createdAt };
        const field = `${link.kind}:${hmac}`;
        await durable(
          (p) =>
            outcome === 'new' || outcome === 'taken'
              ? p.hset(L.links(c.id), field, JSON.stringify(entry))
              : p.hsetnx(L.links(c.id), field, JSON.stringify(entry)),
          { idempotent: true },
        );
        if (outcome === 'taken' && holder !== c.id) await quietly(durable((p) => p.hdel(L.links(holder), field), { idempotent: true }));
      }
      // Erased on another node while this copy ran (its lookups released before our claims re-made them):
      // what this copy claimed is released again and its entries dropped (`resolve` heals what a later
      // erasure still races past this check).
      if ((await read(() => redis.exists(L.dataKey(owner)))) === 0) {
        for (const identity of c.identities) {
          const hmac = blind('identity', identity.channel, identity.externalId);
          await durable((p) => p.call('FCALL', 'cust_release_identity', 1, L.identityLookup(identity.channel, hmac), c.id), {
            idempotent: true,
          });
        }
        for (const link of c.links) {
          const value = normalizeLinkValue(link.kind, link.value);
          if (value === null) continue;
          const hmac = blind('link', link.kind, value);
          await durable((p) => p.call('FCALL', 'cust_release_link', 1, L.linkLookup(link.kind, hmac), c.id), { idempotent: true });
        }
        await durable((p) => p.del(L.identities(c.id), L.links(c.id)), { idempotent: true });
        dataKeys.forget(owner);
        return { outcome: 'erased', claimedElsewhere: [], linksHeldElsewhere: 0 } satisfies CustomerCopyResult;
      }
      return { outcome: 'copied', claimedElsewhere, linksHeldElsewhere } satisfies CustomerCopyResult;
    },

    forgetCustomers(customerIds) {
      let n = 0;
      for (const id of customerIds) if (dataKeys.forget(customerKeyOwner(id))) n++;
      return n;
    },

    async ping() {
      if (isRedisCluster(redis)) {
        const info = String(await (redis as Cluster).cluster('INFO'));
        if (!info.includes('cluster_state:ok')) throw new HuiliuError('NOT_READY', 'The Redis Cluster is not ok.');
      } else await redis.ping();
    },

    async shutdown() {
      dataKeys.clear();
    },
  };
  return store;
}
