import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { HuiliuError } from '../../../common/errors/codes';

/** Strict CSP for the workstation (DESIGN §8): only our own scripts, styles and connections. */
export const WORKSTATION_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/** Serves the built renderer at `/app/` so a browser works as a workstation (DESIGN §6). */
export async function workstationPlugin(app: FastifyInstance, opts: { rendererDir: string }): Promise<void> {
  const index = join(opts.rendererDir, 'index.html');
  app.get('/', async (_request, reply) => reply.redirect('/app/'));
  app.get('/app', async (_request, reply) => reply.redirect('/app/'));
  if (!existsSync(index)) {
    app.get('/app/*', async () => {
      throw new HuiliuError('NOT_READY', 'The workstation is not built; run `npm run build:renderer`.');
    });
    return;
  }
  await app.register(fastifyStatic, {
    root: opts.rendererDir,
    prefix: '/app/',
    decorateReply: false,
    setHeaders: (res) => {
      res.setHeader('Content-Security-Policy', WORKSTATION_CSP);
      res.setHeader('Cache-Control', 'no-cache');
    },
  });
}
