import { io, type Socket } from 'socket.io-client';
import { HuiliuError, type Result } from '../../../../common/errors/codes';
import { AGENT_NAMESPACE, type AgentClientToServerEvents, type AgentServerToClientEvents } from '../../../../common/socket/agent-events';

export type AgentSocket = Socket<AgentServerToClientEvents, AgentClientToServerEvents>;

type EventName = keyof AgentClientToServerEvents;
type PayloadOf<E extends EventName> = Parameters<AgentClientToServerEvents[E]>[0];
type DataOf<E extends EventName> = Parameters<Parameters<AgentClientToServerEvents[E]>[1]>[0] extends Result<infer T> ? T : never;

export interface AgentConnection {
  socket: AgentSocket;
  /**
   * Sends an event and resolves with its ack's data. Critical events (replies, accept, wrap-up) are
   * retried on timeout with the same payload, so their idempotency keys make retries safe.
   */
  request<E extends EventName>(event: E, payload: PayloadOf<E>, options?: { retries?: number }): Promise<DataOf<E>>;
  close(): void;
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
    async request(event, payload, options) {
      const retries = options?.retries ?? 3;
      for (let attempt = 0; ; attempt++) {
        try {
          const timed = socket.timeout(8000) as unknown as { emitWithAck(e: string, p: unknown): Promise<Result<unknown>> };
          const result = await timed.emitWithAck(event, payload);
          if (result.ok) return result.data as never;
          throw new HuiliuError(result.error.code, result.error.message);
        } catch (error) {
          if (error instanceof HuiliuError || attempt >= retries) throw error;
          await new Promise((r) => setTimeout(r, 500 * (attempt + 1)));
        }
      }
    },
    close() {
      socket.close();
    },
  };
}
