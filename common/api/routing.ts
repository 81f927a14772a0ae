import { z } from 'zod';
import type { RoutingConfig } from '../routing/types';

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
