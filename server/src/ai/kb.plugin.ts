import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { IntentLabelSchema, LangSchema, type KbImportRow } from '../../../common/ai/types';
import {
  KB_ENTRIES_PAGE,
  KbImportModeSchema,
  type KbEntriesResponse,
  type KbImportResult,
  type KbVersionsResponse,
} from '../../../common/api/kb';
import { HuiliuError } from '../../../common/errors/codes';
import { staffOf } from '../auth/route-policy';
import { parseWith } from '../http/errors';
import { checkImportRowCount, importRefused, parseKbRow, toImportRow, validateImportRows, type KnowledgeBase } from './kb';
import { formatKbCsv, parseKbCsv } from './kb.csv';

/** `POST /api/v1/kb/import` takes bodies up to this size (DESIGN §6); every other route keeps the app's 1 MB. */
export const KB_IMPORT_BODY_LIMIT = 20 * 1024 * 1024;

const ImportQuery = z.strictObject({ mode: KbImportModeSchema.default('merge') });
const ExportQuery = z.strictObject({ format: z.enum(['json', 'csv']).default('json') });
const EntriesQuery = z.strictObject({
  lang: LangSchema.optional(),
  intent: IntentLabelSchema.optional(),
  limit: z.coerce.number().int().min(1).max(KB_ENTRIES_PAGE.max).default(KB_ENTRIES_PAGE.default),
  offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
});
const VersionsQuery = z.strictObject({ limit: z.coerce.number().int().min(1).max(1000).optional() });
const EntryParams = z.object({ id: z.string().min(1).max(64) });

const notFound = () => new HuiliuError('NOT_FOUND', 'No knowledge-base entry has this id.');

/**
 * The rows of an import body: a JSON array of KbImportRow (unknown fields refused), or CSV bytes (the
 * `text/csv` parser below; format in kb.csv.ts). A body with more rows than the KB may hold entries is
 * KB_TOO_LARGE before any row is checked. Otherwise every row is checked (errors counted, the first 100
 * kept); any problem refuses the whole body with VALIDATION_FAILED `details: {rows:[{row, field, message}], total}`.
 */
function importRowsOf(body: unknown): KbImportRow[] {
  let checked: ReturnType<typeof validateImportRows>;
  if (Buffer.isBuffer(body)) {
    const csv = parseKbCsv(body);
    checked = validateImportRows(csv.rows);
    // No spread into push: a million errors would overflow the call stack.
    checked.errors.addAll(csv.errors);
  } else if (Array.isArray(body)) {
    checkImportRowCount(body.length);
    checked = validateImportRows(
      body.map((value: unknown, i) => ({ row: i + 1, value })),
      { unknownFields: 'reject' },
    );
  } else {
    throw importRefused([{ row: 0, field: '(body)', message: 'send a JSON array of rows, or CSV with Content-Type: text/csv' }]);
  }
  if (checked.errors.total) throw importRefused(checked.errors);
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
    // All three run before any awaits: the version and total describe exactly the page listed.
    const [version, total, entries] = await Promise.all([kb.version(), kb.count(filter), kb.list(filter)]);
    const next = filter.offset + entries.length;
    return { version, total, entries, nextOffset: next < total ? next : null };
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
