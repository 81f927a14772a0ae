import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { FACTS_IMPORT_BODY_LIMIT, type CustomerFactsView, type FactsImportResult } from '../../../common/api/customers';
import { HuiliuError } from '../../../common/errors/codes';
import type { RoutingConfig } from '../../../common/routing/types';
import { can } from '../auth/policy';
import { staffOf } from '../auth/route-policy';
import type { ChannelStore } from '../gateway/channels';
import { parseWith } from '../http/errors';
import { valueScore } from '../routing/score';
import type { SessionStore } from '../sessions/store';
import { CSAT_MAX_RATINGS, CSAT_WINDOW_DAYS, type CustomerFacts } from './facts';
import { customerSkillGroups, ratingsSummary } from './facts.store';
import { importCustomerFacts } from './import';

export interface CustomersPluginOptions {
  store: SessionStore;
  channels: Pick<ChannelStore, 'accounts'>;
  /** What the router reads (the same port instance main.ts gives it). */
  facts: CustomerFacts;
  /** The routing config now (for the value score shown). */
  routingConfig: () => RoutingConfig | Promise<RoutingConfig>;
  now?: () => number;
}

const CustomerParams = z.object({ id: z.uuid() });
const noSuchCustomer = () => new HuiliuError('NOT_FOUND', 'No such customer.');

/**
 * Customer facts over REST (issue 11, docs/customer-facts.md):
 * - `POST /api/v1/customers/facts/import` (admins, `customer.import`): a JSON array of rows or CSV
 *   (`Content-Type: text/csv`), bodies up to 20 MB; answers 200 `FactsImportResult` — valid rows
 *   stored, refused ones listed with row number and field. PAYLOAD_TOO_LARGE beyond the size or
 *   FACTS_IMPORT_MAX_ROWS rows (nothing stored).
 * - `GET /api/v1/customers/:id/facts` (`customer.view`: staff of a skill group the customer was served
 *   in; admins and auditors all): what routing reads of the customer now, what is stored behind it,
 *   and the value score it makes under the current config. NOT_FOUND for an unknown customer or one
 *   outside the caller's groups (not even their existence leaks).
 * Register it encapsulated: its `text/csv` body parser is for these routes only.
 */
export async function customersPlugin(app: FastifyInstance, opts: CustomersPluginOptions): Promise<void> {
  const now = opts.now ?? Date.now;
  // Raw bytes: the CSV is decoded as strict UTF-8, so a GBK file is refused rather than garbled.
  app.addContentTypeParser('text/csv', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post(
    '/api/v1/customers/facts/import',
    { bodyLimit: FACTS_IMPORT_BODY_LIMIT, config: { policy: 'customer.import' } },
    async (request): Promise<FactsImportResult> => {
      const user = staffOf(request);
      const appIds = [...new Set((await opts.channels.accounts('AP')).map((a) => a.accountId))];
      const result = await importCustomerFacts(request.body, { store: opts.store, appIds });
      // Counts only: rows name customers.
      request.log.info(
        { by: user.id, received: result.received, imported: result.imported, created: result.created, refused: result.errorCount },
        'customer facts imported',
      );
      return result;
    },
  );

  app.get('/api/v1/customers/:id/facts', { config: { policy: 'customer.view' } }, async (request): Promise<CustomerFactsView> => {
    const user = staffOf(request);
    const { id } = parseWith(CustomerParams, request.params);
    if (!(await opts.store.getCustomer(id))) throw noSuchCustomer();
    if (!can(user, 'customer.view', { skillGroups: await customerSkillGroups(opts.store, id) })) throw noSuchCustomer();
    const t = now();
    const [facts, stored, ratings, config] = await Promise.all([
      opts.facts.valueFacts(id, t),
      opts.store.customerFacts(id),
      ratingsSummary(opts.store, id, t),
      opts.routingConfig(),
    ]);
    const value = valueScore(facts, config);
    return {
      customerId: id,
      facts,
      stored: { spend: stored?.spend ?? null, csat: stored?.csat ?? null },
      ratings: { ...ratings, windowDays: CSAT_WINDOW_DAYS, maxRatings: CSAT_MAX_RATINGS },
      value: { score: value.score, configVersion: config.version, reasons: value.reasons },
    };
  });
}
