import { createHash } from 'node:crypto';
import { HuiliuError } from '../../../common/errors/codes';
import { normalizeLinkValue, type ChannelIdentity, type IdentityLink } from '../../../common/message/envelope';
import type { CustomerRecord, IdentityView, InboundOptions, LinkView, SessionStore } from '../sessions/store';
import type { CustomerStore } from './customers';

export interface RoutedCustomersOptions {
  /** A copy of a port write into `wide` failed (logged by the server); the port's answer stands. */
  onMirrorError?: (error: unknown, op: 'linkIdentity') => void;
}

/** How many (customer, trusted link) pairs a process remembers as already on the port before it starts over. */
const KNOWN_LINKS_MAX = 100_000;

/**
 * `HUILIU_STORE=redis` (issue 14, docs/store.md "Customers on the port in redis mode"): a `SessionStore`
 * whose customers and identities are resolved by `customers` (the Redis Cluster adapter, shared by every
 * node) while sessions, continuity, merges, facts and ratings stay on `wide` (this node's SQLite file).
 * `routeConversations` wraps the result (it calls this store's `admitInbound`).
 *
 * - `admitInbound` / `appendInbound`: the identity's customer is resolved on the port FIRST (`ensureCustomers`;
 *   `saveContactDetails` when the message carries a name, phone or untrusted link, so later details win
 *   on the port too; each verified link `linkIdentity`d once per process) and `wide` is handed that id
 *   (`InboundOptions.customerId`): two nodes with separate SQLite files name one customer per identity,
 *   even for first messages arriving at both at once (the port's claim decides).
 * - `ensureCustomers`, `saveContactDetails`: the port decides, then `wide` records the same ids (its rows
 *   are needed for facts, ratings, sessions and merges).
 * - `getCustomer`, `findCustomerByIdentity`, `findCustomerByLink`: the port's record; `mergedInto` and
 *   `groupId` from `wide` when this node's SQLite knows the customer (merges stay in SQLite).
 * - `customerIdentities`: the port's identities and links of each member of `wide`'s merge group.
 * - `linkIdentity`: the port decides (NOT_FOUND, LINK_CONFLICT — `details.customerId` the holder's group
 *   root —, VALIDATION_FAILED); a link a member of the same group holds answers that member's link, as
 *   in SQLite. The link is then copied to `wide` (best effort: `onMirrorError`), where merges on verified
 *   links are decided.
 * - `profileChanges`: the port.
 * - `forgetCached` also drops the port's cached data keys of the erased customers (this process); the
 *   port's own erasure (`eraseCustomers`) is run by the server on `customer.erased`.
 * Everything else is `wide`'s.
 * @throws HuiliuError INTERNAL when `wide` cannot admit inbound messages without storing them
 */
