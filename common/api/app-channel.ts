import { z } from 'zod';
import { MAX_TEXT_LENGTH, normalizeLinkValue, type IdentityLink, type IdentityLinkKind } from '../message/envelope';
import { AppImageInputSchema, type AppImageInput } from './attachments';
import type { AuthorKind, QueueStanding } from '../ai/assist';
import { normalizeName, visibleTextSchema, type NameIssue, idTokenSchema } from '../text/text';
import { CsatValueSchema, SpendSchema } from './customers';

/** Longest customer name kept from the app channel (UTF-16 code units; longer ones are cut by grapheme). */
export const APP_NAME_MAX_LENGTH = 128;
/** Longest phone kept (characters as given); a phone is never cut, a longer one is dropped. */
export const APP_PHONE_MAX_LENGTH = 32;

/**
 * `POST /api/v1/channels/app/messages` body as received (DESIGN §6). Only `customer.externalId`,
 * `text`, `image` and `clientMessageId` can reject a message; the optional metadata is taken as any
 * JSON value here and cleaned by `cleanAppMessage`, which drops or normalises it and says so in
 * `warnings`. A message has `text`, an `image` (issue 10; its text becomes the image's caption), or both.
 */
export const AppMessageRequestSchema = z
  .object({
    customer: z.object({
      externalId: idTokenSchema(1, 256, { trim: true }),
      name: z.unknown().optional(),
      phone: z.unknown().optional(),
      /** What the app knows of the customer's value (issue 11): `{spend?, csat?}`; checked by `cleanAppMessage`. */
      attributes: z.unknown().optional(),
      /**
       * Identifiers the app verified for its signed-in user (issue 12): `{phone?, email?, wechatUnionId?}`.
       * They link the customer across channels (a WeChat customer who opens the app lands in the same
       * conversation); checked by `cleanAppMessage`.
       */
      verified: z.unknown().optional(),
    }),
    text: visibleTextSchema(MAX_TEXT_LENGTH).optional(),
    image: AppImageInputSchema.optional(),
    clientMessageId: idTokenSchema(1, 128, { trim: true }),
    hints: z.unknown().optional(),
  })
  .refine((m) => m.text !== undefined || m.image !== undefined, { path: ['text'], message: 'give text, an image, or both' });
export type AppMessageRequestRaw = z.infer<typeof AppMessageRequestSchema>;

/**
 * Customer attributes an app may send with a message (issue 11, docs/customer-facts.md): they update
 * the customer's value facts, which routing reads. `spend`: purchase total, ≥ 0 (the deployment's
 * currency); `csat`: satisfaction as the app measured it, 1..5.
 */
export interface AppCustomerAttributes {
  spend?: number;
  csat?: number;
}
/** The attribute names an app may send; any other is dropped with an `UNKNOWN_ATTRIBUTE` warning. */
export const APP_CUSTOMER_ATTRIBUTES = ['spend', 'csat'] as const;

/** `customer.verified` names → link kinds. */
const VERIFIED_KINDS: Record<string, IdentityLinkKind | undefined> = { phone: 'phone', email: 'email', wechatUnionId: 'wechat-unionid' };

/** The request after `cleanAppMessage`: every optional field present is valid. */
export interface AppMessageRequest {
  customer: { externalId: string; name?: string; phone?: string; attributes?: AppCustomerAttributes; verified?: IdentityLink[] };
  /** At least one of `text` and `image`. */
  text?: string;
  image?: AppImageInput;
  clientMessageId: string;
  hints?: { skillGroup?: string; lang?: string };
}

/**
 * Why a piece of optional metadata was not kept as sent: `NO_VISIBLE_TEXT` (blank or only invisible
 * characters; dropped), `INVALID` (wrong type or format; dropped), `NORMALISED` (bidi control
 * characters removed from a name; kept), `TRUNCATED` (too long; cut by grapheme and kept),
 * `UNKNOWN_SKILL_GROUP` (no such group; the default route is used), `UNKNOWN_ATTRIBUTE` (a customer
 * attribute the server does not use; dropped), `IMAGE_FETCH_FAILED` (issue 13: an `image.url` could not
 * be fetched or was no accepted image; the message was kept with "[image]" and the URL's host as its
 * text).
 */
