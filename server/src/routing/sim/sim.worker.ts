/**
 * The what-if simulator's worker thread (`workers/pool.ts` with source `routing/sim/sim.worker`): a
 * replay of 100,000 contacts is seconds of CPU, so it runs here, never on the sockets' thread, and in
 * a pool of its own so the scoring and model-training tasks of the CPU pool never wait behind it.
 * Every named export is a task; inputs and results are plain data (structured clone).
 */
import { unpack, whatIf as compare, type PackedWhatIfInput } from './what-if';

/** Simulates a packed workload (`what-if.ts` `pack`) under the current and the draft config (`whatIf`). */
export function whatIf(input: PackedWhatIfInput): ReturnType<typeof compare> {
  return compare(unpack(input));
}
