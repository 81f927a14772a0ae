/**
 * `npm run eval -- tiers`, part 1 (issue 10 "Measure"): the AI tier's turn rule (`decideTurn`) on
 * Banking77 used as a knowledge base — train questions as the KB, test questions as customers — with a
 * simulated customer for the one clarifying question. Part 2, the hand-over safety run against the real
 * server, is `handover-safety.ts`.
 *
 * Nothing here is a stand-in: the intent model is trained by the language core from KB entries exactly
 * as the running server trains it (`LanguageCore.start` → `kbExamples` → the same trainer the CPU pool's
 * `trainIntent` task runs), every customer text gets the core's full `analyze` (intent, emotion,
 * hand-over request), and the decision is the production `decideTurn` with an `AnswerBook` built by
 * the production `KbAnswerBook.of`.
 */
import type { HandoverReason } from '../../common/ai/assist';
import type { Analysis, KbEntry } from '../../common/ai/types';
import type { AutoAnswerConfig } from '../src/config/config';
import { DEFAULT_AUTO_ANSWER } from '../src/config/config';
import { inlineIntentTrainer, LanguageCore } from '../src/ai/core';
import { seededRandom } from '../src/ai/linear';
import { KbAnswerBook } from '../src/ai/tier/answers';
import { decideTurn, type AnswerBook, type PastTurn } from '../src/ai/tier/decide';
import type { Labelled } from './datasets';
import type { SafetySummary } from './handover-safety';

/** The settings of `decideTurn` (ai.autoAnswer without `enabled` and `defaultHandleSeconds`). */
export type TierSettings = Pick<
  AutoAnswerConfig,
  'minConfidence' | 'clarifyMinCombined' | 'maxUnresolvedTurns' | 'negativeEmotionIntensity'
>;

/** One simulated customer: a question with its gold intent and the core's analysis of it. */
export interface SimCustomer {
  text: string;
  gold: string;
  analysis: Analysis;
}

/**
 * What the customer types after a clarifying question, as the core analyses it: the option number
 * ("1" / "2") when their intent is one of the two, else `restate` (see `simulateCustomer`).
 */
export interface SimReplies {
  one: Analysis;
  two: Analysis;
}

/** How one customer's question ended. `clarified`: the AI asked its clarifying question first. */
export type SimOutcome =
  | { result: 'correct' | 'wrong'; clarified: boolean }
  | { result: 'handover'; clarified: boolean; reason: HandoverReason }
  | { result: 'small-talk'; clarified: boolean };

/**
 * The conversation of one customer with the AI tier, at most two turns (issue 10 simulation, documented
 * in docs/ai-quality.md):
 * 1. The customer asks `customer.text` (first turn: no earlier AI turns). An answer is correct when its
 *    KB intent is the gold intent, else wrong; a hand-over or small talk ends the conversation.
 * 2. After a clarifying question between intents A and B, the customer answers "1" when the gold
 *    intent is A, "2" when it is B — a cooperative customer who recognises their question. When it is
 *    neither, they restate the same question in the same words (they have nothing better to pick);
 *    the rule never asks twice in a row, so this ends in an answer or a hand-over.
 * The wrong answer is counted as wrong even though a real customer might then ask for a person: what
 * matters is that a wrong answer was sent.
 */
