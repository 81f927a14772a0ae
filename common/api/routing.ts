import { z } from 'zod';
import type { ReasonText, RoutingConfig } from '../routing/types';

/**
 * The routing config admin API (DESIGN §6 `GET|PUT /api/v1/routing/config`): every publish is a new
 * version with its author, time and comment; a rollback publishes an earlier version's config again.
 */

/** One published version as the API shows it. */
export interface RoutingConfigVersionView {
  version: number;
  config: RoutingConfig;
  publishedBy: string;
  publishedAt: string;
  comment: string | null;
}

/**
 * `PUT /api/v1/routing/config` body: the whole config (its `version`, if sent, is ignored: the server
 * numbers versions) and why. The config itself is checked with RoutingConfigSchema (VALIDATION_FAILED
 * names the field).
 */
export const PublishRoutingConfigSchema = z.strictObject({
  config: z.record(z.string(), z.unknown()),
  comment: z.string().trim().max(500).optional(),
});
export type PublishRoutingConfig = z.infer<typeof PublishRoutingConfigSchema>;

/** `POST /api/v1/routing/config/rollback`: publish version `version`'s config again, as a new version. */
export const RollbackRoutingConfigSchema = z.strictObject({
  version: z.number().int().min(1),
  comment: z.string().trim().max(500).optional(),
});
export type RollbackRoutingConfig = z.infer<typeof RollbackRoutingConfigSchema>;

/**
 * `POST /api/v1/routing/simulate` (DESIGN §6, what-if): replays the decision log of `window` (or, with
 * no history there, a generated Poisson workload) under the current config and under `config`, with
 * the same discrete-event simulation, and compares them. Policy `routing.view`.
 */
export const SimulateRequestSchema = z.strictObject({
  /** The draft config (checked like a publish; its `version` is ignored). */
  config: z.record(z.string(), z.unknown()),
  /** The recorded window to replay, ISO 8601; default the last 24 hours. */
  window: z.strictObject({ from: z.iso.datetime({ offset: true }), to: z.iso.datetime({ offset: true }) }).optional(),
  /**
   * The generated workload, used when the window holds no contacts (or `source: 'generated'`):
   * Poisson arrivals, exponential handling and patience, one skill group per contact by `mix`.
   */
  workload: z
    .strictObject({
      source: z.enum(['auto', 'generated']).default('auto'),
      contactsPerHour: z.number().positive().max(100_000).default(120),
      hours: z.number().positive().max(24).default(8),
      meanHandleSeconds: z.number().positive().max(7200).default(300),
      /** Mean time a waiting customer stays before abandoning; 0: nobody abandons. */
      meanPatienceSeconds: z.number().min(0).max(7200).default(180),
      /** Agents per skill group for a generated workload; default the groups' members on record. */
      agents: z.record(z.string(), z.number().int().min(0).max(5000)).optional(),
      /** Share of contacts per skill group; default equal. */
      mix: z.record(z.string(), z.number().min(0)).optional(),
      seed: z.number().int().default(1),
      // Additive (issue 11, what-if): the generated workload's finer points; docs/what-if.md.
      /** Share of generated contacts that are calls (voice capacity); the rest are chats. */
      voiceShare: z.number().min(0).max(1).default(0),
      /** Share of each group's generated agents flagged expert (proficiency 5), rounded up. */
      expertShare: z.number().min(0).max(1).default(0.2),
      /**
       * Share of `ai`-tier contacts the AI tier keeps to the end while it answers (on this server:
       * `ai.autoAnswer` on and a model loaded); the others are handed over after `meanAiSeconds`.
       */
      aiContainment: z.number().min(0).max(1).default(0.5),
      meanAiSeconds: z.number().positive().max(7200).default(90),
    })
    .optional(),
});
export type SimulateRequest = z.infer<typeof SimulateRequestSchema>;

