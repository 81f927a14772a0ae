import type { PrivacyRequestKind, PrivacyRequestStatus, RetentionRuleView } from '../../../common/api/privacy';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import type { KeyProvider } from '../keys/provider';
import { migrationsDir } from '../runtime/paths';
import { DataKeyRing } from '../sessions/data-keys';
import { PAGE_SQL } from '../sessions/page-blocks';
import { customerKeyOwner, toSession, type SessionRow } from '../sessions/sqlite-rows';
import type { SessionRecord } from '../sessions/store';
import type { PrivacyRequestRecord, PrivacyStore, RetentionReport, SealedBundle, ShredReport } from './privacy';

const MIGRATIONS = migrationsDir('privacy');

interface RequestRow {
  id: string;
  kind: PrivacyRequestKind;
  status: PrivacyRequestStatus;
  customer_id: string;
  session_id: string | null;
  reason: string;
  requested_by: string;
  requested_at: string;
  due_at: string;
  decided_by: string | null;
  decided_at: string | null;
  expires_at: string | null;
  completed_at: string | null;
  has_bundle: number;
}

const COLUMNS = `id, kind, status, customer_id, session_id, reason, requested_by, requested_at, due_at, decided_by, decided_at,
  expires_at, completed_at, bundle_ct IS NOT NULL AS has_bundle`;

const toRecord = (r: RequestRow): PrivacyRequestRecord => ({
  id: r.id,
  kind: r.kind,
  status: r.status,
  customerId: r.customer_id,
  sessionId: r.session_id,
  reason: r.reason,
  requestedBy: r.requested_by,
  requestedAt: r.requested_at,
  dueAt: r.due_at,
  decidedBy: r.decided_by,
  decidedAt: r.decided_at,
  expiresAt: r.expires_at,
  completedAt: r.completed_at,
  hasBundle: r.has_bundle === 1,
});

/**
 * The privacy store on SQLite (issue 17): its own connection to the server's database file (WAL; the
 * session writer's thread and this one take turns through `busy_timeout`). The session store's and the
 * attachments' migrations must have run on the file first (the composition root opens them before).
 */
