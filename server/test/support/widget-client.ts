import WebSocket from 'ws';
import type { WidgetServerFrame } from '../../../common/web/widget-protocol';
import type { TestServer } from './harness';

export interface WidgetClient {
  ws: WebSocket;
  frames: WidgetServerFrame[];
  /** Resolves with the close code once the server (or client) closed the connection. */
  closed: Promise<number>;
  send(frame: unknown): void;
  /** Waits up to 5 s for (and removes) the first frame of `type` that matches `where`. */
  next<T extends WidgetServerFrame['type']>(
    type: T,
    where?: (f: Extract<WidgetServerFrame, { type: T }>) => boolean,
  ): Promise<Extract<WidgetServerFrame, { type: T }>>;
}

/** A widget connection on `wss://…/channels/web` speaking the JSON frames, trusting the test server's CA. */
export async function openWidget(s: Pick<TestServer, 'url' | 'tls'>, headers: Record<string, string> = {}): Promise<WidgetClient> {
  const ws = new WebSocket(`${s.url.replace('https', 'wss')}/channels/web`, { ca: s.tls.caPem, headers });
  const frames: WidgetServerFrame[] = [];
  ws.on('message', (d) => frames.push(JSON.parse(d.toString()) as WidgetServerFrame));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  // Errors after open (a reset by the server) show up as the close; the test asserts on that.
  ws.on('error', () => undefined);
  return {
    ws,
    frames,
    closed,
    send: (frame) => ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame)),
    async next(type, where = () => true) {
      const end = Date.now() + 5000;
      for (;;) {
        const i = frames.findIndex((f) => f.type === type && where(f as never));
        if (i >= 0) return frames.splice(i, 1)[0] as never;
        if (Date.now() > end) throw new Error(`no ${type} frame; got ${JSON.stringify(frames).slice(0, 500)}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

/** Hello as a new visitor, one message, its ack: the widget path works end to end. */
export async function widgetRoundTrip(s: Pick<TestServer, 'url' | 'tls'>, text = 'still there?'): Promise<number> {
  const w = await openWidget(s);
  w.send({ type: 'hello' });
  await w.next('welcome');
  const clientMessageId = `round-trip-${Math.random().toString(36).slice(2, 10)}`;
  w.send({ type: 'message', clientMessageId, text });
  const ack = await w.next('ack', (a) => a.clientMessageId === clientMessageId);
  w.ws.close();
  return ack.seq;
}
