/** Small statistics for the benchmark: quantiles of latency samples and the median of repeated runs. */

/** The `q` quantile (0..1) of an ascending array by nearest rank; NaN for no samples. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** p50 / p99 / max of latency samples in milliseconds (sorts `samples` in place). */
export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(samples: number[]): LatencySummary {
  samples.sort((a, b) => a - b);
  return { count: samples.length, p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), max: samples.at(-1) ?? NaN };
}

/**
 * The run whose `by` is the median of `runs` (the lower middle for an even count), so the numbers
 * printed beside it (p50, p99, errors) come from the same run. Throws on an empty list.
 */
export function medianRun<T>(runs: readonly T[], by: (run: T) => number): T {
  if (runs.length === 0) throw new Error('medianRun: no runs');
  const sorted = [...runs].sort((a, b) => by(a) - by(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** Milliseconds since an arbitrary origin, with sub-microsecond resolution. */
export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
