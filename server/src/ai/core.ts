import type { Analysis, EmotionResult, KbEntry, Lang } from '../../../common/ai/types';
import type { Logger } from '../logging/logger';
import { assessDifficulty } from './difficulty';
import { NgramEmotionClassifier, shippedEmotionExamples, type EmotionClassifier } from './emotion';
import { NgramHumanRequestDetector, type HumanRequestDetector } from './human';
import {
  NgramIntentClassifier,
  OOS,
  type IntentClassifier,
  type IntentExample,
  type IntentModelState,
  type IntentPrediction,
} from './intent';
import { loadShippedModels } from './models';
import { detectLang, warmUpTokenizer } from './text';

/**
 * The AI language core (issue 9, DESIGN §5–6): one `analyze(text)` that the router's difficulty, the
 * `POST /api/v1/ai/analyze` route and (issue 10) the AI tier all read. It holds three models behind
 * their ports — intents from the knowledge base (retrained in the background whenever the KB
 * changes, the old model answering meanwhile), the shipped emotion model and the hand-over request
 * detector — and is synchronous to ask (~0.2 ms a message).
 */

/** What the core needs of the knowledge base (the `KnowledgeBase` port satisfies it). */
export interface KbSource {
  list(): Promise<KbEntry[]>;
  version(): Promise<number>;
  onChange(listener: (version: number) => void): () => void;
}

/**
 * Trains an intent model off the calling thread (the CPU pool's `trainIntent` task) or inline. When
 * `signal` aborts (a newer KB superseded this training, or the server stops), it should stop and reject.
 */
export type IntentTrainer = (examples: IntentExample[], signal: AbortSignal) => Promise<IntentModelState>;

export const inlineIntentTrainer: IntentTrainer = async (examples) => NgramIntentClassifier.train(examples).state();

export interface LanguageCoreDeps {
  kb?: KbSource;
  train?: IntentTrainer;
  emotion?: EmotionClassifier;
  human?: HumanRequestDetector;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  /** Text beyond this many characters is not read by the models (length still counts). */
  maxModelChars?: number;
}

export interface AnalyzeOptions {
  lang?: Lang;
  channel?: string;
  contacts30d?: number;
  /**
   * The emotion already measured for this text (issue 18: a call transcript's speech emotion, prosody
   * combined with the text): used instead of reading the text's own, so a caller's voice counts in
   * difficulty exactly where a chat's text emotion does.
   */
  emotion?: EmotionResult;
}

/** The intents of a KB as training examples: every question of every entry, any language. */
export function kbExamples(entries: readonly KbEntry[]): IntentExample[] {
  return entries.flatMap((e) => e.questions.map((q) => ({ text: q, intent: e.intent })));
}

/** The shipped emotion model (ai/models), or one trained now from the seed data when the file is missing. */
export function loadEmotionClassifier(shipped = loadShippedModels()): EmotionClassifier {
  return shipped
    ? NgramEmotionClassifier.restore({ kind: 'ngram-linear', classifier: shipped.emotion })
    : NgramEmotionClassifier.train(shippedEmotionExamples(), { folds: 0 });
}

export class LanguageCore {
  private intent: IntentClassifier | null = null;
  private intentVersion = 0;
  private readonly emotionModel: EmotionClassifier;
  private readonly human: HumanRequestDetector;
  private readonly maxChars: number;
  private training: Promise<void> | null = null;
  private pending = false;
  private current: AbortController | null = null;
  private closed = false;
  private readonly unsubscribe: () => void;
  private readonly listeners = new Set<(version: number) => void>();

  constructor(private readonly deps: LanguageCoreDeps = {}) {
    const shipped = deps.emotion && deps.human ? null : loadShippedModels();
    this.emotionModel =
      deps.emotion ??
      (shipped
        ? NgramEmotionClassifier.restore({ kind: 'ngram-linear', classifier: shipped.emotion })
        : NgramEmotionClassifier.train(shippedEmotionExamples(), { folds: 0 }));
    this.human = deps.human ?? (shipped ? NgramHumanRequestDetector.restore(shipped.human) : NgramHumanRequestDetector.train());
    this.maxChars = deps.maxModelChars ?? 2000;
    this.unsubscribe = deps.kb ? deps.kb.onChange(() => void this.retrain()) : () => {};
  }

  /**
   * Loads the Chinese dictionary and runs each model once on this thread (~200 ms), so the first
   * customer message does not stall the socket thread while jieba loads.
   */
  warmUp(): void {
    warmUpTokenizer();
    this.analyze('我的订单到哪了？ where is my order?');
  }

