import { z } from 'zod';
import { SessionIdSchema } from '../message/session-id';
import type { PartialRead } from './routing';
import { graphemes, hasVisibleText, plainTextProblem } from '../text/text';

/**
 * Data-subject requests and retention (issue 17, DESIGN §6 and §8; docs/privacy.md): an export
 * (GDPR Art. 15/20, PIPL Art. 45) or an erasure (GDPR Art. 17, PIPL Art. 47) is filed by one staff
 * user and approved or rejected by a second one with the privacy-officer role (four eyes). Conversation
 * retention is set per skill group.
 */

/** Characters a reason must show (graphemes with a visible character: four zero-width spaces show none). */
export const REASON_MIN_VISIBLE = 3;

/**
 * Why a request is filed, or a decider's note: trimmed, at most `max` UTF-16 code units, plain text
 * (`plainTextProblem`: no control character but `\n` and `\t`, no lone surrogate, no bidi embedding,
 * override or isolate) and at least `minVisible` visible characters (`hasVisibleText` per grapheme).
 * Refusals are zod issues: the routes answer 400 VALIDATION_FAILED, naming the problem, never the text.
 */
function userText(minVisible: number, max: number) {
  return z
    .string()
    .trim()
    .max(max)
    .superRefine((text, ctx) => {
      const problem = plainTextProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
      else if (minVisible > 0 && graphemes(text).filter(hasVisibleText).length < minVisible) {
        ctx.addIssue({ code: 'custom', message: `needs at least ${minVisible} visible characters` });
      }
    });
}

const Reason = userText(REASON_MIN_VISIBLE, 500);
/** An app channel customer id (`customer.externalId`), as the customer knows themselves. */
const ExternalId = z.string().trim().min(1).max(256);

/** `POST /api/v1/privacy/exports`: the customer by id or by app external id, optionally one session only. */
export const ExportRequestSchema = z
  .strictObject({
    customerId: z.uuid().optional(),
    customerExternalId: ExternalId.optional(),
    sessionId: SessionIdSchema.optional(),
    reason: Reason,
  })
  .refine((r) => r.customerId !== undefined || r.customerExternalId !== undefined || r.sessionId !== undefined, {
    message: 'Name the customer: customerId, customerExternalId or sessionId.',
  });
export type ExportRequest = z.infer<typeof ExportRequestSchema>;

/** `POST /api/v1/privacy/erasures`: the customer by id or by app external id. */
export const ErasureRequestSchema = z
  .strictObject({
    customerId: z.uuid().optional(),
    customerExternalId: ExternalId.optional(),
    reason: Reason,
  })
  .refine((r) => (r.customerId === undefined) !== (r.customerExternalId === undefined), {
    message: 'Name the customer by exactly one of customerId or customerExternalId.',
  });
export type ErasureRequest = z.infer<typeof ErasureRequestSchema>;

/** `POST …/:id/reject` (the body is optional on approve). */
export const DecisionSchema = z.strictObject({ note: userText(0, 500).optional() });

export const PrivacyRequestKindSchema = z.enum(['export', 'erasure']);
export type PrivacyRequestKind = z.infer<typeof PrivacyRequestKindSchema>;

/**
 * `pending` → `approved` (export: its bundle is built and sealed) → `downloaded` | `expired`;
 * `pending` → `approved` → `executed` (erasure); or `pending` → `rejected`. `failed`: approved but the
 * bundle or the erasure could not be made (the audit entry says why).
 */
export const PrivacyRequestStatusSchema = z.enum(['pending', 'approved', 'rejected', 'downloaded', 'expired', 'executed', 'failed']);
export type PrivacyRequestStatus = z.infer<typeof PrivacyRequestStatusSchema>;

/** One request as the list and the actions answer it. Times are ISO 8601 UTC. */
export const PrivacyRequestViewSchema = z.object({
  id: z.uuid(),
  kind: PrivacyRequestKindSchema,
  status: PrivacyRequestStatusSchema,
  customerId: z.uuid(),
  sessionId: SessionIdSchema.nullable(),
  reason: z.string(),
  requestedBy: z.string(),
  requestedAt: z.string(),
  /** The approver or rejecter. */
  decidedBy: z.string().nullable(),
  decidedAt: z.string().nullable(),
  /** The legal deadline to answer the data subject (requestedAt + the configured window). */
  dueAt: z.string(),
  /** Not answered (downloaded, executed or rejected) and past `dueAt`. */
  overdue: z.boolean(),
  /** Export: the bundle can be downloaded until then (set on approval). */
  expiresAt: z.string().nullable(),
  /** When the request was answered: downloaded, executed, rejected. */
  completedAt: z.string().nullable(),
});
export type PrivacyRequestView = z.infer<typeof PrivacyRequestViewSchema>;

/** `GET /api/v1/privacy/exports|erasures?status=` */
export const PrivacyListQuerySchema = z.strictObject({ status: PrivacyRequestStatusSchema.optional() });

/** The machine-readable export bundle (`GET …/:id/download`, `application/json`). */
export interface ExportBundle {
  format: 'huiliu-export/1';
  requestId: string;
  generatedAt: string;
  customer: { id: string; name: string; createdAt: string; channels: string[]; mergeGroup: string[] };
  identities: { channel: string; externalId: string; customerId: string; createdAt: string }[];
  links: { kind: string; value: string; customerId: string; createdAt: string }[];
  profileChanges: { field: string; channel: string; previous: string | null; value: string; changedAt: string }[];
  conversations: {
    sessionId: string;
    conversationId: string;
    channel: string;
    skillGroup: string;
    status: string;
    createdAt: string;
    closedAt: string | null;
    messages: { id: string; seq: number; direction: string; kind: string; author: string; receivedAt: string; body: unknown }[];
    routingDecisions: { at: string; configVersion: number; decision: unknown }[];
    /**
     * Additive (issue 14): `true` when `routingDecisions` was read from the exporting server's own log
     * only (`HUILIU_STORE=redis` with the cluster's shared log unreachable): decisions other servers
     * logged for this conversation may be missing. Absent on a complete read.
     */
    routingDecisionsPartial?: PartialRead;
    csat: { score: number; comment: string | null; ratedAt: string } | null;
  }[];
  /** Files the customer sent, base64. */
  attachments: { id: string; messageId: string; sessionId: string; mime: string; name: string | null; size: number; base64: string }[];
}

/** One skill group's conversation retention (`GET|PUT /api/v1/privacy/retention`). */
export const RetentionRuleSchema = z.strictObject({
  skillGroup: z.string().trim().min(1).max(64),
  /** Closed conversations whose last message is older than this many days lose their content; null: kept. */
  days: z.number().int().min(1).max(36_500).nullable(),
});
export type RetentionRule = z.infer<typeof RetentionRuleSchema>;
/** `PUT /api/v1/privacy/retention`: each skill group at most once (a repeat is refused, not "last wins"). */
export const RetentionRulesSchema = z.strictObject({
  rules: z
    .array(RetentionRuleSchema)
    .max(200)
    .superRefine((rules, ctx) => {
      const seen = new Set<string>();
      rules.forEach((r, i) => {
        if (seen.has(r.skillGroup))
          ctx.addIssue({ code: 'custom', path: [i, 'skillGroup'], message: 'names a skill group a rule before it already names' });
        seen.add(r.skillGroup);
      });
    }),
});
export type RetentionRuleView = RetentionRule & { updatedBy: string | null; updatedAt: string | null };
