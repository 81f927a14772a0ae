import { connect } from 'node:net';

/**
 * Two slowloris clients on `127.0.0.1:port`, side by side: one trickles a request head (a header that
 * never ends), the other a POST body (9,000 bytes announced), one byte every 100 ms. Resolves the ms each
 * took until the server closed its connection (each gives up and closes itself after `giveUpMs`).
 */
export async function trickledHeadAndBody(port: number, giveUpMs: number): Promise<{ head: number; body: number }> {
  const trickle = (first: string) =>
    new Promise<number>((resolve) => {
      const t0 = Date.now();
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(first);
      const drip = setInterval(() => socket.write('x'), 100);
      socket.on('close', () => {
        clearInterval(drip);
        resolve(Date.now() - t0);
      });
      setTimeout(() => socket.destroy(), giveUpMs);
    });
  const [head, body] = await Promise.all([
    trickle('POST /api/v1/voice/route HTTP/1.1\r\nHost: x\r\nX-Slow: '),
    trickle('POST /api/v1/voice/route HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9000\r\n\r\n'),
  ]);
  return { head, body };
}
