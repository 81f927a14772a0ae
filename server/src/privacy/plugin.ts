import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  DecisionSchema,
  ErasureRequestSchema,
  ExportRequestSchema,
  PrivacyListQuerySchema,
  RetentionRulesSchema,
  type PrivacyRequestKind,
} from '../../../common/api/privacy';
import { staffOf } from '../auth/route-policy';
import { parseWith } from '../http/errors';
import type { PrivacyService } from './service';

const IdParams = z.strictObject({ id: z.uuid() });
const KIND_PATH: Record<PrivacyRequestKind, string> = { export: 'exports', erasure: 'erasures' };

/**
 * Data-subject requests and retention over HTTP (issue 17, DESIGN §6; docs/privacy.md):
 * - `POST /api/v1/privacy/exports` `{customerId?|customerExternalId?, sessionId?, reason}` and
 *   `POST /api/v1/privacy/erasures` `{customerId|customerExternalId, reason}` (policy `privacy.request`)
 *   → 201 `PrivacyRequestView` (`{id, status: 'pending', dueAt, …}`). NOT_FOUND, CUSTOMER_ERASED.
 * - `GET /api/v1/privacy/exports|erasures?status=` (policy `privacy.approve`) → `{requests}`, newest first,
 *   each with requester, approver, `dueAt` and `overdue`.
 * - `POST …/:id/approve|reject` (policy `privacy.approve`: privacy officers) → the request.
 *   PRIVACY_SELF_APPROVAL (the requester), PRIVACY_REQUEST_NOT_PENDING, PRIVACY_REQUEST_NOT_FOUND.
 * - `GET /api/v1/privacy/exports/:id/download` (policy `privacy.request`; the requester or a privacy
 *   officer) → the JSON bundle once. EXPORT_NOT_READY, EXPORT_GONE (downloaded or expired), FORBIDDEN.
 * - `GET|PUT /api/v1/privacy/retention` (policy `retention.manage`) → `{rules:[{skillGroup, days, …}]}`.
 */
export async function privacyPlugin(app: FastifyInstance, opts: { privacy: PrivacyService; skillGroups: () => string[] }): Promise<void> {
  const { privacy } = opts;
  app.post('/api/v1/privacy/exports', { config: { policy: 'privacy.request' } }, async (request, reply) => {
    const body = parseWith(ExportRequestSchema, request.body);
    return reply.status(201).send(await privacy.requestExport(staffOf(request), body));
  });
  app.post('/api/v1/privacy/erasures', { config: { policy: 'privacy.request' } }, async (request, reply) => {
    const body = parseWith(ErasureRequestSchema, request.body);
    return reply.status(201).send(await privacy.requestErasure(staffOf(request), body));
  });
  for (const kind of ['export', 'erasure'] as const) {
    const base = `/api/v1/privacy/${KIND_PATH[kind]}`;
    app.get(base, { config: { policy: 'privacy.approve' } }, async (request) => {
      const q = parseWith(PrivacyListQuerySchema, request.query);
      return { requests: await privacy.list(kind, q.status) };
    });
    app.post(`${base}/:id/approve`, { config: { policy: 'privacy.approve' } }, async (request) => {
      const { id } = parseWith(IdParams, request.params);
      const { note } = parseWith(DecisionSchema, request.body ?? {});
      return privacy.approve(kind, id, staffOf(request), note);
    });
    app.post(`${base}/:id/reject`, { config: { policy: 'privacy.approve' } }, async (request) => {
      const { id } = parseWith(IdParams, request.params);
      const { note } = parseWith(DecisionSchema, request.body ?? {});
      return privacy.reject(kind, id, staffOf(request), note);
    });
  }
  app.get('/api/v1/privacy/exports/:id/download', { config: { policy: 'privacy.request' } }, async (request, reply) => {
    const { id } = parseWith(IdParams, request.params);
    const { json, filename } = await privacy.download(id, staffOf(request));
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="${filename}"`)
      .header('cache-control', 'no-store')
      .send(json);
  });
  app.get('/api/v1/privacy/retention', { config: { policy: 'retention.manage' } }, async () => ({
    rules: await privacy.retentionRules(opts.skillGroups()),
  }));
  app.put('/api/v1/privacy/retention', { config: { policy: 'retention.manage' } }, async (request) => {
    const { rules } = parseWith(RetentionRulesSchema, request.body);
    await privacy.setRetentionRules(staffOf(request), rules, opts.skillGroups());
    return { rules: await privacy.retentionRules(opts.skillGroups()) };
  });
}
