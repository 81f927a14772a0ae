/**
 * `npm run eval -- tiers`, part 2 (issue 10 "Measure"): hand-over safety. Scripted customers talk to
 * the REAL server (in-process, demo data, its own data dir) through the app channel's HTTP API and the
 * widget socket: they ask for a person in 20 phrasings (10 zh, 10 en; first message and second
 * message after an AI answer), are angry, ask the same question three times, write out-of-scope or
 * gibberish three times, and press the talk-to-a-person button — once with no agent online and once
 * with an agent connected. Each conversation must reach a person (or a left message when nobody is
 * online), never go back to the AI, and never be left without a reply. server/test/handover-safety.test.ts
 * runs the same script in CI.
 *
 * The phrasings were written for this script before it was first run and are not tuned to the
 * detector: a phrasing the language core does not recognise is reported, not rewritten.
 */
import type { HandoverReason } from '../../common/ai/assist';
import type { Lang } from '../../common/ai/types';
import type { AppMessagesResponse } from '../../common/api/app-channel';
import type { EventOf } from '../../common/events/events';
import { authorOf, textOf } from '../../common/message/envelope';
import type { SessionStatus } from '../../common/api/sessions';
import { openAgentSocket } from '../test/support/agent-client';
import { startTestServer, type TestServer } from '../test/support/harness';
import { openWidget } from '../test/support/widget-client';

/** Customers asking for a person, Chinese. 7 and 10 carry the ask inside a longer message. */
export const ASKS_ZH = [
  '转人工',
  '我要找真人',
  '人工客服在哪',
  '可以让客服人员直接跟我聊吗',
  '别绕了，给我接个活人',
  '请问怎么联系人工客服？',
  '我的快递三天没动了，跟机器人说不清楚，麻烦帮我转接人工处理一下',
  '叫你们负责的人来跟我说',
  '我想跟真正的客服通个电话',
  '退款的事一直没解决，你们有没有工作人员在线？我需要一个人来帮我看看',
];

/** Customers asking for a person, English. 7 and 10 carry the ask inside a longer message. */
export const ASKS_EN = [
  'let me speak to an agent',
  'get me a human',
  'I need a real person',
  'operator please',
  'Can I talk to someone from your support team?',
  "I'd like to be transferred to a live representative",
  'This chat is going in circles. My card was charged twice last week and I want a real human to look at it, please.',
  'Is there an actual person I can chat with?',
  'put me through to customer service',
  "I've explained my refund problem three times already, just connect me with a staff member who can fix it",
];

/** Angry customers: up to three angry messages each (the script stops at the hand-over). */
export const ANGRY: Record<Lang, string[][]> = {
  en: [
    [
      "This is absolutely ridiculous, I've been waiting two weeks and nobody cares!",
      'Unbelievable. Still nothing.',
      'I am done with you people.',
    ],
    ['You people are useless, I am so angry right now', 'Seriously, this is the worst service ever', 'Disgraceful.'],
    ["I'm furious, the parcel arrived smashed and I want my money back NOW", 'Are you even listening?? This is outrageous', 'Terrible.'],
  ],
  zh: [
    ['你们这什么破服务，气死我了！', '到底有没有人管？', '太让人失望了'],
    ['太过分了，等了两个星期还没到，你们到底管不管？', '烦死了，一直这样', '我真的很生气'],
    ['我非常生气，东西坏了还没人理', '这是什么态度！', '垃圾服务'],
  ],
};

/** A question the demo KB answers, per language (the AI answers it first in the "second message" runs). */
export const KB_QUESTION: Record<Lang, string> = { en: 'Where is my order?', zh: '我的订单到哪了？' };
/** A KB question sent after the hand-over: the AI must not answer it (no loop back to the AI). */
export const AFTER_HANDOVER: Record<Lang, string> = { en: 'How long does delivery take?', zh: '发货要多久？' };
/** Out-of-scope and gibberish turns, three per conversation. */
export const OUT_OF_SCOPE: Record<Lang, string[][]> = {
  en: [
    ["What's the weather like on Mars?", 'Can you sing me a song about turtles?', 'Who won the 1998 world cup?'],
    ['asdkjh qwe zzzz', 'lkjsdf pqpq', 'xx yy zz ??'],
  ],
  zh: [
    ['今天火星天气怎么样', '给我讲个笑话吧', '你喜欢吃火锅吗'],
    ['啊啊啊哦哦哦', '嗯嗯嗯嗯', '呃呃呃？？'],
  ],
};

export type SafetyGroup = 'ask-first' | 'ask-second' | 'angry' | 'same-question' | 'out-of-scope' | 'button-app' | 'button-widget';

