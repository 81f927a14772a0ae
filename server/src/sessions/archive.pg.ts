import pg from 'pg';
import type { ArchivedRecord, ArchivedSession, SessionArchive } from './archive';
import { pageSize } from './conversations';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS archived_sessions (
  session_id      text PRIMARY KEY,
  conversation_id text NOT NULL,
  customer_id     text NOT NULL,
  channel         text NOT NULL,
  skill_group     text NOT NULL,
  wrap_up_code    text,
  created_at      timestamptz NOT NULL,
  closed_at       timestamptz,
  last_seq        integer NOT NULL,
  archived_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS archived_sessions_customer ON archived_sessions (customer_id, created_at DESC);
CREATE TABLE IF NOT EXISTS archived_messages (
  conversation_id text NOT NULL,
  seq             integer NOT NULL,
  session_id      text NOT NULL,
  record          bytea NOT NULL,
  PRIMARY KEY (conversation_id, seq)
);
-- Retention (issue 17) and the archive's high-water mark per conversation.
ALTER TABLE archived_sessions ADD COLUMN IF NOT EXISTS pruned_at timestamptz;
CREATE INDEX IF NOT EXISTS archived_sessions_conversation ON archived_sessions (conversation_id);
CREATE INDEX IF NOT EXISTS archived_sessions_expiry ON archived_sessions (skill_group, closed_at) WHERE pruned_at IS NULL;
CREATE INDEX IF NOT EXISTS archived_messages_session ON archived_messages (session_id);
`;

/**
 * The session archive (archive.ts) in PostgreSQL (`HUILIU_PG_URL`): `archived_sessions` (one row per
 * closed session, no content) and `archived_messages` (the sealed records, keyed by conversation and
 * seq). Writes are `INSERT … ON CONFLICT DO NOTHING` in one transaction, so archiving is idempotent
 * across retries and nodes. `schema` isolates deployments (and tests) sharing one database.
 * @throws Error for a schema name that is not lower-case letters, digits and `_`; a connection error
 */
export async function createPgSessionArchive(options: { url: string; schema?: string }): Promise<SessionArchive> {
  const schema = options.schema ?? 'huiliu_archive';
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`archive schema ${JSON.stringify(schema)}: lower-case letters, digits, _`);
  const pool = new pg.Pool({ connectionString: options.url, max: 4, options: `-c search_path=${schema}` });
  {
    const client = await pool.connect();
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`${schema}.archive`]);
      try {
        await client.query(SCHEMA);
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`${schema}.archive`]);
      }
    } finally {
      client.release();
    }
  }

  return {
    async put(session, firstSeq, records, throughSeq) {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        // Batches of 500 rows per statement (the parameter limit is 65,535).
        for (let i = 0; i < records.length; i += 500) {
          const batch = records.slice(i, i + 500);
          const values: unknown[] = [];
          const rows = batch.map((r, j) => {
            const previous = i + j === 0 ? firstSeq - 1 : records[i + j - 1]!.seq;
            if (r.seq <= previous) throw new Error('archive: records must be ascending from firstSeq');
            values.push(session.conversationId, r.seq, r.sessionId, r.record);
            const b = j * 4;
            return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4})`;
          });
          await client.query(
            `INSERT INTO archived_messages (conversation_id, seq, session_id, record) VALUES ${rows.join(', ')} ON CONFLICT DO NOTHING`,
            values,
          );
        }
        const lastSeq = Math.max(throughSeq ?? 0, records.length ? records[records.length - 1]!.seq : firstSeq - 1);
        await client.query(
          `INSERT INTO archived_sessions (session_id, conversation_id, customer_id, channel, skill_group, wrap_up_code, created_at, closed_at, last_seq)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (session_id) DO NOTHING`,
          [
            session.id,
            session.conversationId,
            session.customerId,
            session.channel,
            session.skillGroup,
            session.wrapUpCode,
            session.createdAt,
            session.closedAt,
            Math.max(0, lastSeq),
          ],
        );
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },

    async archivedSeq(conversationId) {
      const { rows } = await pool.query<{ n: number | null }>(
        `SELECT greatest((SELECT max(seq) FROM archived_messages WHERE conversation_id = $1),
                         (SELECT max(last_seq) FROM archived_sessions WHERE conversation_id = $1)) AS n`,
        [conversationId],
      );
      return rows[0]?.n ?? 0;
    },

    async archived(sessionIds) {
      const { rows } = await pool.query<{ session_id: string }>('SELECT session_id FROM archived_sessions WHERE session_id = ANY($1)', [
        [...sessionIds],
      ]);
      return new Set(rows.map((r) => r.session_id));
    },

    async expiredSessions(skillGroup, before, limit) {
      const { rows } = await pool.query<{ session_id: string; conversation_id: string }>(
        `SELECT session_id, conversation_id FROM archived_sessions
         WHERE skill_group = $1 AND closed_at < $2 AND pruned_at IS NULL ORDER BY closed_at, session_id LIMIT $3`,
        [skillGroup, before, pageSize(limit, 500, 1000)],
      );
      return rows.map((r) => ({ sessionId: r.session_id, conversationId: r.conversation_id }));
    },

    async prune(sessionIds) {
      if (sessionIds.length === 0) return 0;
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const deleted = await client.query('DELETE FROM archived_messages WHERE session_id = ANY($1)', [[...sessionIds]]);
        await client.query('UPDATE archived_sessions SET pruned_at = now() WHERE session_id = ANY($1) AND pruned_at IS NULL', [
          [...sessionIds],
        ]);
        await client.query('COMMIT');
        return deleted.rowCount ?? 0;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },

    async records(conversationId, { afterSeq = 0, limit } = {}): Promise<ArchivedRecord[]> {
      const { rows } = await pool.query<{ seq: number; session_id: string; record: Buffer }>(
        'SELECT seq, session_id, record FROM archived_messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
        [conversationId, afterSeq, pageSize(limit, 100, 1000)],
      );
      return rows.map((r) => ({ seq: r.seq, sessionId: r.session_id, record: r.record }));
    },

    async sessions(customerIds): Promise<ArchivedSession[]> {
      const { rows } = await pool.query<{
        session_id: string;
        conversation_id: string;
        customer_id: string;
        channel: string;
        skill_group: string;
        wrap_up_code: string | null;
        created_at: Date;
        closed_at: Date | null;
        last_seq: number;
        archived_at: Date;
      }>('SELECT * FROM archived_sessions WHERE customer_id = ANY($1) ORDER BY created_at DESC, session_id DESC LIMIT 1000', [
        [...customerIds],
      ]);
      return rows.map((r) => ({
        sessionId: r.session_id,
        conversationId: r.conversation_id,
        customerId: r.customer_id,
        channel: r.channel,
        skillGroup: r.skill_group,
        wrapUpCode: r.wrap_up_code,
        createdAt: r.created_at.toISOString(),
        closedAt: r.closed_at ? r.closed_at.toISOString() : null,
        lastSeq: r.last_seq,
        archivedAt: r.archived_at.toISOString(),
      }));
    },

    async close() {
      await pool.end();
    },
  };
}