  /** Trains the first intent model from the KB (resolves when it is in place, or the KB has < 2 intents). */
  async start(): Promise<void> {
    await this.retrain();
  }

  /** The KB version the current intent model was trained on (0 = no model). */
  get modelVersion(): number {
    return this.intentVersion;
  }

  /** True when an intent model is loaded (the router then scores difficulty with the core). */
  get ready(): boolean {
    return this.intent !== null;
  }

  /** Called after each new intent model is in place, with its KB version. */
  onModel(listener: (version: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Uses `model` as the intent model now (tests, evaluation). */
  useIntentModel(model: IntentClassifier, version = this.intentVersion + 1): void {
    this.intent = model;
    this.intentVersion = version;
  }

  /**
   * Retrains the intent model from the KB. A change during a training supersedes it: the running
   * training is aborted and one more run starts from the newest KB (several changes coalesce into
   * that one run). Requests keep the old model until a new one is ready. A failed training is logged
   * and the old model kept. A KB with fewer than two intents unloads the model (difficulty falls back
   * to surface features).
   */
  retrain(): Promise<void> {
    if (!this.deps.kb || this.closed) return Promise.resolve();
    if (this.training) {
      this.pending = true;
      this.current?.abort();
      return this.training;
    }
    this.training = (async () => {
      do {
        this.pending = false;
        const kb = this.deps.kb!;
        const version = await kb.version();
        const entries = await kb.list();
        // Already trained on this version (changes that arrived before the KB was read coalesced into it).
        if (this.intent && version === this.intentVersion) continue;
        const examples = kbExamples(entries);
        if (new Set(examples.map((e) => e.intent)).size < 2) {
          this.intent = null;
          this.intentVersion = 0;
          continue;
        }
        const controller = new AbortController();
        this.current = controller;
        try {
          const started = Date.now();
          const state = await (this.deps.train ?? inlineIntentTrainer)(examples, controller.signal);
          // Superseded (a newer KB is waiting) or stopping: this model is already out of date.
          if (this.closed || controller.signal.aborted) continue;
          this.intent = NgramIntentClassifier.restore(state);
          this.intentVersion = version;
          this.deps.logger?.info(
            { kbVersion: version, examples: examples.length, intents: this.intent.labels.length, ms: Date.now() - started },
            'intent model trained',
          );
          for (const l of this.listeners) l(version);
        } catch (error) {
          if (controller.signal.aborted) continue;
          this.deps.logger?.error({ err: error, kbVersion: version }, 'intent model training failed; the previous model stays');
        }
      } while (this.pending && !this.closed);
    })().finally(() => {
      this.training = null;
      this.current = null;
    });
    return this.training;
  }

  /** Resolves when no training is running or queued (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.training) await this.training;
  }

  /** Emotion of one text (any length; the first `maxModelChars` are read). */
  emotion(text: string): EmotionResult {
    return this.emotionModel.classify(text.slice(0, this.maxChars));
  }

  /** Whether the text asks for a person. */
  wantsHuman(text: string): boolean {
    return this.human.wantsHuman(text.slice(0, this.maxChars));
  }

  /**
   * The full analysis the router uses (DESIGN §6 `POST /api/v1/ai/analyze`). Without an intent
   * model every text is out of scope at confidence 0 and `model` is `surface`: callers that route
   * use the surface difficulty instead (`routing/score.ts`).
   */
  analyze(text: string, options: AnalyzeOptions = {}): Analysis {
    const head = text.slice(0, this.maxChars);
    const lang = options.lang ?? detectLang(head);
    const intent: IntentPrediction = this.intent
      ? this.intent.classify(head)
      : { label: OOS, confidence: 0, outOfScope: true, candidates: [], margin: 0, oosProbability: 0, likelyIntents: 0 };
    const emotion = options.emotion ?? this.emotionModel.classify(head);
    const wantsHuman = this.human.wantsHuman(head);
    const { score, reasons } = assessDifficulty({
      text,
      intent,
      emotion,
      wantsHuman,
      channel: options.channel,
      contacts30d: options.contacts30d,
    });
    return {
      lang,
      intent: { label: intent.label, confidence: intent.confidence, outOfScope: intent.outOfScope, candidates: intent.candidates },
      emotion,
      difficulty: score,
      factors: reasons,
      wantsHuman,
      model: this.intent ? `ngram-linear@kb${this.intentVersion}` : 'surface',
    };
  }

  /** Stops listening to the KB and aborts a running training (it does not wait for it: a pool thread is stopped by the pool's close). */
  close(): Promise<void> {
    this.closed = true;
    this.unsubscribe();
    this.current?.abort();
    return Promise.resolve();
  }
}
