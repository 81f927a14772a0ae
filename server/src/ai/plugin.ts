import type { FastifyInstance } from 'fastify';
import { AnalyzeRequestSchema, type Analysis } from '../../../common/ai/types';
import { parseWith } from '../http/errors';
import type { LanguageCore } from './core';

/**
 * `POST /api/v1/ai/analyze {text, lang?, channel?, contacts30d?}` → the language core's analysis
 * (DESIGN §6): `{lang, intent:{label,confidence,outOfScope,candidates}, emotion:{label,intensity,scores},
 * difficulty, factors, wantsHuman, model}` — exactly what the router's difficulty uses. Staff only
 * (`ai.analyze`). `text` is 1..20,000 characters; longer → 400 VALIDATION_FAILED. The text is not
 * logged or stored.
 */
export async function aiPlugin(app: FastifyInstance, opts: { core: LanguageCore }): Promise<void> {
  app.post('/api/v1/ai/analyze', { config: { policy: 'ai.analyze' } }, async (request): Promise<Analysis> => {
    const body = parseWith(AnalyzeRequestSchema, request.body);
    return opts.core.analyze(body.text, { lang: body.lang, channel: body.channel, contacts30d: body.contacts30d });
  });
}
