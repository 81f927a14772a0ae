import { v7 as uuidv7 } from 'uuid';
import type { ConversationSummary } from '../../../common/ai/assist';
import type { TransferMode, TransferStatus, TransferTarget } from '../../../common/api/transfers';
import { HuiliuError } from '../../../common/errors/codes';
import type { RoutingDecision } from '../../../common/routing/types';
import { openText, sealText } from '../crypto/aead';
import type { GroupCommit } from '../db/group-commit';
import type { Db } from '../db/sqlite';
import type { DataKeyRing } from './data-keys';
import { loadCustomerKey, ROUTING_CANDIDATES_SQL, routingColumns, toSession, writeRoutingCandidates, type SessionRow } from './sqlite-rows';
import type { SessionStore, TransferRecord } from './store';

/**
 * The transfers of the SQLite session store (issue 11, migration 0006): writes for the session
 * writer (worker thread or inline), reads for the store's reader connection. A pending transfer is a
 * row, so every server on the database sees the same one; each change is one conditional statement.
 */

interface TransferRow {
  id: string;
  session_id: string;
  customer_id: string;
  from_agent_id: string;
  mode: TransferMode;
  status: TransferStatus;
  target_json: string;
  skill_group: string;
  offered_agent_id: string | null;
  expires_at: string | null;
  decision_json: string;
  note_ct: Buffer | null;
  summary_ct: Buffer | null;
  decline_reason_ct: Buffer | null;
  created_at: string;
  decided_at: string | null;
  decided_by: string | null;
}

// Additional authenticated data: binds each sealed text to its transfer and field.
const noteAad = (id: string) => `transfer:${id}:note`;
const summaryAad = (id: string) => `transfer:${id}:summary`;
const declineAad = (id: string) => `transfer:${id}:decline-reason`;

function toTransfer(row: TransferRow, key: Buffer | null): TransferRecord {
  const open = (ct: Buffer | null, aad: string) => (ct && key ? openText(key, ct, aad) : null);
  const summary = open(row.summary_ct, summaryAad(row.id));
  return {
    id: row.id,
    sessionId: row.session_id,
    customerId: row.customer_id,
    fromAgentId: row.from_agent_id,
    mode: row.mode,
    status: row.status,
    target: JSON.parse(row.target_json) as TransferTarget,
    skillGroup: row.skill_group,
    offeredAgentId: row.offered_agent_id,
    expiresAt: row.expires_at,
    decision: JSON.parse(row.decision_json) as RoutingDecision,
    note: open(row.note_ct, noteAad(row.id)),
    summary: summary === null ? null : (JSON.parse(summary) as ConversationSummary),
    declineReason: open(row.decline_reason_ct, declineAad(row.id)),
    createdAt: row.created_at,
    decidedAt: row.decided_at,
    decidedBy: row.decided_by,
  };
}

const sealed = (row: TransferRow) => row.note_ct !== null || row.summary_ct !== null || row.decline_reason_ct !== null;

