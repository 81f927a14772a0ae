/**
 * The CPU pool's worker thread (`workers/pool.ts`): every named export is a task, run by name with
 * `CpuPool.run('<export>', input)`. Inputs and results cross the thread by structured clone, so they
 * are plain data (no class instances, no functions). Tasks are synchronous CPU work; a thread runs
 * one at a time.
 */
import { NgramIntentClassifier, type IntentExample, type IntentModelState } from '../ai/intent';
import { scoreContact, type ContactFacts, type ContactScore } from '../routing/score';

/** Scores one contact (value, difficulty, priority, tier) — `routing/score.ts` `scoreContact`. */
export function score(input: ContactFacts): ContactScore {
  return scoreContact(input);
}

/** Trains an intent model from KB examples (ai/intent.ts) — seconds for thousands of questions, so never on the socket thread. */
export function trainIntent(input: IntentExample[]): IntentModelState {
  return NgramIntentClassifier.train(input).state();
}
