import type { Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeRtpengine } from '../../test/support/rtpengine-fake';
import { createCallLiveness } from './liveness';
import { createNgClient } from './rtpengine-ng';

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
