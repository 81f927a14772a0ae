import { z } from 'zod';
import { ChannelCodeSchema } from '../message/session-id';

/**
 * SLA policies (issue 16, docs/sla.md): per skill group and channel, a first-response and a
 * next-response target in seconds of business time, the business hours of each weekday and the
 * holidays, in an IANA time zone. `GET|PUT /api/v1/sla/policies` (admins change them; each change is
 * a new version, like the routing config).
 */

/** Longest target (seconds): 30 days. */
export const SLA_MAX_TARGET_SECONDS = 30 * 86_400;
/** Most policies one set may hold. */
export const SLA_MAX_POLICIES = 200;

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;
/** Minutes since local midnight of `HH:MM` (`24:00` = 1440). */
export const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Whether `tz` is an IANA time zone this runtime knows (Intl). */
export function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** One span of business time in a local day: `start` ≤ t < `end`, `HH:MM` (`end` may be `24:00`). */
export const BusinessSpanSchema = z
  .strictObject({ start: z.string().regex(HHMM, 'HH:MM'), end: z.string().regex(HHMM, 'HH:MM') })
  .refine((s) => minutesOf(s.start) < minutesOf(s.end), { message: 'start must be before end', path: ['end'] });
export type BusinessSpan = z.infer<typeof BusinessSpanSchema>;

const day = z.array(BusinessSpanSchema).max(8);

/** When the SLA clock runs: spans per weekday (a missing or empty day is closed) and holidays (local dates, closed all day). */
export const BusinessCalendarSchema = z.strictObject({
  // Stored in its canonical spelling (`asia/shanghai` → `Asia/Shanghai`), as Intl resolves it.
  timeZone: z
    .string()
    .min(1)
    .max(64)
    .refine(isTimeZone, 'an IANA time zone, e.g. Asia/Shanghai')
    .transform((tz) => new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone),
  hours: z.strictObject({ sun: day, mon: day, tue: day, wed: day, thu: day, fri: day, sat: day }).partial(),
  holidays: z.array(z.iso.date()).max(400).default([]),
});
export type BusinessCalendar = z.infer<typeof BusinessCalendarSchema>;

/**
 * One policy. `skillGroup` / `channel` `*` match any; the most specific policy of a contact wins
 * (group and channel, then group, then channel, then `*`/`*`). Targets in business seconds.
 */
export const SlaPolicySchema = z.strictObject({
  skillGroup: z.string().min(1).max(64),
  channel: z.union([ChannelCodeSchema, z.literal('*')]),
  firstResponseSeconds: z.number().int().min(1).max(SLA_MAX_TARGET_SECONDS),
  nextResponseSeconds: z.number().int().min(1).max(SLA_MAX_TARGET_SECONDS),
  calendar: BusinessCalendarSchema,
});
export type SlaPolicy = z.infer<typeof SlaPolicySchema>;

/** A whole set of policies (what `PUT` publishes); one policy per (skillGroup, channel). */
export const SlaPolicySetSchema = z.strictObject({ policies: z.array(SlaPolicySchema).max(SLA_MAX_POLICIES) }).superRefine((set, ctx) => {
  const seen = new Set<string>();
  set.policies.forEach((p, i) => {
    const key = `${p.skillGroup}\u0000${p.channel}`;
    if (seen.has(key))
      ctx.addIssue({ code: 'custom', path: ['policies', i], message: 'a second policy for the same skill group and channel' });
    seen.add(key);
  });
});
export type SlaPolicySet = z.infer<typeof SlaPolicySetSchema>;

/** The policies when HUILIU_CONFIG names none: every group and channel, always open (UTC), 60 s first, 120 s next. */
export const DEFAULT_SLA_POLICIES: SlaPolicySet = {
  policies: [
    {
      skillGroup: '*',
      channel: '*',
      firstResponseSeconds: 60,
      nextResponseSeconds: 120,
      calendar: {
        timeZone: 'UTC',
        hours: Object.fromEntries(WEEKDAYS.map((d) => [d, [{ start: '00:00', end: '24:00' }]])) as BusinessCalendar['hours'],
        holidays: [],
      },
    },
  ],
};

/** `PUT /api/v1/sla/policies` body. */
export const PublishSlaPoliciesSchema = z.strictObject({
  policies: z.array(z.unknown()).max(SLA_MAX_POLICIES),
  comment: z.string().trim().max(500).optional(),
});

/** One published version of the policies as the API shows it. */
export interface SlaPoliciesView {
  version: number;
  policies: SlaPolicy[];
  publishedBy: string;
  publishedAt: string;
  comment: string | null;
}

/** Which response the SLA clock is timing: the first agent reply after the contact queued, or the reply to a later customer message. */
export const SlaKindSchema = z.enum(['first', 'next']);
export type SlaKind = z.infer<typeof SlaKindSchema>;

/**
 * The SLA of a waiting response as the queue row shows it: the wall-clock time it is due (business
 * time already accounted for; null when the calendar has no business time ahead), and whether it is
 * already breached.
 */
export const SlaStatusSchema = z.object({
  kind: SlaKindSchema,
  dueAt: z.iso.datetime({ offset: true }).nullable(),
  breached: z.boolean(),
});
export type SlaStatus = z.infer<typeof SlaStatusSchema>;
