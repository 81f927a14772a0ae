// Test fixture (provider.pkcs11.test.ts): several threads open their first PKCS#11 provider at the same
// moment while the module is not initialised (C_Initialize racing C_Initialize), round after round (the
// main thread finalises between rounds). Run as a child process:
// `node --import tsx hsm-init-race.ts <lib> <token> <pin> <label> <threads> <rounds>`; prints one JSON
// line `{ok, failed, errors}` and exits 0 — or the process dies (SIGSEGV in a half-initialised library).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startWorker } from '../../runtime/worker-entry';
import { createPkcs11KeyProvider } from '../provider.pkcs11';

interface Job {
  lib: string;
  token: string;
  pin: string;
  keyLabel: string;
  /** Workers count down at 0 and start together when it reaches 0. */
  gate: SharedArrayBuffer;
}
interface Tally {
  ok: number;
  failed: number;
  errors: string[];
}

/** A worker: waits for the others, opens its provider, wraps and unwraps once, closes it. */
async function once(job: Job): Promise<Tally> {
  const gate = new Int32Array(job.gate);
  Atomics.sub(gate, 0, 1);
  while (Atomics.load(gate, 0) > 0) Atomics.wait(gate, 0, Atomics.load(gate, 0), 5);
  Atomics.notify(gate, 0);
  try {
    const provider = createPkcs11KeyProvider({ lib: job.lib, token: job.token, pin: job.pin, keyLabel: job.keyLabel });
    try {
      const { plain, wrapped } = await provider.generateDataKey();
      if (!(await provider.unwrapDataKey(wrapped)).equals(plain)) throw new Error('unwrapped another key');
    } finally {
      await provider.close();
    }
    return { ok: 1, failed: 0, errors: [] };
  } catch (error) {
    return { ok: 0, failed: 1, errors: [String((error as Error).message).slice(0, 200)] };
  }
}

async function main(): Promise<void> {
  const [lib, token, pin, keyLabel, threads, rounds] = process.argv.slice(2);
  const total: Tally = { ok: 0, failed: 0, errors: [] };
  // The KEK exists before the races (its creation is not what they test).
  await createPkcs11KeyProvider({ lib: lib!, token: token!, pin: pin!, keyLabel: keyLabel! }).close();
  for (let r = 0; r < Number(rounds); r++) {
    const gate = new SharedArrayBuffer(4);
    new Int32Array(gate)[0] = Number(threads);
    const job: Job = { lib: lib!, token: token!, pin: pin!, keyLabel: keyLabel!, gate };
    const tallies = await Promise.all(
      Array.from(
        { length: Number(threads) },
        () =>
          new Promise<Tally>((resolve, reject) => {
            const worker = startWorker('keys/__fixtures__/hsm-init-race', { workerData: job });
            worker.once('message', (t: Tally) => {
              resolve(t);
              void worker.terminate();
            });
            worker.once('error', reject);
          }),
      ),
    );
    for (const t of tallies) {
      total.ok += t.ok;
      total.failed += t.failed;
      total.errors.push(...t.errors.slice(0, 5 - total.errors.length));
    }
    // The main thread's provider opened and closed: the module is finalised again for the next round.
    await createPkcs11KeyProvider({ lib: lib!, token: token!, pin: pin!, keyLabel: keyLabel! }).close();
  }
  process.stdout.write(`${JSON.stringify(total)}\n`);
  process.exit(0);
}

// No top-level await: a worker loads this file through tsx's CommonJS hooks (runtime/worker-entry.ts).
if (isMainThread) void main();
else void once(workerData as Job).then((tally) => parentPort!.postMessage(tally));
