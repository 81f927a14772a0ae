import { migrate, openDatabase, type Db } from '../../db/sqlite';
import { migrationsDir } from '../../runtime/paths';
import type { PreChatRecord, ReadSide, WidgetStateStore } from './state';

const MIGRATIONS = migrationsDir('gateway/web');

interface PreChatRow {
  customer_id: string;
  topic: string | null;
  skill_group: string | null;
  saved_at: string;
}

const toPreChat = (r: PreChatRow): PreChatRecord => ({
  customerId: r.customer_id,
  topic: r.topic,
  skillGroup: r.skill_group,
  savedAt: r.saved_at,
});

/**
 * WidgetStateStore on SQLite: its own connection to the server's database file and its own
 * migrations (component `widget`). Raising a mark is one statement (`MAX` in the upsert), so two
 * nodes raising the same mark at once keep the higher one.
 */
export function createSqliteWidgetState(options: { path: string; now?: () => number }): WidgetStateStore {
  const db: Db = openDatabase(options.path);
  migrate(db, 'widget', MIGRATIONS);
  const now = options.now ?? Date.now;
  const q = {
    preChat: db.prepare('SELECT * FROM widget_pre_chat WHERE customer_id = ?'),
    savePreChat: db.prepare(
      `INSERT INTO widget_pre_chat (customer_id, topic, skill_group, saved_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (customer_id) DO UPDATE SET topic = excluded.topic, skill_group = excluded.skill_group, saved_at = excluded.saved_at
       RETURNING *`,
    ),
    mark: db.prepare('SELECT up_to_seq FROM read_marks WHERE conversation_id = ? AND side = ?'),
    raise: db.prepare(
      `INSERT INTO read_marks (conversation_id, side, up_to_seq, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (conversation_id, side) DO UPDATE SET up_to_seq = excluded.up_to_seq, updated_at = excluded.updated_at
       WHERE excluded.up_to_seq > read_marks.up_to_seq`,
    ),
  };
  const markOf = (conversationId: string, side: ReadSide) =>
    (q.mark.get(conversationId, side) as { up_to_seq: number } | undefined)?.up_to_seq ?? 0;

  return {
    async preChat(customerId) {
      const row = q.preChat.get(customerId) as PreChatRow | undefined;
      return row ? toPreChat(row) : null;
    },
    async savePreChat(customerId, { topic, skillGroup }) {
      return toPreChat(q.savePreChat.get(customerId, topic, skillGroup, new Date(now()).toISOString()) as PreChatRow);
    },
    async readMark(conversationId, side) {
      return markOf(conversationId, side);
    },
    async raiseReadMark(conversationId, side, upToSeq) {
      return db
        .transaction(() => {
          const previous = markOf(conversationId, side);
          if (upToSeq <= previous) return { upToSeq: previous, previous, changed: false };
          q.raise.run(conversationId, side, upToSeq, new Date(now()).toISOString());
          return { upToSeq, previous, changed: true };
        })
        .immediate();
    },
    async close() {
      db.close();
    },
  };
}
