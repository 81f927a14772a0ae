import { randomUUID } from 'node:crypto';
import { HuiliuError } from '../../../common/errors/codes';
import type { KbEntry, KbImportRow } from '../../../common/ai/types';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import { migrationsDir } from '../runtime/paths';
import {
  checkImportRowCount,
  checkKbLimits,
  importRefused,
  parseKbRow,
  requireAuthor,
  sameContent,
  validateImportRows,
  type KbChangeListener,
  type KbFilter,
  type KbImportResult,
  type KbRow,
  type KbVersion,
  type KnowledgeBase,
} from './kb';

export interface SqliteKnowledgeBaseOptions {
  /** The database file (the one the other capabilities use; this adapter opens its own connection). */
  path: string;
  now?: () => number;
  /** Told when an `onChange` listener throws (the change itself stands). */
  onListenerError?: (error: unknown) => void;
}

const MIGRATIONS = migrationsDir('ai');
const HISTORY_DEFAULT = 50;
const HISTORY_MAX = 1000;

interface EntryRow {
  id: string;
  intent: string;
  lang: 'zh' | 'en';
  questions_json: string;
  answer: string;
  tags_json: string;
  skill_group: string | null;
  related_json: string;
  version: number;
  updated_at: string;
  updated_by: string;
}

interface VersionRow {
  version: number;
  changed_at: string;
  changed_by: string;
  summary: string;
}

