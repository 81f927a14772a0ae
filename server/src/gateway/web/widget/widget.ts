import { hasVisibleText } from '../../../../../common/text/text';
import { Heartbeat } from '../../../../../common/web/heartbeat';
import type {
  PreChatForm,
  UploadLimits,
  WIDGET_UPLOAD_PATH,
  WidgetClientFrame,
  WidgetMessage,
  WidgetServerFrame,
} from '../../../../../common/web/widget-protocol';
import type { AuthorKind } from '../../../../../common/ai/assist';
import { checkUpload, classifyContact } from './checks';
import { formatBytes, pickLang, STRINGS } from './strings';

/**
 * The customer chat widget. Resumable over weak networks (DESIGN §7): messages wait in an outbox
 * until the server acks them (same clientMessageId on every retry, so nothing is stored twice);
 * after a reconnect the widget says which seq it saw last and receives exactly what it missed.
 *
 * Embedded by `/widget.js` (issue 13) it runs in an iframe opened as `/widget?embed=1&host=<origin>`:
 * it talks to the loader only by postMessage to and from that origin (the CSP's frame-ancestors has
 * already refused any site not allowed to embed it).
 */
const STORAGE = 'huiliu.widget.v1';
// The protocol module's values pull in zod (100 kB); its constant's literal type keeps this one equal.
const UPLOAD_PATH: typeof WIDGET_UPLOAD_PATH = '/channels/web/uploads';
const KEEP = 50;

interface Saved {
  visitorToken?: string;
  conversationId?: string;
  lastSeq: number;
  messages: WidgetMessage[];
  outbox: { clientMessageId: string; text: string; sentAt: string }[];
}

/**
 * The browser's localStorage, or a page-lifetime stand-in where it is refused: a third-party iframe
 * with third-party storage blocked (Chromium's default in some modes, Safari's ITP) throws on first
 * access. The widget then works until the page is left, and a reload starts as a new visitor.
 */
let storageRefused = false;
const storage: Pick<Storage, 'getItem' | 'setItem'> = (() => {
  try {
    const s = window.localStorage;
    s.getItem(STORAGE);
    return s;
  } catch {
    storageRefused = true;
    const memory = new Map<string, string>();
    return { getItem: (k: string) => memory.get(k) ?? null, setItem: (k: string, v: string) => void memory.set(k, v) };
  }
})();

