import { openText, sealText } from '../../crypto/aead';
import type { AssistDb } from './db';
import type { PastReply } from './replies';

/**
 * The past-reply memory at rest (issue 10), table `assist_past_replies`: each pair's question and
 * reply (already depersonalised) sealed with the customer's data key of the conversation it came
 * from, so an erasure that destroys that key takes the pair with it. Group, ids and time in the clear.
 */
export interface PastReplyStore {
  /** Stores pairs in one transaction (the service batches them). */
  add(pairs: readonly PastReply[]): Promise<void>;
  /** The newest `limit` pairs, oldest first (to be added to the memory in order); pairs whose key is gone are skipped. */
  newest(limit: number): Promise<PastReply[]>;
  /** Deletes pairs by id. */
  remove(ids: readonly string[]): void;
  /** Keeps the newest `keep` pairs and deletes the rest; returns how many went. */
  prune(keep: number): number;
  /** A one-time job's marker (`assist_meta`). */
  flag(key: string): string | null;
  setFlag(key: string, value: string): void;
}

interface PairRow {
  id: string;
  skill_group: string;
  customer_id: string;
  session_id: string;
  created_at: string;
  pair_ct: Buffer;
}

const pairAad = (id: string) => `assist-reply:${id}`;

export function createSqlitePastReplyStore(assist: AssistDb): PastReplyStore {
  const { db } = assist;
  const q = {
    insert: db.prepare(
      'INSERT OR IGNORE INTO assist_past_replies (id, skill_group, customer_id, session_id, created_at, pair_ct) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    newest: db.prepare('SELECT * FROM assist_past_replies ORDER BY created_at DESC, id DESC LIMIT ?'),
    remove: db.prepare('DELETE FROM assist_past_replies WHERE id = ?'),
    prune: db.prepare(
      'DELETE FROM assist_past_replies WHERE id NOT IN (SELECT id FROM assist_past_replies ORDER BY created_at DESC, id DESC LIMIT ?)',
    ),
    flag: db.prepare('SELECT value FROM assist_meta WHERE key = ?'),
    setFlag: db.prepare('INSERT INTO assist_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
  };

  return {
    async add(pairs) {
      const sealed: unknown[][] = [];
      for (const p of pairs) {
        const key = await assist.customerKey(p.customerId);
        if (!key) continue;
        const ct = sealText(key, JSON.stringify({ q: p.question, r: p.reply }), pairAad(p.id));
        sealed.push([p.id, p.skillGroup, p.customerId, p.sessionId, p.at, ct]);
      }
      db.transaction(() => {
        for (const row of sealed) q.insert.run(...row);
      })();
    },

    async newest(limit) {
      const rows = q.newest.all(limit) as PairRow[];
      const out: PastReply[] = [];
      for (const row of rows.reverse()) {
        const key = await assist.customerKey(row.customer_id);
        if (!key) continue;
        const { q: question, r: reply } = JSON.parse(openText(key, row.pair_ct, pairAad(row.id))) as { q: string; r: string };
        out.push({
          id: row.id,
          skillGroup: row.skill_group,
          customerId: row.customer_id,
          sessionId: row.session_id,
          at: row.created_at,
          question,
          reply,
        });
      }
      return out;
    },

    remove(ids) {
      db.transaction(() => {
        for (const id of ids) q.remove.run(id);
      })();
    },

    prune: (keep) => q.prune.run(keep).changes,
    flag: (key) => (q.flag.get(key) as { value: string } | undefined)?.value ?? null,
    setFlag: (key, value) => void q.setFlag.run(key, value),
  };
}
