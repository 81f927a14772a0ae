import { StaffDirectorySchema, type UserView } from '../../../../common/api/auth';
import type { RoutingConfigVersionView, SimulateRequest, SimulationResult } from '../../../../common/api/routing';
import type { SessionDetail } from '../../../../common/api/sessions';
import { HuiliuError } from '../../../../common/errors/codes';
import { bearerCaller, type Fetch } from './http';
import { RoutingConfigSchema, type RoutingConfig } from '../../../../common/routing/types';

/** One field the server's VALIDATION_FAILED named (`details` of the error body, common/errors zodDetails). */
export interface FieldIssue {
  /** Dotted path inside the request body, e.g. `config.thresholds.expert`. */
  path: string;
  message: string;
}

/** The body of `POST /api/v1/routing/simulate` as the page sends it (defaults filled by the server). */
export type SimulateBody = {
  config: Record<string, unknown>;
  window?: { from: string; to: string };
  workload?: Partial<NonNullable<SimulateRequest['workload']>>;
};

/**
 * The REST calls of the routing admin page and the routing explanations (issue 11, DESIGN §6): every
 * call takes the staff bearer token. Errors are HuiliuError with the server's code and message, and,
 * for VALIDATION_FAILED, `details` as FieldIssue[]; a network failure is HuiliuError('INTERNAL') with
 * `details: {network: true}`.
 */
export interface RoutingApi {
  /** `GET /api/v1/routing/config`: the version in force. */
  current(token: string): Promise<RoutingConfigVersionView>;
  /** `GET /api/v1/routing/config/versions`: every version, oldest first. */
  versions(token: string): Promise<RoutingConfigVersionView[]>;
  /** `PUT /api/v1/routing/config`: publishes `config` as a new version (admins). */
  publish(token: string, config: RoutingConfig, comment?: string): Promise<RoutingConfigVersionView>;
  /** `POST /api/v1/routing/config/rollback`: publishes version `version`'s config again (admins). */
  rollback(token: string, version: number, comment?: string): Promise<RoutingConfigVersionView>;
  /** `POST /api/v1/routing/simulate`: the what-if comparison of the current config and `body.config`. */
  simulate(token: string, body: SimulateBody): Promise<SimulationResult>;
  /** `GET /api/v1/sessions/:id`: a contact with its routing decision. */
  session(token: string, sessionId: string): Promise<SessionDetail>;
  /** `GET /api/v1/auth/users`: the staff directory (leads, admins, auditors). */
  staff(token: string): Promise<UserView[]>;
}

/** The FieldIssue[] of an error's details, or [] when it names no field. */
export function fieldIssues(error: unknown): FieldIssue[] {
  if (!(error instanceof HuiliuError) || !Array.isArray(error.details)) return [];
  return (error.details as unknown[]).filter(
    (d): d is FieldIssue =>
      typeof d === 'object' && d !== null && typeof (d as FieldIssue).path === 'string' && typeof (d as FieldIssue).message === 'string',
  );
}

/** True when the error is the client's own: the server could not be reached. */
export const isNetworkError = (error: unknown): boolean =>
  error instanceof HuiliuError && (error.details as { network?: boolean } | undefined)?.network === true;

const parseVersion = (raw: RoutingConfigVersionView): RoutingConfigVersionView => ({
  ...raw,
  // A stored first-shape config (or one missing later fields) is read with the defaults filled in.
  config: RoutingConfigSchema.parse(raw.config),
});

/** `options.fetch`: the fetch to use (tests pass a fake); `options.base`: the server's origin ('' = same). */
export function createRoutingApi(options: { base?: string; fetch?: Fetch } = {}): RoutingApi {
  const call = bearerCaller(options);

  return {
    async current(token) {
      return parseVersion(await call<RoutingConfigVersionView>(token, 'GET', '/api/v1/routing/config'));
    },
    async versions(token) {
      const body = await call<{ versions: RoutingConfigVersionView[] }>(token, 'GET', '/api/v1/routing/config/versions');
      return body.versions.map(parseVersion);
    },
    async publish(token, config, comment) {
      // The server numbers versions: the draft's `version` is ignored there.
      const body = { config, ...(comment?.trim() ? { comment: comment.trim() } : {}) };
      return parseVersion(await call<RoutingConfigVersionView>(token, 'PUT', '/api/v1/routing/config', body));
    },
    async rollback(token, version, comment) {
      const body = { version, ...(comment?.trim() ? { comment: comment.trim() } : {}) };
      return parseVersion(await call<RoutingConfigVersionView>(token, 'POST', '/api/v1/routing/config/rollback', body));
    },
    simulate(token, body) {
      return call<SimulationResult>(token, 'POST', '/api/v1/routing/simulate', body);
    },
    session(token, sessionId) {
      return call<SessionDetail>(token, 'GET', `/api/v1/sessions/${encodeURIComponent(sessionId)}`);
    },
    async staff(token) {
      return StaffDirectorySchema.parse(await call<unknown>(token, 'GET', '/api/v1/auth/users')).users;
    },
  };
}