export function simulateCustomer(customer: SimCustomer, replies: SimReplies, book: AnswerBook, config: TierSettings): SimOutcome {
  const first = decideTurn({ text: customer.text, analysis: customer.analysis, state: { turns: [] }, book, config });
  const end = (d: ReturnType<typeof decideTurn>, clarified: boolean): SimOutcome | null => {
    switch (d.action) {
      case 'answer':
      case 'repeat':
        return { result: d.answer.intent === customer.gold ? 'correct' : 'wrong', clarified };
      case 'handover':
        return { result: 'handover', clarified, reason: d.reason };
      case 'small-talk':
        return { result: 'small-talk', clarified };
      case 'clarify':
        return null;
    }
  };
  const done = end(first, false);
  if (done) return done;
  if (first.action !== 'clarify') throw new Error('unreachable');
  const [a, b] = first.options;
  const turns: PastTurn[] = [{ kind: 'clarify', intent: `${a.intent}|${b.intent}` }];
  const reply =
    customer.gold === a.intent
      ? { text: '1', analysis: replies.one }
      : customer.gold === b.intent
        ? { text: '2', analysis: replies.two }
        : { text: customer.text, analysis: customer.analysis };
  const second = decideTurn({ text: reply.text, analysis: reply.analysis, state: { turns }, book, config });
  const outcome = end(second, true);
  // decideTurn never asks a second clarifying question in a row.
  if (!outcome) throw new Error('a second clarifying question in a row');
  return outcome;
}

/** The outcomes of a run, counted. Shares are of `n`. */
export interface TierCounts {
  n: number;
  correctFirst: number;
  correctAfterClarify: number;
  wrong: number;
  wrongAfterClarify: number;
  clarified: number;
  smallTalk: number;
  handover: number;
  handoverByReason: Partial<Record<HandoverReason, number>>;
}

export function tally(outcomes: readonly SimOutcome[]): TierCounts {
  const c: TierCounts = {
    n: outcomes.length,
    correctFirst: 0,
    correctAfterClarify: 0,
    wrong: 0,
    wrongAfterClarify: 0,
    clarified: 0,
    smallTalk: 0,
    handover: 0,
    handoverByReason: {},
  };
  for (const o of outcomes) {
    if (o.clarified) c.clarified++;
    if (o.result === 'correct') {
      if (o.clarified) c.correctAfterClarify++;
      else c.correctFirst++;
    } else if (o.result === 'wrong') {
      c.wrong++;
      if (o.clarified) c.wrongAfterClarify++;
    } else if (o.result === 'small-talk') c.smallTalk++;
    else if (o.result === 'handover') {
      c.handover++;
      c.handoverByReason[o.reason] = (c.handoverByReason[o.reason] ?? 0) + 1;
    }
  }
  return c;
}

export const correctShare = (c: TierCounts) => (c.correctFirst + c.correctAfterClarify) / c.n;
export const wrongShare = (c: TierCounts) => c.wrong / c.n;

/** The placeholder answer of a Banking77 intent: names the intent, so the evaluation can tell which was sent. */
export const answerOf = (intent: string) => `[Banking77 answer: ${intent}]`;

/**
 * Banking77 rows as KB entries: one English entry per intent, all its rows as questions, the answer
 * naming the intent. A stored KB caps an entry at 100 questions (KB_QUESTIONS_PER_ENTRY_MAX) and holds
 * one entry per intent and language, so 66 of Banking77's 77 intents would not fit whole: the
 * evaluation builds the entries in memory instead (the intent model sees exactly what a KB of these
 * entries would give it).
 */
export function kbOf(rows: readonly Labelled[]): KbEntry[] {
  const byIntent = new Map<string, string[]>();
  for (const r of rows) {
    let qs = byIntent.get(r.label);
    if (!qs) byIntent.set(r.label, (qs = []));
    qs.push(r.text);
  }
  return [...byIntent.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([intent, questions]) => ({
      id: `b77-${intent}`,
      intent,
      lang: 'en' as const,
      questions,
      answer: answerOf(intent),
      tags: [],
      skillGroup: null,
      related: [],
      version: 1,
      updatedAt: '2026-01-01T00:00:00.000Z',
      updatedBy: 'eval',
    }));
}

/**
 * A language core serving `entries` as its KB, trained the way the server trains it (`start()` reads
 * the KB and trains with the same function as the CPU pool's `trainIntent`). The shipped emotion and
 * hand-over models are loaded as in production. ~30 s for Banking77's 10,003 questions on one core.
 */
