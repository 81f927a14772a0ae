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

  /** Trains on `HUMAN_REQUEST_SEED` (or the given sentences); ~0.2 s on one core. */
  static train(sentences: readonly { text: string; wantsHuman: boolean }[] = HUMAN_REQUEST_SEED): NgramHumanRequestDetector {
    return new NgramHumanRequestDetector(
      TextClassifier.train(
        sentences.map((s) => ({ text: s.text, label: s.wantsHuman ? 'human' : 'other' })),
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
