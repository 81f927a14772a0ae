import { idTokenSchema } from '../text/text';
import { z } from 'zod';
import { ChannelCodeSchema, type ChannelCode } from '../message/session-id';
import { IdentityLinkKindSchema, type IdentityLinkKind } from '../message/envelope';
import type { MessageView } from './sessions';
import type { Reason } from '../routing/types';

/**
 * Customer facts (issue 11, docs/customer-facts.md): what routing's `valueScore` reads of a customer —
 * purchase spend, past satisfaction (CSAT) and contact frequency — and how they get in: an admin's
 * import, the app channel's `customer.attributes`, and the customers' own ratings after a chat.
 */

/** `POST /api/v1/customers/facts/import` takes bodies up to this size, like the KB import (DESIGN §6). */
export const FACTS_IMPORT_BODY_LIMIT = 20 * 1024 * 1024;
/** At most this many rows in one import; a bigger file is refused PAYLOAD_TOO_LARGE before any row is stored. */
export const FACTS_IMPORT_MAX_ROWS = 200_000;
/** At most this many row errors are listed in an import's answer (all are counted in `errorCount`). */
export const FACTS_IMPORT_ERRORS_LISTED = 100;
/** Spend above this is refused as a typo (units: the deployment's currency; `routing.value.spendCap` scales it). */
export const SPEND_MAX = 1e12;
/** Longest customer name an import keeps (cut by grapheme, like the app channel's). */
export const FACTS_NAME_MAX_LENGTH = 128;
/** Longest comment kept with a rating (characters); longer ones are refused VALIDATION_FAILED. */
export const CSAT_COMMENT_MAX_LENGTH = 500;

/** A purchase total: a finite number, 0..SPEND_MAX. */
export const SpendSchema = z.number().finite().min(0).max(SPEND_MAX);
/** A CSAT as imported or given by an app: 1 (very unhappy) .. 5 (very happy); a mean may have decimals. */
export const CsatValueSchema = z.number().finite().min(1).max(5);
/** A customer's own rating of one conversation: a whole number 1..5. */
export const CsatScoreSchema = z.number().int().min(1).max(5);
/** The optional comment with a rating: free text (sealed at rest), blank = none. */
export const CsatCommentSchema = z
  .string()
  .trim()
  .max(CSAT_COMMENT_MAX_LENGTH)
  .transform((v) => (v === '' ? undefined : v));

/** App ids as the channels store accepts them (ChannelStore.addAccount). */
const AppIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'an app id is 1 to 64 letters, digits, ".", "_" or "-"');

/**
 * One import row (JSON form; the CSV form has the same columns). The customer is identified by
 * `channel` + `externalId` — the id the channel knows them by: the app's own user id (`AP`, the
 * default; scoped by `app`, needed when the server has several app accounts), a WeChat openid (`WX`),
 * an XMPP JID (`XM`), a phone number (`SP`). Web visitors (`WB`) have no id a CRM knows, so they
 * cannot be imported. At least one of `spend` and `csat`. `name` names a customer the import creates
 * (an existing customer's name is left as their channel gave it). Unknown fields are refused.
 */
export const FactsImportRowSchema = z.strictObject({
  externalId: idTokenSchema(1, 256, { trim: true }),
  channel: ChannelCodeSchema.refine((c) => c !== 'WB', {
    message: 'web visitors cannot be imported (their ids are per browser)',
  }).optional(),
  app: AppIdSchema.optional(),
  spend: SpendSchema.optional(),
  csat: CsatValueSchema.optional(),
  name: z
    .string()
    .max(4 * FACTS_NAME_MAX_LENGTH)
    .optional(),
});
export type FactsImportRow = z.infer<typeof FactsImportRowSchema>;

/** One refused import row: its number (1 = the first data row; 0 = the whole body or the CSV header), the field, why. */
export interface FactsImportRowError {
  row: number;
  field: string;
  message: string;
}

/** What an import did: valid rows are stored, refused ones listed (the first 100) and counted. */
export interface FactsImportResult {
  /** Data rows read (blank CSV lines not counted). */
  received: number;
  /** Rows stored. */
  imported: number;
  /** Customers the import created (not seen on any channel yet: their facts wait for their first contact). */
  created: number;
  errors: FactsImportRowError[];
  errorCount: number;
}

/** Where one value fact came from: an admin's import (`import`), the app channel's attributes (`app`). */
export type StoredFactSource = 'import' | 'app';

/** Where each fact routing used came from. */
export interface ValueFactsSource {
  /** `import`/`app`: stored facts; `crm`: a plugged-in CRM adapter; `default`: nothing known (0). */
  spend: StoredFactSource | 'crm' | 'default';
  /** `ratings`: the mean of the customer's own ratings here; `import`/`app`/`crm` as above; `default`: none (neutral). */
  csat: StoredFactSource | 'ratings' | 'crm' | 'default';
  /** `history`: this store's sessions; `crm`: the CRM's count. */
  contacts30d: 'history' | 'crm';
}

