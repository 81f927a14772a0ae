import { z } from 'zod';
import { KbEntrySchema, KbImportRowSchema } from '../ai/types';

/**
 * The knowledge-base admin API (issue 9, DESIGN §6 `/api/v1/kb/*`): what its routes answer. The rows
 * and entries themselves are `KbImportRow` / `KbEntry` in `common/ai/types.ts`.
 */

/** An import row with no field beyond the known ones (a typo such as `tag` is an error, not dropped). */
export const KbImportRowStrictSchema = z.strictObject(KbImportRowSchema.shape);

/** `POST /api/v1/kb/import?mode=merge|replace`: `merge` upserts by (intent, lang), `replace` makes the KB exactly the rows. */
export const KbImportModeSchema = z.enum(['merge', 'replace']);
export type KbImportMode = z.infer<typeof KbImportModeSchema>;

/** `POST /api/v1/kb/import` → 200. `version` is the KB version after the import (unchanged when nothing changed). */
export const KbImportResultSchema = z.object({
  version: z.number().int().min(0),
  /** Entries that did not exist before. */
  created: z.number().int().min(0),
  /** Existing entries whose content changed (an identical row counts nowhere). */
  updated: z.number().int().min(0),
  /** Entries the import removed (`replace` only). */
  removed: z.number().int().min(0),
});
export type KbImportResult = z.infer<typeof KbImportResultSchema>;

/**
 * One refused import row, in `details.rows` of a 400 VALIDATION_FAILED. `row` is the 1-based data row
 * (JSON: the array index + 1; CSV: the record after the header, so row 1 is spreadsheet row 2); row 0
 * is the body itself or the CSV header. `field` is a path such as `questions.2` (0-based index inside
 * the list). Messages never repeat the rejected text.
 */
export const KbRowErrorSchema = z.object({
  row: z.number().int().min(0),
  field: z.string(),
  message: z.string(),
  /** For a repeated (intent, lang): the earlier row it repeats. */
  duplicateOf: z.number().int().min(1).optional(),
});
export type KbRowError = z.infer<typeof KbRowErrorSchema>;

/** At most this many row errors are listed; `total` counts them all. */
export const KB_ROW_ERRORS_LISTED = 100;

/** `details` of an import refused as VALIDATION_FAILED: nothing was imported. */
export const KbImportErrorDetailsSchema = z.object({
  rows: z.array(KbRowErrorSchema).max(KB_ROW_ERRORS_LISTED),
  total: z.number().int().min(1),
});
export type KbImportErrorDetails = z.infer<typeof KbImportErrorDetailsSchema>;

/** The knowledge-base limits a write can break (KB_LIMITS in server/src/ai/kb.ts has the numbers). */
export const KbLimitNameSchema = z.enum(['entries', 'intents', 'questions']);
export type KbLimitName = z.infer<typeof KbLimitNameSchema>;

/** `details` of a 413 KB_TOO_LARGE: the limit the write would break, its maximum and what the write would leave. */
export const KbTooLargeDetailsSchema = z.object({
  limit: KbLimitNameSchema,
  max: z.number().int().min(1),
  count: z.number().int().min(1),
});
export type KbTooLargeDetails = z.infer<typeof KbTooLargeDetailsSchema>;

/** One KB version: each change (one create, update, delete or whole import) is one version. */
export const KbVersionSchema = z.object({
  version: z.number().int().min(1),
  at: z.iso.datetime({ offset: true }),
  /** The changing user's id (or a name such as `demo-seed` for changes no person made). */
  by: z.string(),
  /** What changed, e.g. `import (merge): 3 created, 1 updated, 0 removed`. Names intents, never customer text. */
  summary: z.string(),
});
export type KbVersion = z.infer<typeof KbVersionSchema>;

/** `GET /api/v1/kb/entries` pages: `limit` entries per page by default, at most `max`. */
export const KB_ENTRIES_PAGE = { default: 200, max: 1000 } as const;

/**
 * `GET /api/v1/kb/entries?lang=&intent=&limit=&offset=` → one page of the entries ordered by intent,
 * then lang. `total` counts every entry matching lang and intent; `nextOffset` is the `offset` of the
 * next page, or null when this page is the last.
 */
export const KbEntriesResponseSchema = z.object({
  version: z.number().int().min(0),
  total: z.number().int().min(0),
  entries: z.array(KbEntrySchema),
  nextOffset: z.number().int().min(1).nullable(),
});
export type KbEntriesResponse = z.infer<typeof KbEntriesResponseSchema>;

/** `GET /api/v1/kb/versions?limit=` → newest first. */
export const KbVersionsResponseSchema = z.object({ version: z.number().int().min(0), versions: z.array(KbVersionSchema) });
export type KbVersionsResponse = z.infer<typeof KbVersionsResponseSchema>;
