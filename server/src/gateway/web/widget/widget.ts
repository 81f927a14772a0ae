import { hasVisibleText } from '../../../../../common/text/text';
import { Heartbeat } from '../../../../../common/web/heartbeat';
import type { WidgetClientFrame, WidgetMessage, WidgetServerFrame } from '../../../../../common/web/widget-protocol';
import type { AuthorKind, QueueStanding } from '../../../../../common/ai/assist';

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

/**
 * Merges another tab's saved state into this one by message id and seq, never overwriting (DESIGN
 * §7): two tabs of one visitor share one localStorage, and the last writer must not erase what the
 * other one stored. A different conversation in storage is left alone (this tab's is newer to it).
 */
function merge(into: Saved, other: Saved): void {
  into.visitorToken ??= other.visitorToken;
  if (!into.conversationId && other.conversationId) into.conversationId = other.conversationId;
  if (other.conversationId !== into.conversationId) return;
  const byId = new Map(into.messages.map((m) => [m.id, m]));
  for (const m of other.messages) if (!byId.has(m.id)) byId.set(m.id, m);
  into.messages = [...byId.values()].sort((a, b) => a.seq - b.seq).slice(-KEEP);
  into.lastSeq = Math.max(into.lastSeq, other.lastSeq);
  const stored = new Set(into.messages.map((m) => m.clientMessageId));
  const pending = new Map([...into.outbox, ...other.outbox].map((p) => [p.clientMessageId, p]));
  into.outbox = [...pending.values()].filter((p) => !stored.has(p.clientMessageId));
}

const state = load();
const save = () => {
  merge(state, load());
  state.messages = state.messages.slice(-KEEP);
  localStorage.setItem(STORAGE, JSON.stringify(state));
};

const $messages = document.getElementById('messages') as HTMLOListElement;
const $form = document.getElementById('composer') as HTMLFormElement;
const $text = document.getElementById('text') as HTMLTextAreaElement;
const $link = document.getElementById('link-state') as HTMLSpanElement;
const $agent = document.getElementById('agent-line') as HTMLParagraphElement;
const $handover = document.getElementById('handover') as HTMLButtonElement;
const $csat = document.getElementById('csat') as HTMLElement;
const $csatForm = document.getElementById('csat-form') as HTMLFormElement;
const $csatStars = document.getElementById('csat-stars') as HTMLDivElement;
const $csatHint = document.getElementById('csat-hint') as HTMLParagraphElement;
const $csatComment = document.getElementById('csat-comment') as HTMLTextAreaElement;
const $csatSend = document.getElementById('csat-send') as HTMLButtonElement;
const $csatThanks = document.getElementById('csat-thanks') as HTMLParagraphElement;

