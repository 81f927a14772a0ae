import { z } from 'zod';

export const TierSchema = z.enum(['expert', 'assisted', 'ai']);
export type Tier = z.infer<typeof TierSchema>;

const Score = z.number().min(0).max(100);

/** An agent's proficiency in a skill group: 1 (learning) … 5 (expert). */
export const ProficiencySchema = z.number().int().min(1).max(5);

/** How the router counts an agent's load per channel kind (DESIGN §5 capacity). */
export const ChannelKindSchema = z.enum(['chat', 'voice']);
export type ChannelKind = z.infer<typeof ChannelKindSchema>;

export const CapacitySchema = z.object({
  /** Chats (web, app, WeChat, XMPP) an agent holds at once. */
  chat: z.number().int().min(1).max(20),
  /** Voice calls an agent holds at once (0: this deployment takes no calls). */
  voice: z.number().int().min(0).max(1),
  /**
   * The mixed-load rule: while on a call an agent is offered no chat beyond this many open chats,
   * and a call is offered only to an agent holding at most this many chats (0: a call is exclusive).
   */
  chatsDuringVoice: z.number().int().min(0).max(20),
});
export type Capacity = z.infer<typeof CapacitySchema>;

/**
 * One widening ring (like a bullseye ring, but able to add skill groups, not only relax): from
 * `afterSeconds` of waiting on, agents with at least `minProficiency` in the contact's skill group may
 * take it, and agents of `addSkillGroups` (plus the group's `fallback` when `addFallback`) too.
 */
export const WideningRingSchema = z.object({
  afterSeconds: z.number().int().min(0).max(86_400),
  minProficiency: ProficiencySchema,
  addSkillGroups: z.array(z.string().min(1)).max(50).default([]),
  addFallback: z.boolean().default(false),
});
export type WideningRing = z.infer<typeof WideningRingSchema>;

const Rings = z
  .array(WideningRingSchema)
  .min(1)
  .max(10)
  .refine((rings) => rings.length === 0 || rings[0]!.afterSeconds === 0, { message: 'the first ring starts at afterSeconds 0' })
  .refine((rings) => rings.every((r, i) => i === 0 || r.afterSeconds > rings[i - 1]!.afterSeconds), {
    message: 'rings must be in increasing afterSeconds order',
  });

export const SkillGroupRoutingSchema = z.object({
  /** The skill group a ring with `addFallback` widens to (another group's id), or null. */
  fallback: z.string().min(1).nullable().default(null),
  /** Agents' proficiency in this group, by username; members without an entry have `defaultProficiency`. */
  proficiency: z.record(z.string().min(1), ProficiencySchema).default({}),
});
export type SkillGroupRouting = z.infer<typeof SkillGroupRoutingSchema>;

const DEFAULT_CAPACITY: Capacity = { chat: 3, voice: 1, chatsDuringVoice: 0 };
const DEFAULT_WIDENING = {
  expert: [
    { afterSeconds: 0, minProficiency: 4, addSkillGroups: [], addFallback: false },
    { afterSeconds: 30, minProficiency: 1, addSkillGroups: [], addFallback: false },
    { afterSeconds: 120, minProficiency: 1, addSkillGroups: [], addFallback: true },
  ],
  assisted: [
    { afterSeconds: 0, minProficiency: 1, addSkillGroups: [], addFallback: false },
    { afterSeconds: 120, minProficiency: 1, addSkillGroups: [], addFallback: true },
  ],
  ai: [
    { afterSeconds: 0, minProficiency: 1, addSkillGroups: [], addFallback: false },
    { afterSeconds: 120, minProficiency: 1, addSkillGroups: [], addFallback: true },
  ],
} satisfies Record<Tier, WideningRing[]>;

/**
 * Admin-tunable routing configuration (DESIGN §5); every change is a new `version`.
 *
 * Version 2 of the shape (issue 11) adds capacity per channel kind, proficiency, after-call work,
 * aging, widening rings and the service-level threshold. Every added field has a default, and a
 * stored first-shape config (`chatCapacity`) is read as `capacity.chat`, so old versions still load
 * and can be rolled back to.
 */
