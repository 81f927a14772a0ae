/**
 * `npx tsx server/bench/logging.ts`: what PII masking costs a log line (issue 8), against a baseline
 * in the same run. Bounded: N lines per row (env `BENCH_LOG_N`, default 100,000), written to a sink
 * that drops them, so only formatting and masking are measured.
 *
 *   pino, same options, no masking  — the baseline: Huiliu's pino options and multistream, no mask
 *   Huiliu logger (masked)           — `createLogger`: the same, every line through `maskPii`
 *   maskPii / maskPiiExhaustive      — the masking function alone on the serialized lines: the fast
 *                                      path against every pattern on every line (what masking did
 *                                      before issue 8)
 *
 * Rows are printed for ordinary lines (the usual case: no personal data) and for lines that hold a
 * phone number, so the slow path is seen too.
 */
import pino from 'pino';
import { maskPii, maskPiiExhaustive } from '../../common/privacy/mask';
import { createLogger, loggerOptions, type Logger } from '../src/logging/logger';

const N = Number(process.env.BENCH_LOG_N ?? 100_000);
const sink = { write: (_line: string) => undefined };

/** The lines the server writes at info and debug, as their callers log them. */
const ordinary = (log: Logger, i: number) => {
  switch (i % 4) {
    case 0:
      return log.info(
        { reqId: `req-${i}`, req: { method: 'POST', url: '/api/v1/channels/app/messages?externalId=x', ip: '127.0.0.1' } },
        'incoming request',
      );
    case 1:
      return log.info({ reqId: `req-${i}`, res: { statusCode: 202 }, responseTime: 3.000000000000135 }, 'request completed');
    case 2:
      return log.info(
        { component: 'router', sessionId: 'AP169208100012348213', agentId: '01a217af-518a-76c9-b3e0-cc994d61d475' },
        'offer timed out',
      );
    default:
      return log.info({ component: 'agent-hub', user: 'agent1' }, 'agent connected');
  }
};
const personal = (log: Logger, i: number) =>
  log.info({ component: 'gateway.app', note: `customer called from +86 138 0013 ${8000 + (i % 1000)}` }, 'lookup');

function rate(label: string, run: () => void): number {
  for (let i = 0; i < Math.min(N, 5000); i++) run(); // warm up the JIT
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) run();
  const perSecond = N / (Number(process.hrtime.bigint() - t0) / 1e9);
  process.stdout.write(`  ${label.padEnd(52)} ${perSecond.toFixed(0).padStart(10)} lines/s\n`);
  return perSecond;
}

function main(): void {
  process.stdout.write(`Logging benchmark (N=${N} lines per row, Node ${process.version})\n`);
  const bare = pino(loggerOptions('info'), pino.multistream([{ level: 'trace', stream: sink }]));
  const masked = createLogger({ level: 'info', destination: sink });
  // The serialized lines, to time the masking function alone.
  const serialized: string[] = [];
  const capture = pino(loggerOptions('info'), { write: (line: string) => void serialized.push(line) });
  for (let i = 0; i < 8; i++) (i < 4 ? ordinary : personal)(capture, i);

  const ratios: [string, number][] = [];
  for (const [kind, write, lines] of [
    ['ordinary lines', ordinary, serialized.slice(0, 4)],
    ['lines with a phone number', personal, serialized.slice(4)],
  ] as const) {
    process.stdout.write(`\n  ${kind}\n`);
    let i = 0;
    const base = rate('pino, same options, no masking (baseline)', () => write(bare, i++));
    const withMask = rate('Huiliu logger (masked)', () => write(masked, i++));
    const fast = rate('maskPii alone', () => maskPii(lines[i++ % lines.length]!));
    const exhaustive = rate('maskPiiExhaustive alone (every pattern, every line)', () => maskPiiExhaustive(lines[i++ % lines.length]!));
    ratios.push([`${kind}: masked logger / pino without masking`, withMask / base]);
    ratios.push([`${kind}: maskPii / maskPiiExhaustive`, fast / exhaustive]);
  }
  process.stdout.write('\n  ratio against the baseline of this run\n');
  for (const [what, ratio] of ratios) process.stdout.write(`  ${what.padEnd(62)} ${(ratio * 100).toFixed(1).padStart(7)} %\n`);
}

main();
