/** A worker for the pool's tests whose module fails to load, as a worker with a missing dependency would. */
throw new Error('this worker cannot load');

/** Never reached. */
export function echo(input: number): number {
  return input;
}