const RoutingConfigShape = z.object({
  version: z.number().int().min(1),
  weights: z.object({ value: z.number().min(0).max(1), difficulty: z.number().min(0).max(1) }),
  thresholds: z.object({ expert: Score, assisted: Score }),
  value: z.object({
    /** Spend at which the spend factor saturates (log scale), in the account's currency. */
    spendCap: z.number().positive().max(1e12),
    /** Contacts per 30 days at which the frequency factor saturates. */
    frequencyCap: z.number().int().positive().max(10_000),
    /** Relative weights (normalized by their sum), each 0..100: bounded so the sum stays finite. */
    factorWeights: z.object({
      spend: z.number().min(0).max(100),
      satisfaction: z.number().min(0).max(100),
      frequency: z.number().min(0).max(100),
    }),
  }),
  offerTimeoutMs: z.number().int().min(1000).max(600_000),
  /** An agent gone (app closed, network lost) this long gets their open chats taken back to the queue. */
  reassignAfterMs: z.number().int().min(10_000).max(3_600_000),
  capacity: CapacitySchema.default(DEFAULT_CAPACITY),
  /**
   * After-call work (wrap-up): after closing a call, or their last open chat, an agent is in
   * `after-call-work` this many seconds (no offers) before they are available again; 0: none.
   */
  afterCallWorkSeconds: z
    .object({ chat: z.number().int().min(0).max(3600), voice: z.number().int().min(0).max(3600) })
    .default({ chat: 0, voice: 30 }),
  /**
   * Waiting-time aging (anti-starvation): the queue is ordered by
   * `priority + min(maxBoost, minutes waited × pointsPerMinute)`, then first come first served.
   */
  aging: z
    .object({ pointsPerMinute: z.number().min(0).max(100), maxBoost: z.number().min(0).max(100) })
    .default({ pointsPerMinute: 2, maxBoost: 100 }),
  /** Proficiency of a skill-group member with no entry in `skillGroups[group].proficiency`. */
  defaultProficiency: ProficiencySchema.default(3),
  /** Per skill group: fallback and members' proficiency. Users flagged `expert` count as 5. */
  skillGroups: z.record(z.string().min(1), SkillGroupRoutingSchema).default({}),
  /** Widening rings by tier (`ai` applies to contacts the AI tier handed over, or could not take). */
  widening: z.object({ expert: Rings, assisted: Rings, ai: Rings }).default(DEFAULT_WIDENING),
  /** Service level: the share of contacts answered within `thresholdSeconds` (KPIs, what-if). */
  serviceLevel: z
    .object({ thresholdSeconds: z.number().int().min(1).max(3600), target: z.number().min(0).max(1) })
    .default({ thresholdSeconds: 20, target: 0.8 }),
});

export const RoutingConfigSchema = z
  .preprocess((input) => {
    // First shape: `chatCapacity` at the top level.
    if (input && typeof input === 'object' && !Array.isArray(input) && 'chatCapacity' in input && !('capacity' in input)) {
      const { chatCapacity, ...rest } = input as Record<string, unknown>;
      return { ...rest, capacity: { ...DEFAULT_CAPACITY, chat: chatCapacity } };
    }
    return input;
  }, RoutingConfigShape)
  .refine((c) => Math.abs(c.weights.value + c.weights.difficulty - 1) < 1e-9, {
    message: 'weights.value + weights.difficulty must be 1',
    path: ['weights'],
  })
  .refine((c) => c.thresholds.expert > c.thresholds.assisted, {
    message: 'thresholds.expert must be above thresholds.assisted',
    path: ['thresholds'],
  })
  .superRefine((c, ctx) => {
    for (const [id, g] of Object.entries(c.skillGroups))
      if (g.fallback === id)
        ctx.addIssue({ code: 'custom', message: 'a skill group cannot fall back to itself', path: ['skillGroups', id, 'fallback'] });
  });
export type RoutingConfig = z.infer<typeof RoutingConfigSchema>;
/** What an admin sends: every field added by version 2 of the shape may be left out (defaults). */
export type RoutingConfigInput = z.input<typeof RoutingConfigShape>;

