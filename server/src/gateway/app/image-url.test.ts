import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HuiliuError } from '../../../../common/errors/codes';
import { pngBytes } from '../../../test/support/png';
import { addressProblem, fetchImage, type ImageFetchOptions } from './image-url';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

describe('images by URL: the SSRF guard (issue 13)', () => {
  let base = '';
  const routes = new Map<string, Handler>();
  const server = createServer((req, res) => {
    const handler = routes.get(req.url ?? '');
    if (handler) handler(req, res);
    else {
      res.statusCode = 404;
      res.end();
    }
  });
  const options: ImageFetchOptions = { limits: { maxBytes: 4096, maxPixels: 1_000_000 }, timeoutMs: 1500, allowLoopbackHttp: true };

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    routes.set('/ok.png', (_q, r) => r.end(pngBytes()));
    routes.set('/text.png', (_q, r) => {
      r.setHeader('content-type', 'image/png');
      r.end('<html>not an image</html>');
    });
    routes.set('/big-declared.png', (_q, r) => {
      r.setHeader('content-length', '100000');
      r.end(Buffer.alloc(100000));
    });
    routes.set('/big-chunked.png', (_q, r) => {
      // No Content-Length: the reading itself must stop.
      r.write(pngBytes(4, 3, 0));
      for (let i = 0; i < 10; i++) r.write(Buffer.alloc(1024));
      r.end();
    });
    routes.set('/huge-canvas.png', (_q, r) => r.end(pngBytes(50_000, 50_000)));
    routes.set('/slow.png', () => {
      // Never answers.
    });
    routes.set('/to-ok', (_q, r) => {
      r.writeHead(302, { location: '/ok.png' });
      r.end();
    });
    routes.set('/to-private', (_q, r) => {
      r.writeHead(302, { location: 'http://10.0.0.7/x.png' });
      r.end();
    });
    routes.set('/to-metadata', (_q, r) => {
      r.writeHead(307, { location: 'https://169.254.169.254/latest/meta-data/' });
      r.end();
    });
    routes.set('/loop', (_q, r) => {
      r.writeHead(302, { location: '/loop' });
      r.end();
    });
    routes.set('/missing.png', (_q, r) => {
      r.statusCode = 404;
      r.end();
    });
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const codeOf = async (url: string, o: ImageFetchOptions = options) => {
    try {
      await fetchImage(url, o);
      return 'fetched';
    } catch (error) {
      if (!(error instanceof HuiliuError)) throw error;
      const reason = (error.details as { reason?: string } | undefined)?.reason;
      return reason ? `${error.code}:${reason}` : error.code;
    }
  };

  it('judges addresses by their range: public unicast only', () => {
    for (const a of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111']) expect(addressProblem(a), a).toBeNull();
    const refused: [string, string][] = [
      ['10.1.2.3', 'private'],
      ['172.16.0.1', 'private'],
      ['192.168.1.1', 'private'],
      ['127.0.0.1', 'loopback'],
      ['169.254.169.254', 'linkLocal'],
      ['100.64.0.1', 'carrierGradeNat'],
      ['224.0.0.1', 'multicast'],
      ['0.0.0.0', 'unspecified'],
      ['240.0.0.1', 'reserved'],
      ['::1', 'loopback'],
      ['fe80::1', 'linkLocal'],
      ['fc00::1', 'uniqueLocal'],
      ['ff02::1', 'multicast'],
      ['::ffff:10.0.0.1', 'private'],
      ['::ffff:127.0.0.1', 'loopback'],
      // IPv4-compatible IPv6 (::/96): a host routing it reaches the IPv4 address inside.
      ['::7f00:1', 'ipv4Compatible'],
      ['::a9fe:a9fe', 'ipv4Compatible'],
      ['::127.0.0.1', 'loopback'],
    ];
    for (const [a, range] of refused) expect(addressProblem(a), a).toBe(range);
    expect(addressProblem('127.0.0.1', true)).toBeNull();
    expect(addressProblem('10.0.0.1', true)).toBe('private');
  });

  it('fetches an image from the loopback server when the test flag allows it, typed by its bytes', async () => {
    const image = await fetchImage(`${base}/ok.png`, options);
    expect(image).toMatchObject({ mime: 'image/png', width: 4, height: 3 });
    expect(image.bytes.subarray(0, 4).toString('latin1')).toBe('\x89PNG');
    expect((await fetchImage(`${base}/to-ok`, options)).mime).toBe('image/png');
  });

  it('refuses plain http and loopback without the flag, and private or metadata addresses always', async () => {
    const strict = { ...options, allowLoopbackHttp: false };
    expect(await codeOf(`${base}/ok.png`, strict)).toBe('IMAGE_URL_REFUSED');
    expect(await codeOf('http://[::1]:9/x.png', strict)).toBe('IMAGE_URL_REFUSED');
    expect(await codeOf('https://[::1]:9/x.png', strict)).toBe('IMAGE_URL_REFUSED');
    expect(await codeOf('https://127.0.0.1:9/x.png', strict)).toBe('IMAGE_URL_REFUSED');
    for (const url of [
      'https://10.0.0.1/x.png',
      'https://169.254.169.254/latest/meta-data/',
      'https://[fd00::1]/x.png',
      'https://[::ffff:192.168.0.1]/x',
    ]) {
      expect(await codeOf(url, options), url).toBe('IMAGE_URL_REFUSED');
    }
    expect(await codeOf('https://user:pw@example.com/x.png', options)).toBe('IMAGE_URL_REFUSED');
    expect(await codeOf('file:///etc/passwd', options)).toBe('IMAGE_URL_REFUSED');
    expect(await codeOf('not a url', options)).toBe('IMAGE_URL_REFUSED');
  });

  it('refuses a host name that resolves to a private address (any of its addresses)', async () => {
    const resolveTo = (addresses: string[]) => ({ ...options, resolve: async () => addresses });
    expect(await codeOf('https://images.example.test/x.png', resolveTo(['10.9.8.7']))).toBe('IMAGE_URL_REFUSED');
    expect(await codeOf('https://images.example.test/x.png', resolveTo(['93.184.216.34', '192.168.1.9']))).toBe('IMAGE_URL_REFUSED');
    expect(await codeOf('https://images.example.test/x.png', resolveTo([]))).toBe('IMAGE_FETCH_FAILED:network');
  });

  it('checks every redirect again, and follows at most 3', async () => {
    expect(await codeOf(`${base}/to-private`)).toBe('IMAGE_URL_REFUSED');
    expect(await codeOf(`${base}/to-metadata`)).toBe('IMAGE_URL_REFUSED');
    expect(await codeOf(`${base}/loop`)).toBe('IMAGE_URL_REFUSED');
  });

  it('fails an oversize body (declared or streamed), a huge canvas, wrong magic bytes, a 404 and a silent server', async () => {
    expect(await codeOf(`${base}/big-declared.png`)).toBe('IMAGE_FETCH_FAILED:too_large');
    expect(await codeOf(`${base}/big-chunked.png`)).toBe('IMAGE_FETCH_FAILED:too_large');
    expect(await codeOf(`${base}/huge-canvas.png`)).toBe('IMAGE_FETCH_FAILED:too_large');
    expect(await codeOf(`${base}/text.png`)).toBe('IMAGE_FETCH_FAILED:not_image');
    expect(await codeOf(`${base}/missing.png`)).toBe('IMAGE_FETCH_FAILED:http_status');
    expect(await codeOf(`${base}/slow.png`, { ...options, timeoutMs: 300 })).toBe('IMAGE_FETCH_FAILED:timeout');
  });
});
