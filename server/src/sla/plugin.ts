import { HuiliuError } from '../../../common/errors/codes';
import type { FastifyInstance } from 'fastify';
import { PublishSlaPoliciesSchema, SlaPolicySetSchema, type SlaPoliciesView } from '../../../common/api/sla';
import { staffOf } from '../auth/route-policy';
import { parseWith } from '../http/errors';
import type { SlaPolicyStore } from './policy-store';

/**
 * The SLA policies admin API (issue 16, docs/sla.md), policy `sla.manage` (admins):
 * - `GET /api/v1/sla/policies` → the version in force `{version, policies, publishedBy, publishedAt, comment}`;
 * - `PUT /api/v1/sla/policies {policies, comment?}` → `201` a new version (VALIDATION_FAILED names the
 *   field: `policies.0.calendar.timeZone`, `policies.1.firstResponseSeconds` …). Every running clock
 *   takes the new targets at once (`onPublished`). The audit hook records the change, refused or not,
 *   as `sla.policies-change` (audit/plugin.ts).
 * Errors: 400 VALIDATION_FAILED, 401 UNAUTHENTICATED, 403 FORBIDDEN.
 */
export async function slaPlugin(
  app: FastifyInstance,
  opts: { policies: SlaPolicyStore; onPublished?: () => void; skillGroups?: () => readonly string[] },
): Promise<void> {
  app.get('/api/v1/sla/policies', { config: { policy: 'sla.manage' } }, async (): Promise<SlaPoliciesView> => opts.policies.current());

  app.put('/api/v1/sla/policies', { config: { policy: 'sla.manage' } }, async (request, reply) => {
    const user = staffOf(request);
    const body = parseWith(PublishSlaPoliciesSchema, request.body);
    // A policy for a group that does not exist could never apply: refuse it rather than keep it silently.
    const groups = opts.skillGroups?.();
    if (groups) {
      const set = parseWith(SlaPolicySetSchema, { policies: body.policies });
      const details = set.policies.flatMap((p, i) =>
        p.skillGroup === '*' || groups.includes(p.skillGroup) ? [] : [{ path: `policies.${i}.skillGroup`, message: 'no such skill group' }],
      );
      if (details.length) throw new HuiliuError('VALIDATION_FAILED', 'A policy names a skill group that does not exist.', details);
    }
    const published = opts.policies.publish({ policies: body.policies }, user.id, body.comment);
    opts.onPublished?.();
    return reply.status(201).send(published);
  });
}
