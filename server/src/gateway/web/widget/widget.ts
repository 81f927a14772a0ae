import { Heartbeat } from '../../../../../common/web/heartbeat';
import type { WidgetClientFrame, WidgetMessage, WidgetServerFrame } from '../../../../../common/web/widget-protocol';

/**
 * The customer chat widget. Resumable over weak networks (DESIGN §7): messages wait in an outbox
 * until the server acks them (same clientMessageId on every retry, so nothing is stored twice);
 * after a reconnect the widget says which seq it saw last and receives exactly what it missed.
 */
const STORAGE = 'huiliu.widget.v1';
const KEEP = 50;

interface Saved {
  visitorToken?: string;
  conversationId?: string;
  lastSeq: number;
  messages: WidgetMessage[];
  outbox: { clientMessageId: string; text: string; sentAt: string }[];
}

function load(): Saved {
  try {
    const raw = localStorage.getItem(STORAGE);
    if (raw) return JSON.parse(raw) as Saved;
  } catch {
    /* a corrupt cache is dropped; the server has the history */
  }
  return { lastSeq: 0, messages: [], outbox: [] };
}

const state = load();
const save = () => {
  state.messages = state.messages.slice(-KEEP);
  localStorage.setItem(STORAGE, JSON.stringify(state));
};

const $messages = document.getElementById('messages') as HTMLOListElement;
const $form = document.getElementById('composer') as HTMLFormElement;
const $text = document.getElementById('text') as HTMLTextAreaElement;
const $link = document.getElementById('link-state') as HTMLSpanElement;
const $agent = document.getElementById('agent-line') as HTMLParagraphElement;

const time = (iso: string) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

function render(): void {
  $messages.replaceChildren();
  const shown = new Set<string>();
  for (const m of state.messages) {
    shown.add(m.clientMessageId);
    $messages.append(bubble(m.direction, m.text, time(m.sentAt), false, m.seq));
  }
  for (const p of state.outbox) {
    if (!shown.has(p.clientMessageId)) $messages.append(bubble('in', p.text, 'sending…', true));
  }
  $messages.scrollTop = $messages.scrollHeight;
}

function bubble(direction: 'in' | 'out', text: string, meta: string, pending: boolean, seq?: number): HTMLLIElement {
  const li = document.createElement('li');
  li.className = `msg msg--${direction}${pending ? ' msg--pending' : ''}`;
  if (seq !== undefined) li.dataset.seq = String(seq);
  li.dataset.testid = direction === 'in' ? 'customer-message' : 'agent-message';
  li.textContent = text;
  const small = document.createElement('span');
  small.className = 'msg__meta';
  small.textContent = meta;
  li.append(small);
  return li;
}

function statusLine(text: string): void {
  const li = document.createElement('li');
  li.className = 'status';
  li.dataset.testid = 'status';
  li.textContent = text;
  $messages.append(li);
  $messages.scrollTop = $messages.scrollHeight;
}

function accept(m: WidgetMessage): void {
  if (state.messages.some((x) => x.id === m.id)) return; // replays and multi-tab echoes show once
  state.messages.push(m);
  state.messages.sort((a, b) => a.seq - b.seq);
  state.lastSeq = Math.max(state.lastSeq, m.seq);
  state.outbox = state.outbox.filter((p) => p.clientMessageId !== m.clientMessageId);
  save();
  render();
}

let socket: WebSocket | null = null;
let backoff = 1000;
// The browser cannot see WebSocket pings, so the widget pings too: 30 s on a good link, 60 s on a
// weak one, and a dead link is noticed within one interval (DESIGN §7, common/web/heartbeat.ts).
const heartbeat = new Heartbeat();
let beatTimer: ReturnType<typeof setTimeout> | undefined;

function scheduleBeat(): void {
  clearTimeout(beatTimer);
  beatTimer = setTimeout(() => {
    const now = Date.now();
    if (heartbeat.beat(now) === 'dead') {
      socket?.close();
      return;
    }
    sendFrame({ type: 'ping', t: now });
    scheduleBeat();
  }, heartbeat.intervalMs);
}
let retryTimer: ReturnType<typeof setTimeout> | undefined;

function setLink(s: 'online' | 'offline' | 'connecting'): void {
  $link.dataset.state = s;
  $link.textContent = s === 'online' ? 'Online' : s === 'connecting' ? 'Connecting…' : 'Reconnecting…';
}

