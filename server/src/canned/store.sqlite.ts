import type { CannedReply } from '../../../common/api/canned';
import { HuiliuError } from '../../../common/errors/codes';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import { migrationsDir } from '../runtime/paths';
import type { CannedReplyStore, CannedScope } from './store';

interface Row {
  id: string;
  shortcut: string;
  title: string;
  text: string;
  skill_group: string | null;
  owner_id: string | null;
  lang: 'zh' | 'en' | null;
  updated_by: string;
  updated_at: string;
}

const toReply = (r: Row): CannedReply => ({
  id: r.id,
  shortcut: r.shortcut,
  title: r.title,
  text: r.text,
  skillGroup: r.skill_group,
  ownerId: r.owner_id,
  lang: r.lang,
  updatedBy: r.updated_by,
  updatedAt: r.updated_at,
});

const scopeKey = (s: CannedScope) => (s.kind === 'group' ? `g:${s.skillGroup}` : `u:${s.ownerId}`);
/** `%` and `_` in the query match themselves. */
const likeOf = (q: string) => `%${q.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const taken = (error: unknown): never => {
  if (error instanceof Error && /UNIQUE constraint failed/.test(error.message)) throw new HuiliuError('CANNED_SHORTCUT_TAKEN');
  throw error;
};

/** Canned replies in the server's SQLite file (component `canned`), on their own connection. */
export function createSqliteCannedReplyStore(options: { path: string }): CannedReplyStore {
  const db: Db = openDatabase(options.path);
  migrate(db, 'canned', migrationsDir('canned'));
  const q = {
    get: db.prepare('SELECT * FROM canned_replies WHERE id = ?'),
    insert: db.prepare(
      `INSERT INTO canned_replies (id, scope, shortcut, title, text, skill_group, owner_id, lang, updated_by, updated_at)
       VALUES (@id, @scope, @shortcut, @title, @text, @skillGroup, @ownerId, @lang, @updatedBy, @updatedAt)`,
    ),
    update: db.prepare(
      `UPDATE canned_replies SET shortcut = @shortcut, title = @title, text = @text, lang = @lang,
         updated_by = @updatedBy, updated_at = @updatedAt WHERE id = @id`,
    ),
    remove: db.prepare('DELETE FROM canned_replies WHERE id = ?'),
  };
  return {
    async search(scopes, text, limit) {
      if (scopes.length === 0) return [];
      const keys = scopes.map(scopeKey);
      const marks = keys.map(() => '?').join(', ');
      const filter = text
        ? ` AND (lower(shortcut) LIKE ? ESCAPE '\\' OR lower(title) LIKE ? ESCAPE '\\' OR lower(text) LIKE ? ESCAPE '\\')`
        : '';
      const params = text ? [...keys, likeOf(text), likeOf(text), likeOf(text), limit] : [...keys, limit];
      const rows = db
        .prepare(`SELECT * FROM canned_replies WHERE scope IN (${marks})${filter} ORDER BY shortcut LIMIT ?`)
        .all(...params) as Row[];
      return rows.map(toReply);
    },
    async get(id) {
      const row = q.get.get(id) as Row | undefined;
      return row ? toReply(row) : null;
    },
    async create(id, scope, reply) {
      const values = {
        id,
        scope: scopeKey(scope),
        skillGroup: scope.kind === 'group' ? scope.skillGroup : null,
        ownerId: scope.kind === 'personal' ? scope.ownerId : null,
        ...reply,
      };
      try {
        q.insert.run(values);
      } catch (error) {
        taken(error);
      }
      return toReply(q.get.get(id) as Row);
    },
    async update(id, reply) {
      try {
        if (q.update.run({ id, ...reply }).changes === 0) return null;
      } catch (error) {
        taken(error);
      }
      return toReply(q.get.get(id) as Row);
    },
    async remove(id) {
      return q.remove.run(id).changes > 0;
    },
    async close() {
      db.close();
    },
  };
}
