import type { RoutingConfig } from '../../../common/routing/types';

/** One published routing configuration. */
export interface RoutingConfigVersion {
  /** Assigned by the store: 1, 2, 3 … in publish order, never reused. Equals `config.version`. */
  version: number;
  config: RoutingConfig;
  /** The publishing user's id, or `config-file` for the HUILIU_CONFIG seed. */
  publishedBy: string;
  /** ISO 8601. */
  publishedAt: string;
  /** Why it was published (the publisher's words), or null. */
  comment: string | null;
}

/** The publishable part of a routing config: the version is the store's to assign. */
export type RoutingConfigDraft = Omit<RoutingConfig, 'version'> & { version?: number };

/** Who publishes the file config's versions. */
export const CONFIG_FILE_PUBLISHER = 'config-file';

/**
 * The versioned routing config store (DESIGN §5: every config change is a new version). The router
 * reads `current()` at each decision, so a publish takes effect on every node at its next decision,
 * and each decision names the version it used so it can be replayed against `get(version)`.
 */
export interface RoutingConfigStore {
  /** The newest published config (`version` set). */
  current(): Promise<RoutingConfig>;
  /** One version, or null when it was never published. */
  get(version: number): Promise<RoutingConfigVersion | null>;
  /** Every version, oldest first. */
  list(): Promise<RoutingConfigVersion[]>;
  /**
   * Validates `config` with RoutingConfigSchema (its `version`, if any, is ignored) and stores it as
   * the next version. VALIDATION_FAILED (details name the fields) when it is not a valid config or
   * `by` is empty. `comment`: why (kept with the version; blank = none).
   */
  publish(config: RoutingConfigDraft, by: string, comment?: string): Promise<RoutingConfigVersion>;
  close(): Promise<void>;
}
