import type { FastifyInstance } from 'fastify';
import type { SessionStore } from '../sessions/store';

export async function healthPlugin(
  app: FastifyInstance,
  opts: { store: SessionStore; version: string; ready: () => boolean },
): Promise<void> {
  const started = Date.now();
  app.get('/healthz', { config: { policy: 'public' } }, async () => ({
    status: 'ok',
    version: opts.version,
    uptimeSeconds: Math.round((Date.now() - started) / 1000),
  }));
  app.get('/readyz', { config: { policy: 'public' } }, async (_request, reply) => {
    let storeOk: boolean;
    try {
      await opts.store.ping();
      storeOk = true;
    } catch {
      storeOk = false;
    }
    const ready = storeOk && opts.ready();
    return reply.status(ready ? 200 : 503).send({ ready, checks: { store: storeOk, started: opts.ready() } });
  });
}
