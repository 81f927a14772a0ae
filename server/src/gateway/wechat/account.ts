import { z } from 'zod';
import { HuiliuError, zodDetails } from '../../../../common/errors/codes';
import type { ChannelStore } from '../channels';
import { aesKeyOf } from './crypto';

/** WeChat's API, where a real account's outbound calls go unless `apiBaseUrl` says otherwise. */
export const WECHAT_API_BASE_URL = 'https://api.weixin.qq.com';

/**
 * How the account's pushes are protected (the official account's 消息加解密方式): `plain` (明文,
 * signature only), `compat` (兼容: plain or AES, WeChat sends both), `safe` (安全: AES only).
 */
export const WechatModeSchema = z.enum(['plain', 'compat', 'safe']);
export type WechatMode = z.infer<typeof WechatModeSchema>;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** A WX account's `settings` (non-secret; HUILIU_CONFIG `channels.accounts[].settings`). */
export const WechatSettingsSchema = z.object({
  /**
   * The official account's AppID (开发者ID), checked in every AES push: `wx` and 16 hex digits on real
   * accounts; 8–32 letters or digits after `wx` are accepted (the demo's `wx0000000000demo0` has 15).
   */
  appId: z.string().regex(/^wx[0-9A-Za-z]{8,32}$/, 'an AppID is "wx" and letters or digits'),
  /** https, or http on loopback only (a test fake or a local proxy). */
  apiBaseUrl: z
    .url()
    .default(WECHAT_API_BASE_URL)
    .refine(
      (u) => {
        const url = new URL(u);
        return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname));
      },
      { message: 'https, or http on loopback only' },
    )
    .transform((u) => u.replace(/\/+$/, '')),
  mode: WechatModeSchema.default('safe'),
});

/** A WX account's sealed `secrets`. */
export const WechatSecretsSchema = z.object({
  /**
   * The push Token (令牌) set in the account's server configuration. WeChat's console takes 3–32
   * letters or digits; any 3–64 visible ASCII characters are accepted here (the demo's has dashes).
   */
  token: z.string().regex(/^[\x21-\x7e]{3,64}$/, '3 to 64 visible ASCII characters'),
  /** EncodingAESKey (消息加解密密钥): 43 characters; needed in compat and safe mode. */
  encodingAESKey: z
    .string()
    .regex(/^[A-Za-z0-9]{43}$/, '43 letters or digits')
    .optional(),
  /** AppSecret (开发者密码): needed for every outbound call (replies, media, user info). */
  appSecret: z.string().min(1).max(128).optional(),
});

/** One WeChat official account as the channel uses it: settings and secrets, checked. */
export interface WechatAccount {
  accountId: string;
  name: string;
  skillGroup: string | null;
  appId: string;
  apiBaseUrl: string;
  mode: WechatMode;
  token: string;
  /** The AES key (32 bytes) in compat and safe mode; null in plain mode without a key. */
  aesKey: Buffer | null;
  appSecret: string | null;
}

/**
 * Loads WX accounts from the channels store, checked with zod, and keeps each for `ttlMs` (default
 * 30 s) so a burst of pushes unseals the secrets once; an account changed in the store is seen
 * after at most `ttlMs`. Unknown accounts are remembered as unknown for the same time.
 */
export class WechatAccounts {
  private readonly cache = new Map<string, { at: number; value: Promise<WechatAccount | null> }>();

  constructor(
    private readonly channels: ChannelStore,
    private readonly options: {
      ttlMs?: number;
      now?: () => number;
      /** Told which fields of a misconfigured account are wrong (for the operator's log; never the values). */
      onInvalid?: (accountId: string, problems: { path: string; message: string }[]) => void;
    } = {},
  ) {}

  /**
   * The account, or a refusal.
   * @throws HuiliuError WECHAT_ACCOUNT_NOT_FOUND (no such WX account), WECHAT_ACCOUNT_INVALID (its
   *   settings or secrets break the schemas: `onInvalid` hears which fields; the caller — WeChat or
   *   anyone — is told nothing more)
   */
  async get(accountId: string): Promise<WechatAccount> {
    const now = (this.options.now ?? Date.now)();
    const ttl = this.options.ttlMs ?? 30_000;
    let hit = this.cache.get(accountId);
    if (!hit || now - hit.at > ttl) {
      hit = { at: now, value: this.load(accountId) };
      this.cache.set(accountId, hit);
      // A failed load (a store error, a tampered row) is not cached.
      hit.value.catch(() => this.cache.delete(accountId));
      if (this.cache.size > 1000) this.cache.delete(this.cache.keys().next().value!);
    }
    const account = await hit.value;
    if (!account) throw new HuiliuError('WECHAT_ACCOUNT_NOT_FOUND');
    return account;
  }

  /** Forgets cached accounts (after an operator changed one). */
  forget(accountId?: string): void {
    if (accountId === undefined) this.cache.clear();
    else this.cache.delete(accountId);
  }

  private async load(accountId: string): Promise<WechatAccount | null> {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(accountId)) return null;
    const row = await this.channels.account('WX', accountId);
    if (!row) return null;
    const settings = WechatSettingsSchema.safeParse(row.settings);
    const secrets = WechatSecretsSchema.safeParse((await this.channels.secrets(row.id)) ?? {});
    const problems = [
      ...(settings.success ? [] : zodDetails(settings.error).map((d) => ({ ...d, path: `settings.${d.path}` }))),
      ...(secrets.success ? [] : zodDetails(secrets.error).map((d) => ({ ...d, path: `secrets.${d.path}` }))),
    ];
    if (settings.success && secrets.success && settings.data.mode !== 'plain' && !secrets.data.encodingAESKey) {
      problems.push({ path: 'secrets.encodingAESKey', message: `is required in ${settings.data.mode} mode` });
    }
    if (!settings.success || !secrets.success || problems.length) {
      this.options.onInvalid?.(accountId, problems);
      throw new HuiliuError('WECHAT_ACCOUNT_INVALID');
    }
    const { encodingAESKey, appSecret, token } = secrets.data;
    return {
      accountId,
      name: row.name,
      skillGroup: row.skillGroup,
      ...settings.data,
      token,
      aesKey: encodingAESKey ? aesKeyOf(encodingAESKey) : null,
      appSecret: appSecret ?? null,
    };
  }
}