export const DEFAULT_ROUTING_CONFIG: RoutingConfig = {
  version: 1,
  weights: { value: 0.6, difficulty: 0.4 },
  thresholds: { expert: 80, assisted: 50 },
  value: {
    spendCap: 100_000,
    frequencyCap: 10,
    factorWeights: { spend: 0.5, satisfaction: 0.3, frequency: 0.2 },
  },
  offerTimeoutMs: 20_000,
  reassignAfterMs: 120_000,
  capacity: DEFAULT_CAPACITY,
  afterCallWorkSeconds: { chat: 0, voice: 30 },
  aging: { pointsPerMinute: 2, maxBoost: 100 },
  defaultProficiency: 3,
  skillGroups: {},
  widening: DEFAULT_WIDENING,
  serviceLevel: { thresholdSeconds: 20, target: 0.8 },
};

/**
 * One translatable phrase of a routing explanation (issue 15): a stable `code` (kebab-case, listed in
 * docs/routing.md; the renderer reads `routing:reasons.<code>`) and its `params`. Params are numbers
 * (counts, scores, proficiencies; durations in milliseconds under keys ending `Ms`) or stable
 * identifiers (a tier, a presence, an emotion label, skill-group ids, a model id) — never free text a
 * person typed. The English `note`/`reasons` text next to it stays for logs and older clients.
 */
export const ReasonTextSchema = z.object({
  code: z.string().regex(/^[a-z][a-z0-9-]*$/),
  params: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
});
export type ReasonText = z.infer<typeof ReasonTextSchema>;

export const ReasonSchema = z.object({
  factor: z.string(),
  /** The factor's normalized value, 0..1, where that applies. */
  value: z.number().optional(),
  /** Points it contributed to its score. */
  points: z.number().optional(),
  /** English, for logs and older clients; `code`/`params` say the same for translation. */
  note: z.string(),
  // Additive (issue 15): older stored decisions and the language core's own factors lack them.
  /** `note` as a stable code (`routing:reasons.<code>`). */
  code: z
    .string()
    .regex(/^[a-z][a-z0-9-]*$/)
    .optional(),
  /** `note`'s numbers and identifiers (see `ReasonTextSchema`). */
  params: z.record(z.string(), z.union([z.number(), z.string()])).optional(),
});
export type Reason = z.infer<typeof ReasonSchema>;

/**
 * Why a candidate was or was not chosen, as a stable code (DESIGN §5 `candidates`):
 * - `chosen`: offered the contact;
 * - `not-in-skill-group`: not a member of the contact's group, nor of a group the current ring adds;
 * - `presence`: busy, away or in after-call work (the note says which);
 * - `at-capacity`: holds as many contacts of this kind as capacity allows;
 * - `mixed-load`: the mixed-load rule (on a call, or too many chats for a call);
 * - `declined-recently`: declined or let an offer of this contact lapse within one offer time-out;
 * - `below-ring-proficiency`: proficiency under the current widening ring's minimum;
 * - `lower-proficiency`: qualified, but another agent had a higher proficiency;
 * - `shorter-idle`: as proficient, but another agent had been idle longer;
 * - `lost-race`: another server's offer took the agent's last slot first;
 * - `transfer-source`: the agent transferring the contact away.
 */
export const CandidateCodeSchema = z.enum([
  'chosen',
  'not-in-skill-group',
  'presence',
  'at-capacity',
  'mixed-load',
  'declined-recently',
  'below-ring-proficiency',
  'lower-proficiency',
  'shorter-idle',
  'lost-race',
  'transfer-source',
]);
export type CandidateCode = z.infer<typeof CandidateCodeSchema>;

/** One agent the router looked at for an offer, and why it was or was not chosen (DESIGN §5 `candidates`). */
export const RoutingCandidateSchema = z.object({
  agentId: z.string(),
  chosen: z.boolean(),
  /** Human-readable, e.g. "at capacity 3/3", "not in skill group vip", "declined 40 s ago". */
  reasons: z.array(z.string()),
  // Additive (issue 11): older stored decisions lack them.
  /** The same reasons as stable codes, for filters, counts and translation. */
  codes: z.array(z.lazy(() => CandidateCodeSchema)).optional(),
  /** Additive (issue 15): `reasons` as translatable phrases, in order (the renderer joins them with "; "). */
  details: z.array(ReasonTextSchema).optional(),
  /** The agent's proficiency in the skill group they were considered through. */
  proficiency: ProficiencySchema.optional(),
  /** The skill group they were considered through (the contact's own, or one a ring added). */
  skillGroup: z.string().optional(),
});
export type RoutingCandidate = z.infer<typeof RoutingCandidateSchema>;

