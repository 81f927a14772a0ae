import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { IntentLabelSchema, LangSchema, type KbImportRow } from '../../../common/ai/types';
import { KbImportModeSchema, type KbEntriesResponse, type KbImportResult, type KbVersionsResponse } from '../../../common/api/kb';
import { HuiliuError } from '../../../common/errors/codes';
import { staffOf } from '../auth/route-policy';
import { parseWith } from '../http/errors';
import { importRefused, parseKbRow, toImportRow, validateImportRows, type KnowledgeBase, type KbRowError } from './kb';
import { formatKbCsv, parseKbCsv } from './kb.csv';

/** `POST /api/v1/kb/import` takes bodies up to this size (DESIGN §6); every other route keeps the app's 1 MB. */
export const KB_IMPORT_BODY_LIMIT = 20 * 1024 * 1024;

const ImportQuery = z.strictObject({ mode: KbImportModeSchema.default('merge') });
const ExportQuery = z.strictObject({ format: z.enum(['json', 'csv']).default('json') });
const EntriesQuery = z.strictObject({ lang: LangSchema.optional(), intent: IntentLabelSchema.optional() });
const VersionsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).optional() });
const EntryParams = z.object({ id: z.string().min(1).max(64) });

const notFound = () => new HuiliuError('NOT_FOUND', 'No knowledge-base entry has this id.');

/**
 * The rows of an import body: a JSON array of KbImportRow (unknown fields refused), or CSV bytes (the
 * `text/csv` parser below; format in kb.csv.ts). Every problem of every row is collected; any problem
 * refuses the whole body with VALIDATION_FAILED `details: {rows:[{row, field, message}], total}`.
 */
function importRowsOf(body: unknown): KbImportRow[] {
  const problems: KbRowError[] = [];
  let checked: ReturnType<typeof validateImportRows>;
  if (Buffer.isBuffer(body)) {
    const csv = parseKbCsv(body);
    problems.push(...csv.errors);
    checked = validateImportRows(csv.rows);
  } else if (Array.isArray(body)) {
    checked = validateImportRows(
      body.map((value: unknown, i) => ({ row: i + 1, value })),
      { unknownFields: 'reject' },
    );
  } else {
    throw importRefused([{ row: 0, field: '(body)', message: 'send a JSON array of rows, or CSV with Content-Type: text/csv' }]);
  }
  problems.push(...checked.errors);
  if (problems.length) throw importRefused(problems);
  return checked.rows;
}

/**
 * The knowledge-base admin API (issue 9, DESIGN §6; docs/knowledge-base.md): import and export (JSON or
 * CSV), entry CRUD and the version history. Reading needs `kb.view` (agents, leads, admins), changing
 * `kb.manage` (admins). Writes are attributed to the signed-in user's id. Register it encapsulated (no
 * fastify-plugin): its `text/csv` body parser is for these routes only.
 */
export async function kbPlugin(app: FastifyInstance, opts: { kb: KnowledgeBase }): Promise<void> {
  const { kb } = opts;
  // Raw bytes: kb.csv.ts decodes them as strict UTF-8, so a GBK file is refused rather than garbled.
  app.addContentTypeParser('text/csv', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post(
    '/api/v1/kb/import',
    { bodyLimit: KB_IMPORT_BODY_LIMIT, config: { policy: 'kb.manage' } },
    async (request): Promise<KbImportResult> => {
      const user = staffOf(request);
      const { mode } = parseWith(ImportQuery, request.query);
      const result = await kb.import(importRowsOf(request.body), { mode, by: user.id });
      request.log.info({ mode, ...result }, 'knowledge base imported');
      return result;
    },
  );

  app.get('/api/v1/kb/export', { config: { policy: 'kb.view' } }, async (request, reply) => {
    const { format } = parseWith(ExportQuery, request.query);
    // Both run before either awaits: the version names exactly the entries listed.
    const [version, entries] = await Promise.all([kb.version(), kb.list()]);
    const rows = entries.map(toImportRow);
    void reply.header('content-disposition', `attachment; filename="huiliu-kb-v${version}.${format}"`);
    void reply.header('x-huiliu-kb-version', String(version));
    if (format === 'csv') return reply.type('text/csv; charset=utf-8').send(formatKbCsv(rows));
    return reply.type('application/json; charset=utf-8').send(rows);
  });

  app.get('/api/v1/kb/entries', { config: { policy: 'kb.view' } }, async (request): Promise<KbEntriesResponse> => {
    const filter = parseWith(EntriesQuery, request.query);
    const [version, entries] = await Promise.all([kb.version(), kb.list(filter)]);
    return { version, entries };
  });

  app.get('/api/v1/kb/entries/:id', { config: { policy: 'kb.view' } }, async (request) => {
    const { id } = parseWith(EntryParams, request.params);
    const entry = await kb.get(id);
    if (!entry) throw notFound();
    return entry;
  });

  app.post('/api/v1/kb/entries', { config: { policy: 'kb.manage' } }, async (request, reply) => {
    const user = staffOf(request);
    const row = parseKbRow(request.body, { unknownFields: 'reject' });
    return reply.status(201).send(await kb.create(row, user.id));
  });

  app.put('/api/v1/kb/entries/:id', { config: { policy: 'kb.manage' } }, async (request) => {
    const user = staffOf(request);
    const { id } = parseWith(EntryParams, request.params);
    const row = parseKbRow(request.body, { unknownFields: 'reject' });
    return kb.update(id, row, user.id);
  });

  app.delete('/api/v1/kb/entries/:id', { config: { policy: 'kb.manage' } }, async (request, reply) => {
    const user = staffOf(request);
    const { id } = parseWith(EntryParams, request.params);
    await kb.remove(id, user.id);
    return reply.status(204).send();
  });

  app.get('/api/v1/kb/versions', { config: { policy: 'kb.view' } }, async (request): Promise<KbVersionsResponse> => {
    const { limit } = parseWith(VersionsQuery, request.query);
    const [version, versions] = await Promise.all([kb.version(), kb.history(limit)]);
    return { version, versions };
  });
}