function load(): Saved {
  try {
    const raw = storage.getItem(STORAGE);
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
  try {
    storage.setItem(STORAGE, JSON.stringify(state));
  } catch {
    /* storage full or refused: the server keeps the history, a reload replays it */
  }
};

const byId = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const $widget = byId<HTMLElement>('widget');
const $title = byId<HTMLHeadingElement>('widget-title');
const $messages = byId<HTMLOListElement>('messages');
const $form = byId<HTMLFormElement>('composer');
const $text = byId<HTMLTextAreaElement>('text');
const $send = byId<HTMLButtonElement>('send');
const $link = byId<HTMLSpanElement>('link-state');
const $agent = byId<HTMLParagraphElement>('agent-line');
const $handover = byId<HTMLButtonElement>('handover');
const $close = byId<HTMLButtonElement>('close');
const $typing = byId<HTMLParagraphElement>('typing');
const $attach = byId<HTMLButtonElement>('attach');
const $file = byId<HTMLInputElement>('file');
const $uploadError = byId<HTMLParagraphElement>('upload-error');
const $drop = byId<HTMLDivElement>('drop');
const $csat = byId<HTMLElement>('csat');
const $csatForm = byId<HTMLFormElement>('csat-form');
const $csatStars = byId<HTMLDivElement>('csat-stars');
const $csatHint = byId<HTMLParagraphElement>('csat-hint');
const $csatComment = byId<HTMLTextAreaElement>('csat-comment');
const $csatSend = byId<HTMLButtonElement>('csat-send');
const $csatThanks = byId<HTMLParagraphElement>('csat-thanks');
const $preChat = byId<HTMLElement>('prechat');
const $preChatForm = byId<HTMLFormElement>('prechat-form');
const $pcName = byId<HTMLInputElement>('pc-name');
const $pcContact = byId<HTMLInputElement>('pc-contact');
const $pcTopics = byId<HTMLDivElement>('pc-topics');
const $pcStart = byId<HTMLButtonElement>('prechat-start');
const $pcError = byId<HTMLParagraphElement>('prechat-error');

// ── Embedding and language ─────────────────────────────────────────────────────────────────────
const params = new URLSearchParams(location.search);
/** The page that embeds us through /widget.js, or null when the widget is opened on its own. */
const host = ((): string | null => {
  if (params.get('embed') !== '1' || window.parent === window) return null;
  const claimed = params.get('host');
  // Chromium and Safari name the real embedder; it must be the one the loader said.
  const actual = location.ancestorOrigins?.[0];
  if (!claimed || (actual !== undefined && actual !== claimed)) return null;
  return claimed;
})();
/** Whether the visitor can see the chat: the loader's panel is open (always, when not embedded). */
let panelOpen = host === null;
const lang = pickLang(params.get('lang'), navigator.language);
const t = STRINGS[lang];
document.documentElement.lang = t.htmlLang;
const titleOverride = params.get('title')?.trim().slice(0, 64);
if (titleOverride) {
  $title.textContent = titleOverride;
  document.title = titleOverride;
}
$widget.setAttribute('aria-label', `${$title.textContent ?? ''} — ${t.chatRegion}`);
$messages.setAttribute('aria-label', t.messagesLabel);
$agent.textContent = t.subtitle;
$handover.textContent = t.talkToPerson;
byId('text-label').textContent = t.yourMessage;
$text.placeholder = t.placeholder;
$send.textContent = t.send;
$attach.setAttribute('aria-label', t.attach);
$attach.title = t.attach;
$close.setAttribute('aria-label', t.closeChat);
$close.title = t.closeChat;
$drop.textContent = t.dropHere;

/** What the widget tells the loader (docs/channels/web.md "Embedding"). */
type ToHost =
  | { type: 'huiliu:ready' }
  | { type: 'huiliu:close' }
  | { type: 'huiliu:unread'; count: number }
  /** Who this visitor is, for the loader to keep in the site's own storage (see `storageRefused`). */
  | { type: 'huiliu:identity'; visitorToken: string; conversationId: string | null };
/** Tells the loader something (only the origin that embedded us). */
function toHost(message: ToHost): void {
  if (host) window.parent.postMessage(message, host);
}
/**
 * Where the browser refuses this third-party frame its storage, the loader keeps the visitor's token
 * and conversation in the site's first-party storage and hands them back at start (`huiliu:init`),
 * so a reload resumes the conversation instead of starting a new visitor.
 */
let toldIdentity = '';
function tellIdentity(): void {
  if (!host || !storageRefused || !state.visitorToken) return;
  const identity = { type: 'huiliu:identity' as const, visitorToken: state.visitorToken, conversationId: state.conversationId ?? null };
  const key = JSON.stringify(identity);
  if (key === toldIdentity) return;
  toldIdentity = key;
  toHost(identity);
}
let unread = 0;
function countUnread(delta: number | null): void {
  const next = delta === null ? 0 : unread + delta;
  if (next === unread) return;
  unread = next;
  toHost({ type: 'huiliu:unread', count: unread });
}
if (host) {
  $close.hidden = false;
  $close.addEventListener('click', () => toHost({ type: 'huiliu:close' }));
  window.addEventListener('message', (event: MessageEvent<unknown>) => {
    if (event.origin !== host || event.source !== window.parent) return;
    const data = event.data as { type?: unknown; open?: unknown; visitorToken?: unknown; conversationId?: unknown } | null;
    if (data?.type === 'huiliu:init') {
      // The loader's answer to `ready`: whether the panel is open, and the identity it kept.
      panelOpen = data.open === true;
      if (storageRefused && !state.visitorToken && typeof data.visitorToken === 'string' && data.visitorToken.length <= 128) {
        state.visitorToken = data.visitorToken;
        if (typeof data.conversationId === 'string' && data.conversationId.length <= 64) state.conversationId = data.conversationId;
      }
      start();
      if (panelOpen) focusFirst();
    } else if (data?.type === 'huiliu:open') {
      panelOpen = true;
      countUnread(null);
      focusFirst();
      maybeSendRead();
    } else if (data?.type === 'huiliu:closed') {
      panelOpen = false;
    }
  });
  toHost({ type: 'huiliu:ready' });
}
// Escape closes the embedded panel (the loader then returns focus to its launcher).
document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && host && !event.defaultPrevented) {
    event.preventDefault();
    toHost({ type: 'huiliu:close' });
  }
});
function focusFirst(): void {
  if (!$preChat.hidden) (preChatFields().find((f) => !f.closest('[hidden]')) ?? $pcStart).focus();
  else $text.focus();
}

