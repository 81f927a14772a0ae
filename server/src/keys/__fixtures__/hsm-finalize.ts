// Test fixture (provider.pkcs11.test.ts): the main thread closes its last PKCS#11 provider while another
// thread of the process is wrapping and unwrapping on its own provider. Run as a child process:
// `node --import tsx hsm-finalize.ts <lib> <token> <pin> <label> <rounds>`; prints one JSON line
// `{ok, failed, errors}` of the other thread and exits 0 — or the process dies (C_Finalize under a
// thread that is in the module: SIGSEGV in SoftHSM2).
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

/** The other thread: says it started, then wraps and unwraps `rounds` times (yielding now and then). */
async function hammer(job: Job): Promise<Tally> {
  const provider = createPkcs11KeyProvider({ lib: job.lib, token: job.token, pin: job.pin, keyLabel: job.keyLabel });
  parentPort!.postMessage('started');
  const tally: Tally = { ok: 0, failed: 0, errors: [] };
  for (let i = 0; i < job.rounds; i++) {
    try {
      const { plain, wrapped } = await provider.generateDataKey();
      if (!(await provider.unwrapDataKey(wrapped)).equals(plain)) throw new Error('unwrapped another key');
      tally.ok++;
    } catch (error) {
      tally.failed++;
      if (tally.errors.length < 5) tally.errors.push(String((error as Error).message).slice(0, 200));
    }
    if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await provider.close();
  return tally;
}

/** The main thread: its provider first (it initialises the module), the other thread, then its close. */
async function main(): Promise<void> {
  const [lib, token, pin, keyLabel, rounds] = process.argv.slice(2);
  const job: Job = { lib: lib!, token: token!, pin: pin!, keyLabel: keyLabel!, rounds: Number(rounds) };
  const mine = createPkcs11KeyProvider(job);
  await mine.generateDataKey();
  const worker = startWorker('keys/__fixtures__/hsm-finalize', { workerData: job });
  const tally = new Promise<Tally>((resolve, reject) => {
    worker.on('message', (m: unknown) => void (m !== 'started' && resolve(m as Tally)));
    worker.once('error', reject);
  });
  await new Promise((resolve) => worker.once('message', resolve));
  await new Promise((resolve) => setTimeout(resolve, 200));
  // The main thread's last provider closes while the other thread is in the module.
  await mine.close();
  process.stdout.write(`${JSON.stringify(await tally)}\n`);
  process.exit(0);
}

// No top-level await: a worker loads this file through tsx's CommonJS hooks (runtime/worker-entry.ts).
if (isMainThread) void main();
else void hammer(workerData as Job).then((tally) => parentPort!.postMessage(tally));
