import { io, type Socket } from 'socket.io-client';
import { HuiliuError, type Result } from '../../../../common/errors/codes';
import { AGENT_NAMESPACE, type AgentClientToServerEvents, type AgentServerToClientEvents } from '../../../../common/socket/agent-events';

export type AgentSocket = Socket<AgentServerToClientEvents, AgentClientToServerEvents>;

type EventName = keyof AgentClientToServerEvents;
type PayloadOf<E extends EventName> = Parameters<AgentClientToServerEvents[E]>[0];
type DataOf<E extends EventName> = Parameters<Parameters<AgentClientToServerEvents[E]>[1]>[0] extends Result<infer T> ? T : never;

/** How `AgentConnection.request` retries: see there. */
export interface RequestOptions {
  retries?: number;
  rateLimitedResends?: number;
}

export interface AgentConnection {
  socket: AgentSocket;
  /**
   * Sends an event and resolves with its ack's data, or rejects with the server's `HuiliuError` (code,
   * message, details) or the socket's time-out error. Critical events (replies, accept, wrap-up) are
   * retried on timeout (`retries`, default 3) with the same payload, so their idempotency keys make
   * retries safe. An event the socket's budget refused (RATE_LIMITED: nothing ran) is sent again
   * after the server's `retryAfterMs`, up to `rateLimitedResends` (default `RATE_LIMITED_RESENDS`) times
   * whatever `retries` says; volatile signals (typing) pass 0.
   */
  request<E extends EventName>(event: E, payload: PayloadOf<E>, options?: RequestOptions): Promise<DataOf<E>>;
  close(): void;
}

/** How long an event waits for its ack before it counts as unanswered. */
const ACK_TIMEOUT_MS = 8000;

/** How often one event refused with RATE_LIMITED is sent again after the wait the server names. */
export const RATE_LIMITED_RESENDS = 5;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The wait before re-sending an event the server refused with RATE_LIMITED: its
 * `details.retryAfterMs` (the socket's token bucket, server/src/agent/hub.ts), at least 50 ms and at
 * most 5 s, plus up to 50 ms of jitter so events refused together do not come back together; 1 s
 * when the server named no wait.
 */
export function rateLimitWaitMs(details: unknown): number {
  const named = (details as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  const ms = typeof named === 'number' && Number.isFinite(named) ? named : 1000;
  return Math.min(5000, Math.max(50, ms)) + Math.floor(Math.random() * 50);
}

/** What `sendEvent` needs of a socket.io client socket. */
export interface AckingSocket {
  timeout(ms: number): unknown;
}

/**
 * `AgentConnection.request` on `socket`: sends `event` with `payload` and resolves with the ack's data
 * (see there for retries and RATE_LIMITED re-sends); rejects with the server's `HuiliuError` or the
 * time-out error of the last attempt.
 */
export async function sendEvent(socket: AckingSocket, event: string, payload: unknown, options?: RequestOptions): Promise<unknown> {
  const retries = options?.retries ?? 3;
  const resends = options?.rateLimitedResends ?? RATE_LIMITED_RESENDS;
  for (let attempt = 0, limited = 0; ;) {
    let result: Result<unknown>;
    try {
      const timed = socket.timeout(ACK_TIMEOUT_MS) as unknown as { emitWithAck(e: string, p: unknown): Promise<Result<unknown>> };
      result = await timed.emitWithAck(event, payload);
    } catch (error) {
      // No answer in time (or the link went): the server may have done it, so only events whose
      // idempotency keys make a second send safe ask for retries.
      if (attempt++ >= retries) throw error;
      await sleep(500 * attempt);
      continue;
    }
    if (result.ok) return result.data;
    // The socket's event budget refused it before anything ran: sending it again is always safe.
    if (result.error.code === 'RATE_LIMITED' && limited++ < resends) {
      await sleep(rateLimitWaitMs(result.error.details));
      continue;
    }
    throw new HuiliuError(result.error.code, result.error.message, result.error.details);
  }
}

export function connectAgent(token: string, base = ''): AgentConnection {
  const socket: AgentSocket = io(`${base}${AGENT_NAMESPACE}`, {
    auth: { token },
    transports: ['websocket'],
    reconnectionDelay: 500,
    reconnectionDelayMax: 10_000,
  });
  return {
    socket,
    request: (event, payload, options) => sendEvent(socket, event, payload, options) as never,
    close() {
      socket.close();
    },
  };
}
