/** A job that runs at start and then every `everyMs`, one run at a time (see `runPeriodically`). */
export interface PeriodicJob<T> {
  /** Runs the job now, after any run in progress; resolves with this run's result. */
  run(): Promise<T>;
  /** Stops the timer and waits for the run in progress. */
  stop(): Promise<void>;
}

/**
 * Runs `once` now and then every `everyMs` milliseconds (an unref'd timer: it never keeps the process
 * alive), never two runs at once: a run asked for while one is going waits for it. `once` must not
 * throw (it logs and audits its own failures); `initial` is the result before the first run ends.
 */
export function runPeriodically<T>(once: () => Promise<T>, everyMs: number, initial: T): PeriodicJob<T> {
  let current: Promise<T> = Promise.resolve(initial);
  const run = () => (current = current.then(once, once));
  const timer = setInterval(() => void run(), everyMs);
  timer.unref();
  void run();
  return {
    run,
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