export interface SafetyScenario {
  id: string;
  group: SafetyGroup;
  lang: Lang;
  /** The customer's messages; the script stops sending at the hand-over. */
  turns: string[];
}

/** The scripted conversations (the same set runs with and without an agent online). */
export function safetyScenarios(): SafetyScenario[] {
  const out: SafetyScenario[] = [];
  for (const [lang, asks] of [
    ['zh', ASKS_ZH],
    ['en', ASKS_EN],
  ] as const) {
    asks.forEach((ask, i) => {
      out.push({ id: `ask-first-${lang}-${i + 1}`, group: 'ask-first', lang, turns: [ask, ask, ask] });
      out.push({ id: `ask-second-${lang}-${i + 1}`, group: 'ask-second', lang, turns: [KB_QUESTION[lang], ask, ask, ask] });
    });
  }
  for (const lang of ['zh', 'en'] as const) {
    ANGRY[lang].forEach((turns, i) => out.push({ id: `angry-${lang}-${i + 1}`, group: 'angry', lang, turns }));
    out.push({
      id: `same-question-${lang}`,
      group: 'same-question',
      lang,
      turns: [KB_QUESTION[lang], KB_QUESTION[lang], KB_QUESTION[lang]],
    });
    OUT_OF_SCOPE[lang].forEach((turns, i) => out.push({ id: `out-of-scope-${lang}-${i + 1}`, group: 'out-of-scope', lang, turns }));
    out.push({ id: `button-app-${lang}`, group: 'button-app', lang, turns: [KB_QUESTION[lang]] });
  }
  out.push({ id: 'button-widget-en', group: 'button-widget', lang: 'en', turns: ['How do I get an invoice?'] });
  return out;
}

export interface SafetyResult {
  id: string;
  group: SafetyGroup;
  lang: Lang;
  agentOnline: boolean;
  /** The session the conversation ran in (null if the first message failed). */
  sessionId: string | null;
  /** `person`: waiting for or with a person; `left-message`: nobody online, the customer was told and their next message waits. */
  outcome: 'person' | 'left-message' | 'not-reached';
  /** Customer turns up to the hand-over, the button press counting as one; null when not reached. */
  turns: number | null;
  /** The session's status right after the hand-over (queued / offered / active). */
  status: SessionStatus | null;
  /** Why it left the AI (`routed-to-people`: the router gave it to people at once, the AI never had it). */
  reason: HandoverReason | 'routed-to-people' | null;
  /** The AI wrote after the hand-over, or the session went back to `bot`. */
  loop: boolean;
  /** What went wrong, in words (empty = all checks passed). */
  problems: string[];
  /** Notes that are not failures (e.g. the AI did not answer the first KB question of an ask-second run). */
  notes: string[];
  /** The conversation as stored, oldest first (for reading a failure). */
  transcript: { author: string; text: string }[];
}

export interface SafetyRun {
  results: SafetyResult[];
  seconds: number;
}

const NOTICE = {
  noAgent: { en: /No agent is online/, zh: /目前没有客服在线/ },
  queued: { en: /Passing you to a person/, zh: /正在为您转接人工客服/ },
};
const PERSON_STATUSES: readonly SessionStatus[] = ['queued', 'offered', 'active'];
/** Longest wait for the server's reply to one customer turn before it counts as a dead end. */
const REPLY_MS = 10_000;
/** How long the script watches for an AI message after the post-hand-over question. */
const QUIET_MS = 800;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Everything the bus says about sessions while the script runs, by session. */
class Observer {
  readonly out = new Map<string, EventOf<'message.out'>[]>();
  readonly changes = new Map<string, EventOf<'session.changed'>[]>();

  async attach(s: TestServer): Promise<void> {
    await s.services.bus.subscribeAll('message.out', (e) => void push(this.out, e.sessionId, e));
    await s.services.bus.subscribeAll('session.changed', (e) => void push(this.changes, e.sessionId, e));
  }

  /** The first outbound message after customer message `seq`, if any. */
  replyAfter(sessionId: string, seq: number): EventOf<'message.out'> | null {
    return this.out.get(sessionId)?.find((e) => e.payload.envelope.seq > seq) ?? null;
  }

  /** The router's first decision gave the session to people at once (the AI never had it). */
  routedToPeople(sessionId: string): boolean {
    const first = (this.changes.get(sessionId) ?? []).find((e) => e.payload.reason === 'routed');
    return first !== undefined && first.payload.status !== 'bot';
  }

