import { useSyncExternalStore } from 'react';

/**
 * One shared wall clock for the UI (issue 15): a single 1 s timer, running only while something
 * watches it, instead of a timer (and a re-render of a whole list) per component. Components read
 * what they show of it with `useClock(select)` and re-render only when that value changes: a wait of
 * "12m" re-renders once a minute, a countdown once a second, and a row around them not at all.
 */

const TICK_MS = 1000;
const listeners = new Set<() => void>();
let timer: ReturnType<typeof setInterval> | null = null;
let now = Date.now();

function tick(): void {
  now = Date.now();
  for (const listener of listeners) listener();
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (timer === null) {
    now = Date.now();
    timer = setInterval(tick, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer !== null) {
      clearInterval(timer);
      timer = null;
    }
  };
}

/** The clock's time (epoch ms): the last tick while it runs; when nothing watches it, now to the second. */
export function clockNow(): number {
  if (timer === null && Math.abs(Date.now() - now) >= TICK_MS) now = Date.now();
  return now;
}

/** How many components watch the clock now (tests: one timer for a whole list, none once it is gone). */
export const clockWatchers = (): number => listeners.size;

/**
 * `select(now)` (now in epoch ms, updated once a second), re-rendering the calling component only when
 * the selected value changes (`Object.is`): select a string or number, not a new object.
 */
export function useClock<T extends string | number | boolean>(select: (now: number) => T): T {
  return useSyncExternalStore(subscribe, () => select(clockNow()));
}
