import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { createCallLiveness } from './liveness';
import { bdecode, bencode, createNgClient, type Bencode } from './rtpengine-ng';

/**
 * A stand-in for rtpengine's ng port on loopback UDP (real sockets, real bencode): it knows the Call-IDs
 * in `known`, answers `Unknown call-id` for others as rtpengine does, and never answers `silent`.
 */
async function fakeRtpengine(known: Set<string>, silent: Set<string>): Promise<{ socket: Socket; address: string }> {
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

describe('call liveness (rtpengine ng query)', () => {
  const sockets: Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  it('says up for a call rtpengine knows, gone for one it forgot, unknown when it does not answer or there is no rtpengine', async () => {
    const rtp = await fakeRtpengine(new Set(['live@x']), new Set(['mute@x']));
    sockets.push(rtp.socket);
    let edge: { rtpengine?: string } = { rtpengine: rtp.address };
    const liveness = createCallLiveness({
      edge: () => ({ domain: 'x', uris: [], ...edge }),
      client: (host, port) => createNgClient(host, port, { timeoutMs: 200 }),
    });
    expect(await liveness.check('live@x')).toBe('up');
    expect(await liveness.check('dead@x')).toBe('gone');
    expect(await liveness.check('mute@x')).toBe('unknown');
    edge = {};
    expect(await liveness.check('live@x')).toBe('unknown');
    liveness.close();
  });
});
