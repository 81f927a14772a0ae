import { z } from 'zod';
import { staffTextSchema } from '../text/text';

/**
 * Canned replies (issue 15): answers an agent inserts in the composer by typing `/` and a shortcut.
 * A reply belongs to a skill group (managed by the group's leads and by admins, used by its agents)
 * or is personal (`skillGroup: null`: its owner's alone). Staff text, not customer data.
 *
 * - `GET /api/v1/canned-replies?q=&skillGroup=&limit=` → `{ items: CannedReply[] }`: the caller's
 *   personal replies and those of the groups in their scope, best match first (shortcut prefix, then
 *   title, then text); without `q`, by shortcut.
 * - `POST /api/v1/canned-replies` `CannedReplyInput` → 201 `CannedReply`
 * - `PUT /api/v1/canned-replies/:id` `CannedReplyInput` → 200 `CannedReply`
 * - `DELETE /api/v1/canned-replies/:id` → 204
 * Errors: VALIDATION_FAILED, FORBIDDEN (a group out of reach, someone else's personal reply),
 * NOT_FOUND, CANNED_SHORTCUT_TAKEN (409: the shortcut is used in that group, or in your personal set).
 */

/** Letters (any script), digits, `-` and `_`; what follows the `/` in the composer. */
export const CANNED_SHORTCUT_PATTERN = /^[\p{L}\p{N}_-]{1,32}$/u;
export const CANNED_TITLE_MAX = 80;
export const CANNED_TEXT_MAX = 4000;
export const CANNED_SEARCH_MAX = 50;

export const CannedShortcutSchema = z
  .string()
  .trim()
  .transform((s) => s.normalize('NFKC').toLowerCase())
  .pipe(z.string().regex(CANNED_SHORTCUT_PATTERN, 'letters, digits, - or _, at most 32'));

export const CannedReplyInputSchema = z.strictObject({
  shortcut: CannedShortcutSchema,
  title: staffTextSchema(CANNED_TITLE_MAX),
  text: staffTextSchema(CANNED_TEXT_MAX),
  /** A skill group, or null for a personal reply. */
  skillGroup: z.string().min(1).max(64).nullable(),
  /** The language the reply is written in, when it matters for search and suggestions. */
  lang: z.enum(['zh', 'en']).nullable().default(null),
});
export type CannedReplyInput = z.infer<typeof CannedReplyInputSchema>;

export const CannedSearchSchema = z.strictObject({
  q: z.string().trim().max(100).optional(),
  skillGroup: z.string().min(1).max(64).optional(),
  limit: z.coerce.number().int().min(1).max(CANNED_SEARCH_MAX).default(20),
});
export type CannedSearch = z.infer<typeof CannedSearchSchema>;

export interface CannedReply {
  id: string;
  shortcut: string;
  title: string;
  text: string;
  skillGroup: string | null;
  /** The owner of a personal reply; null for a group's. */
  ownerId: string | null;
  lang: 'zh' | 'en' | null;
  updatedBy: string;
  updatedAt: string;
}
