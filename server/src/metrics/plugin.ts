import type { FastifyInstance } from 'fastify';
import type { Metrics } from './metrics';

/**
 * `GET /metrics` in Prometheus text format (DESIGN §6): for callers on loopback (a local scraper) or
 * with a staff Bearer token; anyone else gets 401. The route policy `loopback-or-staff` (route-policy.ts)
 * checks it; `request.ip` is the client behind trusted proxies, so a remote caller relayed by a local
 * proxy is not taken for loopback.
 */
export async function metricsPlugin(app: FastifyInstance, opts: { metrics: Metrics }): Promise<void> {
  app.get('/metrics', { config: { policy: 'loopback-or-staff' } }, async (_request, reply) => {
    return reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
  });
}
