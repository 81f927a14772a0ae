import type { DeliveryError, DeliveryResult, DeliveryState } from '../../../common/message/delivery';
import type { ChannelCode } from '../../../common/message/session-id';

/** One channel account: a connection of the server to a channel (an integrating app, a WeChat account…). */
export interface ChannelAccount {
  /** The row's own id (UUIDv7). */
  id: string;
  channel: ChannelCode;
  /**
   * The channel's account id: the app id (scopes that app's customer ids, stays the same across key
   * rotation), a WeChat AppID, an XMPP component JID. Letters, digits, `.`, `_`, `-`; at most 64.
   */
  accountId: string;
  name: string;
  /** Where a new session from this account opens unless the message hints otherwise. */
  skillGroup: string | null;
  /**
   * Non-secret settings the channel's adapter reads and validates itself (a WeChat account's `appId`,
   * `apiBaseUrl`, `mode`; an XMPP component's `service` and `domain`); `{}` when none.
   */
  settings: AccountSettings;
  createdAt: string;
}

/** Scalar settings of one channel account (issue 12); secrets never go here (`secrets`, sealed). */
export type AccountSettings = Record<string, string | number | boolean>;

export interface NewChannelAccount {
  channel: ChannelCode;
  accountId: string;
  name: string;
  skillGroup: string | null;
  /** A key callers present (the app channel's X-Huiliu-Key): stored hashed; re-adding a key updates its account. */
  key?: string;
  /** Secrets the server itself must use (an AppSecret, a SIP password): stored sealed. */
  secrets?: Record<string, string>;
  /** Non-secret settings (see `ChannelAccount.settings`). */
  settings?: AccountSettings;
}

/**
 * `bounce`: the channel reported a failure *after* it took the message (an XMPP error stanza bouncing
 * one of our messages, issue 12). Such a `failed` replaces `sent` (the channel only said it took the
 * message), never `delivered` or `read`.
 */
export interface DeliveryRecordOptions {
  bounce?: boolean;
}

/** The newest delivery state of one outbound message. */
export interface DeliveryRecord {
  messageId: string;
  channel: ChannelCode;
  state: DeliveryState;
  error: DeliveryError | null;
  /** ISO 8601: when this state was recorded. */
  updatedAt: string;
}

/**
 * The channels store port (issue 7 §1): channel accounts as data, and the delivery state of every
 * outbound message. SQLite in the embedded mode (`channels.sqlite.ts`).
 */
export interface ChannelStore {
  /**
   * Adds an account (or, for a `key` already stored, updates the account that key opens). An account
   * without a `key` (WeChat, XMPP) is one per (channel, accountId): adding it again updates its name,
   * skill group, settings and secrets, so a restart with the same config changes nothing.
   * @throws HuiliuError VALIDATION_FAILED for an `accountId` outside `[A-Za-z0-9._-]{1,64}` (a ':'
   *   would make two apps' customer ids collide, issue 6 B7) or an empty name
   */
  addAccount(input: NewChannelAccount): Promise<ChannelAccount>;
  /**
   * The account a presented key opens on `channel`; null for no key, an unknown key, a revoked key
   * or another channel's key. Asked on every app-channel request: adapters may cache, and a change
   * made through this store (add, update, revoke) is seen by the very next call on this node.
   */
  accountByKey(channel: ChannelCode, key: string | undefined): Promise<ChannelAccount | null>;
  /**
   * Revokes a presented key: it opens nothing from the next `accountByKey` on. The account, its
   * customers and its other settings stay (re-adding a new key with `addAccount` makes a new account
   * row for the same `accountId`). Resolves true when the key was known.
   */
  revokeKey(key: string): Promise<boolean>;
  accounts(channel: ChannelCode): Promise<ChannelAccount[]>;
  /** The keyless account (WeChat, XMPP) with this channel and accountId, or null. */
  account(channel: ChannelCode, accountId: string): Promise<ChannelAccount | null>;
  /** The account's secrets, unsealed; null when it has none. @throws TamperError when the sealed row was altered */
  secrets(id: string): Promise<Record<string, string> | null>;
  /**
   * Records what the channel answered for one outbound message. A state never moves backwards
   * (`DELIVERY_RANK`): a redelivered `sent` after `read`, or a `failed` after a success, leaves the
   * row as it is — except a `bounce` (see DeliveryRecordOptions), which replaces `sent`. Returns the
   * row as stored and whether it changed.
   */
  recordDelivery(
    messageId: string,
    channel: ChannelCode,
    result: DeliveryResult,
    options?: DeliveryRecordOptions,
  ): Promise<{ record: DeliveryRecord; changed: boolean }>;
  delivery(messageId: string): Promise<DeliveryRecord | null>;
  /** The delivery states of several messages (a conversation page), keyed by message id. */
  deliveries(messageIds: readonly string[]): Promise<Map<string, DeliveryRecord>>;
  close(): Promise<void>;
}
