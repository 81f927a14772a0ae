/** Polls `cond` every few milliseconds until it holds, or throws after `ms`. */
export async function until(cond: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Polls `probe` until it gives a value (not null), and returns it; throws after `ms`. */
export async function eventually<T>(probe: () => Promise<T | null> | T | null, ms = 5000): Promise<T> {
  let value: T | null = null;
  await until(async () => (value = await probe()) !== null, ms);
  return value as T;
}