export function routeCustomers(wide: SessionStore, customers: CustomerStore, options: RoutedCustomersOptions = {}): SessionStore {
  const admit = wide.admitInbound?.bind(wide);
  if (!admit) throw new HuiliuError('INTERNAL', 'this session store cannot admit messages for a customers port');
  /** Customer id → hashes of the verified links this process already put on the port for them. */
  const knownLinks = new Map<string, Set<string>>();
  let knownCount = 0;
  const linkTag = (link: IdentityLink, value: string) => createHash('sha256').update(`${link.kind}\u0000${value}`).digest('base64');

  /**
   * The identity's customer on the port: created when new, the message's contact details applied (later
   * details win), untrusted links recorded for them when nobody holds them, verified links linked
   * (another holder: left to `wide`'s merge rules). Reads only, when nothing changed.
   */
  async function resolveOnPort(identity: ChannelIdentity): Promise<string> {
    const untrusted = (identity.links ?? []).filter((l) => l.merge !== true);
    const verified = (identity.links ?? []).filter((l) => l.merge === true);
    let customerId: string;
    if (identity.displayName || identity.phone || untrusted.length) {
      ({ customerId } = await customers.saveContactDetails(
        {
          channel: identity.channel,
          externalId: identity.externalId,
          ...(identity.displayName ? { displayName: identity.displayName } : {}),
          ...(identity.phone ? { phone: identity.phone } : {}),
          ...(untrusted.length ? { links: untrusted } : {}),
        },
        identity.channel,
      ));
    } else {
      const [ensured] = await customers.ensureCustomers([{ channel: identity.channel, externalId: identity.externalId }]);
      customerId = ensured!.customerId;
    }
    for (const link of verified) {
      const value = normalizeLinkValue(link.kind, link.value);
      if (value === null) continue;
      const tag = linkTag(link, value);
      if (knownLinks.get(customerId)?.has(tag)) continue;
      try {
        await customers.linkIdentity(customerId, { kind: link.kind, value }, identity.channel);
      } catch (error) {
        // Another customer holds it verified: the port keeps its first holder; `wide` merges (or not).
        if (!(error instanceof HuiliuError && error.code === 'LINK_CONFLICT')) throw error;
      }
      if (knownCount >= KNOWN_LINKS_MAX) {
        knownLinks.clear();
        knownCount = 0;
      }
      let set = knownLinks.get(customerId);
      if (!set) knownLinks.set(customerId, (set = new Set()));
      set.add(tag);
      knownCount++;
    }
    return customerId;
  }

  /** The port's record with the merge group `wide` knows (this node's SQLite), if it knows the customer. */
  async function withGroup(record: CustomerRecord | null): Promise<CustomerRecord | null> {
    if (!record) return null;
    const members = await wide.customerGroup(record.id);
    if (members.length === 0) return record;
    let mergedInto: string | null = null;
    if (members[0] !== record.id) {
      // Only the merge tree's parent is needed; `wide` opens the name too (cheap, local).
      try {
        mergedInto = (await wide.getCustomer(record.id))?.mergedInto ?? null;
      } catch (error) {
        if (!(error instanceof HuiliuError && error.code === 'CUSTOMER_ERASED')) throw error;
      }
    }
    return { ...record, mergedInto, groupId: members[0]! };
  }

  const routed: SessionStore = {
    ...wide,

    async admitInbound(draft, opts: InboundOptions) {
      const customerId = await resolveOnPort(draft.identity);
      return admit(draft, { ...opts, customerId });
    },

    async appendInbound(draft, opts: InboundOptions) {
      const customerId = await resolveOnPort(draft.identity);
      return wide.appendInbound(draft, { ...opts, customerId });
    },

    async ensureCustomers(identities) {
      const resolved = await customers.ensureCustomers(identities);
      await wide.ensureCustomers(identities, { customerIds: resolved.map((r) => r.customerId) });
      return resolved;
    },

    async saveContactDetails(identity, source) {
      const saved = await customers.saveContactDetails(identity, source);
      await wide.saveContactDetails(identity, source, { customerId: saved.customerId });
      return saved;
    },

    async getCustomer(id) {
      return withGroup(await customers.getCustomer(id));
    },

    async findCustomerByIdentity(channel, externalId) {
      return withGroup(await customers.findCustomerByIdentity(channel, externalId));
    },

    async findCustomerByLink(kind, value) {
      return withGroup(await customers.findCustomerByLink(kind, value));
    },

    async linkIdentity(customerId, link, source): Promise<LinkView> {
      let linked: LinkView;
      try {
        linked = await customers.linkIdentity(customerId, link, source);
      } catch (error) {
        if (!(error instanceof HuiliuError && error.code === 'LINK_CONFLICT')) throw error;
        const holder = String((error.details as { customerId?: unknown } | undefined)?.customerId ?? '');
        const group = await wide.customerGroup(customerId);
        // Held verified by a member of the same merge group: nothing to change (as in SQLite).
        if (holder && group.includes(holder)) {
          const value = normalizeLinkValue(link.kind, link.value) ?? link.value;
          return { customerId: holder, kind: link.kind, value, source, createdAt: new Date().toISOString() };
        }
        const root = holder ? ((await wide.customerGroup(holder))[0] ?? holder) : holder;
        throw new HuiliuError('LINK_CONFLICT', undefined, { customerId: root });
      }
      try {
        await wide.linkIdentity(customerId, link, source);
      } catch (error) {
        options.onMirrorError?.(error, 'linkIdentity');
      }
      return linked;
    },

    profileChanges(customerId) {
      return customers.profileChanges(customerId);
    },

    async customerIdentities(customerId) {
      const group = await wide.customerGroup(customerId);
      const identities: IdentityView[] = [];
      const links: LinkView[] = [];
      for (const member of group.length ? group : [customerId]) {
        const own = await customers.customerIdentities(member);
        identities.push(...own.identities);
        links.push(...own.links);
      }
      const byTime = <T extends { createdAt: string }>(a: T, b: T) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0);
      return { identities: identities.sort(byTime), links: links.sort(byTime) };
    },

    forgetCached(customerIds) {
      for (const id of customerIds) {
        knownCount -= knownLinks.get(id)?.size ?? 0;
        knownLinks.delete(id);
      }
      const port = customers as Partial<{ forgetCustomers(ids: readonly string[]): number }>;
      return wide.forgetCached(customerIds) + (port.forgetCustomers ? port.forgetCustomers(customerIds) : 0);
    },

    async ping() {
      await wide.ping();
      await customers.ping();
    },

    async shutdown() {
      await customers.shutdown();
      await wide.shutdown();
    },
  };
  return routed;
}