export async function coreForKb(entries: readonly KbEntry[]): Promise<LanguageCore> {
  const core = new LanguageCore({
    kb: { list: () => Promise.resolve([...entries]), version: () => Promise.resolve(1), onChange: () => () => {} },
    train: inlineIntentTrainer,
  });
  await core.start();
  if (!core.ready) throw new Error('the intent model did not train');
  return core;
}

/** A seeded, per-label held-out share of `rows`: `fraction` of each label's rows go to `val`. */
export function holdOut<T extends { label: string }>(rows: readonly T[], fraction: number, seed: number): { train: T[]; val: T[] } {
  const random = seededRandom(seed);
  const byLabel = new Map<string, T[]>();
  for (const r of rows
    .map((r) => ({ r, k: random() }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.r)) {
    let list = byLabel.get(r.label);
    if (!list) byLabel.set(r.label, (list = []));
    list.push(r);
  }
  const val = new Set<T>();
  for (const list of byLabel.values()) for (const r of list.slice(0, Math.round(list.length * fraction))) val.add(r);
  return { train: rows.filter((r) => !val.has(r)), val: rows.filter((r) => val.has(r)) };
}

/** One setting of the two thresholds and what it gives. */
export interface SweepPoint {
  minConfidence: number;
  clarifyMinCombined: number;
  counts: TierCounts;
}

/** The grid of the sweep: minConfidence 0.40–0.95 and clarifyMinCombined 0.40–1.05 (above 1 = never clarify), steps of 0.05. */
export const SWEEP_GRID = {
  minConfidence: Array.from({ length: 12 }, (_, i) => Math.round((0.4 + i * 0.05) * 100) / 100),
  clarifyMinCombined: Array.from({ length: 14 }, (_, i) => Math.round((0.4 + i * 0.05) * 100) / 100),
};

export function sweep(
  customers: readonly SimCustomer[],
  replies: SimReplies,
  book: AnswerBook,
  base: TierSettings,
  grid = SWEEP_GRID,
): SweepPoint[] {
  const points: SweepPoint[] = [];
  for (const minConfidence of grid.minConfidence)
    for (const clarifyMinCombined of grid.clarifyMinCombined) {
      const config = { ...base, minConfidence, clarifyMinCombined };
      points.push({ minConfidence, clarifyMinCombined, counts: tally(customers.map((c) => simulateCustomer(c, replies, book, config))) });
    }
  return points;
}

/**
 * The point with the most correct answers among those with at most `maxWrong` wrong ones and, unless
 * `anyClarify`, with `clarifyMinCombined ≥ minConfidence`; ties go to fewer wrong answers, then to the
 * higher (more careful) thresholds. Null when no point qualifies.
 *
 * Why the second condition: the simulated customer always recognises their question among the two
 * options, so a clarifying question costs nothing here, and without a bound the sweep clarifies
 * whenever the model is not 95 % sure (a third of all customers on Banking77) — not what the issue
 * asks ("one clarifying question when two intents are close"). Requiring the two best intents together
 * to be at least as likely as one answer must be keeps clarifying for close pairs; the unbounded
 * optimum is reported beside it (docs/ai-quality.md).
 */
export function choose(points: readonly SweepPoint[], maxWrong: number, anyClarify = false): SweepPoint | null {
  const ok = points.filter((p) => wrongShare(p.counts) <= maxWrong && (anyClarify || p.clarifyMinCombined >= p.minConfidence));
  ok.sort(
    (a, b) =>
      correctShare(b.counts) - correctShare(a.counts) ||
      wrongShare(a.counts) - wrongShare(b.counts) ||
      b.minConfidence - a.minConfidence ||
      b.clarifyMinCombined - a.clarifyMinCombined,
  );
  return ok[0] ?? null;
}

/** Analyses every row with `core` (the text as the customer sends it). */
export function customersOf(core: LanguageCore, rows: readonly Labelled[]): SimCustomer[] {
  return rows.map((r) => ({ text: r.text, gold: r.label, analysis: core.analyze(r.text) }));
}

export function repliesOf(core: LanguageCore): SimReplies {
  return { one: core.analyze('1'), two: core.analyze('2') };
}

export function bookOf(entries: readonly KbEntry[]): AnswerBook {
  return KbAnswerBook.of(entries);
}

/** The wrong-answer budget of issue 10: at most 5 % of customers get a wrong answer. */
export const MAX_WRONG = 0.05;

export interface Banking77TierResult {
  /** The settings chosen on the validation split (`choose`). */
  chosen: SweepPoint;
  /** The validation optimum without the clarifying bound (`choose(…, true)`), and the test split with it. */
  unbounded: SweepPoint;
  testUnbounded: TierCounts;
  /** What the shipped defaults before this run gave on validation (for the docs). */
  valAtDefaults: TierCounts;
  /** The test split at the chosen settings and at the shipped defaults. */
  test: TierCounts;
  testAtDefaults: TierCounts;
  sizes: { kbTrain: number; val: number; kbFull: number; test: number };
  /** Every validation point, for the notes. */
  points: SweepPoint[];
  trainSeconds: { val: number; full: number };
}

/**
 * The full Banking77 run: a 10 % per-intent validation split held out of `train` (seed 77), the core
 * trained on the other 90 % chooses the thresholds (`choose` with MAX_WRONG), then the core trained on
 * all of `train` answers `test` with them. `defaults` are the settings to compare with (the shipped ones).
 */
export async function banking77Tiers(
  train: readonly Labelled[],
  test: readonly Labelled[],
  defaults: TierSettings = DEFAULT_AUTO_ANSWER,
  log: (line: string) => void = () => {},
): Promise<Banking77TierResult> {
  const split = holdOut(train, 0.1, 77);
  let t0 = Date.now();
  const valKb = kbOf(split.train);
  const valCore = await coreForKb(valKb);
  const valSeconds = (Date.now() - t0) / 1000;
  const valCustomers = customersOf(valCore, split.val);
  const valBook = bookOf(valKb);
  const valReplies = repliesOf(valCore);
  const points = sweep(valCustomers, valReplies, valBook, defaults);
  const chosen = choose(points, MAX_WRONG);
  const unbounded = choose(points, MAX_WRONG, true);
  if (!chosen || !unbounded) throw new Error(`no setting keeps wrong answers at or under ${MAX_WRONG * 100} % on validation`);
  const valAtDefaults = tally(valCustomers.map((c) => simulateCustomer(c, valReplies, valBook, defaults)));
  await valCore.close();
  log(
    `tiers: validation (${split.val.length}) chose minConfidence ${chosen.minConfidence}, clarifyMinCombined ${chosen.clarifyMinCombined}: correct ${(correctShare(chosen.counts) * 100).toFixed(1)} %, wrong ${(wrongShare(chosen.counts) * 100).toFixed(1)} %`,
  );

  t0 = Date.now();
  const fullKb = kbOf(train);
  const core = await coreForKb(fullKb);
  const fullSeconds = (Date.now() - t0) / 1000;
  const customers = customersOf(core, test);
  const replies = repliesOf(core);
  const book = bookOf(fullKb);
  const settings = { ...defaults, minConfidence: chosen.minConfidence, clarifyMinCombined: chosen.clarifyMinCombined };
  const result: Banking77TierResult = {
    chosen,
    valAtDefaults,
    test: tally(customers.map((c) => simulateCustomer(c, replies, book, settings))),
    testAtDefaults: tally(customers.map((c) => simulateCustomer(c, replies, book, defaults))),
    sizes: { kbTrain: split.train.length, val: split.val.length, kbFull: train.length, test: test.length },
    unbounded,
    testUnbounded: tally(
      customers.map((c) =>
        simulateCustomer(c, replies, book, {
          ...defaults,
          minConfidence: unbounded.minConfidence,
          clarifyMinCombined: unbounded.clarifyMinCombined,
        }),
      ),
    ),
    points,
    trainSeconds: { val: valSeconds, full: fullSeconds },
  };
  await core.close();
  return result;
}

const p1 = (x: number) => `${(x * 100).toFixed(1)} %`;
const share = (k: number, c: TierCounts) => `${p1(k / c.n)} (${k})`;

function reasonsOf(c: TierCounts): string {
  const names: Record<string, string> = {
    'low-confidence': 'low confidence',
    'negative-emotion': 'negative emotion',
    'customer-asked': 'asked for a person',
    'unresolved-turns': 'unresolved turns',
  };
  return Object.entries(c.handoverByReason)
    .sort((a, b) => b[1] - a[1])
    .map(([r, k]) => `${names[r] ?? r} ${k}`)
    .join(', ');
}

function outcomeLine(label: string, c: TierCounts): string {
  return `${label}: correct ${p1(correctShare(c))}, wrong ${p1(wrongShare(c))}, handed over ${p1(c.handover / c.n)}, clarifying question ${p1(c.clarified / c.n)}`;
}

/**
 * The generated part of docs/ai-quality.md's "AI tier" section (between its markers): the Banking77
 * table, the threshold choice, the safety table and the detector's held-out check.
 */
export function tiersReport(input: {
  banking: Banking77TierResult;
  shipped: TierSettings;
  safety: SafetySummary;
  longAsks: Record<'zh' | 'en', { asks: [number, number]; lookAlikes: [number, number] }>;
  header: string;
}): string {
  const { banking: b, shipped, safety: s, longAsks } = input;
  const t = b.test;
  const chosenDiffers = b.chosen.minConfidence !== shipped.minConfidence || b.chosen.clarifyMinCombined !== shipped.clarifyMinCombined;
  const clarifiedCorrect = t.correctAfterClarify;
  const clarifiedHandedOver = t.clarified - t.correctAfterClarify - t.wrongAfterClarify;
  const rows = [
    [
      'answered correctly',
      '≥ 60 % (vendors publish 44–67 % resolution)',
      `**${p1(correctShare(t))}** (${t.correctFirst + t.correctAfterClarify}): ${share(t.correctFirst, t)} at the first turn, ${share(t.correctAfterClarify, t)} after one clarifying question`,
    ],
    ['answered wrongly', '≤ 5 %', `**${p1(wrongShare(t))}** (${t.wrong})`],
    ['handed over to a person', '—', `${share(t.handover, t)}: ${reasonsOf(t)}`],
    [
      'asked a clarifying question',
      '—',
      `${share(t.clarified, t)}, of which ${clarifiedCorrect} then answered correctly, ${clarifiedHandedOver} handed over (their intent was not one of the two)`,
    ],
    ['small talk instead of an answer', '≈ 0', share(t.smallTalk, t)],
  ];
  const safetyRows = [
    [
      'reached a person or a left message',
      '100 %',
      `**${p1(s.reached / s.conversations)}** (${s.reached} of ${s.conversations}): a person ${s.person} (${Object.entries(
        s.statusesWithAgent,
      )
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}), a left message ${s.leftMessage}`,
    ],
    ['loops (the AI wrote after the hand-over, or the session went back to the AI)', '0', `**${s.loops}**`],
    ['conversations with any failed check (no reply, no notice, wrong notice, message not kept …)', '0', `${s.withProblems}`],
    ['mean customer turns to the hand-over', '—', s.meanTurns === null ? '—' : s.meanTurns.toFixed(2)],
    [
      'asks for a person handed over at the ask (recognised by the language core)',
      '—',
      `${s.asksRecognised} of ${s.asks}${s.asksMissed.length ? `; not recognised: ${s.asksMissed.map((a) => `"${a}"`).join(', ')}` : ''}`,
    ],
  ];
  const la = (l: 'zh' | 'en') =>
    `${l} asks ${longAsks[l].asks[0]}/${longAsks[l].asks[1]}, look-alikes left alone ${longAsks[l].lookAlikes[0]}/${longAsks[l].lookAlikes[1]}`;
  return `${input.header}

### Banking77 as the knowledge base

Train (${b.sizes.kbFull} questions, 77 intents) as the KB, each test question (${b.sizes.test}) one customer. Thresholds **minConfidence ${b.chosen.minConfidence}**, **clarifyMinCombined ${b.chosen.clarifyMinCombined}**, chosen on a validation split (${b.sizes.val} questions, 10 % of each intent held out of train; the model for the choice trained on the other ${b.sizes.kbTrain}): ${outcomeLine('validation', b.chosen.counts)}.${chosenDiffers ? ` **The shipped defaults (${shipped.minConfidence} / ${shipped.clarifyMinCombined}) differ: update DEFAULT_AUTO_ANSWER.**` : ' These are the shipped defaults (DEFAULT_AUTO_ANSWER).'}

| test split, ${b.sizes.test} customers | goal | Huiliu |
|---|---|---|
${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

- ${outcomeLine(`Without the clarifying bound (clarifyMinCombined may be below minConfidence) validation picks ${b.unbounded.minConfidence} / ${b.unbounded.clarifyMinCombined}; on test`, b.testUnbounded)}.
${chosenDiffers ? `- ${outcomeLine(`At the shipped defaults (${shipped.minConfidence} / ${shipped.clarifyMinCombined}), validation`, b.valAtDefaults)}; ${outcomeLine('test', b.testAtDefaults)}.\n` : ''}- Validation grid, minConfidence (rows) × clarifyMinCombined (columns), correct / wrong %:

${gridTable(b.points)}

- Intent models trained in ${b.trainSeconds.val.toFixed(0)} s (90 % of train) and ${b.trainSeconds.full.toFixed(0)} s (all of train).

### Hand-over safety (the real server)

${s.conversations / 2} scripted conversations, each run twice — with no agent online and with agent1 connected — ${s.conversations} runs in ${s.seconds.toFixed(0)} s.

| check | goal | Huiliu |
|---|---|---|
${safetyRows.map((r) => `| ${r.join(' | ')} |`).join('\n')}

| conversations | runs | reached | mean turns to the hand-over | why they left the AI |
|---|---|---|---|---|
${s.groups.map((g) => `| ${g.group} | ${g.conversations} | ${g.reached} | ${g.meanTurns === null ? '—' : g.meanTurns.toFixed(2)} | ${g.reasons} |`).join('\n')}
${s.problems.length ? `\nFailed checks:\n${s.problems.map((x) => `- ${x}`).join('\n')}\n` : ''}
Hand-over detector on long messages it was not trained on (server/eval/human-heldout.ts): ${la('zh')}; ${la('en')}.`;
}

/** The validation grid as a compact markdown table (a few clarifyMinCombined columns; above 1 = never clarify). */
function gridTable(points: readonly SweepPoint[]): string {
  const mins = [...new Set(points.map((p) => p.minConfidence))];
  const cols = [...new Set(points.map((p) => p.clarifyMinCombined))].filter((c) => [0.4, 0.5, 0.6, 0.65, 0.7, 0.8, 0.9, 1.05].includes(c));
  const at = (m: number, c: number) => points.find((p) => p.minConfidence === m && p.clarifyMinCombined === c)!;
  const cell = (p: SweepPoint) => `${(correctShare(p.counts) * 100).toFixed(1)} / ${(wrongShare(p.counts) * 100).toFixed(1)}`;
  return [
    `  | min \\ clarify | ${cols.map((c) => (c > 1 ? 'never' : c.toFixed(2))).join(' | ')} |`,
    `  |---|${cols.map(() => '---').join('|')}|`,
    ...mins.map((m) => `  | ${m.toFixed(2)} | ${cols.map((c) => cell(at(m, c))).join(' | ')} |`),
  ].join('\n');
}
