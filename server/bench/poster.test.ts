import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTlsMaterial, type TlsMaterial } from '../src/tls/certificates';
import { KeepAlivePoster } from './poster';

describe('KeepAlivePoster (the agent benchmark’s HTTP client)', () => {
  let dir: string;
  let tls: TlsMaterial;
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-poster-'));
    tls = await ensureTlsMaterial(join(dir, 'tls'), ['127.0.0.1']);
    server = createServer({ cert: tls.certPem + tls.caPem, key: tls.keyPem }, (req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const { status, cut } = JSON.parse(body) as { status: number; cut?: boolean };
        // The connection ends before this request is answered: the post is lost, not answered.
        if (cut) return void req.socket.destroy();
        const answer = JSON.stringify({ echoed: status });
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
        res.end(answer);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers every post with its own status, in order, across its connections', async () => {
    const poster = await KeepAlivePoster.open(origin, tls.caPem, 3);
    const statuses = Array.from({ length: 300 }, (_, i) => [200, 202, 404, 429, 500][i % 5]!);
    const answers = await Promise.all(statuses.map((status) => poster.post('/', { status, text: '您好 where is my parcel?' })));
    poster.close();
    expect(answers.map((a) => a.status)).toEqual(statuses);
  });

  it('reopens a connection the server closed while it was idle, so the next post is not lost', async () => {
    const poster = await KeepAlivePoster.open(origin, tls.caPem, 2);
    expect((await poster.post('/', { status: 202 })).status).toBe(202);
    // What a keep-alive timeout does after a quiet spell.
    server.closeIdleConnections();
    await new Promise((r) => setTimeout(r, 100));
    const after = await Promise.all([poster.post('/', { status: 202 }), poster.post('/', { status: 201 })]);
    poster.close();
    expect(after.map((a) => a.status)).toEqual([202, 201]);
  });

  it('answers 0 for a post whose connection closed before its answer', async () => {
    const poster = await KeepAlivePoster.open(origin, tls.caPem, 1);
    const answer = await poster.post('/', { status: 202, cut: true });
    poster.close();
    expect(answer.status).toBe(0);
  });
});
