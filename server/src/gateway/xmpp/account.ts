import { z } from 'zod';
import type { ChannelAccount, ChannelStore } from '../channels';

/**
 * An XMPP component account's non-secret settings (`ChannelAccount.settings`, issue 12):
 * - `service`: the XMPP server's component port, `xmpp://host:port` (Prosody and ejabberd: 5347);
 * - `domain`: the component's domain, as the XMPP server's config names it (`Component "…"`);
 * - `supportLocal`: the local part of the address customers write to (default `support`, giving
 *   `support@<domain>`);
 * - `reconnectMinMs` / `reconnectMaxMs`: the reconnect backoff's first wait and cap (default 500 ms,
 *   30 s; see link.ts `backoffDelay`).
 */
export const XmppSettingsSchema = z.strictObject({
  service: z.string().regex(/^xmpp:\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/, 'xmpp://host:port'),
  domain: z
    .string()
    .max(253)
    .regex(/^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/, 'a domain name'),
  supportLocal: z
    .string()
    .regex(/^[a-z0-9._-]{1,64}$/, 'lowercase letters, digits, ".", "_" or "-"')
    .default('support'),
  reconnectMinMs: z.number().int().min(50).max(60_000).default(500),
  reconnectMaxMs: z.number().int().min(100).max(600_000).default(30_000),
});

/** The account's sealed secrets: `password`, the component secret the XMPP server expects. */
export const XmppSecretsSchema = z.object({ password: z.string().min(1).max(1024) });

/** One XMPP component account, checked and ready to connect. */
export interface XmppAccount {
  accountId: string;
  name: string;
  service: string;
  domain: string;
  /** `support@domain`: the address customers write to and replies come from. */
  supportJid: string;
  supportLocal: string;
  password: string;
  /** Where its new sessions open (the account's skill group, else the first configured one). */
  skillGroup: string;
  reconnectMinMs: number;
  reconnectMaxMs: number;
}

/** An account that could not be used, and why: field names and rules only, never values or secrets. */
export interface InvalidXmppAccount {
  accountId: string;
  problems: string[];
}

/**
 * Reads the `XM` accounts of the channels store and checks each (zod): settings, the sealed
 * `password`, the skill group, and that no two accounts serve one domain. Never throws for a bad
 * account — it is returned in `invalid` for the caller to log (masked) and count, and the server runs
 * on without it. (A sealed row that was tampered with counts as invalid too.)
 */
export async function loadXmppAccounts(
  channels: Pick<ChannelStore, 'accounts' | 'secrets'>,
  skillGroups: readonly string[],
): Promise<{ accounts: XmppAccount[]; invalid: InvalidXmppAccount[] }> {
  const accounts: XmppAccount[] = [];
  const invalid: InvalidXmppAccount[] = [];
  for (const row of await channels.accounts('XM')) {
    const checked = await checkAccount(row, channels, skillGroups);
    if ('problems' in checked) invalid.push(checked);
    else if (accounts.some((a) => a.domain === checked.domain)) {
      invalid.push({ accountId: row.accountId, problems: [`domain: another XM account already serves this domain`] });
    } else accounts.push(checked);
  }
  return { accounts, invalid };
}

async function checkAccount(
  row: ChannelAccount,
  channels: Pick<ChannelStore, 'secrets'>,
  skillGroups: readonly string[],
): Promise<XmppAccount | InvalidXmppAccount> {
  const problems: string[] = [];
  const settings = XmppSettingsSchema.safeParse(row.settings);
  if (!settings.success) problems.push(...settings.error.issues.map((i) => `settings.${i.path.join('.') || '(root)'}: ${i.message}`));
  let secrets: Record<string, string> | null = null;
  try {
    secrets = await channels.secrets(row.id);
  } catch {
    problems.push('secrets: the sealed secrets do not open (altered or wrong key)');
  }
  const password = XmppSecretsSchema.safeParse(secrets ?? {});
  if (!password.success) problems.push('secrets.password: required (the component secret)');
  const skillGroup = row.skillGroup ?? skillGroups[0];
  if (!skillGroup || !skillGroups.includes(skillGroup)) problems.push('skillGroup: no such skill group');
  if (settings.success && settings.data.reconnectMinMs > settings.data.reconnectMaxMs) {
    problems.push('settings.reconnectMinMs: larger than reconnectMaxMs');
  }
  if (problems.length > 0 || !settings.success || !password.success || !skillGroup) return { accountId: row.accountId, problems };
  const s = settings.data;
  return {
    accountId: row.accountId,
    name: row.name,
    service: s.service,
    domain: s.domain.toLowerCase(),
    supportLocal: s.supportLocal,
    supportJid: `${s.supportLocal}@${s.domain.toLowerCase()}`,
    password: password.data.password,
    skillGroup,
    reconnectMinMs: s.reconnectMinMs,
    reconnectMaxMs: s.reconnectMaxMs,
  };
}