// ── Conversation phase and the header ──────────────────────────────────────────────────────────
/** Where the conversation is: the hand-over button shows while nobody but the AI (or nobody yet) answers. */
let phase: 'new' | 'bot' | 'waiting' | 'agent' | 'closed' = 'new';
function setPhase(next: typeof phase): void {
  phase = next;
  $handover.hidden = !(next === 'bot' || (next === 'new' && Boolean(state.conversationId)));
  // The rating belongs to the conversation that closed: it goes when a new one starts.
  if (next !== 'closed') hideCsat();
}
function onBot(): void {
  setPhase('bot');
  setAgentLine(t.withAi);
}
/** The header's second line; it is a polite live region, so only real changes are written. */
function setAgentLine(text: string): void {
  if ($agent.textContent !== text) $agent.textContent = text;
}
$handover.addEventListener('click', () => {
  if (sendFrame({ type: 'handover' })) $handover.disabled = true;
  setTimeout(() => ($handover.disabled = false), 3000);
});

// ── The rating card (issue 11) ─────────────────────────────────────────────────────────────────
/** The closed session it rates, the score picked, whether it is on its way. */
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
byId('csat-title').textContent = t.csatTitle;
byId('csat-comment-label').textContent = t.csatComment;
$csatComment.placeholder = t.csatComment;
$csatSend.textContent = t.csatSend;
$csatThanks.textContent = t.csatThanks;
const $csatLater = byId<HTMLButtonElement>('csat-later');
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

// ── The pre-chat form (issue 13) ───────────────────────────────────────────────────────────────
let preChat: PreChatForm | null = null;
/** The form was sent and its `pre-chat-saved` (or error) has not come yet. */
let preChatSending = false;
byId('prechat-title').textContent = t.preChatTitle;
byId('prechat-intro').textContent = t.preChatIntro;
byId('pc-contact-hint').textContent = t.contactHint;
$pcStart.textContent = t.start;
const preChatFields = () => [$pcName, $pcContact, ...$pcTopics.querySelectorAll<HTMLInputElement>('input')];

function fieldError(field: 'name' | 'contact' | 'topic', message: string): void {
  const $error = byId(`pc-${field}-error`);
  $error.textContent = message;
  const inputs = field === 'topic' ? [...$pcTopics.querySelectorAll('input')] : [field === 'name' ? $pcName : $pcContact];
  for (const input of inputs) {
    if (message) input.setAttribute('aria-invalid', 'true');
    else input.removeAttribute('aria-invalid');
  }
}

/** Shows the form when the welcome asks for it and this visitor has not answered it yet. */
function showPreChat(form: PreChatForm | null, done: boolean): void {
  preChat = form;
  const wanted = Boolean(form) && !done && (form!.name !== 'off' || form!.contact !== 'off' || form!.topics.length > 0);
  if (!wanted || !form) return hidePreChat();
  const label = (id: string, text: string, mode: 'required' | 'optional' | 'off') => {
    byId(id).textContent = mode === 'optional' ? `${text}${t.optional}` : text;
  };
  byId('field-name').hidden = form.name === 'off';
  $pcName.required = form.name === 'required';
  label('pc-name-label', t.name, form.name);
  byId('field-contact').hidden = form.contact === 'off';
  $pcContact.required = form.contact === 'required';
  label('pc-contact-label', t.contact, form.contact);
  byId('field-topic').hidden = form.topics.length === 0;
  byId('pc-topic-legend').textContent = t.topic;
  const picked = $pcTopics.querySelector<HTMLInputElement>('input:checked')?.value;
  $pcTopics.replaceChildren(
    ...form.topics.map((topic, i) => {
      const id = `pc-topic-${i}`;
      const wrap = document.createElement('div');
      wrap.className = 'topic';
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = 'topic';
      input.id = id;
      input.value = topic.id;
      input.checked = topic.id === picked;
      input.setAttribute('aria-describedby', 'pc-topic-error');
      const text = document.createElement('label');
      text.htmlFor = id;
      text.textContent = topic.label[lang];
      wrap.append(input, text);
      return wrap;
    }),
  );
  const wasHidden = $preChat.hidden;
  $preChat.hidden = false;
  $form.hidden = true;
  $messages.hidden = state.messages.length === 0;
  if (wasHidden && panelOpen) focusFirst();
}
function hidePreChat(): void {
  const wasShown = !$preChat.hidden;
  preChatSending = false;
  $preChat.hidden = true;
  $form.hidden = false;
  $messages.hidden = false;
  if (wasShown && panelOpen) $text.focus();
  maybeSendRead();
}