export function createSqlitePrivacyStore(options: { path: string; keys: KeyProvider }): PrivacyStore {
  const db: Db = openDatabase(options.path);
  // What this connection deletes (destroyed data keys, pruned messages) is overwritten with zeros, not
  // left in free space: a wrapped key still in the file's free pages would undo crypto-erasure for
  // anyone holding the file and the KEK (https://www.sqlite.org/pragma.html#pragma_secure_delete).
  db.pragma('secure_delete = ON');
  migrate(db, 'privacy', MIGRATIONS);
  const hasTable = (name: string) =>
    db.prepare(`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?`).get(name) !== undefined;

  const q = {
    insert: db.prepare(
      `INSERT INTO privacy_requests (id, kind, status, customer_id, session_id, reason, requested_by, requested_at, due_at,
         decided_by, decided_at, expires_at, completed_at)
       VALUES (@id, @kind, @status, @customerId, @sessionId, @reason, @requestedBy, @requestedAt, @dueAt,
         @decidedBy, @decidedAt, @expiresAt, @completedAt)`,
    ),
    get: db.prepare(`SELECT ${COLUMNS} FROM privacy_requests WHERE id = ?`),
    list: db.prepare(`SELECT ${COLUMNS} FROM privacy_requests WHERE kind = ? ORDER BY requested_at DESC, id DESC LIMIT 500`),
    listStatus: db.prepare(
      `SELECT ${COLUMNS} FROM privacy_requests WHERE kind = ? AND status = ? ORDER BY requested_at DESC, id DESC LIMIT 500`,
    ),
    decide: db.prepare(
      `UPDATE privacy_requests SET status = @status, decided_by = @by, decided_at = @at, expires_at = @expiresAt,
         completed_at = CASE WHEN @status = 'rejected' THEN @at ELSE NULL END
       WHERE id = @id AND status = 'pending'`,
    ),
    // Only on a request still approved: an erasure of its customer (or a download, an expiry) meanwhile
    // ended it, and a bundle stored then would never be handed out, expired or withdrawn.
    saveBundle: db.prepare(
      `UPDATE privacy_requests SET bundle_ct = ?, bundle_kek_id = ?, bundle_key = ? WHERE id = ? AND status = 'approved'`,
    ),
    bundle: db.prepare(
      `SELECT bundle_ct, bundle_kek_id, bundle_key FROM privacy_requests
       WHERE id = ? AND status = 'approved' AND bundle_ct IS NOT NULL AND expires_at > ?`,
    ),
    dropBundle: db.prepare(
      `UPDATE privacy_requests SET bundle_ct = NULL, bundle_kek_id = NULL, bundle_key = NULL, status = ?, completed_at = ? WHERE id = ?`,
    ),
    expiring: db.prepare(`SELECT id FROM privacy_requests WHERE status = 'approved' AND kind = 'export' AND expires_at <= ?`),
    complete: db.prepare(`UPDATE privacy_requests SET status = ?, completed_at = ? WHERE id = ? AND status IN ('approved', 'failed')`),
    claimResume: db.prepare(
      `UPDATE privacy_requests SET resumed_at = @at
        WHERE id = @id AND status = 'approved' AND (resumed_at IS NULL OR resumed_at < @staleBefore OR resumed_at > @aheadAfter)`,
    ),
    holdResume: db.prepare(`UPDATE privacy_requests SET resumed_at = @at WHERE id = @id AND status = 'approved'`),
    withdrawApproved: db.prepare(
      `UPDATE privacy_requests SET bundle_ct = NULL, bundle_kek_id = NULL, bundle_key = NULL, status = 'expired', completed_at = ?
        WHERE kind = 'export' AND customer_id = ? AND status = 'approved'`,
    ),
    withdrawPending: db.prepare(
      `UPDATE privacy_requests SET status = 'failed', completed_at = ? WHERE kind = 'export' AND customer_id = ? AND status = 'pending'`,
    ),
    group: db.prepare(
      `SELECT id FROM customers WHERE id = @id
         OR (group_id IS NOT NULL AND group_id = (SELECT group_id FROM customers WHERE id = @id)) ORDER BY id`,
    ),
    keyOf: db.prepare('SELECT 1 AS x FROM data_keys WHERE owner = ?'),
    delIdentities: db.prepare('DELETE FROM customer_identities WHERE customer_id = ?'),
    delLinks: db.prepare('DELETE FROM customer_links WHERE customer_id = ?'),
    clearNameIndex: db.prepare('UPDATE customers SET name_hmac = NULL WHERE id = ?'),
    delFacts: db.prepare('DELETE FROM customer_facts WHERE customer_id = ?'),
    // An erased customer's open contacts close with them: nothing can be read or sent on them any more.
    openOf: db.prepare(`SELECT id, status, offered_agent_id FROM sessions WHERE customer_id = ? AND status != 'closed'`),
    closeErased: db.prepare(
      `UPDATE sessions SET status = 'closed', offered_agent_id = NULL, offer_expires_at = NULL, closed_at = @t, updated_at = @t
       WHERE id = @id AND status != 'closed' RETURNING *`,
    ),
    closeConversations: db.prepare(
      `UPDATE conversations SET status = 'closed', updated_at = ? WHERE customer_id = ? AND status != 'closed'`,
    ),
    rules: db.prepare('SELECT skill_group, days, updated_by, updated_at FROM retention_rules ORDER BY skill_group'),
    setRule: db.prepare(
      `INSERT INTO retention_rules (skill_group, days, updated_by, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (skill_group) DO UPDATE SET days = excluded.days, updated_by = excluded.updated_by, updated_at = excluded.updated_at`,
    ),
    expiredSessions: db.prepare(
      `SELECT id FROM sessions WHERE skill_group = ? AND status = 'closed' AND last_message_at < ?
         AND (wrap_up_note_ct IS NOT NULL OR handover_summary_ct IS NOT NULL
              OR EXISTS (SELECT 1 FROM messages m WHERE m.session_id = sessions.id)
              OR EXISTS (SELECT 1 FROM session_ratings r WHERE r.session_id = sessions.id AND r.comment_ct IS NOT NULL))
       LIMIT 1000`,
    ),
    delMessages: db.prepare('DELETE FROM messages WHERE session_id = ?'),
    clearSession: db.prepare('UPDATE sessions SET wrap_up_note_ct = NULL, handover_summary_ct = NULL WHERE id = ?'),
    clearRating: db.prepare('UPDATE session_ratings SET comment_ct = NULL WHERE session_id = ?'),
    clearTransfers: db.prepare('UPDATE transfers SET note_ct = NULL, summary_ct = NULL, decline_reason_ct = NULL WHERE session_id = ?'),
  };
  // Sealed page blocks (sessions/page-blocks.ts) copy messages' payloads: deleted with them.
  const pageBlocks = hasTable('message_pages')
    ? { delOfSession: db.prepare(PAGE_SQL.deleteOfSession), delOfCustomer: db.prepare(PAGE_SQL.deleteOfCustomer) }
    : null;
  // Tables of other capabilities that hold customer content: present when their stores opened the file.
  const attachments = hasTable('attachments')
    ? {
        delTermsOf: db.prepare('DELETE FROM attachment_terms WHERE attachment_id IN (SELECT id FROM attachments WHERE customer_id = ?)'),
        delOfSession: db.prepare('DELETE FROM attachments WHERE session_id = ?'),
      }
    : null;
  const assist = hasTable('assist_past_replies')
    ? {
        delPastReplies: db.prepare('DELETE FROM assist_past_replies WHERE customer_id = ?'),
        delDraftsOfSession: db.prepare('DELETE FROM assist_drafts WHERE session_id = ?'),
      }
    : null;

  return {
    async insert(r) {
      q.insert.run(r);
    },
    async get(id) {
      const row = q.get.get(id) as RequestRow | undefined;
      return row ? toRecord(row) : null;
    },
    async list(kind, status) {
      const rows = (status ? q.listStatus.all(kind, status) : q.list.all(kind)) as RequestRow[];
      return rows.map(toRecord);
    },
    async decide(id, status, by, at, expiresAt) {
      return q.decide.run({ id, status, by, at, expiresAt }).changes === 1;
    },
    async saveBundle(id, bundle) {
      return q.saveBundle.run(bundle.ct, bundle.key.kekId, bundle.key.wrapped, id).changes === 1;
    },
    async takeBundle(id, now) {
      return db
        .transaction(() => {
          const row = q.bundle.get(id, now) as { bundle_ct: Buffer; bundle_kek_id: string; bundle_key: Buffer } | undefined;
          if (!row) return null;
          q.dropBundle.run('downloaded', now, id);
          return { ct: row.bundle_ct, key: { kekId: row.bundle_kek_id, wrapped: row.bundle_key } } satisfies SealedBundle;
        })
        .immediate();
    },
    async expireBundles(now) {
      return db
        .transaction(() => {
          const ids = (q.expiring.all(now) as { id: string }[]).map((r) => r.id);
          for (const id of ids) q.dropBundle.run('expired', now, id);
          return ids;
        })
        .immediate();
    },
    async claimResume(id, at, staleBefore, aheadAfter) {
      return q.claimResume.run({ id, at, staleBefore, aheadAfter }).changes === 1;
    },
    async holdResume(id, at) {
      q.holdResume.run({ id, at });
    },
    async complete(id, status, at) {
      return q.complete.run(status, at, id).changes === 1;
    },
    async customerGroup(customerId) {
      return (q.group.all({ id: customerId }) as { id: string }[]).map((r) => r.id);
    },
    async erased(customerIds) {
      return new Set(customerIds.filter((id) => !q.keyOf.get(customerKeyOwner(id))));
    },
    async shred(customerIds) {
      const report = db
        .transaction((): ShredReport => {
          const r: ShredReport = {
            customerIds: [...customerIds],
            keysDestroyed: 0,
            identitiesRemoved: 0,
            linksRemoved: 0,
            searchTermsRemoved: 0,
            exportsWithdrawn: 0,
            sessionsClosed: [],
          };
          const at = new Date().toISOString();
          r.keysDestroyed = DataKeyRing.destroy(db, customerIds.map(customerKeyOwner));
          for (const id of customerIds) {
            r.identitiesRemoved += q.delIdentities.run(id).changes;
            r.linksRemoved += q.delLinks.run(id).changes;
            q.clearNameIndex.run(id);
            q.delFacts.run(id);
            if (attachments) r.searchTermsRemoved += attachments.delTermsOf.run(id).changes;
            assist?.delPastReplies.run(id);
            // Unreadable without the key already; derived copies go like the facts and past replies.
            pageBlocks?.delOfCustomer.run(id);
            // An export bundle is sealed under its own key: destroy it with the customer's content.
            r.exportsWithdrawn += q.withdrawApproved.run(at, id).changes + q.withdrawPending.run(at, id).changes;
            for (const open of q.openOf.all(id) as { id: string; status: SessionRecord['status']; offered_agent_id: string | null }[]) {
              const row = q.closeErased.get({ id: open.id, t: at }) as SessionRow | undefined;
              if (row)
                r.sessionsClosed.push({ session: toSession(row), before: { status: open.status, offeredAgentId: open.offered_agent_id } });
            }
            q.closeConversations.run(at, id);
          }
          return r;
        })
        .immediate();
      // Committed: every thread's rings drop the destroyed keys before their next use.
      DataKeyRing.announceShred(options.keys);
      return report;
    },
    async retentionRules() {
      return (q.rules.all() as { skill_group: string; days: number | null; updated_by: string; updated_at: string }[]).map(
        (r): RetentionRuleView => ({ skillGroup: r.skill_group, days: r.days, updatedBy: r.updated_by, updatedAt: r.updated_at }),
      );
    },
    async setRetentionRule(skillGroup, days, by, at) {
      q.setRule.run(skillGroup, days, by, at);
    },
    async pruneConversations(skillGroup, before) {
      const report: RetentionReport = { skillGroup, before, sessions: 0, messages: 0, attachments: 0 };
      // In batches of 1,000 sessions, one short transaction each, so the session writer never waits long.
      for (;;) {
        const done = db
          .transaction(() => {
            const ids = (q.expiredSessions.all(skillGroup, before) as { id: string }[]).map((r) => r.id);
            for (const id of ids) {
              pageBlocks?.delOfSession.run(id);
              report.messages += q.delMessages.run(id).changes;
              q.clearSession.run(id);
              q.clearRating.run(id);
              q.clearTransfers.run(id);
              if (attachments) report.attachments += attachments.delOfSession.run(id).changes;
              assist?.delDraftsOfSession.run(id);
            }
            report.sessions += ids.length;
            return ids.length < 1000;
          })
          .immediate();
        if (done) return report;
      }
    },
    async close() {
      db.close();
    },
  };
}