/** What one config did (or would do) to the workload. Rates and shares are 0..1, times seconds. */
export interface SimulationMetrics {
  contacts: number;
  /** Share of contacts per tier under this config (sums to 1). */
  tierMix: { expert: number; assisted: number; ai: number };
  /** Contacts a person answered within `serviceLevel.thresholdSeconds`, over contacts that reached people. */
  serviceLevel: number;
  /** Average speed of answer: mean wait of contacts a person answered. */
  asaSeconds: number;
  /**
   * Contacts that left before a person answered, over contacts that reached people (contacts still
   * waiting when the simulation ran out of events, `unanswered`, count as lost too).
   */
  abandonment: number;
  /**
   * Busy agent time over staffed agent time, within the window: an agent is busy while holding at
   * least one contact (a call, or one chat or more) or in after-call work.
   */
  occupancy: number;
  /** Contacts the AI tier kept to the end (containment), over all contacts. */
  containment: number;
  /** Additive (issue 11): contacts no person answered and that never left (nobody qualified for them), a count. */
  unanswered: number;
  /** Per skill group: service level, ASA and abandonment. */
  bySkillGroup: Record<string, { contacts: number; serviceLevel: number; asaSeconds: number; abandonment: number }>;
  /**
   * Hourly buckets from the start of the workload, by arrival: contacts, answered in threshold,
   * abandoned (with unanswered), mean wait of the answered ones.
   */
  hourly: { hour: number; contacts: number; answeredInThreshold: number; abandoned: number; meanWaitSeconds: number }[];
}

/** A contact whose tier or agent differs between the current config and the draft. */
export interface SimulationChange {
  /** The recorded session, for a replay; absent for generated contacts. */
  sessionId?: string;
  index: number;
  arrivedAt: string;
  current: { tier: 'expert' | 'assisted' | 'ai'; agentId: string | null; priority: number };
  draft: { tier: 'expert' | 'assisted' | 'ai'; agentId: string | null; priority: number };
}

export interface SimulationResult {
  source: 'window' | 'generated';
  window: { from: string; to: string };
  /** Contacts replayed. */
  contacts: number;
  current: { configVersion: number; metrics: SimulationMetrics };
  draft: { metrics: SimulationMetrics };
  /** Contacts whose tier or agent changed: the count, and the first 200. */
  changes: { total: number; tierChanged: number; agentChanged: number; items: SimulationChange[] };
  /** Wall time the simulation took, ms. */
  tookMs: number;
  // Additive (issue 11).
  /** Agents simulated (signed in all the window unless their shift is known). */
  agents: number;
  /** Whether the AI tier answered `ai`-tier contacts in the simulation (else they went to people). */
  aiTier: boolean;
  /** What the replay had to assume, in plain words (e.g. contacts without value facts); empty when nothing. */
  notes: string[];
  // Additive (issue 15).
  /**
   * `notes` as stable codes with numbers (`ReasonTextSchema`), in the same order, for the desk to word
   * (`routing:whatIfNotes.<code>`): `agents-available`, `no-abandonment`, `no-value-facts`,
   * `answered-without-offer`, `never-reached-person`, `still-waiting`, `closed-unanswered`,
   * `unknown-agents`, `no-ai-in-window`, `generated`, `agents-on-record`, `ai-tier-off`,
   * `decisions-local-only` (issue 14).
   */
  noteDetails?: ReasonText[];
  // Additive (issue 14).
  /**
   * `true` when the window was read from this server's own decision log only (`HUILIU_STORE=redis`: the
   * Redis Cluster's shared log did not answer, docs/store.md), so other servers' contacts are missing;
   * absent on a complete read. `PartialReadSchema`.
   */
  partial?: PartialRead;
}

/**
 * Issue 14: the mark of an answer read from one server's own routing decision log while the cluster's
 * shared log could not answer (`SimulationResult.partial`, `ExportBundle` `routingDecisionsPartial`):
 * present and `true`, or absent. Old clients ignore it.
 */
export const PartialReadSchema = z.literal(true);
export type PartialRead = z.infer<typeof PartialReadSchema>;
