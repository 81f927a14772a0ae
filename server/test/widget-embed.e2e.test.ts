import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Frame, FrameLocator, Page } from 'playwright-core';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageView, SessionSummary } from '../../common/api/sessions';
import { ack, openAgentSocket } from './support/agent-client';
import { launchPinnedChromium } from './support/browser';
import type { TestServer } from './support/harness';
import { serveHostPage, type HostPage } from './support/host-page';
import { httpsRequest } from './support/https';
import { freePort, REPO, startServerProcess, type ServerProcess } from './support/server-process';
import { renderTextImage } from './support/text-image';
import { writeConfigFile } from './support/config-file';
import { eventually } from './support/until';
import { passPreChat } from './support/widget-page';

const SHOTS = join(REPO, 'test-output', 'e2e');
/** The largest upload this test's server takes (config `widget.upload.maxBytes`). */
const MAX_UPLOAD = 256 * 1024;

// The page's globals, typed here: the server's tsconfig has no DOM lib. Functions passed to evaluate
// run in the page and reach these through globalThis.
type PageGlobals = {
  document: { activeElement: { id: string; className: string; tagName: string; getAttribute(n: string): string | null } | null };
  innerWidth: number;
};
const focused = (where: Page | Frame) =>
  where.evaluate(() => {
    const el = (globalThis as unknown as PageGlobals).document.activeElement;
    return el ? el.id || el.className || el.tagName : null;
  });
/** Whether the page scrolls sideways (a 360 px layout must not). */
const overflowsX = (where: Page | Frame) =>
  where.evaluate(() => {
    const doc = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document;
    return doc.documentElement.scrollWidth > doc.documentElement.clientWidth;
  });

/**
 * Issue 13's "done" as a visitor on a phone sees it, in Chromium against the real `--demo` server:
 * a shop page on a loopback origin embeds the widget with one script tag; at 360×640 the visitor
 * opens the launcher by keyboard, answers the pre-chat form (its errors first), writes, sees the
 * agent typing and the reply, sees "Read" once the agent read them, sends an image and has a
 * refused file explained, closes with Escape (focus back on the launcher) and sees the unread badge.
 * In English and Chinese. A second origin that is not allowed gets no chat (frame-ancestors).
 */
