import type { ConversationSummary } from '../../../../common/ai/assist';
import { maskPii } from '../../../../common/privacy/mask';
import { truncateText } from '../../../../common/text/text';
import type { Logger } from '../../logging/logger';
import { extractDetailsAll } from './entities';
import { summaryLang, summaryLines, WANTS_MAX, type SummaryInput } from './summary';

/**
 * The optional summary writer (issue 10): an OpenAI-compatible chat-completions endpoint
 * (`POST {baseUrl}/chat/completions`, e.g. a local vLLM, Ollama or llama.cpp server, or a hosted one)
 * writes `wants` and `done` instead of the extractive summarizer. Off by default
 * (`ai.assist.summaryLlm`), never required: any failure — no key, a refused request, a timeout, an
 * answer that is not the JSON asked for — returns the extractive summary it was given, and logs why
 * (never the conversation). What is sent: the newest messages, each cut to 500 characters, with phone,
 * ID and card numbers and e-mails masked (`maskPii`); nothing else about the customer.
 */

export interface LlmSummaryConfig {
  /** e.g. `http://127.0.0.1:11434/v1` — `/chat/completions` is appended. */
  baseUrl: string;
  model: string;
  /** The environment variable holding the API key (sent as `Authorization: Bearer`); absent: no key sent. */
  apiKeyEnv?: string;
  /** Default 10,000 ms. */
  timeoutMs?: number;
}

export interface LlmSummaryDeps {
  /** Where the key is read from (`process.env` in the server). */
  env?: Record<string, string | undefined>;
  logger?: Pick<Logger, 'warn'>;
  /** The HTTP client (global `fetch` by default). */
  fetch?: typeof fetch;
}

/** Writes a summary with the model, or returns `fallback` (the extractive one) when it cannot. */
export type LlmSummarizer = (input: SummaryInput, fallback: ConversationSummary) => Promise<ConversationSummary>;

/** Messages sent to the model (the newest) and the characters kept of each. */
export const LLM_MESSAGES_MAX = 30;
const LLM_MESSAGE_CHARS = 500;
const DONE_MAX = 200;
const ROLE = { customer: 'Customer', agent: 'Agent', ai: 'AI', system: 'System' } as const;

/** Why a model's summary was not used (logged). */
class Unusable extends Error {}

export function createLlmSummarizer(config: LlmSummaryConfig, deps: LlmSummaryDeps = {}): LlmSummarizer {
  const url = `${config.baseUrl.replace(/\/+$/, '')}/chat/completions`;
  const timeoutMs = config.timeoutMs ?? 10_000;
  const doFetch = deps.fetch ?? fetch;

  return async (input, fallback) => {
    const lang = summaryLang(input.messages);
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (config.apiKeyEnv) {
        const key = (deps.env ?? process.env)[config.apiKeyEnv];
        if (!key) throw new Unusable(`the environment variable ${config.apiKeyEnv} holds no API key`);
        headers.authorization = `Bearer ${key}`;
      }
      const transcript = input.messages
        .slice(-LLM_MESSAGES_MAX)
        .map((m) => `${ROLE[m.author]}: ${maskPii(truncateText(m.text.replace(/\s+/g, ' '), LLM_MESSAGE_CHARS, '…'))}`)
        .join('\n');
      const language = lang === 'zh' ? 'Simplified Chinese' : 'English';
      const body = {
        model: config.model,
        temperature: 0,
        messages: [
          {
            role: 'system',
            content:
              'You summarise a customer-service conversation for the agent who takes it over. Answer with one JSON object ' +
              `{"wants": "...", "done": "..."} in ${language}: "wants" is what the customer wants in one sentence, "done" is what the AI ` +
              'and agents have done so far in one sentence. No other text. Do not repeat personal data.',
          },
          { role: 'user', content: transcript },
        ],
      };
      const response = await doFetch(url, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Unusable(`the endpoint answered HTTP ${response.status}`);
      const answer = (await response.json()) as { choices?: { message?: { content?: unknown } }[] };
      const content = answer.choices?.[0]?.message?.content;
      if (typeof content !== 'string') throw new Unusable('the answer has no choices[0].message.content');
      const parts = parseParts(content);
      const wants = truncateText(parts.wants, WANTS_MAX, '…');
      const done = truncateText(parts.done, DONE_MAX, '…');
      const details = extractDetailsAll(
        input.messages
          .filter((m) => m.author === 'customer')
          .map((m) => m.text)
          .reverse(),
      );
      const summary = { intent: fallback.intent, wants, done };
      return { ...summary, lines: summaryLines(summary, lang, details), by: 'llm', at: fallback.at };
    } catch (error) {
      const reason =
        error instanceof Unusable
          ? error.message
          : error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
            ? `no answer within ${timeoutMs} ms`
            : `the request failed (${error instanceof Error ? error.name : typeof error})`;
      deps.logger?.warn({ endpoint: config.baseUrl, reason }, 'LLM summary not used; the extractive summary stands');
      return fallback;
    }
  };
}

/** `{"wants","done"}` from the model's text (a ```json fence around it is allowed). */
function parseParts(content: string): { wants: string; done: string } {
  const json = /\{[\s\S]*\}/.exec(content)?.[0];
  if (!json) throw new Unusable('the answer is not a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Unusable('the answer is not valid JSON');
  }
  const { wants, done } = (parsed ?? {}) as { wants?: unknown; done?: unknown };
  if (typeof wants !== 'string' || typeof done !== 'string' || !wants.trim() || !done.trim()) {
    throw new Unusable('the answer lacks "wants" or "done"');
  }
  return { wants: wants.replace(/\s+/g, ' ').trim(), done: done.replace(/\s+/g, ' ').trim() };
}
