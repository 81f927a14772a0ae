import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface HostPage {
  /** The page's origin, `http://127.0.0.1:<port>` (a loopback origin is a secure context). */
  origin: string;
  close(): Promise<void>;
}

/**
 * A customer's web site on a loopback origin that embeds the widget with one script tag
 * (`<script src="<server>/widget.js" data-huiliu-…>`), as docs/channels/web.md tells site owners to.
 * `serverUrl` is read per request (the server may start after this page); the query string's
 * parameters become the script's data attributes (`/?lang=zh` → `data-huiliu-lang="zh"`).
 */
export async function serveHostPage(serverUrl: () => string): Promise<HostPage> {
  const page = (query: URLSearchParams) => {
    const attrs = [...query]
      .filter(([k]) => /^[a-z]+$/.test(k))
      .map(([k, v]) => ` data-huiliu-${k}="${v.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`)}"`)
      .join('');
    return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>Example shop</title>
    <style>body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:16px;color:#222}main{max-width:720px}</style>
  </head>
  <body>
    <main>
      <h1>Example shop</h1>
      <p>Handmade tea cups, shipped within two days.</p>
      <p><a href="#faq" id="faq-link">Questions? Read the FAQ</a></p>
    </main>
    <script src="${serverUrl()}/widget.js" async${attrs}></script>
  </body>
</html>`;
  };
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://host');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page(url.searchParams));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