const toEntry = (r: EntryRow): KbEntry => ({
  id: r.id,
  intent: r.intent,
  lang: r.lang,
  questions: JSON.parse(r.questions_json) as string[],
  answer: r.answer,
  tags: JSON.parse(r.tags_json) as string[],
  skillGroup: r.skill_group,
  related: JSON.parse(r.related_json) as string[],
  version: r.version,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

const label = (row: Pick<KbRow, 'intent' | 'lang'>) => `${row.intent}/${row.lang}`;

/**
 * KnowledgeBase on SQLite (tables `kb_entries`, `kb_versions`, migrations in ai/migrations). Each
 * write is one IMMEDIATE transaction that also appends its `kb_versions` row, so the entries and the
 * version number move together, also with several processes on one file; listeners run after commit.
 */
export function createSqliteKnowledgeBase(options: SqliteKnowledgeBaseOptions): KnowledgeBase {
  const db: Db = openDatabase(options.path);
  migrate(db, 'ai', MIGRATIONS);
  const now = options.now ?? Date.now;
  const listeners = new Set<KbChangeListener>();
  const q = {
    all: db.prepare('SELECT * FROM kb_entries ORDER BY intent, lang'),
    // `@intent IS NULL` = no filter on that column; LIMIT -1 = no limit.
    page: db.prepare(
      `SELECT * FROM kb_entries WHERE (@intent IS NULL OR intent = @intent) AND (@lang IS NULL OR lang = @lang)
       ORDER BY intent, lang LIMIT @limit OFFSET @offset`,
    ),
    count: db.prepare(
      'SELECT count(*) AS n FROM kb_entries WHERE (@intent IS NULL OR intent = @intent) AND (@lang IS NULL OR lang = @lang)',
    ),
    // What the KB holds besides entry @id (null: the whole KB), and whether that rest has @intent.
    sizeBut: db.prepare(
      `SELECT count(*) AS entries, count(DISTINCT intent) AS intents,
         coalesce(sum(json_array_length(questions_json)), 0) AS questions, coalesce(max(intent = @intent), 0) AS hasIntent
       FROM kb_entries WHERE @id IS NULL OR id != @id`,
    ),
    byBoth: db.prepare('SELECT * FROM kb_entries WHERE intent = ? AND lang = ?'),
    byId: db.prepare('SELECT * FROM kb_entries WHERE id = ?'),
    insert: db.prepare(
      `INSERT INTO kb_entries (id, intent, lang, questions_json, answer, tags_json, skill_group, related_json, version, updated_at, updated_by)
       VALUES (@id, @intent, @lang, @questions_json, @answer, @tags_json, @skill_group, @related_json, @version, @updated_at, @updated_by)`,
    ),
    update: db.prepare(
      `UPDATE kb_entries SET intent = @intent, lang = @lang, questions_json = @questions_json, answer = @answer, tags_json = @tags_json,
       skill_group = @skill_group, related_json = @related_json, version = @version, updated_at = @updated_at, updated_by = @updated_by
       WHERE id = @id`,
    ),
    delete: db.prepare('DELETE FROM kb_entries WHERE id = ?'),
    version: db.prepare('SELECT coalesce(max(version), 0) AS v FROM kb_versions'),
    addVersion: db.prepare('INSERT INTO kb_versions (version, changed_at, changed_by, summary) VALUES (?, ?, ?, ?)'),
    history: db.prepare('SELECT * FROM kb_versions ORDER BY version DESC LIMIT ?'),
  };

  const currentVersion = () => (q.version.get() as { v: number }).v;

  /** Opens the next version inside a write transaction: its number and the entry columns it stamps. */
  const nextVersion = (by: string, summary: string) => {
    const version = currentVersion() + 1;
    const at = new Date(now()).toISOString();
    q.addVersion.run(version, at, by, summary);
    return { version, updated_at: at, updated_by: by };
  };

  const columns = (id: string, row: KbRow, stamp: { version: number; updated_at: string; updated_by: string }) => ({
    id,
    intent: row.intent,
    lang: row.lang,
    questions_json: JSON.stringify(row.questions),
    answer: row.answer,
    tags_json: JSON.stringify(row.tags),
    skill_group: row.skillGroup,
    related_json: JSON.stringify(row.related),
    ...stamp,
  });

  const byId = (id: string) => q.byId.get(id) as EntryRow | undefined;

  /** KB_TOO_LARGE unless the KB stays within KB_LIMITS with `row` added, or put in place of entry `replacing`. */
  const checkLimitsWith = (row: KbRow, replacing: string | null) => {
    const rest = q.sizeBut.get({ id: replacing, intent: row.intent }) as {
      entries: number;
      intents: number;
      questions: number;
      hasIntent: number;
    };
    checkKbLimits({
      entries: rest.entries + 1,
      intents: rest.intents + (rest.hasIntent ? 0 : 1),
      questions: rest.questions + row.questions.length,
    });
  };

  /** SQL parameters of a `list` / `count` filter: intent, lang, limit (-1 = all), offset. */
  const filterParams = (filter: KbFilter) => {
    const limit = filter.limit === undefined || !Number.isFinite(filter.limit) ? -1 : Math.max(0, Math.floor(filter.limit));
    const offset = filter.offset === undefined || !Number.isFinite(filter.offset) ? 0 : Math.max(0, Math.floor(filter.offset));
    return { intent: filter.intent ?? null, lang: filter.lang ?? null, limit, offset };
  };

  const emit = (version: number) => {
    for (const listener of [...listeners]) {
      try {
        listener(version);
      } catch (error) {
        options.onListenerError?.(error);
      }
    }
  };

  const createTx = db.transaction((row: KbRow, by: string): EntryRow => {
    if (q.byBoth.get(row.intent, row.lang)) throw new HuiliuError('KB_CONFLICT');
    checkLimitsWith(row, null);
    const id = randomUUID();
    q.insert.run(columns(id, row, nextVersion(by, `create ${label(row)}`)));
    return byId(id)!;
  });

  const updateTx = db.transaction((id: string, row: KbRow, by: string): { entry: EntryRow; changed: boolean } => {
    const existing = byId(id);
    if (!existing) throw new HuiliuError('NOT_FOUND', 'No knowledge-base entry has this id.');
    if (sameContent(toEntry(existing), row)) return { entry: existing, changed: false };
    const clash = q.byBoth.get(row.intent, row.lang) as EntryRow | undefined;
    if (clash && clash.id !== id) throw new HuiliuError('KB_CONFLICT');
    checkLimitsWith(row, id);
    const before = label(toEntry(existing));
    const summary = before === label(row) ? `update ${before}` : `update ${before} → ${label(row)}`;
    q.update.run(columns(id, row, nextVersion(by, summary)));
    return { entry: byId(id)!, changed: true };
  });

  const removeTx = db.transaction((id: string, by: string): number => {
    const existing = byId(id);
    if (!existing) throw new HuiliuError('NOT_FOUND', 'No knowledge-base entry has this id.');
    const { version } = nextVersion(by, `remove ${label(toEntry(existing))}`);
    q.delete.run(id);
    return version;
  });

  const importTx = db.transaction((rows: readonly KbRow[], mode: 'merge' | 'replace', by: string): KbImportResult => {
    const existing = new Map((q.all.all() as EntryRow[]).map((r) => [label(r), r]));
    const inserts: KbRow[] = [];
    const updates: { id: string; row: KbRow }[] = [];
    const kept = new Set<string>();
    for (const row of rows) {
      const key = label(row);
      kept.add(key);
      const found = existing.get(key);
      if (!found) inserts.push(row);
      else if (!sameContent(toEntry(found), row)) updates.push({ id: found.id, row });
    }
    const removals = mode === 'replace' ? [...existing.entries()].filter(([key]) => !kept.has(key)).map(([, r]) => r.id) : [];
    // The KB after the import, counted before anything is written: the rows, plus (merge) the entries they leave alone.
    const after: { intent: string; questions: number }[] = rows.map((r) => ({ intent: r.intent, questions: r.questions.length }));
    if (mode === 'merge') {
      for (const [key, r] of existing)
        if (!kept.has(key)) after.push({ intent: r.intent, questions: (JSON.parse(r.questions_json) as unknown[]).length });
    }
    checkKbLimits({
      entries: after.length,
      intents: new Set(after.map((e) => e.intent)).size,
      questions: after.reduce((sum, e) => sum + e.questions, 0),
    });
    const counts = { created: inserts.length, updated: updates.length, removed: removals.length };
    if (counts.created + counts.updated + counts.removed === 0) return { version: currentVersion(), ...counts };
    const stamp = nextVersion(by, `import (${mode}): ${counts.created} created, ${counts.updated} updated, ${counts.removed} removed`);
    for (const id of removals) q.delete.run(id);
    for (const { id, row } of updates) q.update.run(columns(id, row, stamp));
    for (const row of inserts) q.insert.run(columns(randomUUID(), row, stamp));
    return { version: stamp.version, ...counts };
  });

  return {
    async list(filter = {}) {
      return (q.page.all(filterParams(filter)) as EntryRow[]).map(toEntry);
    },

    async count(filter = {}) {
      const { intent, lang } = filterParams(filter);
      return (q.count.get({ intent, lang }) as { n: number }).n;
    },

    async get(id) {
      const row = byId(id);
      return row ? toEntry(row) : null;
    },

    async create(row: KbImportRow, by) {
      const parsed = parseKbRow(row);
      const entry = toEntry(createTx.immediate(parsed, requireAuthor(by)));
      emit(entry.version);
      return entry;
    },

    async update(id, row, by) {
      const parsed = parseKbRow(row);
      const { entry, changed } = updateTx.immediate(id, parsed, requireAuthor(by));
      const view = toEntry(entry);
      if (changed) emit(view.version);
      return view;
    },

    async remove(id, by) {
      emit(removeTx.immediate(id, requireAuthor(by)));
    },

    async import(rows, { mode, by }) {
      if (mode !== 'merge' && mode !== 'replace') {
        throw new HuiliuError('VALIDATION_FAILED', 'The import mode is merge or replace.', [{ path: 'mode', message: 'merge or replace' }]);
      }
      const author = requireAuthor(by);
      checkImportRowCount(rows.length);
      const checked = validateImportRows(rows.map((value, i) => ({ row: i + 1, value })));
      if (checked.errors.total) throw importRefused(checked.errors);
      const result = importTx.immediate(checked.rows, mode, author);
      if (result.created + result.updated + result.removed > 0) emit(result.version);
      return result;
    },

    async version() {
      return currentVersion();
    },

    async history(limit = HISTORY_DEFAULT) {
      const n = Number.isFinite(limit) ? Math.min(Math.max(1, Math.floor(limit)), HISTORY_MAX) : HISTORY_DEFAULT;
      return (q.history.all(n) as VersionRow[]).map((r): KbVersion => ({
        version: r.version,
        at: r.changed_at,
        by: r.changed_by,
        summary: r.summary,
      }));
    },

    onChange(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },

    async close() {
      listeners.clear();
      db.close();
    },
  };
}
