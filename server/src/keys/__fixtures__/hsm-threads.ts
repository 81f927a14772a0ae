// Test fixture (provider.pkcs11.test.ts): the PKCS#11 provider used from several threads of one process
// at once, as the server does (main thread, session writer, CPU workers). Run as a child process:
// `node --import tsx hsm-threads.ts <lib> <token> <pin> <label> <threads> <rounds>`; prints one JSON
// line `{ok, failed, errors}` summed over the threads and exits 0 — or the process dies (a library
// that was not told threads share it may corrupt its heap).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startWorker } from '../../runtime/worker-entry';
import { createPkcs11KeyProvider } from '../provider.pkcs11';

interface Job {
  lib: string;
  token: string;
  pin: string;
  keyLabel: string;
  rounds: number;
}
interface Tally {
  ok: number;
  failed: number;
  errors: string[];
}

async function hammer(job: Job): Promise<Tally> {
  const provider = createPkcs11KeyProvider({ lib: job.lib, token: job.token, pin: job.pin, keyLabel: job.keyLabel });
  const tally: Tally = { ok: 0, failed: 0, errors: [] };
  try {
    for (let i = 0; i < job.rounds; i++) {
      try {
        const { plain, wrapped } = await provider.generateDataKey();
        if (!(await provider.unwrapDataKey(wrapped)).equals(plain)) throw new Error('unwrapped another key');
        tally.ok++;
      } catch (error) {
        tally.failed++;
        if (tally.errors.length < 5) tally.errors.push(String((error as Error).message).slice(0, 200));
      }
    }
  } finally {
    await provider.close();
  }
  return tally;
}

/** The main thread: its own provider first (it initialises the module, as the server's does), then the others. */
async function main(): Promise<void> {
  const [lib, token, pin, keyLabel, threads, rounds] = process.argv.slice(2);
  const job: Job = { lib: lib!, token: token!, pin: pin!, keyLabel: keyLabel!, rounds: Number(rounds) };
  const mine = hammer(job);
  const others = Array.from(
    { length: Number(threads) - 1 },
    () =>
      new Promise<Tally>((resolve, reject) => {
        const worker = startWorker('keys/__fixtures__/hsm-threads', { workerData: job });
        worker.once('message', resolve);
        worker.once('error', reject);
      }),
  );
  const all = await Promise.all([mine, ...others]);
  process.stdout.write(
    `${JSON.stringify({
      ok: all.reduce((n, t) => n + t.ok, 0),
      failed: all.reduce((n, t) => n + t.failed, 0),
      errors: all.flatMap((t) => t.errors).slice(0, 5),
    })}\n`,
  );
  process.exit(0);
}

// No top-level await: a worker loads this file through tsx's CommonJS hooks (runtime/worker-entry.ts).
if (isMainThread) void main();
else void hammer(workerData as Job).then((tally) => parentPort!.postMessage(tally));