/** The customer's language for the widget's own words (the AI and agents answer in the customer's). */
const zh = navigator.language.toLowerCase().startsWith('zh');
const t = {
  talkToPerson: zh ? '转人工' : 'Talk to a person',
  aiLabel: zh ? '智能助手' : 'AI assistant',
  withAi: zh ? '智能助手正在为您解答，随时可以转人工。' : 'An AI assistant is answering. You can ask for a person at any time.',
  standing(s: QueueStanding): string {
    if (s.noAgentOnline)
      return zh
        ? '目前没有客服在线：请留言，客服上线后会最先回复您。'
        : 'No agent is online right now: leave a message and an agent will see it first.';
    const wait = s.estimatedWaitSeconds;
    const mins = wait === null ? null : Math.max(1, Math.ceil(wait / 60));
    if (zh) return `排队中：您是第 ${s.position} 位${wait === null ? '' : wait < 60 ? '，马上为您接通' : `，预计等待约 ${mins} 分钟`}`;
    return `Waiting for a person: number ${s.position} in the queue${wait === null ? '' : wait < 60 ? ', shortly' : `, about ${mins} min`}`;
  },
  // The rating after a chat (CSAT, issue 11).
  csatTitle: zh ? '您对本次服务满意吗？' : 'How did we do?',
  csatScores: zh ? ['很不满意', '不满意', '一般', '满意', '非常满意'] : ['Very unhappy', 'Unhappy', 'Okay', 'Happy', 'Very happy'],
  csatStar: (n: number) => (zh ? `${n} 星（共 5 星）` : `${n} out of 5`),
  csatComment: zh ? '还有什么想告诉我们的吗？（选填）' : 'Anything you would like to add? (optional)',
  csatLater: zh ? '以后再说' : 'Not now',
  csatSend: zh ? '提交评价' : 'Send rating',
  csatThanks: zh ? '感谢您的评价！' : 'Thank you for your rating!',
  csatFailed: zh ? '评价没有提交成功，请稍后再试。' : 'The rating was not sent; please try again.',
};
$handover.textContent = t.talkToPerson;
/** Where the conversation is: the hand-over button shows while nobody but the AI (or nobody yet) answers. */
let phase: 'new' | 'bot' | 'waiting' | 'agent' | 'closed' = 'new';
function setPhase(next: typeof phase): void {
  phase = next;
  $handover.hidden = !(next === 'bot' || (next === 'new' && Boolean(state.conversationId)));
  // The rating belongs to the conversation that closed: it goes when a new one starts.
  if (next !== 'closed') hideCsat();
}

/** The rating card (issue 11): the closed session it rates, the score picked, whether it is on its way. */
let csat: { sessionId: string; score: number | null; sending: boolean } | null = null;
const stars = [1, 2, 3, 4, 5].map((n) => {
  const star = document.createElement('button');
  star.type = 'button';
  star.className = 'csat__star';
  star.textContent = '★';
  star.setAttribute('role', 'radio');
  star.setAttribute('aria-checked', 'false');
  star.setAttribute('aria-label', t.csatStar(n));
  star.dataset.score = String(n);
  star.addEventListener('click', () => pickScore(n));
  return star;
});
$csatStars.append(...stars);
document.getElementById('csat-title')!.textContent = t.csatTitle;
document.getElementById('csat-comment-label')!.textContent = t.csatComment;
$csatComment.placeholder = t.csatComment;
$csatSend.textContent = t.csatSend;
$csatThanks.textContent = t.csatThanks;
const $csatLater = document.getElementById('csat-later') as HTMLButtonElement;
$csatLater.textContent = t.csatLater;
$csatLater.addEventListener('click', () => hideCsat());

function pickScore(score: number): void {
  if (!csat || csat.sending) return;
  csat.score = score;
  stars.forEach((star, i) => star.setAttribute('aria-checked', String(i + 1 <= score)));
  $csatHint.textContent = t.csatScores[score - 1]!;
  $csatSend.disabled = false;
}
function showCsat(sessionId: string): void {
  if (csat?.sessionId === sessionId) return;
  csat = { sessionId, score: null, sending: false };
  stars.forEach((star) => star.setAttribute('aria-checked', 'false'));
  $csatHint.textContent = '';
  $csatComment.value = '';
  $csatSend.disabled = true;
  $csatForm.hidden = false;
  $csatThanks.hidden = true;
  $csat.hidden = false;
}
function hideCsat(): void {
  csat = null;
  $csat.hidden = true;
}
function csatDone(sessionId: string): void {
  if (csat?.sessionId !== sessionId) return;
  csat.sending = false;
  $csatForm.hidden = true;
  $csatThanks.hidden = false;
}
$csatForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!csat || csat.score === null || csat.sending) return;
  const comment = $csatComment.value.trim();
  const frame: WidgetClientFrame = { type: 'csat', sessionId: csat.sessionId, score: csat.score, ...(comment ? { comment } : {}) };
  if (!sendFrame(frame)) {
    $csatHint.textContent = t.csatFailed;
    return;
  }
  csat.sending = true;
  $csatSend.disabled = true;
});
function onBot(): void {
  setPhase('bot');
  $agent.textContent = t.withAi;
}
$handover.addEventListener('click', () => {
  if (sendFrame({ type: 'handover' })) $handover.disabled = true;
  setTimeout(() => ($handover.disabled = false), 3000);
});

