/**
 * Erlang C (M/M/N queue: Poisson arrivals, exponential handling, N agents, an infinite queue, no
 * abandonment, first come first served): the textbook check of the what-if simulator (issue 11).
 *
 * - Traffic intensity `A = λ × AHT` in Erlangs (arrivals per second × mean handle seconds).
 * - `C(N, A)`: the probability that a contact waits at all, from Erlang B by the stable recursion
 *   `B(0) = 1`, `B(k) = A·B(k−1) / (k + A·B(k−1))`, then `C = N·B / (N − A·(1 − B))`.
 * - Service level `SL(t) = 1 − C(N, A) · e^(−(N − A)·t / AHT)`: the share answered within `t` seconds.
 * - Average speed of answer `ASA = C(N, A) · AHT / (N − A)`.
 * Defined for `A < N` (a stable queue); for `A ≥ N` every contact waits and the queue grows without bound.
 */

/** The probability of waiting, `C(N, A)`; 1 when `A ≥ N`. `agents` ≥ 1 (an integer), `erlangs` ≥ 0. */
export function erlangC(agents: number, erlangs: number): number {
  if (!Number.isInteger(agents) || agents < 1) throw new RangeError(`agents must be an integer ≥ 1, got ${agents}`);
  if (!(erlangs >= 0)) throw new RangeError(`erlangs must be ≥ 0, got ${erlangs}`);
  if (erlangs >= agents) return 1;
  let b = 1;
  for (let k = 1; k <= agents; k++) b = (erlangs * b) / (k + erlangs * b);
  return (agents * b) / (agents - erlangs * (1 - b));
}

/** Service level: the share of contacts answered within `thresholdSeconds`, 0..1 (0 when `A ≥ N`). */
export function erlangServiceLevel(agents: number, erlangs: number, ahtSeconds: number, thresholdSeconds: number): number {
  if (erlangs >= agents) return 0;
  return 1 - erlangC(agents, erlangs) * Math.exp((-(agents - erlangs) * thresholdSeconds) / ahtSeconds);
}

/** Average speed of answer, seconds (Infinity when `A ≥ N`). */
export function erlangAsa(agents: number, erlangs: number, ahtSeconds: number): number {
  if (erlangs >= agents) return Infinity;
  return (erlangC(agents, erlangs) * ahtSeconds) / (agents - erlangs);
}
