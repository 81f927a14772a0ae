/**
 * The benchmark's load generator: a process of its own (run.ts forks it), so the server under test
 * and its baseline never share a thread or a heap with the load. It says `ready`, takes one job from
 * the parent over IPC (jobs.ts), answers with the result and exits.
 */
import { Agent, get } from 'node:https';
import WebSocket from 'ws';
import { WIDGET_PATH } from '../../common/web/widget-protocol';
import type {
  GeneratorMessage,
  HealthzJob,
  HealthzResult,
  IdleJob,
  IdleResult,
  Job,
  ParentMessage,
  Target,
  WidgetJob,
  WidgetResult,
} from './jobs';
import { TEXT } from './jobs';
import { runAgentJob } from './latency';
import { nowMs, sleep, summarize } from './stats';

const tell = (message: GeneratorMessage): void => void process.send!(message);

/** Widget handshakes in flight at once: enough to fill the server, few enough not to time out. */
const CONNECT_CONCURRENCY = 64;

interface WidgetSocket {
  ws: WebSocket;
  /** Resolves with the first frame of `type` (the welcome after hello). */
  onFrame: (handler: (frame: { type: string; clientMessageId?: string }) => void) => void;
}

/** Opens one widget WebSocket, says hello as a new visitor and waits for the welcome. */
function openWidget(target: Target, localAddress?: string): Promise<WidgetSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${target.origin.replace('https:', 'wss:')}${WIDGET_PATH}`, {
      ca: target.caPem,
      perMessageDeflate: false,
      ...(localAddress ? { localAddress } : {}),
    });
    let handler: (frame: { type: string; clientMessageId?: string }) => void = (frame) => {
      if (frame.type === 'welcome') resolve(socket);
    };
    const socket: WidgetSocket = { ws, onFrame: (h) => (handler = h) };
    ws.on('message', (data) => handler(JSON.parse(data.toString()) as { type: string }));
    ws.once('open', () => ws.send(JSON.stringify({ type: 'hello' })));
    // After the welcome, a reset shows up as a close (counted by the widget job); never as a crash.
    ws.on('error', reject);
    ws.once('close', () => reject(new Error('closed before welcome')));
  });
}

/** Runs `open` `count` times with at most `concurrency` in flight; failures are counted, not thrown. */
async function openMany<T>(count: number, concurrency: number, open: (i: number) => Promise<T>, deadline = Infinity) {
  const opened: T[] = [];
  let next = 0;
  const lane = async () => {
    while (next < count && Date.now() < deadline) {
      const i = next++;
      try {
        opened.push(await open(i));
      } catch {
        // counted below
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  // Those never tried before the deadline count as failed too.
  return { opened, failed: count - opened.length };
}

async function widgetJob(job: WidgetJob): Promise<WidgetResult> {
  const { opened, failed } = await openMany(job.clients, CONNECT_CONCURRENCY, () => openWidget(job.target));
  if (failed) throw new Error(`${failed} of ${job.clients} widget connections failed`);
  let phase: 'warmup' | 'measure' | 'stop' = 'warmup';
  let acked = 0;
  let ackedTotal = 0;
  let errors = 0;
  let closes = 0;
  let inflight = 0;
  const latencies: number[] = [];
  const body = JSON.stringify(TEXT);
  opened.forEach((s, c) => {
    let n = 0;
    let id = '';
    let t0 = 0;
    const sendNext = () => {
      id = `bench-${process.pid}-${c}-${n++}`;
      t0 = nowMs();
      inflight++;
      // The frame is built as text so every client pays the same small cost on every path.
      s.ws.send(`{"type":"message","clientMessageId":"${id}","text":${body}}`);
    };
    s.onFrame((frame) => {
      if (frame.type === 'ack' && frame.clientMessageId === id) {
        inflight--;
        ackedTotal++;
        if (phase === 'measure') {
          acked++;
          latencies.push(nowMs() - t0);
        }
        if (phase !== 'stop') sendNext();
      } else if (frame.type === 'error') {
        errors++;
      }
    });
    s.ws.on('close', () => {
      if (phase !== 'stop') closes++;
    });
    sendNext();
  });
  await sleep(job.warmupMs);
  phase = 'measure';
  const t0 = nowMs();
  const cpu0 = process.cpuUsage();
  await sleep(job.durationMs);
  phase = 'stop';
  const seconds = (nowMs() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const drainUntil = Date.now() + 5000;
  while (inflight > 0 && Date.now() < drainUntil) await sleep(10);
  for (const s of opened) s.ws.terminate();
  return {
    clients: job.clients,
    acked,
    ackedTotal,
    seconds,
    rate: acked / seconds,
    ack: summarize(latencies),
    errors,
    closes,
    generatorCores: (cpu.user + cpu.system) / 1e6 / seconds,
  };
}

async function healthzJob(job: HealthzJob): Promise<HealthzResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1, ca: job.target.caPem });
  const once = () =>
    new Promise<number>((resolve) => {
      const req = get(`${job.target.origin}/healthz`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', () => resolve(0));
    });
  // The first request pays the TLS handshake: it is made before the window and not counted.
  await once();
  await sleep(job.delayMs);
  const samples: number[] = [];
  let failures = 0;
  const end = nowMs() + job.durationMs;
  while (nowMs() < end) {
    const t0 = nowMs();
    if ((await once()) !== 200) failures++;
    const took = nowMs() - t0;
    samples.push(took);
    if (took < job.intervalMs) await sleep(job.intervalMs - took);
  }
  agent.destroy();
  return { latency: summarize(samples), failures };
}

async function idleJob(job: IdleJob): Promise<void> {
  const t0 = nowMs();
  const { opened, failed } = await openMany(
    job.count,
    CONNECT_CONCURRENCY,
    () => openWidget(job.target, job.localAddress),
    Date.now() + job.timeoutMs,
  );
  const result: IdleResult = { connected: opened.length, failed, seconds: (nowMs() - t0) / 1000 };
  tell({ type: 'holding', result });
  await new Promise<void>((resolve) =>
    process.on('message', (m: ParentMessage) => {
      if (m.type === 'release') resolve();
    }),
  );
  for (const s of opened) s.ws.terminate();
  tell({ type: 'result', result });
}

async function run(job: Job): Promise<void> {
  switch (job.kind) {
    case 'widget':
      return tell({ type: 'result', result: await widgetJob(job) });
    case 'healthz':
      return tell({ type: 'result', result: await healthzJob(job) });
    case 'agent':
      return tell({ type: 'result', result: await runAgentJob(job) });
    case 'idle':
      return idleJob(job);
  }
}

process.once('message', (m: ParentMessage) => {
  if (m.type !== 'job') return;
  run(m.job)
    .catch((error: unknown) => tell({ type: 'failed', error: error instanceof Error ? (error.stack ?? error.message) : String(error) }))
    .finally(() => process.disconnect());
});
tell({ type: 'ready' });
