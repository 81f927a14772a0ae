import type { Role } from '../../../common/api/auth';
import type { KnowledgeBase } from '../ai/kb';
import { DEMO_KB } from './kb-data';
import type { AuthService } from '../auth/auth';
import type { ServerConfig } from '../config/config';
import type { ChannelStore } from '../gateway/channels';
import type { FactsImportRow } from '../../../common/api/customers';
import { checkFactsRow, ImportErrors, storeFactsRows, type CheckedFactsRow } from '../customers/import';
import type { SessionStore } from '../sessions/store';
import type { CannedReplyStore } from '../canned/store';
import { v7 as uuidv7 } from 'uuid';

/** DESIGN §6: the `--demo` seed. Demo secrets exist only with `--demo`. */
export const DEMO_PASSWORD = 'huiliu-demo';
export const DEMO_APP_KEY = 'demo-app-key';
/** DESIGN §6: the demo WeChat official account (`/channels/wechat/demo`), in safe (AES) mode; no AppSecret, so no outbound. */
export const DEMO_WECHAT = {
  accountId: 'demo',
  appId: 'wx0000000000demo0',
  token: 'huiliu-demo-token',
  encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
} as const;

/** The demo's XMPP component account (DESIGN §6 style values): Prosody's `Component "support.localhost"`. */
export const DEMO_XMPP = {
  accountId: 'demo',
  name: 'Demo XMPP support',
  domain: 'support.localhost',
  service: 'xmpp://127.0.0.1:5347',
  password: 'huiliu-demo-component',
} as const;

export const DEMO_USERS: { username: string; displayName: string; roles: Role[]; skillGroups: string[]; expert?: boolean }[] = [
  { username: 'admin', displayName: 'Admin', roles: ['admin'], skillGroups: ['general', 'vip'] },
  { username: 'lead', displayName: 'Team Lead', roles: ['lead'], skillGroups: ['general', 'vip'] },
  { username: 'agent1', displayName: 'Agent One', roles: ['agent'], skillGroups: ['general'] },
  { username: 'agent2', displayName: 'Agent Two', roles: ['agent'], skillGroups: ['vip'], expert: true },
  { username: 'auditor', displayName: 'Auditor', roles: ['auditor'], skillGroups: [] },
  { username: 'privacy', displayName: 'Privacy Officer', roles: ['privacy-officer'], skillGroups: [] },
];

/**
 * Idempotent: re-running with `--demo` on an existing data dir adds only what is missing. Channel
 * accounts are data: the demo app key is one row of the channels store (hashed like any other key).
 */
export async function seedDemo(auth: AuthService, channels: ChannelStore, config: ServerConfig): Promise<string[]> {
  const groups = new Set(config.skillGroups.map((g) => g.id));
  for (const id of ['general', 'vip']) {
    if (!groups.has(id)) throw new Error(`--demo needs skill group "${id}" in the configuration`);
  }
  const created: string[] = [];
  for (const u of DEMO_USERS) {
    if (auth.hasUser(u.username)) continue;
    await auth.createUser({ ...u, password: DEMO_PASSWORD });
    created.push(u.username);
  }
  // The demo app is trusted to verify its users' phone, e-mail and WeChat unionid (docs/continuity.md).
  await channels.addAccount({
    key: DEMO_APP_KEY,
    channel: 'AP',
    accountId: 'demo',
    name: 'Demo app',
    skillGroup: null,
    settings: { mergeOnVerified: true },
  });
  await channels.addAccount({
    channel: 'WX',
    accountId: DEMO_WECHAT.accountId,
    name: 'Demo WeChat account',
    skillGroup: null,
    settings: { appId: DEMO_WECHAT.appId, mode: 'safe' },
    secrets: { token: DEMO_WECHAT.token, encodingAESKey: DEMO_WECHAT.encodingAESKey },
  });
  // Issue 12: an XMPP component for a local Prosody (docs/channels/xmpp.md); without one it only retries.
  // Added only when missing, so an operator's (or a test's) `demo` XM account from HUILIU_CONFIG stands.
  if (!(await channels.account('XM', DEMO_XMPP.accountId))) {
    const { accountId, name, domain, service, password } = DEMO_XMPP;
    await channels.addAccount({ channel: 'XM', accountId, name, skillGroup: null, settings: { service, domain }, secrets: { password } });
  }
  return created;
}

/**
 * The demo's bilingual knowledge base (kb-data.ts), imported once: only into an empty KB (version 0),
 * so an admin's later edits survive restarts with `--demo`. Returns the new KB version, or null when
 * the KB already had content.
 */
export async function seedDemoKnowledgeBase(kb: KnowledgeBase): Promise<number | null> {
  if ((await kb.version()) > 0) return null;
  const result = await kb.import(DEMO_KB, { mode: 'merge', by: 'demo-seed' });
  return result.version;
}

