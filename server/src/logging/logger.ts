import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger, type DestinationStream } from 'pino';
import { maskPii } from '../../../common/privacy/mask';
import { truncateText } from '../../../common/text/text';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** Also append JSON lines to `<dir>/huiliu.log`. */
  dir?: string;
  /** Where to write instead of stdout (tests pass a stream they read back). */
  destination?: DestinationStream;
}

/** Header and body fields whose values are secrets: never written, whatever their content. */
const SECRET_PATHS = [
  'req.headers.authorization',
  'req.headers["x-huiliu-key"]',
  'req.headers.cookie',
  'password',
  'token',
  '*.password',
  '*.token',
  '*.visitorToken',
];

/**
 * Fields that hold personal data whatever they look like (DESIGN §8): channel external ids (an app's
 * user id may be a phone, an e-mail or anything else; an XMPP `jid`) and query objects. Never written.
 */
const PERSONAL_PATHS = ['externalId', '*.externalId', '*.*.externalId', 'query', '*.query', 'jid', '*.jid'];
// `jid` (issue 12): an XMPP address is a channel external id (`user@localhost` escapes the e-mail mask).
const PERSONAL_KEYS = new Set(['externalId', 'query', 'jid']);

/** Longest string value written in one log field (UTF-16 code units), cut by grapheme with `…`. */
export const LOG_STRING_MAX = 2048;

/**
 * What a request log line says about the request: method and path, never the query string
 * (channel routes carry customer ids there, e.g. `?externalId=%2B86…`).
 * @param req a Fastify request or a Node `IncomingMessage`
 */
export function serializeRequest(req: { method?: string; url?: string; ip?: string; socket?: { remoteAddress?: string } | null }) {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return {
    method: req.method,
    url: q === -1 ? url : `${url.slice(0, q)}?[query]`,
    remoteAddress: req.ip ?? req.socket?.remoteAddress,
  };
}

/** Cuts long strings in a log object by grapheme; walks plain objects and arrays only (not requests, errors). */
function boundStrings(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return value.length > LOG_STRING_MAX ? truncateText(value, LOG_STRING_MAX, '…') : value;
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => boundStrings(v, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = boundStrings(v, depth + 1);
  return out;
}

/**
 * Masks each serialized line just before it is written, so nothing escapes masking: messages, bound
 * fields, serialized errors and stack traces alike. Times are ISO strings so no epoch digit run can
 * look like a card number.
 */
export function maskingStream(inner: DestinationStream): DestinationStream {
  return { write: (line: string) => inner.write(maskPii(line)) };
}

/**
 * The pino options of every Huiliu logger (level aside): ISO times, secret and personal fields
 * censored, requests serialized without their query, long strings cut. Masking is not here: it is
 * the stream `createLogger` writes through. Exported for the logging benchmark's baseline.
 */
export function loggerOptions(level: string): pino.LoggerOptions {
  return {
    level,
    base: { service: 'huiliu' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [...SECRET_PATHS, ...PERSONAL_PATHS],
      censor: (_v, path) => (PERSONAL_KEYS.has(String(path.at(-1))) ? '[personal]' : '[secret]'),
    },
    serializers: { req: serializeRequest },
    formatters: { log: (obj) => boundStrings(obj) as Record<string, unknown> },
  };
}

/** The one logger factory: PII masked on every line, secret fields censored outright. */
export function createLogger(options: LoggerOptions): Logger {
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: maskingStream(options.destination ?? pino.destination(1)) }];
  if (options.dir) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    const file = pino.destination({ dest: join(options.dir, 'huiliu.log'), mkdir: true, sync: false });
    streams.push({ level: 'trace', stream: maskingStream(file) });
  }
  return pino(loggerOptions(options.level), pino.multistream(streams));
}
