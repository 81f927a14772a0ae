/**
 * The audit search's wire shapes (issue 17, DESIGN §6, docs/audit.md): `GET /api/v1/audit?userId=&from=&to=&limit=&cursor=`
 * answers `AuditPageView`, newest first. The server's `AuditEntry` (server/src/audit/audit.ts) is this shape.
 */
export interface AuditEntryView {
  /** Position in the chain, from 1. */
  seq: number;
  /** ISO 8601 UTC with milliseconds. */
  at: string;
  actor: { kind: 'staff' | 'ai' | 'system'; id: string; name?: string };
  /** Dotted: `auth.login`, `session.view`, `message.reply`… */
  action: string;
  target: { kind: string; id: string } | null;
  outcome: 'ok' | 'denied' | 'failed';
  /** Ids, codes and counts only (masked). */
  detail: Record<string, string | number | boolean | null>;
  ip: string | null;
  prevHash: string;
  hash: string;
  mac: string;
}

export interface AuditPageView {
  entries: AuditEntryView[];
  /** Present when there are more: pass as `cursor`. */
  next?: string;
}

/** The query: `userId` a staff id or username; `from` inclusive, `to` exclusive, ISO 8601; `limit` 1..500. */
export interface AuditSearchQuery {
  userId?: string;
  from: string;
  to: string;
  limit?: number;
  cursor?: string;
}