/**
 * The inputs the scores were computed from, kept so a past day can be replayed under another config
 * (DESIGN §5 what-if). Value facts are numbers; the difficulty input is the first message, named by
 * id (its text stays sealed in the store, never copied into the clear-text log).
 */
export const RoutingFactsSchema = z.object({
  value: z.object({ spend: z.number(), csat: z.number().nullable(), contacts30d: z.number().int().min(0) }),
  difficulty: z.object({ messageId: z.string(), channel: z.string(), contacts30d: z.number().int().min(0) }),
});
export type RoutingFacts = z.infer<typeof RoutingFactsSchema>;

/** What made the router decide (again): a new contact, or a re-offer and its cause. */
export const RoutingTriggerSchema = z.enum([
  'new',
  'recovery',
  'timeout',
  'agent-gone',
  'released',
  'agent-available',
  'cooled-down',
  /** The AI tier handed the contact to a person (issue 10). */
  'handed-over',
  /** A widening ring opened: more agents may take the waiting contact (issue 11). */
  'widened',
  /** An agent transferred the contact to another agent, skill group or the expert tier (issue 11). */
  'transferred',
  /** The offered agent declined the offer (issue 11); `misses` are `timeout`. */
  'declined',
  /** A new customer message raised the waiting contact's difficulty, so its priority (and maybe tier) went up. */
  'rescored',
  /** The waiting customer went on from another channel (issue 12): the new session is offered in the old one's place. */
  'moved',
]);
export type RoutingTrigger = z.infer<typeof RoutingTriggerSchema>;

/** The stored explanation of one routing decision (DESIGN §5, §6 `routing`). */
export const RoutingDecisionSchema = z.object({
  valueScore: Score,
  difficultyScore: Score,
  priority: Score,
  tier: TierSchema,
  configVersion: z.number().int().min(1),
  weights: z.object({ value: z.number(), difficulty: z.number() }),
  thresholds: z.object({ expert: z.number(), assisted: z.number() }),
  skillGroup: z.string(),
  reasons: z.array(ReasonSchema),
  /** The agent the contact was offered to, if one was free, and why. */
  offeredTo: z.string().nullable(),
  assignment: z.string(),
  /** Additive (issue 15): `assignment` as translatable phrases, in order. */
  assignmentDetails: z.array(ReasonTextSchema).optional(),
  decidedAt: z.iso.datetime({ offset: true }),
  // Additive fields (issue 7): older stored decisions lack them.
  facts: RoutingFactsSchema.optional(),
  /** Every agent of the skill group on this node when the offer was made, chosen or not, and why. */
  candidates: z.array(RoutingCandidateSchema).optional(),
  trigger: RoutingTriggerSchema.optional(),
  /** The config version the offer (capacity, time-out) was made under; `configVersion` is the one the scores used. */
  offerConfigVersion: z.number().int().min(1).optional(),
  /** When this offer (or queueing) was decided; `decidedAt` stays the time of the first scoring. */
  offeredAt: z.iso.datetime({ offset: true }).optional(),
  // Additive (issue 11).
  /** Priority plus waiting-time aging when this offer was decided (the queue's order). */
  effectivePriority: z.number().min(0).max(200).optional(),
  /** How long the contact had waited for a person when this offer was decided, ms. */
  waitedMs: z.number().int().min(0).optional(),
  /** The widening ring in force: its index in `widening[tier]`, its minimum and the groups it reaches. */
  ring: z.object({ index: z.number().int().min(0), minProficiency: ProficiencySchema, skillGroups: z.array(z.string()) }).optional(),
  /** Set when the contact was transferred: by whom, to what, and how. */
  transfer: z
    .object({
      from: z.string(),
      to: z.string(),
      mode: z.enum(['warm', 'cold']),
    })
    .optional(),
});
export type RoutingDecision = z.infer<typeof RoutingDecisionSchema>;
