import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  PublishRoutingConfigSchema,
  RollbackRoutingConfigSchema,
  SimulateRequestSchema,
  type RoutingConfigVersionView,
} from '../../../common/api/routing';
import { HuiliuError } from '../../../common/errors/codes';
import { staffOf } from '../auth/route-policy';
import { parseWith } from '../http/errors';
import { createCpuPool } from '../workers/pool';
import type { RoutingConfigDraft, RoutingConfigStore, RoutingConfigVersion } from './config-store';
import { simulateWhatIf, type WhatIfDeps } from './sim/service';
import type * as WhatIfWorker from './sim/sim.worker';

const VersionParams = z.strictObject({ version: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER) });

const view = (v: RoutingConfigVersion): RoutingConfigVersionView => ({
  version: v.version,
  config: v.config,
  publishedBy: v.publishedBy,
  publishedAt: v.publishedAt,
  comment: v.comment,
});

/**
 * The routing config admin API (DESIGN §6, issue 11):
 * - `GET /api/v1/routing/config` → the version in force (leads, admins, auditors);
 * - `GET /api/v1/routing/config/versions` → every version, oldest first, each with author, time, comment;
 * - `GET /api/v1/routing/config/versions/:version` → one (NOT_FOUND);
 * - `PUT /api/v1/routing/config {config, comment?}` → publishes a new version (admins; VALIDATION_FAILED
 *   names the field; the router uses it from its next decision, on every node);
 * - `POST /api/v1/routing/config/rollback {version, comment?}` → publishes that version's config again as
 *   a new version (admins; NOT_FOUND for a version never published). Versions are never edited or deleted;
 * - `POST /api/v1/routing/simulate {config, window?, workload?}` → the what-if (leads, admins, auditors;
 *   `sim/service.ts`), when `whatIf` is given. The simulations run in a worker thread of their own
 *   (one at a time, two more may wait; more: OVERLOADED), so the sockets' thread stays free.
 */
export async function routingConfigPlugin(
  app: FastifyInstance,
  opts: { configs: RoutingConfigStore; whatIf?: Omit<WhatIfDeps, 'configs' | 'run'> & Partial<Pick<WhatIfDeps, 'run'>> },
): Promise<void> {
  const { configs } = opts;

  app.get('/api/v1/routing/config', { config: { policy: 'routing.view' } }, async (): Promise<RoutingConfigVersionView> => {
    const current = await configs.current();
    const version = await configs.get(current.version);
    if (!version) throw new HuiliuError('INTERNAL', 'The routing config in force has no stored version.');
    return view(version);
  });

  app.get('/api/v1/routing/config/versions', { config: { policy: 'routing.view' } }, async () => ({
    versions: (await configs.list()).map(view),
  }));

  app.get('/api/v1/routing/config/versions/:version', { config: { policy: 'routing.view' } }, async (request) => {
    const { version } = parseWith(VersionParams, request.params);
    const found = await configs.get(version);
    if (!found) throw new HuiliuError('NOT_FOUND', `Routing config version ${version} was never published.`);
    return view(found);
  });

  app.put('/api/v1/routing/config', { config: { policy: 'routing.manage' } }, async (request, reply) => {
    const user = staffOf(request);
    const body = parseWith(PublishRoutingConfigSchema, request.body);
    const published = await configs.publish(body.config as RoutingConfigDraft, user.id, body.comment);
    return reply.status(201).send(view(published));
  });

  app.post('/api/v1/routing/config/rollback', { config: { policy: 'routing.manage' } }, async (request, reply) => {
    const user = staffOf(request);
    const body = parseWith(RollbackRoutingConfigSchema, request.body);
    const earlier = await configs.get(body.version);
    if (!earlier) throw new HuiliuError('NOT_FOUND', `Routing config version ${body.version} was never published.`);
    const published = await configs.publish(earlier.config, user.id, body.comment ?? `rollback to version ${body.version}`);
    return reply.status(201).send(view(published));
  });

  if (opts.whatIf) {
    let run = opts.whatIf.run;
    if (!run) {
      const pool = createCpuPool<typeof WhatIfWorker>({ source: 'routing/sim/sim.worker', threads: 1, queue: 2 });
      app.addHook('onClose', () => pool.close());
      run = (input) => pool.run('whatIf', input);
    }
    const deps: WhatIfDeps = { ...opts.whatIf, configs, run };
    app.post('/api/v1/routing/simulate', { config: { policy: 'routing.view' } }, async (request) =>
      simulateWhatIf(deps, parseWith(SimulateRequestSchema, request.body)),
    );
  }
}