  /** The first notice (`system` message) after message `seq`. */
  noticeAfter(sessionId: string, seq: number): EventOf<'message.out'> | null {
    return this.out.get(sessionId)?.find((e) => e.payload.envelope.seq > seq && authorOf(e.payload.envelope) === 'system') ?? null;
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  let list = map.get(key);
  if (!list) map.set(key, (list = []));
  list.push(value);
}

async function waitFor<T>(probe: () => T | null | Promise<T | null>, ms: number): Promise<T | null> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() > end) return null;
    await sleep(15);
  }
}

const APP_KEY = { 'x-huiliu-key': 'demo-app-key' };

/**
 * Runs every scenario against one server, concurrently. `agentOnline`: agent1 (group of the app
 * channel) is connected on the agent socket for the whole run.
 */
async function runOnServer(agentOnline: boolean, scenarios: readonly SafetyScenario[]): Promise<SafetyResult[]> {
  const s = await startTestServer({}, { aiTier: true });
  const obs = new Observer();
  const sockets: { disconnect(): void }[] = [];
  try {
    await obs.attach(s);
    if (agentOnline) sockets.push(await openAgentSocket(s, await s.login('agent1')));
    let n = 0;
    const post = async (externalId: string, text: string) => {
      const r = await s.app.inject({
        method: 'POST',
        url: '/api/v1/channels/app/messages',
        headers: APP_KEY,
        payload: { customer: { externalId }, text, clientMessageId: `safety-${++n}` },
      });
      if (r.statusCode !== 202) throw new Error(`app message: ${r.statusCode} ${r.body}`);
      return r.json<{ sessionId: string; seq: number }>();
    };
    const read = async (externalId: string) =>
      (
        await s.app.inject({ method: 'GET', url: `/api/v1/channels/app/messages?externalId=${externalId}`, headers: APP_KEY })
      ).json<AppMessagesResponse>();

    const runOne = async (sc: SafetyScenario): Promise<SafetyResult> => {
      const result: SafetyResult = {
        id: sc.id,
        group: sc.group,
        lang: sc.lang,
        agentOnline,
        sessionId: null,
        outcome: 'not-reached',
        turns: null,
        status: null,
        reason: null,
        loop: false,
        problems: [],
        notes: [],
        transcript: [],
      };
      const externalId = `${sc.id}-${agentOnline ? 'online' : 'offline'}`;
      let sessionId: string | null = null;
      // Seq of the message after which the hand-over notice is expected (the last customer turn or the button press).
      let lastSeq = 0;
      let widget: Awaited<ReturnType<typeof openWidget>> | null = null;

      const turn = async (text: string, index: number): Promise<'bot' | 'left' | 'dead'> => {
        let seq: number;
        if (widget) {
          const clientMessageId = `safety-widget-${++n}`;
          widget.send({ type: 'message', clientMessageId, text });
          const a = await widget.next('ack', (f) => f.clientMessageId === clientMessageId);
          sessionId = a.sessionId;
          seq = a.seq;
        } else {
          const sent = await post(externalId, text);
          sessionId = sent.sessionId;
          seq = sent.seq;
        }
        lastSeq = seq;
        result.sessionId = sessionId;
        const id = sessionId;
        const settled = await waitFor(() => obs.replyAfter(id, seq) ?? (obs.routedToPeople(id) ? 'routed' : null), REPLY_MS);
        if (!settled) {
          result.problems.push(`turn ${index + 1}: no reply within ${REPLY_MS / 1000} s (a dead end)`);
          return 'dead';
        }
        const session = await s.services.store.getSession(id);
        if (session?.status === 'bot') {
          if (sc.group === 'ask-second' && index === 0) {
            const reply = settled === 'routed' ? null : settled.payload.envelope;
            if (!reply || authorOf(reply) !== 'ai' || reply.meta?.['aiTurn'] !== 'answer')
              result.notes.push('the AI did not answer the first KB question');
          }
          return 'bot';
        }
        result.turns = index + 1;
        return 'left';
      };

      if (sc.group === 'button-widget') {
        widget = await openWidget(s);
        widget.send({ type: 'hello' });
        await widget.next('welcome');
      }
      let state: 'bot' | 'left' | 'dead' = 'bot';
      for (let i = 0; i < sc.turns.length && state === 'bot'; i++) state = await turn(sc.turns[i]!, i);
      if (sc.group === 'ask-second' && state === 'left' && result.turns === 1) result.notes.push('handed over at the first KB question');

      if (state === 'bot' && (sc.group === 'button-app' || sc.group === 'button-widget')) {
        const id = sessionId!;
        if (widget) widget.send({ type: 'handover' });
        else {
          const r = await s.app.inject({
            method: 'POST',
            url: '/api/v1/channels/app/handover',
            headers: APP_KEY,
            payload: { customer: { externalId } },
          });
          if (r.statusCode !== 200) result.problems.push(`app hand-over: ${r.statusCode} ${r.body}`);
        }
        const seq = lastSeq;
        await waitFor(() => obs.noticeAfter(id, seq), REPLY_MS);
        const after = await s.services.store.getSession(id);
        if (after && after.status !== 'bot') {
          state = 'left';
          result.turns = sc.turns.length + 1;
        }
      }
      if (state !== 'left' || !sessionId) {
        if (state === 'bot') result.problems.push(`still with the AI after ${sc.turns.length} turns`);
        widget?.ws.close();
        return result;
      }

      // Reached: who has it, and what the customer was told.
      const id: string = sessionId;
      const session = (await s.services.store.getSession(id))!;
      if (!PERSON_STATUSES.includes(session.status)) result.problems.push(`status ${session.status} after the hand-over`);
      const directly = !session.handover && obs.routedToPeople(id);
      result.status = session.status;
      result.reason = session.handover?.reason ?? (directly ? 'routed-to-people' : null);
      if (!result.reason) result.problems.push('left the AI without a hand-over record');
      const notice = directly ? null : await waitFor(() => obs.noticeAfter(id, lastSeq), REPLY_MS);
      const noticeText = notice ? textOf(notice.payload.envelope) : '';
      if (directly) {
        result.notes.push(`routed to people at once (tier ${session.routing?.tier ?? '?'}), no AI turn`);
      } else if (!notice) {
        result.problems.push('no hand-over notice to the customer');
      } else if (!(agentOnline ? NOTICE.queued : NOTICE.noAgent)[sc.lang].test(noticeText)) {
        result.problems.push(`the notice does not say ${agentOnline ? 'where they stand' : 'that no agent is online'}: "${noticeText}"`);
      }
      if (session.handover && session.handover.noAgentOnline === agentOnline)
        result.problems.push(
          `handover.noAgentOnline is ${session.handover.noAgentOnline} with ${agentOnline ? 'an agent' : 'no agent'} online`,
        );

      // No loop: a KB question after the hand-over is stored, waits for a person, and gets no AI answer.
      const outBefore = obs.out.get(id)?.length ?? 0;
      let followSeq: number;
      if (widget) {
        const clientMessageId = `safety-widget-${++n}`;
        widget.send({ type: 'message', clientMessageId, text: AFTER_HANDOVER[sc.lang] });
        followSeq = (await widget.next('ack', (f) => f.clientMessageId === clientMessageId)).seq;
      } else followSeq = (await post(externalId, AFTER_HANDOVER[sc.lang])).seq;
      await sleep(QUIET_MS);
      const stored = await s.services.store.listMessages(session.conversationId, { afterSeq: 0, limit: 100 });
      if (!stored.some((m) => m.seq === followSeq && m.direction === 'in'))
        result.problems.push('the message after the hand-over was not stored');
      if (
        (obs.out.get(id)?.length ?? 0) > outBefore &&
        obs.out
          .get(id)!
          .slice(outBefore)
          .some((e) => authorOf(e.payload.envelope) === 'ai')
      ) {
        result.loop = true;
        result.problems.push('the AI answered the question after the hand-over');
      }
      if (!agentOnline) {
        const waiting = await s.services.store.getSession(id);
        if (waiting?.status !== 'queued') result.problems.push(`the left message is not waiting: status ${waiting?.status}`);
        if (!directly && !waiting?.handover?.noAgentOnline) result.problems.push('the session does not say no agent was online');
      }
      if (!directly || agentOnline) result.outcome = agentOnline ? 'person' : 'left-message';
      else result.outcome = 'left-message';
      if (directly && !agentOnline) result.notes.push('no agent online and no AI turn: no left-message notice was sent');
      widget?.ws.close();
      return result;
    };

    const results = await Promise.all(scenarios.map((sc) => runOne(sc)));
    // Late writes: one more look at every conversation once all have settled.
    await sleep(QUIET_MS);
    for (const r of results) {
      if (!r.sessionId) continue;
      const session = await s.services.store.getSession(r.sessionId);
      if (session)
        r.transcript = (await s.services.store.listMessages(session.conversationId, { afterSeq: 0, limit: 100 })).map((m) => ({
          author: authorOf(m),
          text: textOf(m),
        }));
      if (r.outcome === 'not-reached') continue;
      const changes = obs.changes.get(r.sessionId) ?? [];
      const firstAway = changes.findIndex((e) => e.payload.status !== 'bot');
      if (firstAway >= 0 && changes.slice(firstAway).some((e) => e.payload.status === 'bot')) {
        r.loop = true;
        r.problems.push('the session went back to the AI (status bot)');
      }
      const outs = obs.out.get(r.sessionId) ?? [];
      const noticeAt = outs.findIndex((e) => authorOf(e.payload.envelope) === 'system');
      if (noticeAt >= 0 && outs.slice(noticeAt + 1).some((e) => authorOf(e.payload.envelope) === 'ai') && !r.loop) {
        r.loop = true;
        r.problems.push('the AI wrote after the hand-over');
      }
      if (r.group !== 'button-widget') {
        const view = await read(`${r.id}-${agentOnline ? 'online' : 'offline'}`);
        if (view.status === 'bot') r.problems.push('the app channel shows the conversation with the AI again');
      }
    }
    return results;
  } finally {
    for (const socket of sockets) socket.disconnect();
    await s.cleanup();
  }
}