$preChatForm.addEventListener('submit', (event) => {
  event.preventDefault();
  if (!preChat || preChatSending) return;
  $pcError.textContent = '';
  const frame: Extract<WidgetClientFrame, { type: 'pre-chat' }> = { type: 'pre-chat' };
  let firstBad: HTMLElement | null = null;
  const bad = (field: 'name' | 'contact' | 'topic', message: string, el: HTMLElement) => {
    fieldError(field, message);
    firstBad ??= el;
  };
  const name = $pcName.value.trim();
  fieldError('name', '');
  if (preChat.name !== 'off') {
    if (name) frame.name = name;
    else if (preChat.name === 'required') bad('name', t.needName, $pcName);
  }
  fieldError('contact', '');
  if (preChat.contact !== 'off') {
    const contact = classifyContact($pcContact.value);
    if (contact === 'invalid') bad('contact', t.badContact, $pcContact);
    else if (contact === 'empty') {
      if (preChat.contact === 'required') bad('contact', t.needContact, $pcContact);
    } else Object.assign(frame, contact);
  }
  fieldError('topic', '');
  if (preChat.topics.length) {
    const topic = $pcTopics.querySelector<HTMLInputElement>('input:checked');
    if (topic) frame.topic = topic.value;
    else bad('topic', t.needTopic, $pcTopics.querySelector('input') ?? $pcTopics);
  }
  if (firstBad) return (firstBad as HTMLElement).focus();
  if (!sendFrame(frame)) {
    $pcError.textContent = t.preChatFailed;
    return;
  }
  preChatSending = true;
  $pcStart.disabled = true;
  $pcStart.textContent = t.saving;
});

/** The server refused the form: the message goes next to the field it is about. */
function preChatRefused(code: string, message: string): void {
  preChatSending = false;
  $pcStart.disabled = false;
  $pcStart.textContent = t.start;
  if (code === 'UNKNOWN_TOPIC') return fieldError('topic', t.unknownTopic);
  if (code === 'VALIDATION_FAILED' && /mail|phone|contact/i.test(message)) {
    fieldError('contact', t.badContact);
    return $pcContact.focus();
  }
  if (code === 'VALIDATION_FAILED' && /name/i.test(message)) {
    fieldError('name', t.needName);
    return $pcName.focus();
  }
  $pcError.textContent = t.preChatFailed;
}

// ── Messages ───────────────────────────────────────────────────────────────────────────────────
/** The server's receivedAt, as the time of day, with the date when it is not today (C12). */
function when(iso: string): string {
  const d = new Date(iso);
  const time = d.toLocaleTimeString(t.htmlLang, { hour: '2-digit', minute: '2-digit' });
  if (d.toDateString() === new Date().toDateString()) return time;
  return `${d.toLocaleDateString(t.htmlLang, { year: 'numeric', month: 'short', day: 'numeric' })} ${time}`;
}

/** Notices in the conversation (joined, closed, not sent), placed after the messages there were then. */
const notices: { key: string; text: string; afterSeq: number }[] = [];
let noticeCount = 0;
/** The agent side's read mark (issue 13): the visitor's messages up to it are read. */
let agentReadSeq = 0;

/** Uploads on their way (issue 13): kept in memory until acked; retried with the same clientMessageId. */
interface Upload {
  clientMessageId: string;
  file: File;
  percent: number | null;
  attempt: number;
  timer?: ReturnType<typeof setTimeout>;
  xhr?: XMLHttpRequest;
}
const uploads: Upload[] = [];
let uploadLimits: UploadLimits | null = null;

/**
 * Brings the list in line with the state without rebuilding what is already shown: the list is an
 * ARIA log, and a screen reader reads out every node inserted, so only new items are inserted.
 */
