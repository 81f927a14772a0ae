import { z } from 'zod';

export const TierSchema = z.enum(['expert', 'assisted', 'ai']);
export type Tier = z.infer<typeof TierSchema>;

const Score = z.number().min(0).max(100);

/** Admin-tunable routing configuration (DESIGN §5); every change is a new `version`. */
export const RoutingConfigSchema = z
  .object({
    version: z.number().int().min(1),
    weights: z.object({ value: z.number().min(0).max(1), difficulty: z.number().min(0).max(1) }),
    thresholds: z.object({ expert: Score, assisted: Score }),
    value: z.object({
      /** Spend at which the spend factor saturates (log scale), in the account's currency. */
      spendCap: z.number().positive(),
      /** Contacts per 30 days at which the frequency factor saturates. */
      frequencyCap: z.number().int().positive(),
      factorWeights: z.object({
        spend: z.number().min(0),
        satisfaction: z.number().min(0),
        frequency: z.number().min(0),
      }),
    }),
    offerTimeoutMs: z.number().int().min(1000).max(600_000),
    /** An agent gone (app closed, network lost) this long gets their open chats taken back to the queue. */
    reassignAfterMs: z.number().int().min(10_000).max(3_600_000),
    chatCapacity: z.number().int().min(1).max(20),
  })
  .refine((c) => Math.abs(c.weights.value + c.weights.difficulty - 1) < 1e-9, {
    message: 'weights.value + weights.difficulty must be 1',
    path: ['weights'],
  })
  .refine((c) => c.thresholds.expert > c.thresholds.assisted, {
    message: 'thresholds.expert must be above thresholds.assisted',
    path: ['thresholds'],
  });
export type RoutingConfig = z.infer<typeof RoutingConfigSchema>;

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
  chatCapacity: 3,
};

export const ReasonSchema = z.object({
  factor: z.string(),
  /** The factor's normalized value, 0..1, where that applies. */
  value: z.number().optional(),
  /** Points it contributed to its score. */
  points: z.number().optional(),
  note: z.string(),
});
export type Reason = z.infer<typeof ReasonSchema>;

/** One agent the router looked at for an offer, and why it was or was not chosen (DESIGN §5 `candidates`). */
export const RoutingCandidateSchema = z.object({
  agentId: z.string(),
  chosen: z.boolean(),
  reasons: z.array(z.string()),
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
});
export type RoutingDecision = z.infer<typeof RoutingDecisionSchema>;
