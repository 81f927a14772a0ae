import { z } from 'zod';
import { ChannelCodeSchema } from '../message/session-id';
import { TierSchema } from '../routing/types';

/**
 * `GET /api/v1/metrics/kpis?from=&to=&skillGroup=&agent=&channel=&tier=&bucket=` (issue 16, DESIGN §6)
 * and `GET /api/v1/metrics/kpis.csv` (the same numbers as CSV): the contact-centre KPIs over a time
 * range, computed from the KPI event log (server/src/kpis/). Formulas: docs/kpis.md. Numbers only —
 * no customer content. Every rate is a share 0..1 and every mean is in seconds or score points; a KPI
 * whose denominator is 0 in the range is `null` (never NaN, never a made-up 0).
 */

/** Longest range one request may cover (days). */
export const KPI_MAX_RANGE_DAYS = 366;
/** Most buckets one `series` may have (e.g. 24 × 31 hours). */
export const KPI_MAX_BUCKETS = 800;

export const KpiQuerySchema = z.strictObject({
  /** ISO 8601; default: 24 hours before `to`. Facts at or after it count. */
  from: z.iso.datetime({ offset: true }).optional(),
  /** ISO 8601; default: now. Facts before it count. */
  to: z.iso.datetime({ offset: true }).optional(),
  /** One skill group (it must be in the caller's scope); default: every group the caller may see. */
  skillGroup: z.string().min(1).max(64).optional(),
  /** One agent (staff user id): the contacts they handled and their own time. */
  agent: z.string().min(1).max(64).optional(),
  channel: ChannelCodeSchema.optional(),
  /** The routing tier of the contact (its first routing decision). */
  tier: TierSchema.optional(),
  /** With a bucket, `series` holds the KPIs per hour or per day (UTC) of the range. */
  bucket: z.enum(['hour', 'day']).optional(),
});
export type KpiQuery = z.infer<typeof KpiQuerySchema>;

const share = z.number().min(0).max(1).nullable();
const count = z.number().int().min(0);
const seconds = z.number().min(0).nullable();

export const KpisSchema = z.object({
  /** Survey on close, 1..5. `mean` score, `satisfied` = share of 4–5, `responseRate` = answered / asked. */
  csat: z.object({ mean: z.number().min(1).max(5).nullable(), satisfied: share, responseRate: share, asked: count, answered: count }),
  /** First contact resolution: resolved on the first contact and no repeat within 7 days / handled contacts. */
  fcr: z.object({
    rate: share,
    resolvedFirstTime: count,
    handled: count,
    /** Of `handled`, contacts whose 7-day window is not over yet (judged on what happened so far). */
    pending: count,
  }),
  /** Average handle time: (talk from first answer to close + after-call work) per handled contact. */
  aht: z.object({ seconds, talkSeconds: seconds, wrapUpSeconds: seconds, handled: count }),
  /** Average speed of answer: mean queue wait of the contacts answered (first answer only). */
  asa: z.object({ seconds, answered: count }),
  /** Answered within the threshold / (answered + abandoned after the threshold). */
  serviceLevel: z.object({
    rate: share,
    /** The goal the rate is held against (default 0.8). */
    target: z.number().min(0).max(1),
    answeredWithin: count,
    answered: count,
    abandonedAfter: count,
    /** Seconds: `voice` (channel SP) and `chat` (every other channel). */
    thresholds: z.object({ voice: z.number().positive(), chat: z.number().positive() }),
  }),
  /** Abandoned / (answered + abandoned) of contacts that waited in a human queue. */
  abandonment: z.object({ rate: share, abandoned: count, queued: count }),
  /** Handling (with a contact or in after-call work) / (handling + available and idle) staffed time. */
  occupancy: z.object({ rate: share, handlingSeconds: z.number().min(0), availableSeconds: z.number().min(0) }),
  /** AI-tier contacts closed without a hand-over / AI-tier contacts. */
  aiContainment: z.object({ rate: share, contained: count, aiContacts: count }),
  /** AI-tier contacts handed over to a person / AI-tier contacts. */
  handoverRate: z.object({ rate: share, handedOver: count, aiContacts: count }),
  /** SLA policy breaches (docs/sla.md) that ran out in the range: first response and next response. */
  slaBreaches: z.object({ total: count, first: count, next: count }),
});
export type Kpis = z.infer<typeof KpisSchema>;

export const KpiReportSchema = z.object({
  from: z.iso.datetime({ offset: true }),
  to: z.iso.datetime({ offset: true }),
  /** The groups counted; null = every group (admins, auditors). */
  skillGroups: z.array(z.string()).nullable(),
  filters: z.object({ agent: z.string().nullable(), channel: ChannelCodeSchema.nullable(), tier: TierSchema.nullable() }),
  kpis: KpisSchema,
  /** Present when `bucket` was asked: one point per bucket, oldest first. */
  series: z
    .object({
      bucket: z.enum(['hour', 'day']),
      points: z.array(z.object({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }), kpis: KpisSchema })),
    })
    .optional(),
});
export type KpiReport = z.infer<typeof KpiReportSchema>;
