import { HuiliuError, zodDetails } from '../../../common/errors/codes';
import { RoutingConfigSchema, type RoutingConfig } from '../../../common/routing/types';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import { migrationsDir } from '../runtime/paths';
import { CONFIG_FILE_PUBLISHER, type RoutingConfigDraft, type RoutingConfigStore, type RoutingConfigVersion } from './config-store';

export interface SqliteRoutingConfigOptions {
  /** The database file (the one the session store uses; this adapter opens its own connection). */
  path: string;
  /**
   * The config from HUILIU_CONFIG (or the defaults). It becomes version 1 of an empty store, and a
   * new version whenever it differs from the last version the file published, so editing the file
   * and restarting still takes effect, while a version published since by a person is kept until then.
   */
  seed: RoutingConfig;
  now?: () => number;
}

const MIGRATIONS = migrationsDir('routing');

interface Row {
  version: number;
  config_json: string;
  published_by: string;
  published_at: string;
  comment: string | null;
}

/** JSON with sorted keys: two equal configs compare equal whatever order their keys were built in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The stored form: validated, without `version` (the row's key is the version). */
function validated(config: RoutingConfigDraft): string {
  const parsed = RoutingConfigSchema.safeParse({ ...config, version: 1 });
  if (!parsed.success) throw new HuiliuError('VALIDATION_FAILED', 'The routing config is not valid.', zodDetails(parsed.error));
  const { version: _ignored, ...rest } = parsed.data;
  return canonical(rest);
}

const toVersion = (row: Row): RoutingConfigVersion => ({
  version: row.version,
  config: { ...(JSON.parse(row.config_json) as Omit<RoutingConfig, 'version'>), version: row.version },
  publishedBy: row.published_by,
  publishedAt: row.published_at,
  comment: row.comment,
});

/**
 * RoutingConfigStore on SQLite: an append-only table of versions (triggers refuse UPDATE and DELETE),
 * numbered by AUTOINCREMENT so a number is never handed out twice, even across processes.
 */
export function createSqliteRoutingConfigStore(options: SqliteRoutingConfigOptions): RoutingConfigStore {
  const db: Db = openDatabase(options.path);
  migrate(db, 'routing', MIGRATIONS);
  const now = options.now ?? Date.now;
  const q = {
    insert: db.prepare(
      'INSERT INTO routing_config_versions (config_json, published_by, published_at, comment) VALUES (?, ?, ?, ?) RETURNING *',
    ),
    newest: db.prepare('SELECT * FROM routing_config_versions ORDER BY version DESC LIMIT 1'),
    newestVersion: db.prepare('SELECT max(version) AS v FROM routing_config_versions'),
    newestBy: db.prepare('SELECT * FROM routing_config_versions WHERE published_by = ? ORDER BY version DESC LIMIT 1'),
    get: db.prepare('SELECT * FROM routing_config_versions WHERE version = ?'),
    all: db.prepare('SELECT * FROM routing_config_versions ORDER BY version'),
  };
  // The newest version, parsed once: each decision then costs one indexed max() lookup, and a version
  // published by another process is picked up at the next decision.
  let cached: RoutingConfig | null = null;

  const insert = (json: string, by: string, comment: string | null = null) =>
    toVersion(q.insert.get(json, by, new Date(now()).toISOString(), comment) as Row);

  db.transaction(() => {
    const seed = validated(options.seed);
    const lastFromFile = q.newestBy.get(CONFIG_FILE_PUBLISHER) as Row | undefined;
    if (lastFromFile?.config_json !== seed) insert(seed, CONFIG_FILE_PUBLISHER);
  }).immediate();

  return {
    async current() {
      const { v } = q.newestVersion.get() as { v: number };
      if (cached?.version !== v) cached = toVersion(q.newest.get() as Row).config;
      return cached;
    },

    async get(version) {
      const row = q.get.get(version) as Row | undefined;
      return row ? toVersion(row) : null;
    },

    async list() {
      return (q.all.all() as Row[]).map(toVersion);
    },

    async publish(config, by, comment) {
      if (typeof by !== 'string' || by.trim() === '') {
        throw new HuiliuError('VALIDATION_FAILED', 'A routing config version needs its publisher.', [{ path: 'by', message: 'required' }]);
      }
      return insert(validated(config), by, comment?.trim() || null);
    },

    async close() {
      db.close();
    },
  };
}
