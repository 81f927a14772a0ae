import { describe, expect, it } from 'vitest';
import type { KbEntry } from '../../../common/ai/types';
import { inlineIntentTrainer, LanguageCore, type IntentTrainer, type KbSource } from './core';

function entry(intent: string, questions: string[]): KbEntry {
  return {
    id: intent,
    intent,
    lang: 'en',
    questions,
    answer: 'x',
    tags: [],
    skillGroup: null,
    related: [],
    version: 1,
    updatedAt: new Date().toISOString(),
    updatedBy: 't',
  };
}

/** A knowledge base in memory, with the port's change notifications. */
class MemoryKb implements KbSource {
  entries: KbEntry[] = [];
  v = 0;
  private listeners = new Set<(v: number) => void>();
  async list() {
    return this.entries;
  }
  async version() {
    return this.v;
  }
  onChange(l: (v: number) => void) {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  set(entries: KbEntry[]) {
    this.entries = entries;
    this.v++;
    for (const l of this.listeners) l(this.v);
  }
}

const ORDERS = entry('order_status', ['where is my order', 'my parcel has not arrived', 'track my package', 'when does my order arrive']);
const REFUND = entry('refund', ['i want a refund', 'give me my money back', 'refund my purchase', 'how do refunds work']);
const LOGIN = entry('login', ['i cannot log in', 'forgot my password', 'reset password', 'my account is locked']);

/** A trainer that holds each training until `release()` gives it a permit, to observe the core mid-training. */
function gatedTrainer(): { train: IntentTrainer; release: () => void; calls: number; signals: AbortSignal[] } {
  let permits = 0;
  let calls = 0;
  const signals: AbortSignal[] = [];
  const waiting: (() => void)[] = [];
  return {
    get calls() {
      return calls;
    },
    signals,
    release: () => {
      const next = waiting.shift();
      if (next) next();
      else permits++;
    },
    train: async (examples, signal) => {
      calls++;
      signals.push(signal);
      if (permits > 0) permits--;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      return inlineIntentTrainer(examples, signal);
    },
  };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('LanguageCore', () => {
  it('without a model (KB with fewer than two intents) answers with model "surface" and every text out of scope', async () => {
    const kb = new MemoryKb();
    kb.set([ORDERS]);
    const core = new LanguageCore({ kb });
    await core.start();
    expect(core.ready).toBe(false);
    const a = core.analyze('where is my order');
    expect(a.model).toBe('surface');
    expect(a.intent.outOfScope).toBe(true);
    await core.close();
  });

  it('trains from the KB at start and names the KB version in `model`', async () => {
    const kb = new MemoryKb();
    kb.set([ORDERS, REFUND]);
    const core = new LanguageCore({ kb });
    await core.start();
    expect(core.ready).toBe(true);
    const a = core.analyze('where is my parcel?');
    expect(a.intent.label).toBe('order_status');
    expect(a.model).toBe('ngram-linear@kb1');
    await core.close();
  });

  it('retrains in the background when the KB changes; the old model answers meanwhile; a newer KB supersedes a running training', async () => {
    const kb = new MemoryKb();
    kb.set([ORDERS, REFUND]);
    const gate = gatedTrainer();
    const core = new LanguageCore({ kb, train: gate.train });
    const started = core.start();
    gate.release();
    await started;
    expect(gate.calls).toBe(1);
    const seen: number[] = [];
    core.onModel((v) => seen.push(v));
    kb.set([ORDERS, REFUND, LOGIN]); // v2: its training starts and is held at the gate
    await until(() => gate.calls === 2);
    // Still the first model: it does not know `login`, and requests are answered at once.
    expect(core.analyze('forgot my password').intent.candidates!.map((c) => c.label)).not.toContain('login');
    expect(core.modelVersion).toBe(1);
    kb.set([ORDERS, LOGIN]); // v3 arrives while v2 trains: v2's training is told to stop
    kb.set([ORDERS, REFUND, LOGIN]); // v4 too: they coalesce into one more run
    expect(gate.signals[1]!.aborted).toBe(true);
    gate.release(); // v2's trainer ignored the signal and finished: its model is out of date and dropped
    await until(() => gate.calls === 3);
    expect(gate.signals[2]!.aborted).toBe(false);
    gate.release();
    await core.idle();
    expect(gate.calls).toBe(3);
    expect(seen).toEqual([4]);
    expect(core.modelVersion).toBe(4);
    expect(core.analyze('forgot my password').intent.label).toBe('login');
    await core.close();
  });

  it('aborts a running training when closed, without waiting for it', async () => {
    const kb = new MemoryKb();
    kb.set([ORDERS, REFUND]);
    const gate = gatedTrainer();
    const core = new LanguageCore({ kb, train: gate.train });
    void core.start();
    await until(() => gate.calls === 1);
    await core.close();
    expect(gate.signals[0]!.aborted).toBe(true);
    gate.release();
    await core.idle();
    expect(core.ready).toBe(false);
  });

  it('keeps the previous model when a training fails', async () => {
    const kb = new MemoryKb();
    kb.set([ORDERS, REFUND]);
    let fail = false;
    const errors: unknown[] = [];
    const core = new LanguageCore({
      kb,
      train: async (examples, signal) => {
        if (fail) throw new Error('worker died');
        return inlineIntentTrainer(examples, signal);
      },
      logger: { info: () => {}, warn: () => {}, error: (obj: unknown) => errors.push(obj) },
    });
    await core.start();
    fail = true;
    kb.set([ORDERS, REFUND, LOGIN]);
    await core.idle();
    expect(errors).toHaveLength(1);
    expect(core.ready).toBe(true);
    expect(core.modelVersion).toBe(1);
    expect(core.analyze('where is my order').intent.label).toBe('order_status');
    await core.close();
  });

  it('scores a customer asking for a person as hard, with the factor named', async () => {
    const kb = new MemoryKb();
    kb.set([ORDERS, REFUND, LOGIN]);
    const core = new LanguageCore({ kb });
    await core.start();
    const human = core.analyze('I want to talk to a human agent please');
    const plain = core.analyze('where is my order');
    expect(human.wantsHuman).toBe(true);
    expect(human.factors.find((f) => f.factor === 'wants-human')!.points).toBe(40);
    expect(human.difficulty).toBeGreaterThanOrEqual(plain.difficulty + 40);
    const zh = core.analyze('转人工');
    expect(zh.wantsHuman).toBe(true);
    expect(zh.difficulty).toBeGreaterThanOrEqual(50);
    await core.close();
  });
});
