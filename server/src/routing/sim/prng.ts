/**
 * A small seeded pseudo-random generator for the what-if simulator: the same seed gives the same
 * workload and the same draws on every machine, so a simulation can be repeated exactly.
 *
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state, as in PractRand),
 * seeded through splitmix32 so that nearby seeds (1, 2, 3 …) give unrelated streams. Not for
 * anything secret.
 */
export interface Random {
  /** Uniform in [0, 1), 32 bits of resolution. */
  next(): number;
  /** Exponentially distributed with the given mean (> 0); `Infinity` for an infinite mean. */
  exponential(mean: number): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** A generator seeded with `seed` (any integer; the low 32 bits and the sign are used). */
export function createRandom(seed: number): Random {
  const init = splitmix32(Math.trunc(seed) ^ (seed < 0 ? 0x5bd1e995 : 0));
  let a = init();
  let b = init();
  let c = init();
  let d = init();
  const u32 = () => {
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  // Discard the first outputs: the state mixes fully after a few rounds.
  for (let i = 0; i < 12; i++) u32();
  const next = () => u32() / 4_294_967_296;
  return {
    next,
    exponential(mean) {
      if (mean === Infinity) return Infinity;
      // 1 − u is in (0, 1]: never log(0).
      return -mean * Math.log(1 - next());
    },
    int(n) {
      return Math.floor(next() * n);
    },
  };
}

/** A uniform number in [0, 1) fixed by `seed` and `key` alone (a per-contact draw that needs no stream order). */
export function hashUniform(seed: number, key: number): number {
  let h = Math.imul((seed ^ 0x27d4eb2d) >>> 0, 0x165667b1) ^ Math.imul(key >>> 0, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca77);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae3d);
  return ((h ^ (h >>> 16)) >>> 0) / 4_294_967_296;
}