function render(): void {
  const wanted: HTMLLIElement[] = [];
  const shown = new Set<string>();
  const lastRead = [...state.messages].reverse().find((m) => m.direction === 'in' && m.seq <= agentReadSeq);
  let n = 0;
  const flushNotices = (upTo: number) => {
    while (n < notices.length && notices[n]!.afterSeq <= upTo) wanted.push(noticeItem(notices[n++]!));
  };
  for (const m of state.messages) {
    flushNotices(m.seq - 1);
    shown.add(m.clientMessageId);
    wanted.push(messageItem(m));
    if (m === lastRead) wanted.push(keyed(`read:${m.id}`, () => receiptItem()));
  }
  flushNotices(Number.MAX_SAFE_INTEGER);
  for (const p of state.outbox) {
    if (!shown.has(p.clientMessageId)) wanted.push(keyed(`out:${p.clientMessageId}`, () => bubble('in', p.text, t.sending, true)));
  }
  for (const u of uploads) {
    if (!shown.has(u.clientMessageId)) wanted.push(keyed(`up:${u.clientMessageId}`, () => uploadItem(u)));
  }
  const atBottom = $messages.scrollHeight - $messages.scrollTop - $messages.clientHeight < 40;
  wanted.forEach((li, i) => {
    const here = $messages.children[i];
    if (here !== li) $messages.insertBefore(li, here ?? null);
  });
  while ($messages.children.length > wanted.length) $messages.lastElementChild!.remove();
  for (const key of [...rendered.keys()]) if (!wanted.includes(rendered.get(key)!)) rendered.delete(key);
  if (atBottom || wanted.length !== lastCount) $messages.scrollTop = $messages.scrollHeight;
  lastCount = wanted.length;
}
let lastCount = 0;
const rendered = new Map<string, HTMLLIElement>();
/** The list item for `key`, built once. */
function keyed(key: string, build: () => HTMLLIElement): HTMLLIElement {
  let li = rendered.get(key);
  if (!li) {
    li = build();
    li.dataset.key = key;
    rendered.set(key, li);
  }
  return li;
}

function messageItem(m: WidgetMessage): HTMLLIElement {
  return keyed(`m:${m.id}`, () => {
    // A message cached by an older widget has no receivedAt; the server's copy has it.
    const at = (m as Partial<WidgetMessage>).receivedAt ?? m.sentAt;
    // Messages cached by an older widget have no author: theirs by direction.
    const author: AuthorKind = (m as Partial<WidgetMessage>).author ?? (m.direction === 'in' ? 'customer' : 'agent');
    const li = bubble(m.direction, m.attachment ? '' : m.text, when(at), false, m.seq, at, author);
    if (m.attachment) li.querySelector('.msg__text')!.replaceWith(attachmentView(m.attachment, m.text));
    return li;
  });
}

function attachmentView(a: NonNullable<WidgetMessage['attachment']>, caption: string): HTMLElement {
  const box = document.createElement('span');
  box.className = 'msg__attachment';
  if (a.kind === 'image') {
    const link = document.createElement('a');
    link.href = a.url;
    link.target = '_blank';
    link.rel = 'noopener';
    const img = document.createElement('img');
    img.className = 'msg__image';
    img.src = a.url;
    img.alt = a.name;
    img.loading = 'lazy';
    img.addEventListener('load', () => render());
    link.append(img);
    box.append(link);
  } else {
    const link = document.createElement('a');
    link.className = 'msg__file';
    link.href = a.url;
    link.download = a.name;
    link.setAttribute('aria-label', t.download(a.name, formatBytes(a.bytes)));
    const name = document.createElement('span');
    name.className = 'msg__file-name';
    name.dir = 'auto';
    name.textContent = a.name;
    const size = document.createElement('span');
    size.className = 'msg__file-size';
    size.textContent = formatBytes(a.bytes);
    link.append(name, size);
    box.append(link);
  }
  // A caption the visitor or agent wrote with the file; not the server's placeholder (`textOf` in
  // common/message/envelope.ts: `[image]`, `[file] <name>`), which the picture or link already says.
  if (caption && caption !== a.name && caption !== '[image]' && caption !== `[file] ${a.name}`) {
    const text = document.createElement('span');
    text.className = 'msg__text';
    text.dir = 'auto';
    text.textContent = caption;
    box.append(text);
  }
  return box;
}

