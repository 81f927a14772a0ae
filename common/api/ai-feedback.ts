import { z } from 'zod';

/**
 * `GET /api/v1/ai/feedback?from=&to=&skillGroup=` (issue 10): what agents did with the assisted
 * tier's AI drafts — counts by outcome, by source kind and by intent, and how much they changed the
 * drafts they sent. Numbers and labels only: no customer or draft text is ever in it.
 */

export const FeedbackQuerySchema = z.strictObject({
  /** ISO 8601; default: 30 days before `to`. Outcomes recorded at or after it count. */
  from: z.iso.datetime({ offset: true }).optional(),
  /** ISO 8601; default: now. Outcomes recorded before it count. */
  to: z.iso.datetime({ offset: true }).optional(),
  /** One skill group (it must be in the caller's scope); default: every group the caller may see. */
  skillGroup: z.string().min(1).max(64).optional(),
});
export type FeedbackQuery = z.infer<typeof FeedbackQuerySchema>;

const count = z.number().int().min(0);
export const OutcomeCountsSchema = z.object({ accepted: count, edited: count, discarded: count });
export type OutcomeCounts = z.infer<typeof OutcomeCountsSchema>;

export const FeedbackReportSchema = z.object({
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  /** The groups counted; null = every group (admins). */
  skillGroups: z.array(z.string()).nullable(),
  /** Drafts whose outcome was recorded in [from, to). */
  decided: count,
  /** Drafts made in [from, to) that no one has used or discarded yet. */
  open: count,
  byOutcome: OutcomeCountsSchema,
  bySource: z.object({ kb: OutcomeCountsSchema, 'past-reply': OutcomeCountsSchema }),
  /** Per KB intent (null: drafts from past replies), most drafts first. */
  byIntent: z.array(OutcomeCountsSchema.extend({ intent: z.string().nullable() })),
  /**
   * Mean edit ratio of the drafts that were sent (accepted = 0, edited = grapheme edit distance over
   * the longer text), 0..1; null when none was sent.
   */
  meanEditRatio: z.number().min(0).max(1).nullable(),
});
export type FeedbackReport = z.infer<typeof FeedbackReportSchema>;