/** The server's receivedAt, as the time of day, with the date when it is not today (C12). */
function when(iso: string): string {
  const d = new Date(iso);
  const t = d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === new Date().toDateString()) return t;
  return `${d.toLocaleDateString([], { year: 'numeric', month: 'short', day: 'numeric' })} ${t}`;
}

function render(): void {
  $messages.replaceChildren();
  const shown = new Set<string>();
  for (const m of state.messages) {
    shown.add(m.clientMessageId);
    // A message cached by an older widget has no receivedAt; the server's copy has it.
    const at = (m as Partial<WidgetMessage>).receivedAt ?? m.sentAt;
    // Messages cached by an older widget have no author: theirs by direction.
    const author: AuthorKind = (m as Partial<WidgetMessage>).author ?? (m.direction === 'in' ? 'customer' : 'agent');
    $messages.append(bubble(m.direction, m.text, when(at), false, m.seq, at, author));
  }
  for (const p of state.outbox) {
    if (!shown.has(p.clientMessageId)) $messages.append(bubble('in', p.text, 'sending…', true));
  }
  $messages.scrollTop = $messages.scrollHeight;
}

function bubble(
  direction: 'in' | 'out',
  text: string,
  meta: string,
  pending: boolean,
  seq?: number,
  at?: string,
  author: AuthorKind = direction === 'in' ? 'customer' : 'agent',
): HTMLLIElement {
  const li = document.createElement('li');
  li.className = `msg msg--${direction}${pending ? ' msg--pending' : ''}${author === 'ai' ? ' msg--ai' : ''}${author === 'system' ? ' msg--system' : ''}`;
  if (seq !== undefined) li.dataset.seq = String(seq);
  li.dataset.testid =
    direction === 'in' ? 'customer-message' : author === 'ai' ? 'ai-message' : author === 'system' ? 'system-message' : 'agent-message';
  // Every AI message says so (DESIGN §4): a label the customer reads before the text.
  if (author === 'ai') {
    const label = document.createElement('span');
    label.className = 'msg__author';
    label.textContent = t.aiLabel;
    li.append(label);
  }
  // User text lays itself out by its first strong character: Arabic and Hebrew right to left (D15).
  const body = document.createElement('span');
  body.className = 'msg__text';
  body.dir = 'auto';
  body.textContent = text;
  const small = document.createElement(at ? 'time' : 'span');
  small.className = 'msg__meta';
  if (at) small.setAttribute('datetime', at);
  small.textContent = meta;
  li.append(body, small);
  return li;
}

function statusLine(text: string): void {
  const li = document.createElement('li');
  li.className = 'status';
  li.dataset.testid = 'status';
  li.dir = 'auto';
  li.textContent = text;
  $messages.append(li);
  $messages.scrollTop = $messages.scrollHeight;
}

