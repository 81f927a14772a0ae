import { v7 as uuidv7 } from 'uuid';
import type { AssistSource, Draft, DraftOutcome } from '../../../../common/ai/assist';
import type { FeedbackReport, OutcomeCounts } from '../../../../common/api/ai-feedback';
import { HuiliuError } from '../../../../common/errors/codes';
import { openText, sealText } from '../../crypto/aead';
import type { AssistDb } from './db';

/**
 * Drafts and their feedback (issue 10), table `assist_drafts`: one draft per session, its text and
 * the agent's final text sealed with the customer's data key (AAD binds each to its draft and
 * column), the outcome, edit distance and ratio in the clear (numbers, for the report).
 */

/** A stored draft with the facts the service checks. */
export interface StoredDraft extends Draft {
  sessionId: string;
  customerId: string;
  skillGroup: string;
  /** Null while open (neither used nor discarded). */
  outcome: DraftOutcome | null;
}

export interface NewDraft {
  sessionId: string;
  conversationId: string;
  customerId: string;
  skillGroup: string;
  forMessageId: string;
  text: string;
  source: AssistSource;
  /** ISO 8601. */
  createdAt: string;
}

export interface DraftDecision {
  outcome: DraftOutcome;
  /** The staff user who sent or discarded it. */
  by: string;
  /** ISO 8601. */
  at: string;
  /** What the agent sent (accepted / edited), with its message id. */
  final?: string;
  messageId?: string;
  editDistance?: number;
  editRatio?: number;
}

export interface DraftStore {
  /**
   * Stores the session's draft unless it has one already (one per session, decided atomically by the
   * database); `created` says whether this call stored it, `draft` is the session's draft either way.
   * SESSION_NOT_FOUND-free: the caller has the session. INTERNAL when the customer's key is gone.
   */
  create(input: NewDraft): Promise<{ draft: StoredDraft; created: boolean }>;
  /** The session's draft (open or decided), decrypted; null when it has none or its key is gone. */
  forSession(sessionId: string): Promise<StoredDraft | null>;
  get(id: string): Promise<StoredDraft | null>;
  /** Records the outcome of an open draft; false when it was already decided (the first outcome stands). */
  decide(id: string, decision: DraftDecision): Promise<boolean>;
  /** The agent's final text of a decided draft (tests, exports), or null. */
  finalText(id: string): Promise<string | null>;
  /** Counts for `GET /api/v1/ai/feedback`; `skillGroups` null = all. */
  report(window: { from: string; to: string; skillGroups: readonly string[] | null }): FeedbackReport;
}

interface DraftRow {
  id: string;
  session_id: string;
  conversation_id: string;
  customer_id: string;
  skill_group: string;
  for_message_id: string;
  source_kind: string;
  source_json: string;
  intent: string | null;
  created_at: string;
  draft_ct: Buffer;
  outcome: DraftOutcome | null;
  final_ct: Buffer | null;
}

const draftAad = (id: string) => `assist-draft:${id}:draft`;
const finalAad = (id: string) => `assist-draft:${id}:final`;

