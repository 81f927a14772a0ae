/**
 * Child process of writer-crash.test.ts: opens the session store with its writer thread and appends
 * messages from several customers, several in flight each, reporting every ack to the parent over IPC
 * until the parent kills it (SIGKILL). argv: <data dir> <hold|free> [resend]
 */
import { join } from 'node:path';
import { createLocalKeyProvider } from '../../src/keys/provider.local';
import { createSqliteSessionStore } from '../../src/sessions/store.sqlite';
import { crashDraft } from './writer-crash.draft';

const [dir, mode] = process.argv.slice(2) as [string, 'hold' | 'free'];
const CUSTOMERS = 4;
const PER_CUSTOMER = 400;
const IN_FLIGHT = 8;
const send = (message: unknown) => process.send!(message);

async function main() {
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const store = await createSqliteSessionStore({
    path: join(dir, 'huiliu.db'),
    keys,
    writer: 'worker',
    ...(mode === 'hold' ? { holdBatchAfterJobs: 300, onWriterHeld: (jobs: number) => send({ held: jobs }) } : {}),
  });
  send({ ready: true });
  await Promise.all(
    Array.from({ length: CUSTOMERS }, async (_, customer) => {
      let next = 0;
      const lane = async () => {
        while (next < PER_CUSTOMER) {
          const n = next++;
          const r = await store.appendInbound(crashDraft(customer, n), { skillGroup: 'general' });
          send({ acked: r.envelope.clientMessageId, seq: r.envelope.seq, conversationId: r.envelope.conversationId });
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
    }),
  );
  send({ done: true });
}

void main();