export const AppMessageWarningCodeSchema = z.enum([
  'NO_VISIBLE_TEXT',
  'INVALID',
  'NORMALISED',
  'TRUNCATED',
  'UNKNOWN_SKILL_GROUP',
  'UNKNOWN_ATTRIBUTE',
  'IMAGE_FETCH_FAILED',
]);
export const AppMessageWarningSchema = z.object({
  /** Dotted path in the request body, e.g. `customer.phone`. */
  field: z.string(),
  code: AppMessageWarningCodeSchema,
  message: z.string(),
});
export type AppMessageWarning = z.infer<typeof AppMessageWarningSchema>;

// Digits with the usual separators; 3..20 digits (E.164 has at most 15, local extensions add a few).
const PHONE_RE = /^\+?[\d\s().-]+$/;
const isPhone = (v: string) => PHONE_RE.test(v) && /^\d{3,20}$/.test(v.replace(/\D/g, '')) && v.length <= APP_PHONE_MAX_LENGTH;
const SKILL_GROUP_RE = /^[A-Za-z0-9][\w.-]{0,63}$/;

function canonicalLang(v: string): string | null {
  if (v.length < 2 || v.length > 16) return null;
  try {
    return Intl.getCanonicalLocales(v)[0] ?? null;
  } catch {
    return null;
  }
}

/**
 * Cleans the optional metadata of a parsed app-channel request (C11): a blank, invisible,
 * mistyped or malformed `customer.name`, `customer.phone`, `hints.skillGroup` or `hints.lang` is
 * dropped, so is a `customer.attributes` value out of range or of an unknown name (issue 11); bidi
 * control characters are removed from a name (`NORMALISED`), a too-long name is cut by grapheme to
 * `APP_NAME_MAX_LENGTH`; each change is one warning.
 * `knownSkillGroup` decides whether a hinted group exists (unknown ones are dropped too).
 * Never throws.
 */