/** `GET /api/v1/customers/:id/facts`: what routing reads of the customer now, and what it makes of it. */
export interface CustomerFactsView {
  customerId: string;
  /** The facts as the router reads them at this moment. */
  facts: { spend: number; csat: number | null; contacts30d: number; source: ValueFactsSource };
  /** The stored facts behind them (import / app attributes), each with when it was set. */
  stored: {
    spend: { value: number; source: StoredFactSource; at: string } | null;
    csat: { value: number; source: StoredFactSource; at: string } | null;
  };
  /** The customer's own ratings in the CSAT window (newest first, at most the window's count). */
  ratings: { count: number; mean: number | null; windowDays: number; maxRatings: number };
  /** `valueScore` under the current routing config, with its factors. */
  value: { score: number; configVersion: number; reasons: Reason[] };
}

/** `POST /api/v1/channels/app/csat` (header `X-Huiliu-Key`): the app's customer rates their closed conversation. */
export const AppCsatRequestSchema = z.object({
  externalId: idTokenSchema(1, 256, { trim: true }),
  sessionId: z.string().min(1).max(64),
  score: CsatScoreSchema,
  comment: CsatCommentSchema.optional(),
});
export type AppCsatRequest = z.infer<typeof AppCsatRequestSchema>;

/** A stored rating (its comment stays with the session, sealed). */
export interface CsatReceipt {
  sessionId: string;
  score: number;
  ratedAt: string;
}

/** The channels whose customers can be imported (every one but the web widget's visitors). */
export const IMPORTABLE_CHANNELS: readonly ChannelCode[] = ['AP', 'WX', 'XM', 'SP'];

// ── Continuity (issue 12): one person across channels ───────────────────────────────────────────

/** A merge of two customers as staff see it (ids and who/why/when; `by` is a staff id or `system`). */
export const CustomerMergeViewSchema = z.object({
  id: z.uuid(),
  survivorId: z.uuid(),
  mergedId: z.uuid(),
  by: z.string(),
  reason: z.string(),
  at: z.string(),
  undoneAt: z.string().nullable(),
  undoneBy: z.string().nullable(),
});
export type CustomerMergeView = z.infer<typeof CustomerMergeViewSchema>;

/**
 * `GET /api/v1/customers/:id/identities`: the person behind a customer id — the merge group's root
 * and members, each channel identity and verified link (values masked: phone numbers, e-mails and
 * ids that hold them show as `*`), and the merges that made the group.
 */
export interface CustomerIdentitiesView {
  customerId: string;
  /** The group's root: the id the person is shown under. */
  groupId: string;
  name: string;
  members: { id: string; name: string; channels: ChannelCode[] }[];
  identities: { customerId: string; channel: ChannelCode; externalId: string; createdAt: string }[];
  links: { customerId: string; kind: IdentityLinkKind; value: string; source: string; createdAt: string }[];
  merges: CustomerMergeView[];
}

/** `POST /api/v1/customers/merges`: join `mergedId`'s person into `survivorId`'s. */
export const MergeRequestSchema = z.strictObject({ survivorId: z.uuid(), mergedId: z.uuid() });
export type MergeRequest = z.infer<typeof MergeRequestSchema>;

/** `POST /api/v1/customers/:id/links`: a phone number or e-mail address the agent verified with the customer. */
export const LinkRequestSchema = z.strictObject({ kind: z.enum(['phone', 'email']), value: z.string().min(3).max(256) });
export type LinkRequest = z.infer<typeof LinkRequestSchema>;

/**
 * `GET /api/v1/customers/lookup?kind=&value=` (a verified link: phone, email, wechat-unionid) or
 * `?channel=&externalId=` (a channel identity as that channel knows it; app ids as `appId:userId`):
 * the customer, to merge with. NOT_FOUND when nobody (in the caller's skill groups) has it.
 */
export const CustomerLookupQuerySchema = z.union([
  z.strictObject({ kind: IdentityLinkKindSchema, value: z.string().min(1).max(256) }),
  z.strictObject({ channel: ChannelCodeSchema, externalId: idTokenSchema(1, 512) }),
]);
export interface CustomerLookupView {
  customerId: string;
  groupId: string;
  name: string;
  channels: ChannelCode[];
}

/** Timeline page size: default and most. */
export const TIMELINE_PAGE = 50;
export const TIMELINE_PAGE_MAX = 200;
export const TimelineQuerySchema = z.strictObject({
  before: z.uuid().optional(),
  limit: z.coerce.number().int().min(1).max(TIMELINE_PAGE_MAX).optional(),
});

/** `GET /api/v1/customers/:id/timeline`: the person's messages on every channel and conversation, newest first. */
export interface TimelineView {
  customerId: string;
  groupId: string;
  /** Newest first; each with its `channel` and `sessionId`. Page back with the last one's id as `before`. */
  messages: MessageView[];
  hasOlder: boolean;
}
