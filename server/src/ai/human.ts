import { TextClassifier, DEFAULT_CLASSIFIER, type TextClassifierState } from './classifier';
import { HUMAN_REQUEST_SEED } from './data/human-request';

/**
 * "Does the customer ask for a person?" (issue 9; issue 10 hands over on it): a calibrated n-gram
 * classifier trained on the project's own labelled sentences (data/human-request.ts: 转人工, "real
 * person", "speak to a manager" … and look-alikes such as 人工费 or "agent fee" that are not asks).
 */
export interface HumanRequestDetector {
  /** Probability, 0..1, that `text` asks to reach a member of staff. */
  probability(text: string): number;
  wantsHuman(text: string): boolean;
}

export class NgramHumanRequestDetector implements HumanRequestDetector {
  private readonly yes: number;
  private constructor(readonly classifier: TextClassifier) {
    this.yes = classifier.labels.indexOf('human');
  }

  /**
   * Trains on `sentences` (default `HUMAN_REQUEST_SEED`) plus `background`: everyday requests that
   * do not ask for a person (KB questions, public intent corpora), which teach the model that "call
   * my mom" or "transfer money" are not asks. The asks are weighted up to balance the two classes.
   */
  static train(
    sentences: readonly { text: string; wantsHuman: boolean }[] = HUMAN_REQUEST_SEED,
    background: readonly string[] = [],
  ): NgramHumanRequestDetector {
    const rows = [
      ...sentences.map((s) => ({ text: s.text, label: s.wantsHuman ? 'human' : 'other' })),
      ...background.map((text) => ({ text, label: 'other' })),
    ];
    const asks = rows.filter((r) => r.label === 'human').length;
    const weight = Math.max(1, (rows.length - asks) / Math.max(1, asks)) ** 0.5;
    return new NgramHumanRequestDetector(
      TextClassifier.train(
        rows.map((r) => (r.label === 'human' ? { ...r, weight } : r)),
        { ...DEFAULT_CLASSIFIER, features: { ...DEFAULT_CLASSIFIER.features, charRange: [2, 5] } },
      ),
    );
  }

  static restore(state: TextClassifierState): NgramHumanRequestDetector {
    return new NgramHumanRequestDetector(TextClassifier.restore(state));
  }

  state(): TextClassifierState {
    return this.classifier.state();
  }

  probability(text: string): number {
    return this.classifier.probabilities(text)[this.yes]!;
  }

  wantsHuman(text: string): boolean {
    return this.probability(text) >= 0.5;
  }
}
