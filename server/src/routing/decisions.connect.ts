import type { Cluster, Redis } from 'ioredis';
import type { HuiliuError } from '../../../common/errors/codes';
import type { SessionRecord } from '../sessions/store';
import { createRoutingLogOutbox } from './decisions.outbox';
import type { PortedDecisionsOptions } from './decisions.ported';
import { createRedisRoutingLog, type RedisRoutingLogOptions } from './decisions.redis';

export interface ClusterDecisionsOptions {
  /** The cluster connection the conversations port uses (`connectConversationCluster().cluster`). */
  redis: Cluster | Redis;
  /** Key prefix (`HUILIU_REDIS_PREFIX`), the same as the conversations port's. */
  prefix: string;
  /** The sessions database whose `routing_decisions` rows are copied (`paths.db`). */
  path: string;
  /** The conversations port's copy of a session other nodes admitted (replay session facts). */
  remoteSession?: (sessionId: string) => Promise<SessionRecord | null>;
  /** A copy to the cluster failed; retried in `retryInMs` (the decisions stay in the SQLite outbox). */
  onCopyError?: (error: unknown, retryInMs: number) => void;
  /** A row the port refused for good (logged, skipped). */
  onSkipped?: (error: HuiliuError, row: { seq: number; sessionId: string }) => void;
  /** A decision read answered from this node's SQLite, marked partial (the cluster did not answer in time). */
  onLocalRead?: PortedDecisionsOptions['onLocalRead'];
  /** Longest a decision read waits for the cluster before it answers from SQLite, ms (default 3,000). */
  readWaitMs?: number;
  /** Adapter tuning (tests: `waitReplicas`, `waitMs`). */
  tuning?: Pick<RedisRoutingLogOptions, 'waitReplicas' | 'waitMs' | 'retryMs'>;
}

/**
 * `HUILIU_STORE=redis` (issue 14): opens the routing decisions port on the conversations port's cluster
 * (same connection and prefix; the `huiliu_rlog` function library is loaded on every master) and the
 * outbox that copies this node's decisions to it, then starts copying what is not there yet (decisions
 * made before a restart or a failure; a first start on an existing database copies its whole log).
 * Answers what `routeDecisions` takes. Shut down through the store `routeDecisions` returns.
 */
export async function connectClusterDecisions(options: ClusterDecisionsOptions): Promise<PortedDecisionsOptions> {
  const log = await createRedisRoutingLog({ redis: options.redis, prefix: options.prefix, ...options.tuning });
  const outbox = await createRoutingLogOutbox({
    path: options.path,
    log,
    ...(options.onCopyError ? { onError: options.onCopyError } : {}),
    ...(options.onSkipped ? { onSkipped: options.onSkipped } : {}),
  });
  // Off the start path: a failure is reported through onCopyError and retried by the outbox.
  outbox.flush().catch(() => undefined);
  return {
    log,
    outbox,
    ...(options.remoteSession ? { remoteSession: options.remoteSession } : {}),
    ...(options.onLocalRead ? { onLocalRead: options.onLocalRead } : {}),
    ...(options.readWaitMs !== undefined ? { readWaitMs: options.readWaitMs } : {}),
  };
}
