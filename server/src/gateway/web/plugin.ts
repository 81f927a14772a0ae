import { defaultRoutePolicy } from '../../auth/route-policy';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import fastifyStatic from '@fastify/static';
import { HuiliuError } from '../../../../common/errors/codes';
import { WIDGET_PATH } from '../../../../common/web/widget-protocol';
import type { UpgradeRouter } from '../../http/upgrades';
import { buildCacheControl, CACHE_HTML } from '../../workstation/plugin';
import type { ChannelAdapters } from '../channel-adapter';
import { createWebChannelAdapter, type WebChannelAdapterOptions } from './adapter';

/** `/widget.js` is not content-hashed (its URL is in customers' pages): 5 minutes fresh. */
export const CACHE_LOADER = 'public, max-age=300';

export interface WebChannelOptions extends WebChannelAdapterOptions {
  /** Built widget (index.html + assets). */
  widgetDir: string;
  upgrades: UpgradeRouter;
  /** The adapter joins these, so the outbound dispatcher sends the web channel's replies through it. */
  adapters: ChannelAdapters;
}

/**
 * Web chat channel (`WB`): the embeddable widget page at `/widget` (DESIGN §6) and, through the
 * adapter, its WebSocket at `/channels/web`; the embed loader at `/widget.js`. The page answers
 * `Cache-Control: no-cache`, the loader `max-age=300`; Vite's content-hashed files under
 * `/widget/assets/` are immutable for a year.
 */
export async function webChannelPlugin(app: FastifyInstance, opts: WebChannelOptions): Promise<void> {
  const { config } = opts;
  const adapter = await createWebChannelAdapter(opts);
  opts.adapters.register(adapter);
  opts.upgrades.route(WIDGET_PATH, (req, socket, head) => adapter.handleUpgrade(req, socket, head));
  app.addHook('preClose', async () => {
    await adapter.close();
  });

  // The widget page and its assets. CSP frame-ancestors lets configured sites embed it.
  const indexPath = join(opts.widgetDir, 'index.html');
  const frameAncestors = ["'self'", ...config.widget.allowedOrigins].join(' ');
  const escapeHtml = (t: string) => t.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const widgetPage = existsSync(indexPath)
    ? readFileSync(indexPath, 'utf8').replaceAll('%WIDGET_TITLE%', escapeHtml(config.widget.title))
    : null;
  app.get('/widget', { config: { policy: 'public' } }, async (_request, reply) => {
    if (!widgetPage) throw new HuiliuError('NOT_READY', 'The widget is not built; run `npm run build:widget`.');
    // Sites allowed to embed the widget are named by frame-ancestors; X-Frame-Options cannot list them.
    if (config.widget.allowedOrigins.length) reply.removeHeader('X-Frame-Options');
    return (
      reply
        .type('text/html; charset=utf-8')
        // Revalidated each time, so a new build's asset names reach visitors at once.
        .header('Cache-Control', CACHE_HTML)
        .header(
          'Content-Security-Policy',
          `default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors ${frameAncestors}`,
        )
        .send(widgetPage)
    );
  });
  // The one-script embed (issue 13): any site may load it (CORP cross-origin); whether the chat then
  // renders there is frame-ancestors' decision above. Short-lived in caches, so a new build spreads
  // within minutes, while a busy site does not fetch it on every page view.
  const loaderPath = join(opts.widgetDir, 'loader.js');
  const loader = existsSync(loaderPath) ? readFileSync(loaderPath, 'utf8') : null;
  app.get('/widget.js', { config: { policy: 'public' } }, async (_request, reply) => {
    if (!loader) throw new HuiliuError('NOT_READY', 'The widget is not built; run `npm run build:widget`.');
    return reply
      .type('text/javascript; charset=utf-8')
      .header('Cache-Control', CACHE_LOADER)
      .header('Cross-Origin-Resource-Policy', 'cross-origin')
      .send(loader);
  });
  if (existsSync(join(opts.widgetDir, 'assets'))) {
    // Static files are public; @fastify/static registers their routes, so the policy is given here.
    await app.register(async (scope) => {
      defaultRoutePolicy(scope, 'public');
      await scope.register(fastifyStatic, {
        root: join(opts.widgetDir, 'assets'),
        prefix: '/widget/assets/',
        decorateReply: false,
        // @fastify/static's own `public, max-age=0` would replace ours; Vite hashes these names.
        cacheControl: false,
        setHeaders: (res, path) => res.setHeader('Cache-Control', buildCacheControl(path)),
      });
    });
  }
}
