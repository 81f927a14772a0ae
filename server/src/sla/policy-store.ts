import { HuiliuError, zodDetails } from '../../../common/errors/codes';
import { SlaPolicySetSchema, type SlaPolicy, type SlaPoliciesView, type SlaPolicySet } from '../../../common/api/sla';
import type { ChannelCode } from '../../../common/message/session-id';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import { migrationsDir } from '../runtime/paths';

/** Who publishes the file config's versions. */
export const SLA_CONFIG_PUBLISHER = 'config-file';

/**
 * The versioned SLA policies (issue 16): an append-only list of published sets. `current()` is read
 * synchronously (cached; a version published by another process is picked up at the next read).
 */
export interface SlaPolicyStore {
  current(): SlaPoliciesView;
  /**
   * Validates `set` (SlaPolicySetSchema) and stores it as the next version.
   * @throws HuiliuError VALIDATION_FAILED (details name the fields, e.g. `policies.0.calendar.timeZone`)
   */
  publish(set: unknown, by: string, comment?: string): SlaPoliciesView;
  close(): void;
}

/** The policy of a contact: group and channel, then group `*`-channel, then `*`-group channel, then `*`/`*`; null: no SLA. */
export function policyFor(policies: readonly SlaPolicy[], skillGroup: string, channel: ChannelCode): SlaPolicy | null {
  const find = (g: string, c: string) => policies.find((p) => p.skillGroup === g && p.channel === c);
  return find(skillGroup, channel) ?? find(skillGroup, '*') ?? find('*', channel) ?? find('*', '*') ?? null;
}

/** The set validated, or VALIDATION_FAILED with the zod issues as details. */
export function validPolicySet(set: unknown): SlaPolicySet {
  const parsed = SlaPolicySetSchema.safeParse(set);
  if (!parsed.success) throw new HuiliuError('VALIDATION_FAILED', 'The SLA policies are not valid.', zodDetails(parsed.error));
  return parsed.data;
}

interface Row {
  version: number;
  policies_json: string;
  published_by: string;
  published_at: string;
  comment: string | null;
}

const view = (r: Row): SlaPoliciesView => ({
  version: r.version,
  policies: (JSON.parse(r.policies_json) as SlaPolicySet).policies,
  publishedBy: r.published_by,
  publishedAt: r.published_at,
  comment: r.comment,
});

/**
 * SlaPolicyStore on SQLite (the data file). `seed` (HUILIU_CONFIG `sla.policies`, or the defaults)
 * becomes version 1 of an empty store, and a new version whenever it differs from the last version
 * the file published, so editing the file and restarting takes effect.
 */
export function createSqliteSlaPolicyStore(options: { path: string; seed: SlaPolicySet; now?: () => number }): SlaPolicyStore {
  const db: Db = openDatabase(options.path);
  migrate(db, 'sla', migrationsDir('sla'));
  const now = options.now ?? Date.now;
  const q = {
    insert: db.prepare(
      'INSERT INTO sla_policy_versions (policies_json, published_by, published_at, comment) VALUES (?, ?, ?, ?) RETURNING *',
    ),
    newest: db.prepare('SELECT * FROM sla_policy_versions ORDER BY version DESC LIMIT 1'),
    newestVersion: db.prepare('SELECT max(version) AS v FROM sla_policy_versions'),
    newestBy: db.prepare('SELECT * FROM sla_policy_versions WHERE published_by = ? ORDER BY version DESC LIMIT 1'),
  };
  const insert = (set: SlaPolicySet, by: string, comment: string | null) =>
    view(q.insert.get(JSON.stringify(set), by, new Date(now()).toISOString(), comment) as Row);
  db.transaction(() => {
    const seed = JSON.stringify(validPolicySet(options.seed));
    const last = q.newestBy.get(SLA_CONFIG_PUBLISHER) as Row | undefined;
    if (last?.policies_json !== seed) insert(JSON.parse(seed) as SlaPolicySet, SLA_CONFIG_PUBLISHER, null);
  }).immediate();
  let cached: SlaPoliciesView | null = null;
  return {
    current() {
      const { v } = q.newestVersion.get() as { v: number };
      if (cached?.version !== v) cached = view(q.newest.get() as Row);
      return cached;
    },
    publish(set, by, comment) {
      if (by.trim() === '')
        throw new HuiliuError('VALIDATION_FAILED', 'A version needs its publisher.', [{ path: 'by', message: 'required' }]);
      return insert(validPolicySet(set), by, comment?.trim() || null);
    },
    close() {
      db.close();
    },
  };
}