export function cleanAppMessage(
  raw: AppMessageRequestRaw,
  knownSkillGroup: (id: string) => boolean,
): { request: AppMessageRequest; warnings: AppMessageWarning[] } {
  const warnings: AppMessageWarning[] = [];
  const warn = (field: string, code: AppMessageWarning['code'], message: string) => warnings.push({ field, code, message });
  const customer: AppMessageRequest['customer'] = { externalId: raw.customer.externalId };

  const name = normalizeName(raw.customer.name, APP_NAME_MAX_LENGTH);
  if (name.value !== undefined) customer.name = name.value;
  const NAME_WARNINGS: Record<NameIssue, [AppMessageWarning['code'], string]> = {
    NO_VISIBLE_TEXT: ['NO_VISIBLE_TEXT', 'The name has no visible character; it was ignored.'],
    NOT_A_STRING: ['INVALID', 'The name is not a string; it was ignored.'],
    NORMALISED: ['NORMALISED', 'Bidirectional control characters were removed from the name.'],
    TRUNCATED: ['TRUNCATED', `The name was cut to ${APP_NAME_MAX_LENGTH} characters.`],
  };
  for (const issue of name.issues) warn('customer.name', ...NAME_WARNINGS[issue]);

  const phone = raw.customer.phone;
  if (typeof phone === 'string' && isPhone(phone.trim())) customer.phone = phone.trim();
  else if (typeof phone === 'string' && phone.trim() === '')
    warn('customer.phone', 'NO_VISIBLE_TEXT', 'The phone is blank; it was ignored.');
  else if (phone !== undefined) warn('customer.phone', 'INVALID', 'The phone is not a phone number (3 to 20 digits); it was ignored.');

  const rawAttributes = raw.customer.attributes;
  if (rawAttributes !== undefined && rawAttributes !== null && (typeof rawAttributes !== 'object' || Array.isArray(rawAttributes))) {
    warn('customer.attributes', 'INVALID', 'customer.attributes is not an object; it was ignored.');
  } else if (rawAttributes) {
    const attributes: AppCustomerAttributes = {};
    for (const [key, value] of Object.entries(rawAttributes)) {
      const field = `customer.attributes.${key}`;
      if (key === 'spend') {
        if (SpendSchema.safeParse(value).success) attributes.spend = value as number;
        else warn(field, 'INVALID', 'spend is not a number from 0 to 1e12; it was ignored.');
      } else if (key === 'csat') {
        if (CsatValueSchema.safeParse(value).success) attributes.csat = value as number;
        else warn(field, 'INVALID', 'csat is not a number from 1 to 5; it was ignored.');
      } else warn(field, 'UNKNOWN_ATTRIBUTE', `Not an attribute this server uses (${APP_CUSTOMER_ATTRIBUTES.join(', ')}); it was ignored.`);
    }
    if (attributes.spend !== undefined || attributes.csat !== undefined) customer.attributes = attributes;
  }

  const rawVerified = raw.customer.verified;
  if (rawVerified !== undefined && rawVerified !== null && (typeof rawVerified !== 'object' || Array.isArray(rawVerified))) {
    warn('customer.verified', 'INVALID', 'customer.verified is not an object; it was ignored.');
  } else if (rawVerified) {
    const links: IdentityLink[] = [];
    for (const [key, value] of Object.entries(rawVerified)) {
      const field = `customer.verified.${key}`;
      const kind = VERIFIED_KINDS[key];
      if (!kind) {
        warn(
          field,
          'UNKNOWN_ATTRIBUTE',
          `Not an identifier this server links on (${Object.keys(VERIFIED_KINDS).join(', ')}); it was ignored.`,
        );
        continue;
      }
      const normal = typeof value === 'string' ? normalizeLinkValue(kind, value) : null;
      if (normal === null) warn(field, 'INVALID', `${key} is not a valid ${kind}; it was ignored.`);
      else links.push({ kind, value: normal });
    }
    if (links.length > 0) customer.verified = links;
  }

  const hints: NonNullable<AppMessageRequest['hints']> = {};
  const rawHints = raw.hints;
  if (rawHints !== undefined && rawHints !== null && (typeof rawHints !== 'object' || Array.isArray(rawHints))) {
    warn('hints', 'INVALID', 'hints is not an object; it was ignored.');
  } else if (rawHints) {
    const { skillGroup, lang } = rawHints as { skillGroup?: unknown; lang?: unknown };
    if (typeof skillGroup === 'string' && SKILL_GROUP_RE.test(skillGroup) && knownSkillGroup(skillGroup)) hints.skillGroup = skillGroup;
    else if (typeof skillGroup === 'string' && SKILL_GROUP_RE.test(skillGroup)) {
      warn('hints.skillGroup', 'UNKNOWN_SKILL_GROUP', 'No such skill group; the default route was used.');
    } else if (skillGroup !== undefined) warn('hints.skillGroup', 'INVALID', 'hints.skillGroup is not a skill group id; it was ignored.');
    const tag = typeof lang === 'string' ? canonicalLang(lang.trim()) : null;
    if (tag) hints.lang = tag;
    else if (lang !== undefined) warn('hints.lang', 'INVALID', 'hints.lang is not a BCP 47 language tag; it was ignored.');
  }

  const request: AppMessageRequest = {
    customer,
    ...(raw.text !== undefined ? { text: raw.text } : {}),
    ...(raw.image !== undefined ? { image: raw.image } : {}),
    clientMessageId: raw.clientMessageId,
  };
  if (hints.skillGroup !== undefined || hints.lang !== undefined) request.hints = hints;
  return { request, warnings };
}

export const AppMessageResponseSchema = z.object({
  sessionId: z.string(),
  conversationId: z.string(),
  messageId: z.string(),
  seq: z.number().int(),
  /** The stored image's id, when the message carried one (issue 10). */
  attachmentId: z.string().optional(),
  /** Optional metadata that was dropped or normalised; the message itself was kept. Empty when none. */
  warnings: z.array(AppMessageWarningSchema),
});
export type AppMessageResponse = z.infer<typeof AppMessageResponseSchema>;