function uploadItem(u: Upload): HTMLLIElement {
  const li = bubble('in', '', '', true);
  li.dataset.testid = 'upload-pending';
  const name = document.createElement('span');
  name.className = 'msg__file-name';
  name.dir = 'auto';
  name.textContent = u.file.name;
  const bar = document.createElement('progress');
  bar.className = 'msg__progress';
  bar.max = 100;
  bar.setAttribute('aria-label', u.file.name);
  li.querySelector('.msg__text')!.replaceChildren(name, bar);
  updateUploadItem(u, li);
  return li;
}
function updateUploadItem(u: Upload, li = rendered.get(`up:${u.clientMessageId}`)): void {
  if (!li) return;
  const bar = li.querySelector('progress')!;
  if (u.percent === null) bar.removeAttribute('value');
  else bar.value = u.percent;
  li.querySelector('.msg__meta')!.textContent = u.percent === null ? t.uploadWaiting : t.uploading(u.percent);
}

function receiptItem(): HTMLLIElement {
  const li = document.createElement('li');
  li.className = 'receipt';
  li.dataset.testid = 'read-receipt';
  li.textContent = t.read;
  return li;
}

function noticeItem(notice: { key: string; text: string }): HTMLLIElement {
  return keyed(notice.key, () => {
    const li = document.createElement('li');
    li.className = 'status';
    li.dataset.testid = 'status';
    li.dir = 'auto';
    li.textContent = notice.text;
    return li;
  });
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
  notices.push({ key: `n:${noticeCount++}`, text, afterSeq: state.lastSeq });
  render();
}

function accept(m: WidgetMessage): void {
  if (state.messages.some((x) => x.id === m.id)) return; // replays and multi-tab echoes show once
  // An AI answer says the AI has the conversation, even if its status frame has not come (yet).
  if (m.author === 'ai' && phase === 'new') onBot();
  const fresh = m.seq > state.lastSeq;
  state.messages.push(m);
  state.messages.sort((a, b) => a.seq - b.seq);
  state.lastSeq = Math.max(state.lastSeq, m.seq);
  state.outbox = state.outbox.filter((p) => p.clientMessageId !== m.clientMessageId);
  save();
  if (m.direction === 'out') {
    // A message from the agent ends their "typing…".
    showTyping(false);
    if (fresh && !canSee()) countUnread(1);
  }
  render();
  maybeSendRead();
}

// ── Typing (issue 13, volatile both ways) ──────────────────────────────────────────────────────
let typingSentAt = 0;
let typingOn = false;
let typingIdle: ReturnType<typeof setTimeout> | undefined;
function sendTyping(on: boolean): void {
  clearTimeout(typingIdle);
  if (on) {
    const now = Date.now();
    // `true` at most every 3 s while keys are pressed; `false` after 5 s without a key.
    if (!typingOn || now - typingSentAt >= 3000) {
      if (sendFrame({ type: 'typing', typing: true })) {
        typingOn = true;
        typingSentAt = now;
      }
    }
    typingIdle = setTimeout(() => sendTyping(false), 5000);
  } else if (typingOn) {
    typingOn = false;
    sendFrame({ type: 'typing', typing: false });
  }
}
$text.addEventListener('input', () => sendTyping(hasVisibleText($text.value)));

let agentTypingTimer: ReturnType<typeof setTimeout> | undefined;
/** "Agent is typing…": shown on the server's frame, gone after 30 s without another or when a message comes. */
function showTyping(on: boolean): void {
  clearTimeout(agentTypingTimer);
  const text = on ? t.agentTyping : '';
  if ($typing.textContent !== text) $typing.textContent = text;
  $typing.classList.toggle('widget__typing--on', on);
  if (on) agentTypingTimer = setTimeout(() => showTyping(false), 30_000);
}

// ── Read receipts (issue 13) ───────────────────────────────────────────────────────────────────
let readSent = 0;
/** The visitor can see the conversation: the page is visible and focused, and the panel open. */
function canSee(): boolean {
  return document.visibilityState === 'visible' && document.hasFocus() && panelOpen;
}
/** Tells the server the visitor has seen the agent's messages up to the newest one shown. */
function maybeSendRead(): void {
  // Error frames carry no id: while a form's answer is pending, a read's error would be taken for it.
  if (!state.conversationId || !canSee() || preChatSending || csat?.sending) return;
  const newest = state.messages.reduce((max, m) => (m.direction === 'out' ? Math.max(max, m.seq) : max), 0);
  if (newest <= readSent) return;
  if (sendFrame({ type: 'read', conversationId: state.conversationId, upToSeq: newest })) readSent = newest;
}
/** The visitor looks at the chat again: what came meanwhile is read, and no longer unread on the badge. */
function seen(): void {
  if (!canSee()) return;
  countUnread(null);
  maybeSendRead();
}
document.addEventListener('visibilitychange', seen);
window.addEventListener('focus', seen);
$widget.addEventListener('focusin', seen);

