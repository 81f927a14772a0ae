import type { IncomingMessage } from 'node:http';
import proxyAddr from 'proxy-addr';
import type { HuiliuError } from '../../../common/errors/codes';
import { rateLimited } from './errors';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import type { LimitsConfig } from '../config/config';
import { clientNetwork } from './client-network';
import type { LimitName, Metrics } from '../metrics/metrics';

/** The answer of a limit check: allowed, or refused with the milliseconds until a retry can pass. */
export type LimitVerdict = { ok: true } | { ok: false; limit: LimitName; retryAfterMs: number };

type BudgetName = Exclude<
  LimitName,
  | 'widget_connection_messages'
  | 'widget_connection_replays'
  | 'ip_connections'
  | 'agent_ip_connections'
  | 'agent_socket_events'
  | 'ip_uploads'
  | 'visitor_upload_bytes'
  | 'ip_upload_bytes'
>;

/**
 * Limits shared by every connection and request of one node (issue 6 A3, DESIGN §6): fixed-window
 * budgets per visitor, client IP and app key (rate-limiter-flexible; `RateLimiterMemory` now, its
 * Redis variant when the node scales out), and a count of open widget connections per IP. Every
 * refusal is counted in `huiliu_rate_limited_total{limit}`. Checks run before anything is stored,
 * so a refused message was never acked.
 */
/** Widget uploads one client address may have in flight at once; more answer RATE_LIMITED. */
export const UPLOADS_PER_ADDRESS = 4;

export class Limits {
  private readonly budgets: Record<BudgetName, RateLimiterMemory>;
  private readonly open = { widget: new Map<string, number>(), agent: new Map<string, number>(), upload: new Map<string, number>() };
  private readonly trust: (addr: string, i: number) => boolean;

  constructor(
    readonly config: LimitsConfig,
    trustedProxies: readonly string[],
    private readonly metrics: Metrics,
  ) {
    const budget = (b: { points: number; seconds: number }, keyPrefix: string) =>
      new RateLimiterMemory({ points: b.points, duration: b.seconds, keyPrefix });
    this.budgets = {
      visitor_messages: budget(config.visitor.messages, 'visitor'),
      app_customer_messages: budget(config.visitor.messages, 'app-customer'),
      ip_messages: budget(config.ip.messages, 'ip'),
      ip_new_sessions: budget(config.ip.newSessions, 'ip-new'),
      app_key_messages: budget(config.appKey.messages, 'app-key'),
      app_key_reads: budget(config.appKey.reads, 'app-key-reads'),
      ip_bad_app_keys: budget(config.ip.badAppKeys, 'ip-bad-app-keys'),
    };
    this.trust = proxyAddr.compile([...trustedProxies]);
  }

  /** The same trust function, for Fastify's `trustProxy` so `request.ip` agrees with `clientIp`. */
  get trustProxy(): (addr: string, i: number) => boolean {
    return this.trust;
  }

  /**
   * The client a raw request counts against: its address (`X-Forwarded-For` believed only from
   * trusted proxies), IPv4-mapped IPv6 folded to IPv4 and IPv6 taken as its /64, so one host cannot
   * mint fresh budgets by rotating addresses inside its own prefix (same rule as sign-in throttling).
   */
  clientIp(req: IncomingMessage): string {
    return clientNetwork(proxyAddr(req, this.trust));
  }

  /**
   * Takes one point from each named budget for its key, in order; the first that is spent refuses
   * (points already taken from earlier budgets stay taken: a refused flood still costs the flooder).
   */
  /**
   * Whether `key` has already spent its budget, without taking a point: a refusal (counted) when it
   * has. For budgets that must hold before a costly or revealing check runs (an app key lookup).
   */
  async spent(name: BudgetName, key: string): Promise<LimitVerdict> {
    const limiter = this.budgets[name];
    const res = await limiter.get(key);
    if (res && res.consumedPoints >= limiter.points) return this.refuse(name, Math.max(1, res.msBeforeNext));
    return { ok: true };
  }

  async take(checks: readonly (readonly [BudgetName, string])[]): Promise<LimitVerdict> {
    for (const [name, key] of checks) {
      try {
        await this.budgets[name].consume(key);
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error;
        return this.refuse(name, Math.max(1, error.msBeforeNext));
      }
    }
    return { ok: true };
  }

  /** Counts a refusal decided elsewhere (per-connection buckets) under its limit name. */
  refuse(limit: LimitName, retryAfterMs: number): LimitVerdict {
    this.metrics.rateLimited.inc({ limit });
    return { ok: false, limit, retryAfterMs: Math.ceil(retryAfterMs) };
  }

  /**
   * Registers one more open connection from `ip` on the widget socket, the agent socket or a widget
   * upload in flight (each has its own cap: `ip.connections`, `agent.connections`,
   * `UPLOADS_PER_ADDRESS`); returns a release function, or null (counted) when the IP already has
   * that many open. Release is idempotent.
   */
  openConnection(ip: string, socket: 'widget' | 'agent' | 'upload' = 'widget'): (() => void) | null {
    const open = this.open[socket];
    const cap = socket === 'widget' ? this.config.ip.connections : socket === 'agent' ? this.config.agent.connections : UPLOADS_PER_ADDRESS;
    const n = open.get(ip) ?? 0;
    if (n >= cap) {
      this.refuse(socket === 'widget' ? 'ip_connections' : socket === 'agent' ? 'agent_ip_connections' : 'ip_uploads', 1000);
      return null;
    }
    open.set(ip, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (open.get(ip) ?? 1) - 1;
      if (left <= 0) open.delete(ip);
      else open.set(ip, left);
    };
  }
}

/** The REST answer to a refused budget: RATE_LIMITED (429) naming the limit, with its `Retry-After`. */
export function rateLimitedError(verdict: Extract<LimitVerdict, { ok: false }>): HuiliuError {
  return rateLimited(verdict.retryAfterMs / 1000, undefined, { limit: verdict.limit, retryAfterMs: verdict.retryAfterMs });
}
