import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino, { type Logger, type DestinationStream } from 'pino';
import { maskPii } from '../../../common/privacy/mask';

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
 * Masks each serialized line just before it is written, so nothing escapes masking: messages, bound
 * fields, serialized errors and stack traces alike. Times are ISO strings so no epoch digit run can
 * look like a card number.
 */
export function maskingStream(inner: DestinationStream): DestinationStream {
  return { write: (line: string) => inner.write(maskPii(line)) };
}

/** The one logger factory: PII masked on every line, secret fields censored outright. */
export function createLogger(options: LoggerOptions): Logger {
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: maskingStream(options.destination ?? pino.destination(1)) }];
  if (options.dir) {
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    const file = pino.destination({ dest: join(options.dir, 'huiliu.log'), mkdir: true, sync: false });
    streams.push({ level: 'trace', stream: maskingStream(file) });
  }
  return pino(
    {
      level: options.level,
      base: { service: 'huiliu' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: { paths: SECRET_PATHS, censor: '[secret]' },
    },
    pino.multistream(streams),
  );
}