/**
 * The demo's customers with purchase history (issue 11): imported facts of two app-channel customers
 * of the demo app, so the demo shows every tier. Write as them with the demo key and
 * `customer.externalId` `wang-fang` or `li-na`; everyone else has no history (spend 0, no CSAT) and,
 * with the default weights, lands at or below priority 50 — the AI tier.
 *
 * With the default config (spend cap 100,000; factor weights 0.5 / 0.3 / 0.2; weights 0.6 / 0.4), on
 * their first contact (a routine question reads difficulty ≈ 8–15 with the demo KB's model):
 * - Wang Fang: value ≈ 80 → priority ≈ 48 + 0.4 × difficulty: assisted for any question, expert
 *   only past difficulty ≈ 81 (an angry request for a person);
 * - Li Na:     value ≈ 82 → priority ≈ 49 + 0.4 × difficulty: expert past difficulty ≈ 77 (asking for
 *   a person adds 40).
 */
export const DEMO_CUSTOMER_FACTS: readonly FactsImportRow[] = [
  { externalId: 'wang-fang', channel: 'AP', app: 'demo', name: 'Wang Fang', spend: 60_000, csat: 1 },
  { externalId: 'li-na', channel: 'AP', app: 'demo', name: 'Li Na', spend: 100_000, csat: 1 },
];

/**
 * Imports `DEMO_CUSTOMER_FACTS` the way an admin's import stores them (same checks, source `import`),
 * for the customers that have no facts yet, so a later import or app update survives restarts with
 * `--demo`. Returns how many customers it set.
 */
export async function seedDemoCustomerFacts(
  store: Pick<SessionStore, 'ensureCustomers' | 'putCustomerFacts' | 'findCustomerByIdentity' | 'customerFacts'>,
): Promise<number> {
  const errors = new ImportErrors();
  const rows = DEMO_CUSTOMER_FACTS.map((value, i) => checkFactsRow({ row: i + 1, value }, ['demo'], errors));
  if (errors.total) throw new Error(`demo customer facts: ${JSON.stringify(errors.listed)}`);
  const fresh: CheckedFactsRow[] = [];
  for (const row of rows) {
    const known = await store.findCustomerByIdentity(row!.identity.channel, row!.identity.externalId);
    if (!known || !(await store.customerFacts(known.id))) fresh.push(row!);
  }
  return fresh.length ? (await storeFactsRows(store, fresh, 'import')).imported : 0;
}

/** The demo's canned replies (issue 15): a few per demo skill group, in both languages, seeded into an empty set once. */
export const DEMO_CANNED_REPLIES: readonly { skillGroup: string; shortcut: string; title: string; text: string; lang: 'zh' | 'en' }[] = [
  {
    skillGroup: 'general',
    shortcut: 'hi',
    title: 'Greeting',
    text: 'Hello, thanks for contacting us. How can I help you today?',
    lang: 'en',
  },
  { skillGroup: 'general', shortcut: 'nihao', title: '问候', text: '您好，感谢您的咨询，请问有什么可以帮您？', lang: 'zh' },
  {
    skillGroup: 'general',
    shortcut: 'refund',
    title: 'Refund timing',
    text: 'Refunds reach your original payment method within 3–5 working days after we approve them.',
    lang: 'en',
  },
  { skillGroup: 'general', shortcut: 'tuikuan', title: '退款时效', text: '退款审核通过后，将在 3–5 个工作日内原路退回。', lang: 'zh' },
  {
    skillGroup: 'general',
    shortcut: 'bye',
    title: 'Closing',
    text: 'Is there anything else I can help with? Have a good day!',
    lang: 'en',
  },
  { skillGroup: 'general', shortcut: 'zaijian', title: '结束语', text: '请问还有其他可以帮您的吗？祝您生活愉快！', lang: 'zh' },
  {
    skillGroup: 'vip',
    shortcut: 'vip-hi',
    title: 'VIP greeting',
    text: 'Hello, I am your dedicated account manager. How can I help?',
    lang: 'en',
  },
  { skillGroup: 'vip', shortcut: 'vip-nihao', title: 'VIP 问候', text: '您好，我是您的专属客户经理，请问有什么可以帮您？', lang: 'zh' },
];

/** Seeds `DEMO_CANNED_REPLIES` when no group has any reply yet (an admin's edits survive restarts); answers how many. */
export async function seedDemoCannedReplies(store: CannedReplyStore): Promise<number> {
  const groups = [...new Set(DEMO_CANNED_REPLIES.map((r) => r.skillGroup))].map((skillGroup) => ({ kind: 'group' as const, skillGroup }));
  if ((await store.search(groups, undefined, 1)).length > 0) return 0;
  const at = new Date().toISOString();
  for (const r of DEMO_CANNED_REPLIES) {
    const { skillGroup, ...reply } = r;
    await store.create(uuidv7(), { kind: 'group', skillGroup }, { ...reply, updatedBy: 'demo-seed', updatedAt: at });
  }
  return DEMO_CANNED_REPLIES.length;
}
