import type { FastifyInstance } from 'fastify';
import { HuiliuError } from '../../../common/errors/codes';
import type { AuthService } from '../auth/auth';
import type { Metrics } from './metrics';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

/**
 * `GET /metrics` in Prometheus text format (DESIGN §6): for callers on loopback (a local scraper) or
 * with a staff Bearer token; anyone else gets 401. `request.ip` is the client behind trusted proxies,
 * so a remote caller relayed by a local proxy is not taken for loopback.
 */
export async function metricsPlugin(app: FastifyInstance, opts: { metrics: Metrics; auth: AuthService }): Promise<void> {
  app.get('/metrics', async (request, reply) => {
    if (!LOOPBACK.has(request.ip)) {
      const header = request.headers.authorization;
      const token = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
      if (!opts.auth.verify(token)) throw new HuiliuError('UNAUTHENTICATED');
    }
    return reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics());
  });
}
