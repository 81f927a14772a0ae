import type { ChannelCode } from '../../../common/message/session-id';
import type { ChannelIdentity, IdentityLink, IdentityLinkKind } from '../../../common/message/envelope';
import type { CustomerIdentity, CustomerRecord, IdentityView, LinkView, ProfileChange } from '../sessions/store';

/**
 * The customers-and-identities aggregate of the session store (issue 14): a customer, their channel
 * identities (found by a blind index — a keyed HMAC — never by the plain external id), their
 * cross-channel links (phone, e-mail, WeChat unionid; also by blind index), and their sealed profile
 * (name, per-identity phone, the history of changes). Merges of customers (issue 12) stay on the wide
 * `SessionStore` (store.ts) for now: here `groupId` is what the backend stored (SQLite) or the
 * customer's own id (Redis), and `customerIdentities` reads the group SQLite stored.
 *
 * Adapters beside it: `customers.sqlite.ts` (the existing sessions schema, rows interchangeable with the
 * wide SQLite store's) and `customers.redis.ts` (Redis Cluster, docs/store.md "Customers and
 * identities"); `customers.contract.ts` runs against both. Every name, external id, phone and link value
 * is AES-256-GCM under the customer's data key with the record identity as AAD (the AADs of
 * `sessions/sqlite-rows.ts`). A method that resolves has made its write durable (SQLite: committed;
 * Redis: on the master and at least one replica, `WAIT`).
 */
export interface CustomerStore {
  readonly kind: 'sqlite' | 'redis';
  /**
   * The customers with these identities, in order; created (data key, sealed name — `displayName` or a
   * channel placeholder —, sealed identity) when new. Idempotent: concurrent calls for one identity, in
   * one process or several, agree on ONE customer, and exactly one of them answers `created: true`
   * (a list naming an identity twice answers `created: true` at most once). A call that failed with
   * NOT_READY (Redis: not acknowledged by a replica in time) may have created the customer: its retry
   * then answers them with `created: false`.
   * @throws HuiliuError NOT_READY (retry with the same identity)
   */
  ensureCustomers(identities: readonly CustomerIdentity[]): Promise<{ customerId: string; created: boolean }[]>;
  /** The customer (name opened), or null. @throws HuiliuError CUSTOMER_ERASED (410) when their data key was destroyed */
  getCustomer(id: string): Promise<CustomerRecord | null>;
  /** The customer holding this channel identity (looked up by its blind index), or null. */
  findCustomerByIdentity(channel: ChannelCode, externalId: string): Promise<CustomerRecord | null>;
  /**
   * Adds a verified (trusted) link to a customer (an agent verified a phone number or e-mail). A link
   * the customer already has changes nothing; one an untrusted source recorded (for them or for someone
   * else) becomes theirs and trusted.
   * @throws HuiliuError NOT_FOUND (no such customer), LINK_CONFLICT (another customer holds it trusted:
   *   `details.customerId` names them), VALIDATION_FAILED (not a valid phone / e-mail / unionid)
   */
  linkIdentity(customerId: string, link: IdentityLink, source: string): Promise<LinkView>;
  /** The customer holding a link (the value in any form `normalizeLinkValue` accepts), or null. */
  findCustomerByLink(kind: IdentityLinkKind, value: string): Promise<CustomerRecord | null>;
  /** The customer's channel identities and links, opened, oldest first (SQLite: their merge group's). */
  customerIdentities(customerId: string): Promise<{ identities: IdentityView[]; links: LinkView[] }>;
  /**
   * Contact details a customer typed themselves (issue 13): the identity's customer is created when new,
   * a `displayName` replaces their name and a `phone` the identity's phone (each change kept, sealed, in
   * `profileChanges`), and each link is recorded **untrusted** for them when nobody holds it — never
   * taken from a holder. Invalid link values are skipped. `source`: who recorded the links.
   */
  saveContactDetails(identity: ChannelIdentity, source: string): Promise<{ customerId: string; created: boolean }>;
  /** Every change of the customer's name or phone, oldest first (opened). */
  profileChanges(customerId: string): Promise<ProfileChange[]>;
  /**
   * Crypto-erasure (issue 17, DESIGN §8): destroys each customer's data key and removes their identity
   * and link lookups, so nobody finds them by an identifier again (the same identity writing again is a
   * new customer) and their sealed profile can never be opened (`getCustomer` → CUSTOMER_ERASED).
   * Idempotent; answers how many data keys were destroyed.
   */
  eraseCustomers(customerIds: readonly string[]): Promise<number>;
  /** Resolves when the backend answers (readiness); rejects when it cannot. */
  ping(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * A customer as a node's SQLite file holds them, opened, for the copy to the Redis customers port when
 * a deployment switches to `HUILIU_STORE=redis` (port-copy.ts). PII: kept in memory only, sealed again
 * under the port's data key of the same customer id; never logged.
 */
export interface CustomerCopy {
  /** The SQLite customer id, kept on the port unless the cluster knows an identity under another id. */
  id: string;
  createdAt: string;
  name: string;
  identities: { channel: ChannelCode; externalId: string; phone: string | null; createdAt: string }[];
  /** `trusted`: verified (claimed like `linkIdentity`); otherwise recorded like a typed link (never taken). */
  links: { kind: IdentityLinkKind; value: string; trusted: boolean; source: string; createdAt: string }[];
}

/** What `copyCustomer` did with one `CustomerCopy` (ids and counts only). */
export interface CustomerCopyResult {
  /** `copied`: the record is on the port (now or before); `erased`: the port erased this id — nothing copied. */
  outcome: 'copied' | 'erased';
  /** Identities the cluster gives another customer (first claimer wins): index in `identities`, that customer. */
  claimedElsewhere: { index: number; customerId: string }[];
  /** Links another customer holds on the port (verified by them, or recorded first): left to them. */
  linksHeldElsewhere: number;
}
