import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CACHE_HASHED, CACHE_HTML, workstationPlugin } from './plugin';

describe('workstation pages at /app/ and the site icon', () => {
  let app: FastifyInstance;
  let dir: string;
  beforeAll(async () => {
    // A renderer build laid out as Vite writes it: index.html plus content-hashed assets.
    dir = mkdtempSync(join(tmpdir(), 'huiliu-renderer-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Huiliu</title>');
    writeFileSync(join(dir, 'assets', 'index-CxpOKX8D.js'), 'console.log(1)');
    writeFileSync(join(dir, 'robots.txt'), 'User-agent: *');
    app = Fastify();
    await app.register(workstationPlugin, { rendererDir: dir });
  });
  afterAll(async () => {
    await app.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers the workstation HTML with Cache-Control: no-cache, not public, max-age=0', async () => {
    for (const url of ['/app/', '/app/index.html', '/app/robots.txt']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['cache-control'], url).toBe(CACHE_HTML);
    }
  });

  it('lets browsers keep content-hashed assets for a year', async () => {
    const res = await app.inject({ url: '/app/assets/index-CxpOKX8D.js' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe(CACHE_HASHED);
  });

  it('serves /favicon.ico as an image/x-icon with PNG images inside', async () => {
    const res = await app.inject({ url: '/favicon.ico' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/x-icon');
    const ico = res.rawPayload;
    // ICONDIR: reserved 0, type 1 (icon), at least one image; the first image is a PNG.
    expect([ico.readUInt16LE(0), ico.readUInt16LE(2)]).toEqual([0, 1]);
    expect(ico.readUInt16LE(4)).toBeGreaterThan(0);
    const offset = ico.readUInt32LE(6 + 12);
    expect(ico.subarray(offset, offset + 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(ico.length).toBeLessThan(16 * 1024);
  });
});
