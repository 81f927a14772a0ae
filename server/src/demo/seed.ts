import type { Role } from '../../../common/api/auth';
import type { KnowledgeBase } from '../ai/kb';
import { DEMO_KB } from './kb-data';
import type { AuthService } from '../auth/auth';
import type { ServerConfig } from '../config/config';
import type { ChannelStore } from '../gateway/channels';

/** DESIGN §6: the `--demo` seed. Demo secrets exist only with `--demo`. */
export const DEMO_PASSWORD = 'huiliu-demo';
export const DEMO_APP_KEY = 'demo-app-key';

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
  await channels.addAccount({ key: DEMO_APP_KEY, channel: 'AP', accountId: 'demo', name: 'Demo app', skillGroup: null });
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
