/**
 * Inbound message → on the agent's screen (DESIGN §9: p99 ≤ 50 ms at 1,000 msg/s; issue 8: ≥ 5,000
 * msg/s with p99 ≤ 50 ms and nothing lost). Runs inside a load-generator process (generator.ts):
 * messages are POSTed over HTTPS keep-alive (poster.ts) at a paced rate and timed until the agent's socket.io
 * client (TLS WebSocket) receives an event carrying them. Against Huiliu they enter through the app
 * channel route and arrive as the queue row's preview (`queue:upsert`) or, once the session is the
 * agent's, as `message:new`, whichever is first; against the baseline (baselines.ts) a bare Fastify
 * route emits the same text to the socket directly: no store, no bus, no router.
 */
import { Agent, request } from 'node:https';
import { io as connect, type Socket } from 'socket.io-client';
import type { AgentJob, AgentStep, AgentStepResult, Target } from './jobs';
import { TEXT } from './jobs';
import { KeepAlivePoster, type PostAnswer } from './poster';
import { nowMs, sleep, summarize } from './stats';

/**
 * Keep-alive TLS connections the posts share, one request in flight on each, all open before the
 * first step: 10,000 msg/s at 5 ms each keeps 50 busy.
 */
const SOCKETS = 64;

/** How long after the last post a step waits for the stragglers before counting them lost. */
const DRAIN_MS = 5000;

interface Answer {
  status: number;
  body: string;
}

function post(agent: Agent, target: Target, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve) => {
    const payload = JSON.stringify(body);
    const req = request(
      `${target.origin}${path}`,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), ...headers },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', (error) => resolve({ status: 0, body: error.message }));
    req.end(payload);
  });
}

function socketFor(url: string, caPem: string, auth: Record<string, string>): Promise<Socket> {
  // socket.io-client hands `ca` to its WebSocket transport; its options type does not list it.
  const socket = connect(url, { auth, transports: ['websocket'], ca: caPem, reconnection: false } as never);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', reject);
  });
}

/**
 * Runs `job.steps` in order on one agent socket and one keep-alive agent; a step that fails with
 * `stopOnFail` ends the run. Each message carries a marker `m<n>;` unique in the run.
 * @returns one result per step run; latency in ms from the post being issued to the socket event.
 */
export async function runAgentJob(job: AgentJob): Promise<AgentStepResult[]> {
  const { target } = job;
  const agent = new Agent({ keepAlive: true, ca: target.caPem });
  let socket: Socket;
  if (job.mode === 'huiliu') {
    const login = await post(agent, target, '/api/v1/auth/login', { username: 'agent1', password: 'huiliu-demo' });
    if (login.status !== 200) throw new Error(`agent login answered ${login.status}: ${login.body.slice(0, 200)}`);
    socket = await socketFor(`${target.origin}/agent`, target.caPem, { token: (JSON.parse(login.body) as { token: string }).token });
  } else {
    socket = await socketFor(`${target.origin}/agent`, target.caPem, {});
  }

  const sentAt = new Map<number, number>();
  let latencies: number[] = [];
  const seen = (text: unknown) => {
    if (typeof text !== 'string') return;
    const m = /^m(\d+);/.exec(text);
    if (!m) return;
    const n = Number(m[1]);
    const t0 = sentAt.get(n);
    if (t0 === undefined) return;
    sentAt.delete(n);
    latencies.push(nowMs() - t0);
  };
  socket.on('queue:upsert', (p: { lastMessagePreview?: unknown }) => seen(p?.lastMessagePreview));
  socket.on('message:new', (p: { body?: { text?: unknown } }) => seen(p?.body?.text));

  let marker = 0;
  const poster = await KeepAlivePoster.open(target.origin, target.caPem, SOCKETS);
  const deliver = (n: number): Promise<PostAnswer> => {
    const text = `m${n}; ${TEXT}`;
    if (job.mode === 'bare') return poster.post('/push', { text });
    return poster.post(
      '/api/v1/channels/app/messages',
      { customer: { externalId: `bench-${n % job.customers}` }, text, clientMessageId: `bench-${n}` },
      { 'x-huiliu-key': 'demo-app-key' },
    );
  };

  const runStep = async (step: AgentStep): Promise<AgentStepResult> => {
    latencies = [];
    sentAt.clear();
    const count = Math.round(step.rate * step.seconds);
    const answers: Promise<PostAnswer>[] = [];
    const start = nowMs();
    const cpu0 = process.cpuUsage();
    let i = 0;
    // Paced against the clock in ticks of ~1 ms, so a slow server shows up as latency, not as a lower
    // rate; the generator does not spin, leaving the other core to the server and its threads.
    while (i < count) {
      const due = Math.min(count, Math.floor(((nowMs() - start) * step.rate) / 1000) + 1);
      for (; i < due; i++) {
        const n = marker++;
        sentAt.set(n, nowMs());
        answers.push(deliver(n));
      }
      await sleep(1);
    }
    const sendSeconds = (nowMs() - start) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const generatorCores = (cpu.user + cpu.system) / 1e6 / sendSeconds;
    const settled = await Promise.all(answers);
    const refusedBy: Record<string, number> = {};
    for (const a of settled) if (a.status < 200 || a.status >= 300) refusedBy[a.status] = (refusedBy[a.status] ?? 0) + 1;
    const refused = Object.values(refusedBy).reduce((sum, k) => sum + k, 0);
    const deadline = Date.now() + DRAIN_MS;
    while (sentAt.size > refused && Date.now() < deadline) await sleep(10);
    const latency = summarize(latencies);
    const received = latency.count;
    return {
      label: step.label,
      rate: step.rate,
      sentRate: count / sendSeconds,
      sent: count,
      received,
      refused,
      refusedBy,
      latency,
      generatorCores,
      passed: received === count && refused === 0 && latency.p99 <= job.p99LimitMs,
    };
  };

  const results: AgentStepResult[] = [];
  try {
    for (const step of job.steps) {
      const r = await runStep(step);
      results.push(r);
      if (!r.passed && step.stopOnFail) break;
      await sleep(500);
    }
  } finally {
    socket.close();
    poster.close();
    agent.destroy();
  }
  return results;
}