/** `GET /api/v1/channels/app/messages` query: the app polls its customer's conversation. */
export const AppMessagesQuerySchema = z.strictObject({
  externalId: idTokenSchema(1, 256, { trim: true }),
  /** The conversation `afterSeq` counts in; when the customer's latest conversation differs, all of it is returned. */
  conversationId: z.uuid().optional(),
  afterSeq: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(200).default(100),
});
export type AppMessagesQuery = z.infer<typeof AppMessagesQuerySchema>;

export interface AppMessageView {
  id: string;
  seq: number;
  direction: 'in' | 'out';
  /** Who wrote it (DESIGN §4): apps mark `ai` messages as the AI's and `system` ones as notices. */
  author: AuthorKind;
  kind: string;
  text: string;
  clientMessageId: string;
  /** Server time the message was received: the time of record, what apps should show and sort by. */
  receivedAt: string;
  /** The sender's own clock (metadata only; may be wrong). */
  sentAt: string;
}

export interface AppMessagesResponse {
  sessionId: string | null;
  conversationId: string | null;
  /** `bot`: the AI tier is answering; `queued`/`offered`: waiting for a person. */
  status: 'bot' | 'queued' | 'offered' | 'active' | 'closed' | null;
  messages: AppMessageView[];
  /**
   * While the customer waits for a person (`queued`/`offered`): their place in the skill group's queue
   * and the estimated wait, as of this poll (issue 11); null otherwise. Poll again to see it move.
   */
  standing: QueueStanding | null;
  /**
   * For a `closed` conversation: whether the customer may still rate it (`POST …/app/csat`), or the
   * score they gave; null while it is open.
   */
  csat: { rateable: true } | { rateable: false; score: number } | null;
}

/**
 * `POST /api/v1/channels/app/handover` (issue 10): the app's "talk to a person" — the customer's
 * open conversation leaves the AI for its skill group's human queue now. Answers where they stand.
 */
export const AppHandoverRequestSchema = z.object({ customer: z.object({ externalId: idTokenSchema(1, 256, { trim: true }) }) });
export type AppHandoverRequest = z.infer<typeof AppHandoverRequestSchema>;

export interface AppHandoverResponse {
  sessionId: string;
  status: 'bot' | 'queued' | 'offered' | 'active' | 'closed';
  /** Where the customer stands; null once a person has the conversation. */
  standing: QueueStanding | null;
}

// ---------------------------------------------------------------------------------------------
// Issue 13: app accounts and their keys, managed by admins (policy `channel.manage`).
// Routes: docs/channels/app.md §4 "Admin: apps and keys".

/** An app id: letters, digits, `.`, `_`, `-`; at most 64 (it scopes the app's customer ids). */
export const AppIdSchema = z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, ".", "_" or "-", at most 64');

/**
 * Where an app or key comes from: `config` (HUILIU_CONFIG `channels.accounts`, re-applied at every
 * start, so read-only here) or `admin` (created in the workstation or by these routes).
 */
export const AppSourceSchema = z.enum(['config', 'admin']);
export type AppSource = z.infer<typeof AppSourceSchema>;

/** One key of an app as admins see it: never the key, only its last 4 characters. Times ISO 8601. */
export const AppKeyViewSchema = z.object({
  id: z.string(),
  /** The key's last 4 characters (null for a config key stored before hints existed). */
  hint: z.string().nullable(),
  /** What the admin called the key when issuing it; null: none (config keys never have one). */
  label: z.string().nullable(),
  source: AppSourceSchema,
  createdAt: z.string(),
  /** When a request last used it, to the minute; null: never. */
  lastUsedAt: z.string().nullable(),
  /** When it was revoked; null: active. */
  revokedAt: z.string().nullable(),
});
export type AppKeyView = z.infer<typeof AppKeyViewSchema>;

