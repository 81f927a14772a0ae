import { z } from 'zod';
import { plainTextProblem } from '../text/text';

/**
 * The AI language core's shared shapes (issue 9, DESIGN §6 `POST /api/v1/ai/analyze`): knowledge-base
 * entries, the analysis the router reads, and the emotion taxonomy (Ekman's six + neutral).
 */

/** Languages the core understands. Text in another language is analysed as English (`en`). */
export const LangSchema = z.enum(['zh', 'en']);
export type Lang = z.infer<typeof LangSchema>;

/** Ekman's six basic emotions plus `neutral` (the seed's "6-emotion analysis"). */
export const EMOTIONS = ['anger', 'disgust', 'fear', 'happiness', 'sadness', 'surprise', 'neutral'] as const;
export const EmotionSchema = z.enum(EMOTIONS);
export type Emotion = z.infer<typeof EmotionSchema>;
/** The emotions that raise difficulty and (issue 10) trigger a hand-over. */
export const NEGATIVE_EMOTIONS: readonly Emotion[] = ['anger', 'disgust', 'fear', 'sadness'];

/** The intent classifier's out-of-scope class: no knowledge-base entry may use it as its intent. */
export const OUT_OF_SCOPE_INTENT = 'oos';

/**
 * An intent label: lowercase ASCII words joined by `_`, `-` or `.` (e.g. `order_status`); never `oos`
 * (OUT_OF_SCOPE_INTENT, reserved for the classifier).
 */
export const IntentLabelSchema = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9_.-]*$/, 'intent must be lowercase letters, digits, "_", "-" or "."')
  .refine((label) => label !== OUT_OF_SCOPE_INTENT, {
    message: `"${OUT_OF_SCOPE_INTENT}" is reserved for the classifier's out-of-scope class; choose another intent name`,
  });

const QUESTION_MAX = 500;
const ANSWER_MAX = 4000;
/** At most this many questions in one entry (the KB's whole limits are KB_LIMITS in server/src/ai/kb.ts). */
export const KB_QUESTIONS_PER_ENTRY_MAX = 100;

/**
 * A knowledge-base text field: trimmed, `min`–`max` UTF-16 code units, and plain text (no control
 * character but `\n` and `\t`, no lone surrogate, no bidi override or isolate; see `plainTextProblem`).
 */
const kbText = (min: number, max: number) =>
  z
    .string()
    .trim()
    .min(min)
    .max(max)
    .superRefine((text, ctx) => {
      const problem = plainTextProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

/**
 * One row of `POST /api/v1/kb/import` (JSON array or CSV) and of `GET /api/v1/kb/export`: an FAQ entry
 * is one intent in one language. `lang` defaults to the language its questions are written in.
 */
export const KbImportRowSchema = z.object({
  intent: IntentLabelSchema,
  questions: z.array(kbText(1, QUESTION_MAX)).min(1).max(KB_QUESTIONS_PER_ENTRY_MAX),
  answer: kbText(1, ANSWER_MAX),
  lang: LangSchema.optional(),
  tags: z.array(kbText(1, 64)).max(32).optional(),
  /** The skill group a hand-over on this intent goes to; null = the contact's own group. */
  skillGroup: z
    .string()
    .min(1)
    .max(64)
    .superRefine((text, ctx) => {
      const problem = plainTextProblem(text);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .nullable()
    .optional(),
  /** Follow-up intents (the small knowledge graph): "customers asking this often ask next…". */
  related: z.array(IntentLabelSchema).max(32).optional(),
});
export type KbImportRow = z.infer<typeof KbImportRowSchema>;

/** A stored FAQ entry. `(intent, lang)` is unique; `version` is the KB version that last changed it. */
export const KbEntrySchema = z.object({
  id: z.string(),
  intent: IntentLabelSchema,
  lang: LangSchema,
  questions: z.array(z.string()),
  answer: z.string(),
  tags: z.array(z.string()),
  skillGroup: z.string().nullable(),
  related: z.array(IntentLabelSchema),
  version: z.number().int().min(1),
  updatedAt: z.iso.datetime({ offset: true }),
  updatedBy: z.string(),
});
export type KbEntry = z.infer<typeof KbEntrySchema>;

/** One intent the classifier considered, best first. `p` is its calibrated probability, 0..1. */
export const IntentCandidateSchema = z.object({ label: z.string(), p: z.number().min(0).max(1) });
export type IntentCandidate = z.infer<typeof IntentCandidateSchema>;

export const IntentResultSchema = z.object({
  /** The best in-scope intent, or `oos` when the text is out of scope. */
  label: z.string(),
  /** Calibrated probability that `label` is right, 0..1. */
  confidence: z.number().min(0).max(1),
  outOfScope: z.boolean(),
  /** Up to 3 candidates, best first (the label of the best even when out of scope). */
  candidates: z.array(IntentCandidateSchema).optional(),
});
export type IntentResult = z.infer<typeof IntentResultSchema>;

export const EmotionResultSchema = z.object({
  label: EmotionSchema,
  /** How strongly `label` is expressed, 0..1 (0 for neutral). */
  intensity: z.number().min(0).max(1),
  /** Probability of each emotion, summing to 1. */
  scores: z.record(EmotionSchema, z.number().min(0).max(1)),
});
export type EmotionResult = z.infer<typeof EmotionResultSchema>;

/** One difficulty factor, as the routing explanation shows it (same shape as `Reason`). */
export const DifficultyFactorSchema = z.object({
  factor: z.string(),
  value: z.number().optional(),
  points: z.number().optional(),
  note: z.string(),
});

/** `POST /api/v1/ai/analyze` → exactly what the router uses for `difficultyScore` (DESIGN §5, §6). */
export const AnalysisSchema = z.object({
  lang: LangSchema,
  intent: IntentResultSchema,
  emotion: EmotionResultSchema,
  /** 0..100. */
  difficulty: z.number().min(0).max(100),
  factors: z.array(DifficultyFactorSchema),
  /** True when the customer asks for a person ("转人工", "real person", …). */
  wantsHuman: z.boolean(),
  /** Which model produced it: `ngram-linear@<kbVersion>` or `surface` (the fallback with no model). */
  model: z.string(),
});
export type Analysis = z.infer<typeof AnalysisSchema>;

export const AnalyzeRequestSchema = z.strictObject({
  text: z.string().min(1).max(20_000),
  lang: LangSchema.optional(),
  channel: z.string().length(2).optional(),
  contacts30d: z.number().int().min(0).max(10_000).optional(),
});
export type AnalyzeRequest = z.infer<typeof AnalyzeRequestSchema>;
