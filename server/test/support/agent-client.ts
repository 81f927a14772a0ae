import { io as connect, type Socket } from 'socket.io-client';
import type { Result } from '../../../common/errors/codes';
import { AGENT_NAMESPACE } from '../../../common/socket/agent-events';
import type { TestServer } from './harness';

/** A staff socket.io client on `/agent`, trusting exactly the test server's CA. */
export function openAgentSocket(s: TestServer, token?: string): Promise<Socket> {
  const socket = connect(`${s.url}${AGENT_NAMESPACE}`, {
    auth: token ? { token } : {},
    transports: ['websocket'],
    ca: s.tls.caPem,
    reconnection: false,
  } as never);
  return new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(socket));
    socket.once('connect_error', (e) => reject(e));
  });
}

/** Emits an event and resolves with its `{ok,data}|{ok:false,error}` ack. */
export const ack = <T>(socket: Socket, event: string, payload: unknown) =>
  socket.timeout(5000).emitWithAck(event, payload) as Promise<Result<T>>;
