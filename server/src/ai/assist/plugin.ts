import type { FastifyInstance } from 'fastify';
import { FeedbackQuerySchema, type FeedbackReport } from '../../../../common/api/ai-feedback';
import { staffOf } from '../../auth/route-policy';
import { parseWith } from '../../http/errors';
import type { AssistService } from './service';

/**
 * `GET /api/v1/ai/feedback?from=&to=&skillGroup=` (issue 10): what agents did with the assisted tier's
 * AI drafts — counts by outcome (accepted / edited / discarded), by source kind and by intent, and the
 * mean edit ratio of the drafts sent (`FeedbackReport`, common/api/ai-feedback.ts). Leads (their
 * skill groups) and admins (all), policy `ai.feedback`. No customer or draft text is in it.
 * Errors: 400 VALIDATION_FAILED (a bad time, `from` not before `to`), 401, 403 (a group out of scope).
 */
export async function assistPlugin(app: FastifyInstance, opts: { assist: Pick<AssistService, 'feedback'> }): Promise<void> {
  app.get('/api/v1/ai/feedback', { config: { policy: 'ai.feedback' } }, async (request): Promise<FeedbackReport> => {
    const query = parseWith(FeedbackQuerySchema, request.query);
    return opts.assist.feedback(staffOf(request), query);
  });
}