// ── Uploads (issue 13) ─────────────────────────────────────────────────────────────────────────
function showUploadError(text: string): void {
  $uploadError.textContent = text;
}
/** Checks a file against the welcome's limits and, if it passes, sends it as a message. */
function pickFile(file: File): void {
  const verdict = checkUpload(file, uploadLimits);
  if (verdict === 'off') return showUploadError(t.uploadsOff);
  if (verdict === 'type') return showUploadError(t.uploadTypeRefused(file.name));
  if (verdict === 'too-large') return showUploadError(t.uploadTooLarge(file.name, formatBytes(uploadLimits!.maxBytes)));
  showUploadError('');
  const u: Upload = { clientMessageId: crypto.randomUUID(), file, percent: null, attempt: 0 };
  uploads.push(u);
  render();
  startUpload(u);
}
function dropUpload(u: Upload): void {
  clearTimeout(u.timer);
  const i = uploads.indexOf(u);
  if (i >= 0) uploads.splice(i, 1);
  render();
}
/**
 * POSTs the file (raw bytes, its type as Content-Type, the visitor token as bearer). A network
 * failure, 429 or 5xx tries again with backoff and the same clientMessageId, so the server stores it
 * once; 413/415/409 are final and said next to the composer.
 */
function startUpload(u: Upload): void {
  if (!state.visitorToken || u.xhr) return; // sent once the welcome gives a token
  const xhr = new XMLHttpRequest();
  u.xhr = xhr;
  const query = new URLSearchParams({ clientMessageId: u.clientMessageId, name: u.file.name });
  xhr.open('POST', `${UPLOAD_PATH}?${query.toString()}`);
  xhr.setRequestHeader('Authorization', `Bearer ${state.visitorToken}`);
  xhr.setRequestHeader('Content-Type', u.file.type || 'application/octet-stream');
  xhr.upload.addEventListener('progress', (e) => {
    if (!e.lengthComputable) return;
    u.percent = Math.min(99, Math.round((e.loaded / e.total) * 100));
    updateUploadItem(u);
  });
  const retry = (afterMs?: number) => {
    u.xhr = undefined;
    u.percent = null;
    updateUploadItem(u);
    const delay = afterMs ?? Math.min(30_000, 1000 * 2 ** u.attempt) * (0.5 + Math.random() / 2);
    u.attempt++;
    u.timer = setTimeout(() => startUpload(u), delay);
  };
  xhr.addEventListener('error', () => retry());
  xhr.addEventListener('load', () => {
    const status = xhr.status;
    let body: { message?: WidgetMessage; error?: { code: string; message: string; retryAfterMs?: number } } = {};
    try {
      body = JSON.parse(xhr.responseText) as typeof body;
    } catch {
      /* not JSON: decided by the status */
    }
    if (status >= 200 && status < 300 && body.message) {
      dropUpload(u);
      return accept(body.message);
    }
    if (status === 429 || status >= 500 || status === 0) return retry(body.error?.retryAfterMs);
    if (status === 401) {
      // The token is being replaced (a new welcome): try again once it comes.
      u.xhr = undefined;
      return;
    }
    dropUpload(u);
    const code = body.error?.code;
    if (code === 'UPLOAD_TOO_LARGE' || status === 413)
      showUploadError(t.uploadTooLarge(u.file.name, formatBytes(uploadLimits?.maxBytes ?? u.file.size)));
    else if (code === 'UPLOAD_TYPE_REFUSED' || code === 'UPLOAD_EXECUTABLE' || status === 415)
      showUploadError(t.uploadTypeRefused(u.file.name));
    else showUploadError(`${t.uploadFailed(u.file.name)}${body.error?.message ? ` ${body.error.message}` : ''}`);
  });
  xhr.send(u.file);
}
function setUploads(limits: UploadLimits | null): void {
  uploadLimits = limits;
  $attach.hidden = limits === null;
  $file.accept = limits ? limits.mimes.join(',') : '';
  for (const u of uploads) startUpload(u);
}
$attach.addEventListener('click', () => $file.click());
$file.addEventListener('change', () => {
  for (const file of $file.files ?? []) pickFile(file);
  $file.value = '';
});
// Pasting an image (a screenshot) sends it; pasted text stays text.
$text.addEventListener('paste', (event) => {
  const files = [...(event.clipboardData?.files ?? [])];
  if (!files.length) return;
  event.preventDefault();
  for (const file of files) pickFile(file);
});
// Drag and drop anywhere on the widget.
let dragDepth = 0;
$widget.addEventListener('dragenter', (event) => {
  if (!uploadLimits || !event.dataTransfer?.types.includes('Files')) return;
  dragDepth++;
  $drop.hidden = false;
});
$widget.addEventListener('dragleave', () => {
  if (dragDepth > 0 && --dragDepth === 0) $drop.hidden = true;
});
$widget.addEventListener('dragover', (event) => {
  if (event.dataTransfer?.types.includes('Files')) event.preventDefault();
});
$widget.addEventListener('drop', (event) => {
  dragDepth = 0;
  $drop.hidden = true;
  const files = [...(event.dataTransfer?.files ?? [])];
  if (!files.length) return;
  event.preventDefault();
  for (const file of files) pickFile(file);
});