describe('the embedded widget (one script tag)', () => {
  let server: ServerProcess;
  let browser: Browser;
  let ca: string;
  let allowed: HostPage;
  let other: HostPage;
  let serverUrl = '';
  const taken = new Set<string>();

  const login = async (username: string) => {
    const res = await httpsRequest(`${server.url}/api/v1/auth/login`, { ca, method: 'POST', json: { username, password: 'huiliu-demo' } });
    return (JSON.parse(res.body) as { token: string }).token;
  };
  const api = async <T>(path: string, token: string): Promise<T> => {
    const res = await httpsRequest(`${server.url}${path}`, { ca, headers: { authorization: `Bearer ${token}` } });
    if (res.status >= 300) throw new Error(`GET ${path}: ${res.status} ${res.body}`);
    return JSON.parse(res.body) as T;
  };

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    allowed = await serveHostPage(() => serverUrl);
    other = await serveHostPage(() => serverUrl);
    const port = await freePort();
    const config = writeConfigFile({ widget: { allowedOrigins: [allowed.origin], upload: { maxBytes: MAX_UPLOAD } } });
    server = await startServerProcess({ port, env: { HUILIU_CONFIG: config } });
    serverUrl = server.url;
    ca = readFileSync(join(server.dataDir, 'tls', 'ca.pem'), 'utf8');
    browser = await launchPinnedChromium(server.dataDir);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await allowed?.close();
    await other?.close();
    if (server) rmSync(server.dataDir, { recursive: true, force: true });
  });

  const cases = [
    {
      lang: 'en',
      locale: 'en-US',
      open: 'Open support chat',
      name: 'Li Na',
      badContact: 'li.na@example',
      contact: 'li.na@example.com',
      topic: 'Billing',
      question: 'I was charged twice for order 1024',
      reply: 'Sorry about that, I am refunding the second charge now.',
      later: 'The refund is on its way.',
      words: {
        badContact: /does not look like an e-mail address/,
        typing: 'Agent is typing…',
        read: 'Read',
        refused: /cannot be sent: this type of file is not accepted/,
        tooLarge: /too large: files up to 256 KB/,
        unread: /1 unread message/,
        queue: /number 1 in the queue/,
      },
    },
    {
      lang: 'zh',
      locale: 'zh-CN',
      open: '打开在线客服',
      name: '李娜',
      badContact: '138 0013 转 8',
      contact: '+86 138 0013 8000',
      topic: '账单',
      question: '订单 1024 被扣了两次款',
      reply: '非常抱歉，我现在为您退回第二笔扣款。',
      later: '退款已经在路上了。',
      words: {
        badContact: /请输入有效的邮箱/,
        typing: '客服正在输入…',
        read: '已读',
        refused: /无法发送：不支持这种文件类型/,
        tooLarge: /太大了：最大可发送 256 KB/,
        unread: /1 条未读消息/,
        queue: /您是第 1 位/,
      },
    },
  ] as const;

  for (const c of cases) {
    it(`embeds, asks before the chat, types, reads, uploads and closes by keyboard at 360×640 (${c.lang})`, async () => {
      const context = await browser.newContext({ viewport: { width: 360, height: 640 }, locale: c.locale, hasTouch: true });
      const page = await context.newPage();
      let agent: Socket | undefined;
      try {
        await page.goto(`${allowed.origin}/`);
        const launcher = page.locator('.huiliu-launcher');
        // The button shows once the chat in its frame is ready.
        await launcher.waitFor({ state: 'visible' });
        expect(await launcher.getAttribute('aria-label')).toBe(c.open);
        await page.screenshot({ path: join(SHOTS, `widget-launcher-${c.lang}.png`) });

        // Keyboard only: the page's link, then the launcher; Enter opens the panel full screen.
        await page.keyboard.press('Tab');
        expect(await focused(page)).toBe('faq-link');
        await page.keyboard.press('Tab');
        expect(await focused(page)).toBe('huiliu-launcher');
        await page.keyboard.press('Enter');
        const panel = page.locator('iframe.huiliu-panel');
        await panel.waitFor({ state: 'visible' });
        expect(await panel.boundingBox()).toMatchObject({ x: 0, y: 0, width: 360, height: 640 });
        const w: FrameLocator = page.frameLocator('iframe.huiliu-panel');
        const frame = await eventually(() => page.frames().find((f) => f.url().includes('/widget?')) ?? null);
        await expect.poll(() => w.locator('#link-state').getAttribute('data-state')).toBe('online');
        expect(await w.locator('html').getAttribute('lang')).toBe(c.lang === 'zh' ? 'zh-CN' : 'en');

        // The pre-chat form (the demo's: name and contact optional, a topic) takes the focus.
        await w.locator('#prechat').waitFor({ state: 'visible' });
        await expect.poll(() => focused(frame)).toBe('pc-name');
        expect(await w.locator('#composer').isVisible()).toBe(false);
        expect(await overflowsX(frame)).toBe(false);
        await page.screenshot({ path: join(SHOTS, `widget-prechat-${c.lang}.png`) });

        // Wrong first: a malformed contact and no topic are said next to their fields.
        await page.keyboard.type(c.name);
        await page.keyboard.press('Tab');
        expect(await focused(frame)).toBe('pc-contact');
        await page.keyboard.type(c.badContact);
        await page.keyboard.press('Tab');
        await page.keyboard.press('Tab');
        expect(await focused(frame)).toBe('prechat-start');
        await page.keyboard.press('Enter');
        await expect.poll(() => w.locator('#pc-contact-error').textContent()).toMatch(c.words.badContact);
        expect(await w.locator('#pc-topic-error').textContent()).not.toBe('');
        expect(await w.locator('#pc-contact').getAttribute('aria-invalid')).toBe('true');
        expect(await focused(frame)).toBe('pc-contact');
        await page.screenshot({ path: join(SHOTS, `widget-prechat-errors-${c.lang}.png`) });

        // Right: the contact fixed, the topic picked with the keyboard (Tab to the group, Space).
        await w.locator('#pc-contact').fill(c.contact);
        await page.keyboard.press('Tab');
        await page.keyboard.press('Space');
        expect(await w.getByRole('radio', { name: c.topic }).isChecked()).toBe(true);
        await w.getByRole('button', { name: c.lang === 'en' ? 'Start chat' : '开始咨询' }).press('Enter');
        await w.locator('#composer').waitFor({ state: 'visible' });
        expect(await w.locator('#prechat').isVisible()).toBe(false);
        await expect.poll(() => focused(frame)).toBe('text');

        // The first message.
        await page.keyboard.type(c.question);
        await page.keyboard.press('Enter');
        const mine = w.locator('[data-testid="customer-message"]');
        await expect.poll(() => mine.first().getAttribute('data-seq')).toMatch(/^\d+$/);
        const firstSeq = Number(await mine.first().getAttribute('data-seq'));

        // An agent takes it (a billing topic opens in the general group, where agent1 works).
        const token = await login('agent1');
        agent = await openAgentSocket({ url: server.url, tls: { caPem: ca } } as unknown as TestServer, token);
        const customerTyping: boolean[] = [];
        agent.on('customer:typing', (e: { typing: boolean }) => customerTyping.push(e.typing));
        const delivery: { messageId: string; state: string }[] = [];
        agent.on('message:delivery', (e: { messageId: string; state: string }) => delivery.push(e));
        // With an agent online the header says where the visitor stands, politely, at 360 px too.
        await expect.poll(() => w.locator('#agent-line').textContent(), { timeout: 10_000 }).toMatch(c.words.queue);
        expect(await w.locator('#agent-line').getAttribute('aria-live')).toBe('polite');
        expect(await overflowsX(frame)).toBe(false);
        await page.screenshot({ path: join(SHOTS, `widget-queue-${c.lang}.png`) });
        const session = await eventually(async () => {
          const { sessions } = await api<{ sessions: SessionSummary[] }>('/api/v1/sessions?channel=WB&status=offered', token);
          return sessions.find((s) => !taken.has(s.id)) ?? null;
        }, 10_000);
        taken.add(session.id);
        expect(session.skillGroup).toBe('general');
        expect((await ack(agent, 'offer:accept', { sessionId: session.id })).ok).toBe(true);

        // The agent types: the widget says so (politely, once); the visitor's typing reaches the agent.
        expect((await ack(agent, 'agent:typing', { sessionId: session.id, typing: true })).ok).toBe(true);
        await expect.poll(() => w.locator('#typing').textContent()).toBe(c.words.typing);
        expect(await w.locator('#typing').getAttribute('aria-live')).toBe('polite');
        await w.locator('#text').pressSequentially('and');
        await expect.poll(() => customerTyping).toContain(true);
        await page.screenshot({ path: join(SHOTS, `widget-typing-${c.lang}.png`) });

        // The reply ends "typing…"; the agent reads the visitor's message: "Read" under it.
        const sent = await ack<MessageView>(agent, 'message:send', {
          sessionId: session.id,
          clientMessageId: `reply-${c.lang}-0001`,
          text: c.reply,
        });
        expect(sent.ok).toBe(true);
        await expect.poll(() => w.locator('[data-testid="agent-message"] .msg__text').allTextContents()).toContain(c.reply);
        await expect.poll(() => w.locator('#typing').textContent()).toBe('');
        // The visitor has the chat open and focused: the reply is reported read to the agent.
        if (!sent.ok) throw new Error('reply not sent');
        await expect.poll(() => delivery.some((d) => d.messageId === sent.data.id && d.state === 'read')).toBe(true);
        expect(await w.locator('[data-testid="read-receipt"]').count()).toBe(0);
        expect((await ack(agent, 'session:read', { sessionId: session.id, upToSeq: firstSeq })).ok).toBe(true);
        await expect.poll(() => w.locator('[data-testid="read-receipt"]').textContent()).toBe(c.words.read);
        await w.locator('#text').fill('');

        // An image goes up and shows inline, named by its file name.
        const png = renderTextImage(c.lang === 'en' ? 'Order 1024\ncharged twice' : '订单 1024\n重复扣款');
        await w.locator('#file').setInputFiles({ name: 'receipt-1024.png', mimeType: 'image/png', buffer: png });
        const image = w.locator('[data-testid="customer-message"] img[alt="receipt-1024.png"]');
        await image.waitFor({ state: 'visible', timeout: 10_000 });
        await expect.poll(() => image.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
        // A program and a file over the limit are refused before sending, with the reason.
        await w
          .locator('#file')
          .setInputFiles({ name: 'invoice.exe', mimeType: 'application/x-msdownload', buffer: Buffer.from('MZ\x90\x00') });
        await expect.poll(() => w.locator('#upload-error').textContent()).toMatch(c.words.refused);
        await page.screenshot({ path: join(SHOTS, `widget-upload-refused-${c.lang}.png`) });
        await w.locator('#file').setInputFiles({
          name: 'scan.png',
          mimeType: 'image/png',
          buffer: Buffer.concat([png.subarray(0, 8), Buffer.alloc(MAX_UPLOAD)]),
        });
        await expect.poll(() => w.locator('#upload-error').textContent()).toMatch(c.words.tooLarge);
        expect(await w.locator('[data-testid="upload-pending"]').count()).toBe(0);
        expect(await overflowsX(frame)).toBe(false);
        await w.locator('#upload-error').evaluate((el) => ((el as unknown as { textContent: string }).textContent = ''));
        await page.screenshot({ path: join(SHOTS, `widget-chat-${c.lang}.png`) });

        // Every control a visitor can reach has a name a screen reader says.
        const unnamed = await frame.evaluate(() => {
          type El = {
            id: string;
            tagName: string;
            textContent: string | null;
            offsetParent: unknown;
            labels?: { textContent: string | null }[] | null;
            getAttribute(n: string): string | null;
            querySelector(s: string): { getAttribute(n: string): string | null } | null;
          };
          const doc = (
            globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<El>; getElementById(id: string): El | null } }
          ).document;
          const nameOf = (el: El) =>
            el.getAttribute('aria-label') ??
            (el.getAttribute('aria-labelledby') ?? '')
              .split(' ')
              .map((id) => doc.getElementById(id)?.textContent ?? '')
              .join('') ??
            '';
          return [...doc.querySelectorAll('button, input, textarea, select, a[href], [role="radio"], [tabindex="0"]')]
            .filter((el) => el.offsetParent !== null && el.getAttribute('aria-hidden') !== 'true')
            .filter(
              (el) =>
                !(
                  nameOf(el).trim() ||
                  [...(el.labels ?? [])].some((l) => l.textContent?.trim()) ||
                  el.textContent?.trim() ||
                  // A link around an image is named by the image's alt text.
                  el.querySelector('img')?.getAttribute('alt')?.trim()
                ),
            )
            .map((el) => el.id || el.tagName);
        });
        expect(unnamed).toEqual([]);
        expect(await w.locator('#messages').getAttribute('role')).toBe('log');

        // Tab order inside the panel: header controls, the conversation, attach, message, send.
        await w.locator('#close').focus();
        const order: (string | null)[] = [];
        for (let i = 0; i < 6; i++) {
          order.push(await focused(frame));
          await page.keyboard.press('Tab');
        }
        const at = (id: string) => order.indexOf(id);
        expect(at('close')).toBe(0);
        for (const id of ['messages', 'attach', 'text', 'send']) expect(at(id), `${id} in ${order.join(' → ')}`).toBeGreaterThan(0);
        expect(at('messages')).toBeLessThan(at('attach'));
        expect(at('attach')).toBeLessThan(at('text'));
        expect(at('text')).toBeLessThan(at('send'));

        // Escape closes the panel and gives the focus back to the launcher.
        await w.locator('#text').focus();
        await page.keyboard.press('Escape');
        await panel.waitFor({ state: 'hidden' });
        expect(await focused(page)).toBe('huiliu-launcher');
        expect(await launcher.getAttribute('aria-expanded')).toBe('false');

        // Closed: a new reply shows on the launcher's badge and in its name.
        expect(
          (await ack(agent, 'message:send', { sessionId: session.id, clientMessageId: `reply-${c.lang}-0002`, text: c.later })).ok,
        ).toBe(true);
        await expect.poll(() => page.locator('.huiliu-badge').textContent()).toBe('1');
        expect(await launcher.getAttribute('aria-label')).toMatch(c.words.unread);
        await page.screenshot({ path: join(SHOTS, `widget-badge-${c.lang}.png`) });
        await page.keyboard.press('Enter');
        await panel.waitFor({ state: 'visible' });
        await expect.poll(() => page.locator('.huiliu-badge').isVisible()).toBe(false);

        // Another page of the shop: the same conversation comes back (the browser refuses the chat
        // frame its own storage here, so the loader kept the visitor's identity in the site's).
        const kept = await page.evaluate(() =>
          Object.keys((globalThis as unknown as { localStorage: object }).localStorage).filter((k) =>
            k.startsWith('huiliu.widget.identity:'),
          ),
        );
        expect(kept).toEqual([`huiliu.widget.identity:${server.url}`]);
        await page.reload();
        await launcher.waitFor({ state: 'visible' });
        await launcher.click();
        await expect
          .poll(() => w.locator('[data-testid="agent-message"] .msg__text').allTextContents(), { timeout: 10_000 })
          .toEqual([c.reply, c.later]);
        expect(await w.locator('#prechat').isVisible()).toBe(false);
        expect(await w.locator('[data-testid="read-receipt"]').textContent()).toBe(c.words.read);
      } finally {
        agent?.disconnect();
        await context.close();
      }
    }, 90_000);
  }

  it('sends a pasted and a dropped image, and retries a failed upload with the same clientMessageId', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 640 }, locale: 'en-US' });
    const page = await context.newPage();
    try {
      // The first upload attempt fails on the network; the widget tries again by itself.
      const attempts: string[] = [];
      await page.route('**/channels/web/uploads?*', async (route) => {
        attempts.push(new URL(route.request().url()).searchParams.get('clientMessageId') ?? '');
        if (attempts.length === 1) await route.abort('connectionreset');
        else await route.continue();
      });
      await page.goto(`${server.url}/widget`);
      await passPreChat(page);
      const png = [...renderTextImage('pasted screenshot')];
      // A screenshot pasted into the message box.
      await page.locator('#text').evaluate((el, bytes) => {
        const g = globalThis as unknown as {
          DataTransfer: new () => { items: { add(f: unknown): void } };
          File: new (parts: unknown[], name: string, o: { type: string }) => unknown;
          Uint8Array: typeof Uint8Array;
          ClipboardEvent: new (type: string, init: unknown) => unknown;
        };
        const data = new g.DataTransfer();
        data.items.add(new g.File([new g.Uint8Array(bytes)], 'pasted.png', { type: 'image/png' }));
        (el as unknown as { dispatchEvent(e: unknown): void }).dispatchEvent(
          new g.ClipboardEvent('paste', { clipboardData: data, bubbles: true }),
        );
      }, png);
      await page.locator('img[alt="pasted.png"]').waitFor({ state: 'visible', timeout: 15_000 });
      expect(attempts.length).toBe(2);
      expect(attempts[1]).toBe(attempts[0]);
      expect(await page.locator('[data-testid="customer-message"] img').count()).toBe(1);
      // A file dropped on the chat.
      await page.locator('#widget').evaluate((el, bytes) => {
        const g = globalThis as unknown as {
          DataTransfer: new () => { items: { add(f: unknown): void } };
          File: new (parts: unknown[], name: string, o: { type: string }) => unknown;
          Uint8Array: typeof Uint8Array;
          DragEvent: new (type: string, init: unknown) => unknown;
        };
        const data = new g.DataTransfer();
        data.items.add(new g.File([new g.Uint8Array(bytes)], 'dropped.png', { type: 'image/png' }));
        const target = el as unknown as { dispatchEvent(e: unknown): void };
        target.dispatchEvent(new g.DragEvent('dragenter', { dataTransfer: data, bubbles: true }));
        target.dispatchEvent(new g.DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      }, png);
      await page.locator('img[alt="dropped.png"]').waitFor({ state: 'visible', timeout: 15_000 });
      expect(await page.locator('#drop').isVisible()).toBe(false);
      expect(new Set(attempts).size).toBe(2);
    } finally {
      await context.close();
    }
  }, 60_000);

  it('shows the open panel beside the page on a desktop screen (en)', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' });
    const page = await context.newPage();
    try {
      await page.goto(`${allowed.origin}/?title=Example%20shop%20support`);
      await page.locator('.huiliu-launcher').click();
      const panel = page.locator('iframe.huiliu-panel');
      await panel.waitFor({ state: 'visible' });
      const box = (await panel.boundingBox())!;
      // A 380 px panel above the launcher, bottom right.
      expect(box.width).toBe(380);
      expect(box.x + box.width).toBe(1280 - 20);
      const w = page.frameLocator('iframe.huiliu-panel');
      expect(await w.locator('#widget-title').textContent()).toBe('Example shop support');
      await w.locator('#prechat').waitFor({ state: 'visible' });
      await page.screenshot({ path: join(SHOTS, 'widget-desktop-en.png') });

      // The script's attributes: on the left, in Chinese whatever the browser says.
      await page.goto(`${allowed.origin}/?position=left&lang=zh`);
      const launcher = page.locator('.huiliu-launcher');
      await launcher.waitFor({ state: 'visible' });
      expect(await launcher.getAttribute('aria-label')).toBe('打开在线客服');
      expect((await launcher.boundingBox())!.x).toBe(20);
      await launcher.click();
      await expect.poll(() => w.locator('html').getAttribute('lang')).toBe('zh-CN');
      expect((await panel.boundingBox())!.x).toBe(20);
    } finally {
      await context.close();
    }
  }, 30_000);

  it('renders no chat on a site that is not in widget.allowedOrigins', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 640 } });
    const page = await context.newPage();
    const console: string[] = [];
    page.on('console', (m) => console.push(m.text()));
    try {
      await page.goto(`${other.origin}/`);
      // The loader itself loads anywhere; the framed chat is refused by the browser, so the chat
      // never says it is ready and the launcher stays hidden (no button to an empty panel).
      await expect.poll(() => console.some((m) => m.includes('frame-ancestors')), { timeout: 10_000 }).toBe(true);
      expect(await page.locator('[data-huiliu-launcher]').count()).toBe(1);
      expect(await page.locator('iframe.huiliu-panel').getAttribute('src')).toMatch(/\/widget\?embed=1/);
      const frame = page.frames().find((f) => f !== page.mainFrame());
      expect(frame?.url()).not.toContain('/widget');
      expect(await page.frameLocator('iframe.huiliu-panel').locator('#widget').count()).toBe(0);
      expect(await page.locator('.huiliu-launcher').isVisible()).toBe(false);
      await page.screenshot({ path: join(SHOTS, 'widget-refused-origin.png') });
    } finally {
      await context.close();
    }
  }, 30_000);
});