export const AppAccountViewSchema = z.object({
  appId: AppIdSchema,
  name: z.string(),
  skillGroup: z.string().nullable(),
  webhookUrl: z.string().nullable(),
  source: AppSourceSchema,
  keys: z.array(AppKeyViewSchema),
  /** Webhook deliveries of this app dead-lettered now (waiting for a redelivery). */
  deadLetters: z.number().int().min(0),
  createdAt: z.string(),
});
export type AppAccountView = z.infer<typeof AppAccountViewSchema>;

/** `GET /api/v1/channels/app/accounts` → 200. */
export const AppAccountsResponseSchema = z.object({ apps: z.array(AppAccountViewSchema) });
export type AppAccountsResponse = z.infer<typeof AppAccountsResponseSchema>;

const AppNameSchema = z.string().trim().min(1).max(100);
const SkillGroupIdSchema = z.string().regex(SKILL_GROUP_RE, 'a skill group id');
/** A webhook URL: the server checks it with the same rules as the config (https; http to loopback only). */
const WebhookUrlInputSchema = z.string().min(1).max(1024);

/** `POST /api/v1/channels/app/accounts` body. */
export const CreateAppAccountRequestSchema = z.strictObject({
  accountId: AppIdSchema,
  name: AppNameSchema,
  skillGroup: SkillGroupIdSchema.nullable().optional(),
  webhookUrl: WebhookUrlInputSchema.optional(),
});
export type CreateAppAccountRequest = z.infer<typeof CreateAppAccountRequestSchema>;

/**
 * `POST /api/v1/channels/app/accounts` → 201; `PATCH …/:appId` → 200. `webhookSecret`: only when
 * one was generated by this call (a webhook URL given to an app without a secret), shown this once.
 */
export const AppAccountResponseSchema = z.object({ app: AppAccountViewSchema, webhookSecret: z.string().optional() });
export type AppAccountResponse = z.infer<typeof AppAccountResponseSchema>;

/** `PATCH /api/v1/channels/app/accounts/:appId` body: fields to change; `null` clears a group or the webhook. */
export const UpdateAppAccountRequestSchema = z
  .strictObject({
    name: AppNameSchema.optional(),
    skillGroup: SkillGroupIdSchema.nullable().optional(),
    webhookUrl: WebhookUrlInputSchema.nullable().optional(),
  })
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field to change' });
export type UpdateAppAccountRequest = z.infer<typeof UpdateAppAccountRequestSchema>;

/** `POST /api/v1/channels/app/accounts/:appId/keys` body (optional). */
export const IssueAppKeyRequestSchema = z.strictObject({ label: z.string().trim().min(1).max(64).optional() });
export type IssueAppKeyRequest = z.infer<typeof IssueAppKeyRequestSchema>;

/** `POST /api/v1/channels/app/accounts/:appId/keys` → 201: `key` is the secret, shown this once (`hlk_…`). */
export const IssueAppKeyResponseSchema = z.object({ key: z.string(), view: AppKeyViewSchema });
export type IssueAppKeyResponse = z.infer<typeof IssueAppKeyResponseSchema>;

/** `POST /api/v1/channels/app/accounts/:appId/keys/:keyId/revoke` → 200. */
export const RevokeAppKeyResponseSchema = z.object({ view: AppKeyViewSchema });
export type RevokeAppKeyResponse = z.infer<typeof RevokeAppKeyResponseSchema>;

/** `POST /api/v1/channels/app/accounts/:appId/webhook-secret` → 200: the new secret, shown this once. */
export const RotateWebhookSecretResponseSchema = z.object({ webhookSecret: z.string() });
export type RotateWebhookSecretResponse = z.infer<typeof RotateWebhookSecretResponseSchema>;

/** A dead-lettered webhook delivery (`GET /api/v1/channels/app/webhooks/dead-letters`): ids, counts, the last error. */
export const DeadLetterViewSchema = z.object({
  id: z.string(),
  messageId: z.string(),
  appId: z.string(),
  sessionId: z.string(),
  status: z.enum(['pending', 'delivered', 'dead']),
  reason: z.enum(['exhausted', 'refused']).nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type DeadLetterViewDto = z.infer<typeof DeadLetterViewSchema>;
