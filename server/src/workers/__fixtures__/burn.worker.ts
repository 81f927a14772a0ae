/** A worker for the pool's tests: tasks that hold a thread for a known time. Not part of the build. */

/** Keeps the thread busy for `ms` milliseconds (wall clock, spinning) and returns how many loops it ran. */
export function burn(ms: number): number {
  const end = performance.now() + ms;
  let loops = 0;
  while (performance.now() < end) loops++;
  return loops;
}

/** Fails with a plain error, as a task with a bug would. */
export function fail(message: string): never {
  throw new Error(message);
}