// ── The socket ─────────────────────────────────────────────────────────────────────────────────
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
  $link.textContent = s === 'online' ? t.online : s === 'connecting' ? t.connecting : t.reconnecting;
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
    typingOn = false;
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
    agentReadSeq = 0;
    readSent = 0;
  }
  state.conversationId = conversationId;
}

function onFrame(frame: WidgetServerFrame): void {
  switch (frame.type) {
    case 'welcome': {
      state.visitorToken = frame.visitorToken;
      if (frame.conversationId) adoptConversation(frame.conversationId);
      // Older servers send none of the issue-13 fields.
      agentReadSeq = Math.max(agentReadSeq, frame.agentReadSeq ?? 0);
      setPhase('new');
      save();
      showPreChat(frame.preChat ?? null, frame.preChatDone ?? true);
      setUploads(frame.upload ?? null);
      render();
      setLink('online');
      heartbeat.reset();
      scheduleBeat();
      flushOutbox();
      maybeSendRead();
      tellIdentity();
      return;
    }
    case 'ack': {
      const pending = state.outbox.find((p) => p.clientMessageId === frame.clientMessageId);
      adoptConversation(frame.conversationId);
      tellIdentity();
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
        setAgentLine(t.agentHelping(frame.agentName));
        statusLine(t.agentJoined(frame.agentName));
      } else if (frame.status === 'bot') {
        onBot();
      } else if (frame.status === 'waiting') {
        // A new contact, or one whose agent left, hears it in the conversation; after a hand-over the
        // server's notice says it.
        const fresh = phase === 'new' || phase === 'agent';
        setPhase('waiting');
        // Where the customer stands, in the header (a polite live region; updates replace it).
        if (frame.standing) setAgentLine(t.standing(frame.standing));
        if (fresh) statusLine(frame.standing?.noAgentOnline ? t.standing(frame.standing) : t.thanksWaiting);
      } else {
        const already = phase === 'closed';
        setPhase('closed');
        showTyping(false);
        setAgentLine(t.closedHeader);
        if (!already) statusLine(t.closedLine);
        // Closed and not yet rated by this visitor: ask how it went (issue 11).
        if (frame.rateable && frame.sessionId) showCsat(frame.sessionId);
      }
      return;
    case 'csat-recorded':
      return csatDone(frame.sessionId);
    case 'pre-chat-saved':
      return hidePreChat();
    case 'typing':
      return showTyping(frame.typing);
    case 'read':
      if (frame.conversationId === state.conversationId && frame.upToSeq > agentReadSeq) {
        agentReadSeq = frame.upToSeq;
        render();
      }
      return;
    case 'pong':
      if (frame.t !== undefined) heartbeat.pong(frame.t, Date.now());
      return;
    case 'error':
      if (preChatSending && !frame.clientMessageId) return preChatRefused(frame.code, frame.message);
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
        statusLine(t.notSent(frame.message));
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
  sendTyping(false);
  sendFrame({ type: 'message', ...item });
});
$text.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
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

let started = false;
/** Connects once: at once on its own page, after the loader's `init` (or 3 s without one) when embedded. */
function start(): void {
  if (started) return;
  started = true;
  render();
  connect();
}
if (host) setTimeout(start, 3000);
else start();