export function createSqliteDraftStore(assist: AssistDb, options: { newId?: () => string } = {}): DraftStore {
  const { db } = assist;
  const newId = options.newId ?? uuidv7;
  const q = {
    insert: db.prepare(
      `INSERT OR IGNORE INTO assist_drafts (id, session_id, conversation_id, customer_id, skill_group, for_message_id, source_kind,
         source_json, intent, created_at, draft_ct) VALUES (@id, @session_id, @conversation_id, @customer_id, @skill_group,
         @for_message_id, @source_kind, @source_json, @intent, @created_at, @draft_ct)`,
    ),
    bySession: db.prepare('SELECT * FROM assist_drafts WHERE session_id = ?'),
    byId: db.prepare('SELECT * FROM assist_drafts WHERE id = ?'),
    decide: db.prepare(
      `UPDATE assist_drafts SET outcome = @outcome, decided_at = @at, decided_by = @by, message_id = @message_id, final_ct = @final_ct,
         edit_distance = @edit_distance, edit_ratio = @edit_ratio WHERE id = @id AND outcome IS NULL`,
    ),
  };

  async function toDraft(row: DraftRow | undefined): Promise<StoredDraft | null> {
    if (!row) return null;
    const key = await assist.customerKey(row.customer_id);
    if (!key) return null;
    return {
      id: row.id,
      text: openText(key, row.draft_ct, draftAad(row.id)),
      source: JSON.parse(row.source_json) as AssistSource,
      forMessageId: row.for_message_id,
      createdAt: row.created_at,
      sessionId: row.session_id,
      customerId: row.customer_id,
      skillGroup: row.skill_group,
      outcome: row.outcome,
    };
  }

  return {
    async create(input) {
      const key = await assist.customerKey(input.customerId);
      if (!key) throw new HuiliuError('INTERNAL', 'The customer has no data key.');
      const id = newId();
      const info = q.insert.run({
        id,
        session_id: input.sessionId,
        conversation_id: input.conversationId,
        customer_id: input.customerId,
        skill_group: input.skillGroup,
        for_message_id: input.forMessageId,
        source_kind: input.source.kind,
        source_json: JSON.stringify(input.source),
        intent: input.source.kind === 'kb' ? input.source.intent : null,
        created_at: input.createdAt,
        draft_ct: sealText(key, input.text, draftAad(id)),
      });
      const draft = await toDraft(q.bySession.get(input.sessionId) as DraftRow | undefined);
      if (!draft) throw new HuiliuError('INTERNAL', 'The draft could not be read back.');
      return { draft, created: info.changes === 1 };
    },

    forSession: async (sessionId) => toDraft(q.bySession.get(sessionId) as DraftRow | undefined),
    get: async (id) => toDraft(q.byId.get(id) as DraftRow | undefined),

    async decide(id, d) {
      const row = q.byId.get(id) as DraftRow | undefined;
      if (!row || row.outcome) return false;
      let finalCt: Buffer | null = null;
      if (d.final !== undefined) {
        const key = await assist.customerKey(row.customer_id);
        if (!key) return false;
        finalCt = sealText(key, d.final, finalAad(id));
      }
      const info = q.decide.run({
        id,
        outcome: d.outcome,
        at: d.at,
        by: d.by,
        message_id: d.messageId ?? null,
        final_ct: finalCt,
        edit_distance: d.editDistance ?? null,
        edit_ratio: d.editRatio ?? null,
      });
      return info.changes === 1;
    },

    async finalText(id) {
      const row = q.byId.get(id) as DraftRow | undefined;
      if (!row?.final_ct) return null;
      const key = await assist.customerKey(row.customer_id);
      return key ? openText(key, row.final_ct, finalAad(id)) : null;
    },

    report({ from, to, skillGroups }) {
      if (skillGroups && skillGroups.length === 0) return emptyReport(from, to, []);
      const groupSql = skillGroups ? ` AND skill_group IN (${skillGroups.map(() => '?').join(',')})` : '';
      const groups = skillGroups ?? [];
      const decided = db
        .prepare(
          `SELECT source_kind AS source, intent, outcome, count(*) AS n, sum(edit_ratio) AS ratio_sum, count(edit_ratio) AS ratio_n
           FROM assist_drafts WHERE outcome IS NOT NULL AND decided_at >= ? AND decided_at < ?${groupSql}
           GROUP BY source_kind, intent, outcome`,
        )
        .all(from, to, ...groups) as {
        source: 'kb' | 'past-reply';
        intent: string | null;
        outcome: DraftOutcome;
        n: number;
        ratio_sum: number | null;
        ratio_n: number;
      }[];
      const open = (
        db
          .prepare(`SELECT count(*) AS n FROM assist_drafts WHERE outcome IS NULL AND created_at >= ? AND created_at < ?${groupSql}`)
          .get(from, to, ...groups) as { n: number }
      ).n;
      const report = emptyReport(from, to, skillGroups);
      report.open = open;
      const byIntent = new Map<string | null, OutcomeCounts>();
      let ratioSum = 0;
      let ratioN = 0;
      for (const r of decided) {
        report.decided += r.n;
        report.byOutcome[r.outcome] += r.n;
        report.bySource[r.source][r.outcome] += r.n;
        const counts = byIntent.get(r.intent) ?? { accepted: 0, edited: 0, discarded: 0 };
        counts[r.outcome] += r.n;
        byIntent.set(r.intent, counts);
        if (r.outcome !== 'discarded') {
          ratioSum += r.ratio_sum ?? 0;
          ratioN += r.ratio_n;
        }
      }
      report.byIntent = [...byIntent]
        .map(([intent, c]) => ({ intent, ...c }))
        .sort((a, b) => total(b) - total(a) || String(a.intent).localeCompare(String(b.intent)));
      report.meanEditRatio = ratioN ? Math.round((ratioSum / ratioN) * 1000) / 1000 : null;
      return report;
    },
  };
}

const total = (c: OutcomeCounts) => c.accepted + c.edited + c.discarded;

function emptyReport(from: string, to: string, skillGroups: readonly string[] | null): FeedbackReport {
  const zero = () => ({ accepted: 0, edited: 0, discarded: 0 });
  return {
    from,
    to,
    skillGroups: skillGroups ? [...skillGroups] : null,
    decided: 0,
    open: 0,
    byOutcome: zero(),
    bySource: { kb: zero(), 'past-reply': zero() },
    byIntent: [],
    meanEditRatio: null,
  };
}
