import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { ConversationSummary } from '../../../../common/ai/assist';
import { createLlmSummarizer } from './summary.llm';
import type { SummaryInput } from './summary';

/** A small OpenAI-compatible endpoint on loopback whose answer each test sets. */
interface Fake {
  url: string;
  requests: { path: string; auth: string | undefined; body: { model: string; messages: { role: string; content: string }[] } }[];
  answer: (req: IncomingMessage, res: ServerResponse) => void;
}

const input: SummaryInput = {
  messages: [
    { author: 'customer', text: 'My order 2024112900123 has not arrived, call me on 13812345678' },
    { author: 'ai', text: 'Orders ship within 48 hours.' },
  ],
};
const fallback: ConversationSummary = {
  intent: 'order_status',
  wants: 'My order 2024112900123 has not arrived',
  done: 'AI answered 1×',
  lines: ['Intent: order_status', 'Customer wants: My order 2024112900123 has not arrived', 'Done: AI answered 1×'],
  by: 'extractive',
  at: '2026-11-30T08:00:00.000Z',
};
const chat = (content: string) => JSON.stringify({ choices: [{ message: { role: 'assistant', content } }] });

describe('the OpenAI-compatible summary adapter', () => {
  let server: Server;
  const fake: Fake = { url: '', requests: [], answer: () => undefined };
  const warnings: { reason: string }[] = [];
  const logger = { warn: (o: object) => void warnings.push(o as { reason: string }) };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString()));
      req.on('end', () => {
        fake.requests.push({
          path: req.url ?? '',
          auth: req.headers.authorization,
          body: JSON.parse(raw) as Fake['requests'][number]['body'],
        });
        fake.answer(req, res);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    fake.requests.length = 0;
    warnings.length = 0;
  });

  it('asks the endpoint with the key from the named variable and uses its wants and done', async () => {
    fake.answer = (_req, res) =>
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(chat('```json\n{"wants": "Wants the late order found", "done": "The AI gave the shipping times"}\n```'));
    const llm = createLlmSummarizer(
      { baseUrl: `${fake.url}/`, model: 'tiny', apiKeyEnv: 'TEST_LLM_KEY' },
      { env: { TEST_LLM_KEY: 'sk-test' }, logger },
    );
    const s = await llm(input, fallback);
    expect(s).toMatchObject({
      intent: 'order_status',
      wants: 'Wants the late order found',
      done: 'The AI gave the shipping times',
      by: 'llm',
    });
    expect(s.lines).toEqual([
      'Intent: order_status',
      'Customer wants: Wants the late order found',
      'Done: The AI gave the shipping times',
      'Details: order 2024112900123',
    ]);
    const [req] = fake.requests;
    expect(req?.path).toBe('/v1/chat/completions');
    expect(req?.auth).toBe('Bearer sk-test');
    expect(req?.body.model).toBe('tiny');
    const transcript = req!.body.messages.at(-1)!.content;
    expect(transcript).toContain('Customer: My order 2024112900123 has not arrived');
    expect(transcript).toContain('AI: Orders ship within 48 hours.');
    // Phone numbers never leave the server.
    expect(transcript).not.toContain('13812345678');
    expect(warnings).toEqual([]);
  });

  it('falls back to the extractive summary on an error status, a wrong shape or text that is not JSON', async () => {
    const llm = createLlmSummarizer({ baseUrl: fake.url, model: 'tiny' }, { logger });
    for (const answer of [
      (_: IncomingMessage, res: ServerResponse) => res.writeHead(500).end('boom'),
      (_: IncomingMessage, res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"choices": []}'),
      (_: IncomingMessage, res: ServerResponse) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end(chat('The customer wants their order.')),
      (_: IncomingMessage, res: ServerResponse) => res.writeHead(200, { 'content-type': 'application/json' }).end(chat('{"wants": ""}')),
    ]) {
      fake.answer = answer;
      expect(await llm(input, fallback)).toBe(fallback);
    }
    expect(warnings.map((w) => w.reason)).toEqual([
      'the endpoint answered HTTP 500',
      'the answer has no choices[0].message.content',
      'the answer is not a JSON object',
      'the answer lacks "wants" or "done"',
    ]);
    expect(fake.requests[0]?.auth).toBeUndefined();
  });

  it('falls back when the endpoint does not answer in time, is not there, or the key is missing', async () => {
    fake.answer = () => undefined; // never answers
    const slow = createLlmSummarizer({ baseUrl: fake.url, model: 'tiny', timeoutMs: 200 }, { logger });
    expect(await slow(input, fallback)).toBe(fallback);
    const gone = createLlmSummarizer({ baseUrl: 'http://127.0.0.1:9/v1', model: 'tiny' }, { logger });
    expect(await gone(input, fallback)).toBe(fallback);
    const keyless = createLlmSummarizer({ baseUrl: fake.url, model: 'tiny', apiKeyEnv: 'NO_SUCH_KEY' }, { env: {}, logger });
    expect(await keyless(input, fallback)).toBe(fallback);
    expect(warnings.map((w) => w.reason)).toEqual([
      'no answer within 200 ms',
      'the request failed (TypeError)',
      'the environment variable NO_SUCH_KEY holds no API key',
    ]);
  });
});
