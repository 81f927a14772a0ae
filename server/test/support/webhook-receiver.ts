import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifyWebhook } from '../../src/gateway/app/webhook';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  body: string;
  /** The signature and timestamp checked with the app's secret, as an integrating app would. */
  verified: boolean;
}

/**
 * A real HTTP receiver on 127.0.0.1 standing in for an integrating app's webhook (issue 13). Each
 * request is answered by `answer(externalId, n)` (n: that user's requests so far, from 0): the tests
 * script flaky, down and refusing apps per user.
 */
export async function startWebhookReceiver(secret: string) {
  const received: ReceivedWebhook[] = [];
  let answer: (externalId: string, n: number) => number = () => 200;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = (name: string) => (typeof req.headers[name] === 'string' ? (req.headers[name] as string) : undefined);
      const verified = verifyWebhook(
        secret,
        { timestamp: header('x-huiliu-timestamp'), signature: header('x-huiliu-signature') },
        body,
        Date.now(),
      );
      const externalId = (JSON.parse(body) as { externalId: string }).externalId;
      const n = received.filter((r) => (JSON.parse(r.body) as { externalId: string }).externalId === externalId).length;
      received.push({ headers: req.headers, body, verified });
      res.statusCode = verified ? answer(externalId, n) : 401;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/huiliu`,
    received,
    /** What the receiver got for one user, oldest first. */
    of: (externalId: string) => received.filter((r) => (JSON.parse(r.body) as { externalId: string }).externalId === externalId),
    answerWith(fn: (externalId: string, n: number) => number) {
      answer = fn;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
