/**
 * What the benchmark's parent (run.ts) asks its load-generator processes (generator.ts) to do, and
 * what they answer, over the Node IPC channel of `child_process.fork`.
 */
import type { LatencySummary } from './stats';

/** The customer's text on every path: CJK and Latin, digits (the log masker's worst case). */
export const TEXT = '您好，我的订单 202311150001 还没有发货，能帮我查一下吗？Where is my parcel?';

/** Where a generator connects: the server's https origin and the CA it must trust (nothing else). */
export interface Target {
  /** e.g. `https://127.0.0.1:40123` */
  origin: string;
  caPem: string;
}

/**
 * Closed loop on the widget protocol: `clients` WebSockets say hello, then each sends a message,
 * waits for its ack, sends the next. Acks are counted for `durationMs` after `warmupMs`.
 */
export interface WidgetJob {
  kind: 'widget';
  target: Target;
  clients: number;
  warmupMs: number;
  durationMs: number;
}

export interface WidgetResult {
  clients: number;
  acked: number;
  /** Acks over the whole job, warm-up and drain included (to divide the server's CPU time by). */
  ackedTotal: number;
  seconds: number;
  /** Acked messages per second in the measured window. */
  rate: number;
  ack: LatencySummary;
  /** `error` frames received (a refusal means a limit was not lifted) and unexpected closes. */
  errors: number;
  closes: number;
  /** The generator's own CPU use in the measured window, in cores (near 1: the generator is the limit). */
  generatorCores: number;
}

/** `GET /healthz` one at a time, one every `intervalMs` (or right after a slower answer), for `durationMs` after `delayMs`. */
export interface HealthzJob {
  kind: 'healthz';
  target: Target;
  intervalMs: number;
  delayMs: number;
  durationMs: number;
}

export interface HealthzResult {
  latency: LatencySummary;
  /** Answers other than 200, and failed requests. */
  failures: number;
}

/**
 * Opens `count` widget connections from `localAddress` and says hello on each, then holds them
 * until the parent sends `release` (the parent reads the server's memory meanwhile).
 */
export interface IdleJob {
  kind: 'idle';
  target: Target;
  count: number;
  localAddress: string;
  /** Stop trying after this long; what is open by then is reported. */
  timeoutMs: number;
}

export interface IdleResult {
  connected: number;
  failed: number;
  seconds: number;
}

/** One paced step: `rate` messages per second for `seconds`. */
export interface AgentStep {
  label: string;
  rate: number;
  seconds: number;
  /** On a failed step (p99 over `p99LimitMs` or anything lost) the remaining steps are skipped. */
  stopOnFail: boolean;
}

/**
 * Message → agent: messages are posted over HTTPS, paced, and timed until the agent's socket.io
 * client receives them. `huiliu`: the app channel route, agent `agent1` signed in; `bare`: the
 * baseline's `/push` route that emits straight to the socket.
 */
export interface AgentJob {
  kind: 'agent';
  target: Target;
  mode: 'huiliu' | 'bare';
  steps: AgentStep[];
  /** Distinct customers the messages cycle through. */
  customers: number;
  p99LimitMs: number;
}

export interface AgentStepResult {
  label: string;
  rate: number;
  /** Messages sent per second as actually paced (below `rate` when the generator could not keep up). */
  sentRate: number;
  sent: number;
  /** Seen on the agent's socket within the drain time. */
  received: number;
  /** Posts answered with anything but 2xx, or failed. */
  refused: number;
  /** Those refusals by HTTP status (0: the connection failed). */
  refusedBy: Record<string, number>;
  latency: LatencySummary;
  /** The generator's own CPU use while sending, in cores (near 1: the generator, not the server, is the limit). */
  generatorCores: number;
  passed: boolean;
}

export type Job = WidgetJob | HealthzJob | IdleJob | AgentJob;

/** Child → parent. */
export type GeneratorMessage =
  | { type: 'ready' }
  | { type: 'holding'; result: IdleResult }
  | { type: 'result'; result: WidgetResult | HealthzResult | IdleResult | AgentStepResult[] }
  | { type: 'failed'; error: string };

/** Parent → child. */
export type ParentMessage = { type: 'job'; job: Job } | { type: 'release' };
