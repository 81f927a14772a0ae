/**
 * The one-script embed (issue 13), served as `/widget.js`:
 *
 *   <script src="https://support.example.com/widget.js" async
 *           data-huiliu-lang="zh" data-huiliu-title="Help" data-huiliu-position="left"></script>
 *
 * Adds a launcher button to the host page that opens and closes an iframe of `/widget` as a panel
 * (full screen at 480 px wide or less). The iframe refuses to render on a site that is not in the
 * server's `widget.allowedOrigins` (CSP frame-ancestors); this script may load anywhere. Messages
 * between the two are checked by origin and source both ways (HTML §9.3 postMessage). No framework,
 * no imports, no globals: a classic script in one IIFE.
 */
(() => {
  const script = document.currentScript as HTMLScriptElement | null;
  if (!script?.src || document.querySelector('[data-huiliu-launcher]')) return;
  const server = new URL(script.src).origin;
  const attr = (name: string) => script.getAttribute(`data-huiliu-${name}`)?.trim() || null;
  const langAttr = attr('lang');
  const lang = (langAttr ?? navigator.language).toLowerCase().startsWith('zh') ? 'zh' : 'en';
  const side = attr('position') === 'left' ? 'left' : 'right';
  const title = attr('title');
  const words =
    lang === 'zh'
      ? { open: '打开在线客服', close: '关闭在线客服', unread: (n: number) => `，${n} 条未读消息`, frame: '在线客服' }
      : {
          open: 'Open support chat',
          close: 'Close support chat',
          unread: (n: number) => `, ${n} unread message${n === 1 ? '' : 's'}`,
          frame: 'Support chat',
        };

  const css = `
.huiliu-launcher{position:fixed;bottom:20px;${side}:20px;z-index:2147483000;width:56px;height:56px;border:0;border-radius:50%;
background:#0f766e;color:#fff;box-shadow:0 4px 14px rgb(0 0 0/25%);cursor:pointer;display:flex;align-items:center;justify-content:center;padding:0}
.huiliu-launcher:hover{background:#115e59}
.huiliu-launcher[hidden]{display:none}
.huiliu-launcher:focus-visible{outline:3px solid #f59e0b;outline-offset:3px}
.huiliu-launcher svg{width:28px;height:28px}
.huiliu-icon-close,.huiliu-open .huiliu-icon-chat{display:none}
.huiliu-open .huiliu-icon-close{display:block}
.huiliu-badge{position:absolute;top:-4px;${side === 'right' ? 'left' : 'right'}:-4px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;
background:#b91c1c;color:#fff;font:700 12px/22px system-ui,sans-serif;text-align:center;box-shadow:0 0 0 2px #fff}
.huiliu-badge[hidden]{display:none}
.huiliu-panel{position:fixed;bottom:88px;${side}:20px;z-index:2147483000;width:380px;height:min(640px,calc(100dvh - 108px));
border:0;border-radius:14px;box-shadow:0 8px 32px rgb(0 0 0/28%);background:#fff;color-scheme:normal}
.huiliu-panel[hidden]{display:none}
@media (max-width:480px){
.huiliu-panel{inset:0;width:100%;height:100%;height:100dvh;border-radius:0;bottom:auto}
.huiliu-open .huiliu-launcher{display:none}
}`;
  const style = document.createElement('style');
  style.textContent = css;
  document.head.append(style);

  const root = document.createElement('div');
  root.setAttribute('data-huiliu-launcher', '');
  const launcher = document.createElement('button');
  launcher.type = 'button';
  launcher.className = 'huiliu-launcher';
  launcher.setAttribute('aria-expanded', 'false');
  // Shown once the chat says it is ready: on a site the server does not allow, or with the server
  // down, the page gets no button that would open an empty or refused panel.
  launcher.hidden = true;
  // A speech bubble while closed, a cross while open.
  launcher.innerHTML =
    '<svg class="huiliu-icon-chat" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path fill="currentColor" d="M12 3C6.5 3 2 6.8 2 11.5c0 2.4 1.2 4.6 3.1 6.1L4 21l4.2-2.1c1.2.4 2.5.6 3.8.6 5.5 0 10-3.8 10-8.5S17.5 3 12 3z"/></svg>' +
    '<svg class="huiliu-icon-close" viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2.4" stroke-linecap="round"/></svg>';
  const badge = document.createElement('span');
  badge.className = 'huiliu-badge';
  badge.hidden = true;
  badge.setAttribute('aria-hidden', 'true');
  launcher.append(badge);

  const query = new URLSearchParams({ embed: '1', host: location.origin, lang });
  if (title) query.set('title', title);
  const frame = document.createElement('iframe');
  frame.className = 'huiliu-panel';
  frame.title = title ?? words.frame;
  frame.hidden = true;
  // The widget reads a pasted image from the paste event itself: it needs no clipboard permission.
  frame.setAttribute('allow', 'clipboard-write');
  frame.id = 'huiliu-chat';
  launcher.setAttribute('aria-controls', frame.id);
  let ready = false;
  let open = false;
  let unread = 0;

  const label = () => {
    launcher.setAttribute('aria-label', (open ? words.close : words.open) + (unread && !open ? words.unread(unread) : ''));
    badge.textContent = unread > 99 ? '99+' : String(unread);
    badge.hidden = unread === 0 || open;
  };
  const tell = (type: 'huiliu:open' | 'huiliu:closed') => {
    if (ready) frame.contentWindow?.postMessage({ type }, server);
  };
  const setOpen = (next: boolean) => {
    open = next;
    frame.hidden = !next;
    root.classList.toggle('huiliu-open', next);
    launcher.setAttribute('aria-expanded', String(next));
    if (next) {
      unread = 0;
      frame.focus();
      tell('huiliu:open');
    } else {
      tell('huiliu:closed');
      launcher.focus();
    }
    label();
  };
  launcher.addEventListener('click', () => setOpen(!open));
  // Escape on the host page closes the panel too (inside the iframe the widget asks us to).
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && open) setOpen(false);
  });
  // The visitor's identity, kept in the site's storage when the browser refuses the chat frame its
  // own (third-party storage blocked): the chat hands it over and gets it back on the next page.
  const KEY = `huiliu.widget.identity:${server}`;
  const recall = (): { visitorToken?: string; conversationId?: string } => {
    try {
      const saved = JSON.parse(localStorage.getItem(KEY) ?? 'null') as { visitorToken?: unknown; conversationId?: unknown } | null;
      if (typeof saved?.visitorToken !== 'string') return {};
      return {
        visitorToken: saved.visitorToken,
        ...(typeof saved.conversationId === 'string' ? { conversationId: saved.conversationId } : {}),
      };
    } catch {
      return {};
    }
  };
  const keep = (identity: { visitorToken?: unknown; conversationId?: unknown }) => {
    if (typeof identity.visitorToken !== 'string' || identity.visitorToken.length > 128) return;
    const conversationId = typeof identity.conversationId === 'string' ? identity.conversationId : undefined;
    try {
      localStorage.setItem(KEY, JSON.stringify({ visitorToken: identity.visitorToken, conversationId }));
    } catch {
      /* the site's storage is refused too: the next page starts a new visitor */
    }
  };
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (event.origin !== server || event.source !== frame.contentWindow) return;
    const data = event.data as { type?: unknown; count?: unknown } | null;
    switch (data?.type) {
      case 'huiliu:ready':
        ready = true;
        launcher.hidden = false;
        frame.contentWindow?.postMessage({ type: 'huiliu:init', open, ...recall() }, server);
        return;
      case 'huiliu:identity':
        keep(data as { visitorToken?: unknown; conversationId?: unknown });
        return;
      case 'huiliu:close':
        if (open) setOpen(false);
        return;
      case 'huiliu:unread':
        if (typeof data.count === 'number' && Number.isInteger(data.count) && data.count >= 0) {
          unread = open ? 0 : data.count;
          label();
        }
        return;
    }
  });
  label();
  root.append(frame, launcher);
  // A site missing from the server's widget.allowedOrigins gets a refused frame (CSP frame-ancestors)
  // that never says it is ready: tell the site's developer where to look.
  setTimeout(() => {
    // The site's developer reads this in the browser console; the loader has no other voice.
    // eslint-disable-next-line no-console
    if (!ready) console.warn(`Huiliu: the chat from ${server} did not load here; is ${location.origin} in widget.allowedOrigins?`);
  }, 15_000);
  // The chat loads hidden with the page, so an agent's reply to a returning visitor shows on the badge.
  frame.src = `${server}/widget?${query.toString()}`;
  const mount = () => document.body.append(root);
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