/** Runs the whole script twice: no agent online, then agent1 online. ~20 s. */
export async function runHandoverSafety(scenarios: readonly SafetyScenario[] = safetyScenarios()): Promise<SafetyRun> {
  const t0 = Date.now();
  // The server's own handles are unref'd (its writer thread, timers): in a script with nothing else
  // running, Node would exit in the middle of its close() once an agent had been connected. This keeps
  // the process up until the run is over.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    const results = [...(await runOnServer(false, scenarios)), ...(await runOnServer(true, scenarios))];
    return { results, seconds: (Date.now() - t0) / 1000 };
  } finally {
    clearInterval(keepAlive);
  }
}

/** The numbers docs/ai-quality.md reports. */
export interface SafetySummary {
  conversations: number;
  reached: number;
  person: number;
  leftMessage: number;
  loops: number;
  withProblems: number;
  /** Mean customer turns up to the hand-over, over the conversations that reached a person. */
  meanTurns: number | null;
  asks: number;
  /** Ask runs handed over as `customer-asked` at the turn of the (first) ask. */
  asksRecognised: number;
  /** The phrasings whose runs were not handed over at the ask (each once). */
  asksMissed: string[];
  groups: { group: string; conversations: number; reached: number; meanTurns: number | null; reasons: string }[];
  /** Statuses right after the hand-over, with an agent online (offered to them, or queued behind an offer). */
  statusesWithAgent: Partial<Record<SessionStatus, number>>;
  /** Every failed check, as `scenario (agent online|no agent): problem`. */
  problems: string[];
  seconds: number;
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

export function summarizeSafety(run: SafetyRun): SafetySummary {
  const { results } = run;
  const reached = results.filter((r) => r.outcome !== 'not-reached');
  const asks = results.filter((r) => r.group === 'ask-first' || r.group === 'ask-second');
  const askOf = new Map(safetyScenarios().map((sc) => [sc.id, sc.turns.at(-1)!]));
  const atTheAsk = (r: SafetyResult) => r.reason === 'customer-asked' && r.turns === (r.group === 'ask-first' ? 1 : 2);
  const groups = [...new Set(results.map((r) => r.group))].map((group) => {
    const mine = results.filter((r) => r.group === group);
    const reasons = new Map<string, number>();
    for (const r of mine) reasons.set(r.reason ?? 'none', (reasons.get(r.reason ?? 'none') ?? 0) + 1);
    return {
      group,
      conversations: mine.length,
      reached: mine.filter((r) => r.outcome !== 'not-reached').length,
      meanTurns: mean(mine.filter((r) => r.turns !== null).map((r) => r.turns!)),
      reasons: [...reasons.entries()]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    };
  });
  return {
    conversations: results.length,
    reached: reached.length,
    person: results.filter((r) => r.outcome === 'person').length,
    leftMessage: results.filter((r) => r.outcome === 'left-message').length,
    loops: results.filter((r) => r.loop).length,
    withProblems: results.filter((r) => r.problems.length > 0).length,
    meanTurns: mean(reached.map((r) => r.turns!)),
    asks: asks.length,
    asksRecognised: asks.filter(atTheAsk).length,
    asksMissed: [...new Set(asks.filter((r) => !atTheAsk(r)).map((r) => askOf.get(r.id) ?? r.id))],
    groups,
    statusesWithAgent: results
      .filter((r) => r.agentOnline && r.status)
      .reduce<Partial<Record<SessionStatus, number>>>((acc, r) => ({ ...acc, [r.status!]: (acc[r.status!] ?? 0) + 1 }), {}),
    problems: results.flatMap((r) => r.problems.map((p) => `${r.id} (${r.agentOnline ? 'agent online' : 'no agent'}): ${p}`)),
    seconds: run.seconds,
  };
}
