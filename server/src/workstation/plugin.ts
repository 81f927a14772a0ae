import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { HuiliuError } from '../../../common/errors/codes';
import { defaultRoutePolicy } from '../auth/route-policy';
import { REPO_ROOT } from '../runtime/paths';

/** Strict CSP for the workstation (DESIGN §8): only our own scripts, styles and connections. */
export const WORKSTATION_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  // blob: the images staff fetch with their token (issue 10) are shown from object URLs.
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/**
 * The workstation CSP with these extra `connect-src` sources: the voice edge's SIP-over-WebSocket URIs
 * (`ws(s)://host:port`, issue 18) the softphone connects to. Anything else in the list is left out.
 */
export function workstationCsp(connect: readonly string[] = []): string {
  const extra = connect.filter((u) => /^wss?:\/\/[A-Za-z0-9.:[\]-]+\/?$/.test(u)).map((u) => u.replace(/\/$/, ''));
  return extra.length === 0 ? WORKSTATION_CSP : WORKSTATION_CSP.replace("connect-src 'self'", `connect-src 'self' ${extra.join(' ')}`);
}

/** The site icon: build/icon.png downsampled to 16², 32² and 48² PNG images in one ICO file. */
export const DEFAULT_FAVICON = join(REPO_ROOT, 'build', 'favicon.ico');

// Vite names bundled assets `<name>-<8-char content hash>.<ext>`: a new build gets new names, so
// these may be cached for a year; everything else (index.html above all) is revalidated each time.
const HASHED_ASSET = /[\\/]assets[\\/][^\\/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;
export const CACHE_HTML = 'no-cache';
export const CACHE_HASHED = 'public, max-age=31536000, immutable';

/** `Cache-Control` for a file of a Vite build at `path` (absolute): a year for hashed assets, else revalidate. */
export function buildCacheControl(path: string): string {
  return HASHED_ASSET.test(path) ? CACHE_HASHED : CACHE_HTML;
}

/**
 * Serves the built renderer at `/app/` so a browser works as a workstation (DESIGN §6), and the site
 * icon at `/favicon.ico` (`image/x-icon`). `index.html` and unhashed files answer
 * `Cache-Control: no-cache`; content-hashed assets under `assets/` are immutable for a year.
 */
export async function workstationPlugin(
  app: FastifyInstance,
  opts: { rendererDir: string; favicon?: string; connectSources?: () => readonly string[] },
): Promise<void> {
  const index = join(opts.rendererDir, 'index.html');
  const favicon = opts.favicon ?? DEFAULT_FAVICON;
  const icon = existsSync(favicon) ? readFileSync(favicon) : null;
  app.get('/favicon.ico', { config: { policy: 'public' } }, async (_request, reply) => {
    if (!icon) throw new HuiliuError('NOT_FOUND');
    return reply.type('image/x-icon').header('Cache-Control', 'public, max-age=86400').send(icon);
  });
  app.get('/', { config: { policy: 'public' } }, async (_request, reply) => reply.redirect('/app/'));
  app.get('/app', { config: { policy: 'public' } }, async (_request, reply) => reply.redirect('/app/'));
  if (!existsSync(index)) {
    app.get('/app/*', { config: { policy: 'public' } }, async () => {
      throw new HuiliuError('NOT_READY', 'The workstation is not built; run `npm run build:renderer`.');
    });
    return;
  }
  // Static files are public; @fastify/static registers their routes, so the policy is given here.
  await app.register(async (scope) => {
    defaultRoutePolicy(scope, 'public');
    await scope.register(fastifyStatic, {
      root: opts.rendererDir,
      prefix: '/app/',
      decorateReply: false,
      // @fastify/static's own header (`public, max-age=0`) would replace ours: we set it per file.
      cacheControl: false,
      setHeaders: (res, path) => {
        res.setHeader('Content-Security-Policy', workstationCsp(opts.connectSources?.()));
        res.setHeader('Cache-Control', buildCacheControl(path));
      },
    });
  });
}