/** The transfer writes of `SessionStore`, over the writer's connection and group commit. */
export function createTransferWriter(deps: {
  db: Db;
  ring: DataKeyRing;
  commit: GroupCommit;
  iso: () => string;
}): Pick<SessionStore, 'startTransfer' | 'decideTransfer' | 'undoTransfer'> {
  const { db, ring, commit, iso } = deps;
  const q = {
    session: db.prepare('SELECT * FROM sessions WHERE id = ?'),
    transfer: db.prepare('SELECT * FROM transfers WHERE id = ?'),
    pendingOf: db.prepare(`SELECT id FROM transfers WHERE session_id = ? AND status = 'pending'`),
    // The receiving agent's load as the router counts it (chats, calls), plus warm transfers offered to them.
    load: db.prepare(
      `SELECT coalesce(sum(channel != 'SP'), 0)
                + (SELECT count(*) FROM transfers WHERE status = 'pending' AND offered_agent_id = @agent) AS chats,
              coalesce(sum(channel = 'SP'), 0) AS calls
       FROM sessions WHERE (status = 'active' AND assigned_agent_id = @agent) OR (status = 'offered' AND offered_agent_id = @agent)`,
    ),
    insert: db.prepare(
      `INSERT INTO transfers (id, session_id, customer_id, from_agent_id, mode, status, target_json, skill_group, offered_agent_id,
         expires_at, decision_json, note_ct, summary_ct, created_at)
       VALUES (@id, @session, @customer, @from, @mode, @status, @target, @group, @agent, @expires, @decision, @note, @summary, @t)`,
    ),
    // Cold: the contact leaves its agent and waits again, in its new group, with the transfer's decision.
    requeue: db.prepare(
      `UPDATE sessions SET status = 'queued', assigned_agent_id = NULL, offered_agent_id = NULL, offer_expires_at = NULL,
         skill_group = @group, routing_json = @decision, waiting_since = @t, updated_at = @t
       WHERE id = @id AND status = 'active' AND assigned_agent_id = @from RETURNING *`,
    ),
    appendDecision: db.prepare(
      `INSERT INTO routing_decisions (session_id, at, config_version, cause, offered_to, decision_json) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    putCandidates: db.prepare(ROUTING_CANDIDATES_SQL.put),
    dropCandidates: db.prepare(ROUTING_CANDIDATES_SQL.drop),
    decide: db.prepare(
      `UPDATE transfers SET status = @status, decided_at = @t, decided_by = @by, decline_reason_ct = coalesce(@reason, decline_reason_ct)
       WHERE id = @id AND status = 'pending' RETURNING *`,
    ),
    // Warm accept: the one write that moves the contact; it applies only while the sender still has it.
    handTo: db.prepare(
      `UPDATE sessions SET assigned_agent_id = @agent, skill_group = @group, routing_json = @decision, updated_at = @t
       WHERE id = @id AND status = 'active' AND assigned_agent_id = @from RETURNING *`,
    ),
    // Issue 18, a cold transfer taken back: only while nobody has taken its contact (still waiting).
    restore: db.prepare(
      `UPDATE sessions SET status = @status, assigned_agent_id = @agent, offered_agent_id = NULL, offer_expires_at = NULL,
         skill_group = @group, routing_json = @decision, waiting_since = CASE WHEN @status = 'queued' THEN @t ELSE waiting_since END,
         updated_at = @t
       WHERE id = @id AND status IN ('queued', 'offered') RETURNING *`,
    ),
    undo: db.prepare(
      `UPDATE transfers SET status = 'cancelled', decided_at = @t, decided_by = 'system'
       WHERE id = @id AND status = 'routed' AND mode = 'cold' RETURNING *`,
    ),
  };
  const candidates = { put: q.putCandidates, drop: q.dropCandidates };

  const current = (id: string) => {
    const row = q.transfer.get(id) as TransferRow | undefined;
    if (!row) throw new HuiliuError('TRANSFER_NOT_FOUND');
    return row;
  };

  type Decided = { transfer: ReturnType<typeof toTransfer>; session: ReturnType<typeof toSession>; changed: boolean };
  /**
   * One decision on transfer `transferId` in one write transaction: `decide` gets the row as it is now,
   * the customer's key (loaded before the transaction), the time, and `unchanged()` (the transfer and
   * its session as they are, `changed: false`). @throws HuiliuError TRANSFER_NOT_FOUND
   */
  const onTransfer = async (
    transferId: string,
    decide: (row: TransferRow, key: Awaited<ReturnType<typeof loadCustomerKey>>, t: string, unchanged: () => Decided) => Decided,
  ): Promise<Decided> => {
    const key = await loadCustomerKey(ring, current(transferId).customer_id);
    return commit.run(() => {
      const row = current(transferId);
      const unchanged = (): Decided => ({
        transfer: toTransfer(row, key),
        session: toSession(q.session.get(row.session_id) as SessionRow),
        changed: false,
      });
      return decide(row, key, iso(), unchanged);
    });
  };

  return {
    async startTransfer(input) {
      const before = q.session.get(input.sessionId) as SessionRow | undefined;
      if (!before) throw new HuiliuError('SESSION_NOT_FOUND');
      const key = await loadCustomerKey(ring, before.customer_id);
      const columns = routingColumns(input.decision);
      const decision = columns.whole;
      return commit.run(() => {
        const t = iso();
        const session = q.session.get(input.sessionId) as SessionRow;
        if (session.status === 'closed') throw new HuiliuError('SESSION_CLOSED');
        if (session.status !== 'active' || session.assigned_agent_id !== input.fromAgentId) throw new HuiliuError('NOT_ASSIGNED');
        if (q.pendingOf.get(input.sessionId)) throw new HuiliuError('TRANSFER_PENDING');
        const { offer } = input;
        if (input.mode === 'warm') {
          if (!offer) throw new HuiliuError('INTERNAL', 'a warm transfer needs an offer');
          if (offer.capacity) {
            const { chats, calls } = q.load.get({ agent: offer.agentId }) as { chats: number; calls: number };
            // The mixed-load rule: on a call, at most `chatsDuringVoice` chats.
            if (chats >= (calls > 0 ? offer.capacity.chatsDuringVoice : offer.capacity.chat))
              throw new HuiliuError('TRANSFER_TARGET_UNAVAILABLE', 'That agent is at capacity.', { reason: 'at-capacity' });
          }
        }
        const id = uuidv7();
        q.insert.run({
          id,
          session: input.sessionId,
          customer: session.customer_id,
          from: input.fromAgentId,
          mode: input.mode,
          status: input.mode === 'warm' ? 'pending' : 'routed',
          target: JSON.stringify(input.target),
          group: input.skillGroup,
          agent: input.mode === 'warm' ? offer!.agentId : null,
          expires: input.mode === 'warm' ? offer!.expiresAt : null,
          decision,
          note: input.note ? sealText(key, input.note, noteAad(id)) : null,
          summary: input.summary ? sealText(key, JSON.stringify(input.summary), summaryAad(id)) : null,
          t,
        });
        let after = session;
        if (input.mode === 'cold') {
          after = q.requeue.get({
            id: input.sessionId,
            from: input.fromAgentId,
            group: input.skillGroup,
            decision: columns.routing,
            t,
          }) as SessionRow;
          if (after) writeRoutingCandidates(candidates, input.sessionId, columns.candidates);
        } else {
          // The warm offer is a routing decision like any other: logged when it is made.
          const version = input.decision.offerConfigVersion ?? input.decision.configVersion;
          q.appendDecision.run(input.sessionId, t, version, 'transferred', offer!.agentId, decision);
        }
        return { transfer: toTransfer(current(id), key), session: toSession(after) };
      });
    },

    async decideTransfer(transferId, outcome) {
      return onTransfer(transferId, (row, key, t, unchanged) => {
        if (row.status !== 'pending') return unchanged();
        const live = row.expires_at === null || row.expires_at > t;
        let by: string;
        switch (outcome.outcome) {
          case 'accepted':
          case 'declined':
            if (row.offered_agent_id !== outcome.by || !live) return unchanged();
            by = outcome.by;
            break;
          case 'cancelled':
            if (outcome.by !== row.from_agent_id && outcome.by !== 'system') return unchanged();
            by = outcome.by;
            break;
          case 'expired':
            if (live) return unchanged();
            by = 'system';
            break;
        }
        let session: SessionRow | undefined;
        if (outcome.outcome === 'accepted') {
          const columns = routingColumns(JSON.parse(row.decision_json) as RoutingDecision);
          session = q.handTo.get({
            id: row.session_id,
            from: row.from_agent_id,
            agent: outcome.by,
            group: row.skill_group,
            decision: columns.routing,
            t,
          }) as SessionRow | undefined;
          // The contact closed or left the sender meanwhile: nothing to accept (the transfer is cancelled by the service).
          if (!session) return unchanged();
          writeRoutingCandidates(candidates, row.session_id, columns.candidates);
        }
        const reason = outcome.outcome === 'declined' && outcome.reason ? sealText(key, outcome.reason, declineAad(transferId)) : null;
        const decided = q.decide.get({ id: transferId, status: outcome.outcome, t, by, reason }) as TransferRow;
        return {
          transfer: toTransfer(decided, key),
          session: toSession(session ?? (q.session.get(row.session_id) as SessionRow)),
          changed: true,
        };
      });
    },

    async undoTransfer(transferId, restore) {
      return onTransfer(transferId, (row, key, t, unchanged) => {
        if (row.status !== 'routed' || row.mode !== 'cold') return unchanged();
        const back = restore.to === 'sender';
        const columns = restore.decision ? routingColumns(restore.decision) : null;
        const session = q.restore.get({
          id: row.session_id,
          status: back ? 'active' : 'queued',
          agent: back ? row.from_agent_id : null,
          group: restore.skillGroup,
          decision: columns?.routing ?? null,
          t,
        }) as SessionRow | undefined;
        // Taken by someone (or closed) meanwhile: the transfer stands.
        if (!session) return unchanged();
        writeRoutingCandidates(candidates, row.session_id, columns?.candidates ?? null);
        if (restore.decision && columns) {
          const version = restore.decision.offerConfigVersion ?? restore.decision.configVersion;
          q.appendDecision.run(
            row.session_id,
            t,
            version,
            restore.decision.trigger ?? 'new',
            back ? row.from_agent_id : null,
            columns.whole,
          );
        }
        const undone = q.undo.get({ id: transferId, t }) as TransferRow;
        return { transfer: toTransfer(undone, key), session: toSession(session), changed: true };
      });
    },
  };
}

/** The transfer reads of `SessionStore`, over the reader's connection. */
export function createTransferReader(deps: {
  db: Db;
  ring: DataKeyRing;
}): Pick<SessionStore, 'getTransfer' | 'transfers' | 'pendingTransfers'> {
  const { db, ring } = deps;
  const q = {
    transfer: db.prepare('SELECT * FROM transfers WHERE id = ?'),
    ofSession: db.prepare('SELECT * FROM transfers WHERE session_id = ? ORDER BY created_at, id'),
    pending: db.prepare(`SELECT * FROM transfers WHERE status = 'pending' ORDER BY created_at, id LIMIT 5000`),
    pendingFor: db.prepare(`SELECT * FROM transfers WHERE status = 'pending' AND offered_agent_id = ? ORDER BY created_at, id`),
  };
  async function read(rows: TransferRow[]): Promise<TransferRecord[]> {
    const out: TransferRecord[] = [];
    for (const row of rows) out.push(toTransfer(row, sealed(row) ? await loadCustomerKey(ring, row.customer_id) : null));
    return out;
  }
  return {
    async getTransfer(id) {
      const row = q.transfer.get(id) as TransferRow | undefined;
      return row ? (await read([row]))[0]! : null;
    },
    async transfers(sessionId) {
      return read(q.ofSession.all(sessionId) as TransferRow[]);
    },
    async pendingTransfers(filter = {}) {
      return read((filter.offeredAgentId ? q.pendingFor.all(filter.offeredAgentId) : q.pending.all()) as TransferRow[]);
    },
  };
}
