import { createSocket, type Socket } from 'node:dgram';
import { bdecode, bencode, type Bencode } from '../../src/voice/rtpengine-ng';

/**
 * A stand-in for rtpengine's ng port on loopback UDP (real sockets, real bencode) for liveness tests: it
 * knows the Call-IDs in `known` (the set is read at every query, so a test adds and removes calls), answers
 * `Unknown call-id` for others as rtpengine does, and never answers those in `silent`. Only `query`.
 * @returns the bound socket (close it) and its `host:port`
 */
export async function fakeRtpengine(known: Set<string>, silent: Set<string> = new Set()): Promise<{ socket: Socket; address: string }> {
  const socket = createSocket('udp4');
  socket.on('message', (msg, peer) => {
    const space = msg.indexOf(0x20);
    const cookie = msg.subarray(0, space).toString('latin1');
    const command = bdecode(msg, space + 1).value as Record<string, string>;
    const callId = command['call-id'] ?? '';
    if (command['command'] !== 'query' || silent.has(callId)) return;
    const answer: Bencode = known.has(callId)
      ? { result: 'ok', created: 1, totals: {} }
      : { result: 'error', 'error-reason': 'Unknown call-id' };
    socket.send(Buffer.concat([Buffer.from(`${cookie} `), bencode(answer)]), peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { socket, address: `127.0.0.1:${socket.address().port}` };
}