function sendFrame(frame: WidgetClientFrame): boolean {
  if (!socket || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(frame));
  return true;
}

function flushOutbox(): void {
  for (const p of state.outbox) sendFrame({ type: 'message', ...p });
}

function connect(): void {
  setLink(socket ? 'offline' : 'connecting');
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/channels/web`;
  const ws = new WebSocket(url);
  socket = ws;
  ws.onopen = () => {
    backoff = 1000;
    sendFrame({
      type: 'hello',
      ...(state.visitorToken ? { visitorToken: state.visitorToken } : {}),
      ...(state.conversationId ? { conversationId: state.conversationId, lastSeq: state.lastSeq } : {}),
    });
  };
  ws.onmessage = (event) => onFrame(JSON.parse(String(event.data)) as WidgetServerFrame);
  ws.onclose = () => {
    clearTimeout(beatTimer);
    if (socket !== ws) return;
    setLink('offline');
    // Exponential backoff with jitter, so a server restart is not met by every widget at once.
    const delay = Math.min(30_000, backoff) * (0.5 + Math.random() / 2);
    backoff = Math.min(30_000, backoff * 2);
    setTimeout(connect, delay);
  };
}

function onFrame(frame: WidgetServerFrame): void {
  switch (frame.type) {
    case 'welcome': {
      state.visitorToken = frame.visitorToken;
      if (frame.conversationId && frame.conversationId !== state.conversationId) {
        state.conversationId = frame.conversationId;
        state.lastSeq = 0;
        state.messages = [];
      }
      save();
      render();
      setLink('online');
      heartbeat.reset();
      scheduleBeat();
      flushOutbox();
      return;
    }
    case 'ack': {
      const pending = state.outbox.find((p) => p.clientMessageId === frame.clientMessageId);
      if (frame.conversationId !== state.conversationId) {
        state.conversationId = frame.conversationId;
        state.lastSeq = 0;
        state.messages = [];
      }
      if (pending) {
        accept({
          id: frame.messageId,
          seq: frame.seq,
          direction: 'in',
          text: pending.text,
          sentAt: pending.sentAt,
          clientMessageId: pending.clientMessageId,
        });
      }
      return;
    }
    case 'message':
      return accept(frame.message);
    case 'status':
      if (frame.status === 'agent-joined') {
        $agent.textContent = `${frame.agentName ?? 'An agent'} is helping you`;
        statusLine(`${frame.agentName ?? 'An agent'} joined the chat`);
      } else if (frame.status === 'waiting') {
        statusLine('Thanks! An agent will be with you shortly.');
      } else {
        $agent.textContent = 'This conversation was closed. Write again any time.';
        statusLine('Conversation closed');
      }
      return;
    case 'pong':
      if (frame.t !== undefined) heartbeat.pong(frame.t, Date.now());
      return;
    case 'error':
      if (frame.code === 'RATE_LIMITED' || frame.code === 'INTERNAL') {
        // Not refused for good: the message stays in the outbox and goes again shortly (one timer
        // for all, so a burst of refusals does not multiply the retries).
        retryTimer ??= setTimeout(() => {
          retryTimer = undefined;
          flushOutbox();
        }, 3000);
        return;
      }
      if (frame.clientMessageId) {
        // The server refused this message for good (too long, malformed): drop it from the outbox.
        state.outbox = state.outbox.filter((p) => p.clientMessageId !== frame.clientMessageId);
        save();
        render();
        statusLine(`Not sent: ${frame.message}`);
      }
      return;
  }
}

$form.addEventListener('submit', (event) => {
  event.preventDefault();
  const text = $text.value.trim();
  if (!text) return;
  const item = { clientMessageId: crypto.randomUUID(), text, sentAt: new Date().toISOString() };
  state.outbox.push(item);
  save();
  render();
  $text.value = '';
  sendFrame({ type: 'message', ...item });
});
$text.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {
    event.preventDefault();
    $form.requestSubmit();
  }
});
// The browser knows before any heartbeat does: drop the link at once, come back as soon as it returns.
window.addEventListener('offline', () => socket?.close());
window.addEventListener('online', () => {
  if (!socket || socket.readyState > WebSocket.OPEN) {
    backoff = 1000;
    connect();
  }
});

render();
connect();