function accept(m: WidgetMessage): void {
  if (state.messages.some((x) => x.id === m.id)) return; // replays and multi-tab echoes show once
  // An AI answer says the AI has the conversation, even if its status frame has not come (yet).
  if (m.author === 'ai' && phase === 'new') onBot();
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
// The replay page asked for and not yet answered, asked again after a RATE_LIMITED.
let wantedPage: { conversationId: string; afterSeq: number } | null = null;

function askPage(conversationId: string, afterSeq: number): void {
  wantedPage = { conversationId, afterSeq };
  sendFrame({ type: 'history', ...wantedPage });
}

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

/**
 * Follows the server to `conversationId`. Only a different known conversation clears the history:
 * before the first ack another tab may already have merged this conversation's messages in.
 */
function adoptConversation(conversationId: string): void {
  if (state.conversationId && state.conversationId !== conversationId) {
    state.lastSeq = 0;
    state.messages = [];
  }
  state.conversationId = conversationId;
}

function onFrame(frame: WidgetServerFrame): void {
  switch (frame.type) {
    case 'welcome': {
      state.visitorToken = frame.visitorToken;
      if (frame.conversationId) adoptConversation(frame.conversationId);
      setPhase('new');
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
      adoptConversation(frame.conversationId);
      if (pending) {
        accept({
          id: frame.messageId,
          seq: frame.seq,
          direction: 'in',
          author: 'customer',
          text: pending.text,
          sentAt: pending.sentAt,
          receivedAt: frame.receivedAt,
          clientMessageId: pending.clientMessageId,
        });
      }
      return;
    }
    case 'message':
      return accept(frame.message);
    case 'replayed':
      wantedPage = null;
      // Pages come one at a time, each asked for once the last one arrived: a reconnect after a long
      // absence fetches what it missed without the server pushing it all at once.
      if (frame.more && frame.conversationId === state.conversationId) askPage(frame.conversationId, frame.lastSeq);
      return;
    case 'status':
      if (frame.status === 'agent-joined') {
        setPhase('agent');
        $agent.textContent = `${frame.agentName ?? 'An agent'} is helping you`;
        statusLine(`${frame.agentName ?? 'An agent'} joined the chat`);
      } else if (frame.status === 'bot') {
        onBot();
      } else if (frame.status === 'waiting') {
        // A new contact, or one whose agent left, hears it in the conversation; after a hand-over the
        // server's notice says it.
        const fresh = phase === 'new' || phase === 'agent';
        setPhase('waiting');
        // Where the customer stands, in the header (repeated updates replace it).
        if (frame.standing) $agent.textContent = t.standing(frame.standing);
        if (fresh) {
          statusLine(frame.standing?.noAgentOnline ? t.standing(frame.standing) : 'Thanks! An agent will be with you shortly.');
        }
      } else {
        const already = phase === 'closed';
        setPhase('closed');
        $agent.textContent = zh ? '本次会话已结束，欢迎随时再来咨询。' : 'This conversation was closed. Write again any time.';
        if (!already) statusLine(zh ? '会话已结束' : 'Conversation closed');
        // Closed and not yet rated by this visitor: ask how it went (issue 11).
        if (frame.rateable && frame.sessionId) showCsat(frame.sessionId);
      }
      return;
    case 'csat-recorded':
      return csatDone(frame.sessionId);
    case 'pong':
      if (frame.t !== undefined) heartbeat.pong(frame.t, Date.now());
      return;
    case 'error':
      // An answer to the rating on its way (error frames carry no id; the other frames that share
      // these codes are not sent while a rating is pending).
      if (csat?.sending && !frame.clientMessageId) {
        if (frame.code === 'CSAT_ALREADY_GIVEN') return csatDone(csat.sessionId);
        if (frame.code === 'SESSION_NOT_CLOSED' || frame.code === 'SESSION_NOT_FOUND') return hideCsat();
        csat.sending = false;
        $csatSend.disabled = false;
        $csatHint.textContent = t.csatFailed;
        return;
      }
      if (frame.code === 'RATE_LIMITED' || frame.code === 'INTERNAL') {
        // Not refused for good: the message stays in the outbox and goes again shortly (one timer
        // for all, so a burst of refusals does not multiply the retries).
        retryTimer ??= setTimeout(
          () => {
            retryTimer = undefined;
            flushOutbox();
            if (wantedPage) askPage(wantedPage.conversationId, wantedPage.afterSeq);
          },
          Math.max(1000, frame.retryAfterMs ?? 3000),
        );
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
  // Invisible-only text (zero-width spaces, fillers) is not a message: the server would refuse it (D14).
  if (!hasVisibleText(text)) return;
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
// Another tab of this visitor saved: take in what it has (merged, never overwritten) and show it.
window.addEventListener('storage', (event) => {
  if (event.key !== STORAGE) return;
  merge(state, load());
  render();
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
