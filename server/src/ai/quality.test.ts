import { describe, expect, it } from 'vitest';
import { EMOTIONS } from '../../../common/ai/types';
import { afqmcDev, banking77, clinc150, DATA_ROOT, fewShot, goEmotions, hasData, smp2020, SMP_TO_EKMAN } from '../../eval/datasets';
import { accuracy, auroc, expectedCalibrationError, macroF1 } from '../../eval/metrics';
import { softmaxInPlace } from './linear';
import { LanguageCore } from './core';
import { assessDifficulty } from './difficulty';
import { extractFeatures, sparseDot, Vectorizer } from './features';
import { NgramIntentClassifier, OOS } from './intent';

/**
 * The fixed evaluation slice CI runs (issue 9): small, seeded subsets of the public benchmarks, with
 * floors a few points under what the slice scores today (docs/ai-quality.md has the full table from
 * `npm run eval`). A change that makes the core worse fails here. Reads ../shared/data.
 */
const core = new LanguageCore();

describe('AI quality slice (public benchmarks, ../shared/data)', () => {
  it('has the corpora beside the checkout', () => {
    for (const d of ['intent-banking77', 'intent-clinc150', 'emotion-en-goemotions', 'emotion-zh-smp2020-ewect', 'intent-zh-afqmc']) {
      expect(hasData(d), `${DATA_ROOT}/${d}`).toBe(true);
    }
  });

  it('Banking77: 20 examples per intent as the KB, 1,000 test questions', () => {
    // Top-1 at threshold 0 needs no calibration: skip the cross-validation folds to keep CI quick.
    const model = NgramIntentClassifier.train(
      fewShot(banking77('train'), 20, 1).map((r) => ({ text: r.text, intent: r.label })),
      { folds: 0 },
    );
    const test = banking77('test').slice(0, 1000);
    const acc = accuracy(
      test.map((r) => r.label),
      test.map((r) => model.classify(r.text, 0).label),
    );
    expect(acc).toBeGreaterThan(FLOORS.banking77);
  });

  it('CLINC150: 50 intents × 20 + oos_train; in-scope accuracy, out-of-scope recall and difficulty AUROC on 1,000 test rows', () => {
    const intents = new Set([...new Set(clinc150('train').map((r) => r.label))].sort().filter((_, i) => i % 3 === 0));
    const inSlice = (r: { label: string }) => intents.has(r.label);
    const train = [...fewShot(clinc150('train').filter(inSlice), 20, 2), ...clinc150('oos_train')];
    const model = NgramIntentClassifier.train(train.map((r) => ({ text: r.text, intent: r.label })));
    const test = [...fewShot(clinc150('test').filter(inSlice), 14, 3), ...clinc150('oos_test').slice(0, 300)];
    let inOk = 0;
    let inN = 0;
    let oosOk = 0;
    const scores: number[] = [];
    const calibrated: number[] = [];
    const raw: number[] = [];
    const right: boolean[] = [];
    for (const r of test) {
      const p = model.classify(r.text);
      if (r.label !== OOS) {
        // Calibration: the top in-scope intent's probability against whether it is right, with the
        // fitted temperature and without it (T = 1).
        calibrated.push(p.confidence);
        const z = model.classifier.logits(r.text);
        softmaxInPlace(z, 1);
        raw.push(z[model.classifier.labels.indexOf(p.candidates![0]!.label)]!);
        right.push(p.candidates![0]!.label === r.label);
      }
      if (r.label === OOS) oosOk += p.outOfScope ? 1 : 0;
      else {
        inN++;
        inOk += p.label === r.label ? 1 : 0;
      }
      scores.push(assessDifficulty({ text: r.text, intent: p, emotion: core.emotion(r.text), wantsHuman: core.wantsHuman(r.text) }).score);
    }
    expect(inOk / inN).toBeGreaterThan(FLOORS.clincInScope);
    const ece = expectedCalibrationError(calibrated, right);
    expect(ece).toBeLessThan(expectedCalibrationError(raw, right));
    expect(ece).toBeLessThan(CEILINGS.clincEce);
    expect(oosOk / 300).toBeGreaterThan(FLOORS.clincOosRecall);
    expect(
      auroc(
        scores,
        test.map((r) => r.label === OOS),
      ),
    ).toBeGreaterThan(FLOORS.clincAuroc);
  });

  it('GoEmotions (Ekman + neutral): the shipped emotion model on 1,000 test comments, lenient macro-F1', () => {
    const test = goEmotions('test').slice(0, 1000);
    const predicted = test.map((r) => core.emotion(r.text).label as string);
    const gold = test.map((r, i) => (r.labels.includes(predicted[i]!) ? predicted[i]! : r.labels[0]!));
    expect(macroF1(gold, predicted, EMOTIONS).macro).toBeGreaterThan(FLOORS.goEmotions);
  });

  it('SMP2020-EWECT: the shipped emotion model on 1,000 Chinese test posts, 6-class macro-F1', () => {
    const test = smp2020('usual_test').slice(0, 1000);
    const predicted = test.map((r) => {
      const l = core.emotion(r.text).label;
      return l === 'disgust' ? 'anger' : l;
    });
    const f1 = macroF1(
      test.map((r) => SMP_TO_EKMAN[r.label]!),
      predicted,
      ['anger', 'fear', 'happiness', 'sadness', 'surprise', 'neutral'],
    );
    expect(f1.macro).toBeGreaterThan(FLOORS.smp2020);
  });

  it('AFQMC: question-pair similarity ranks same-meaning pairs above different ones (AUC on 1,000 pairs)', () => {
    const pairs = afqmcDev().slice(0, 1000);
    const bags = pairs.map((p) => [extractFeatures(p.a), extractFeatures(p.b)] as const);
    const vec = Vectorizer.fit(bags.flat());
    const sim = bags.map(([a, b]) => sparseDot(vec.transform(a), vec.transform(b)));
    expect(
      auroc(
        sim,
        pairs.map((p) => p.same),
      ),
    ).toBeGreaterThan(FLOORS.afqmcAuc);
  });
});

/**
 * What the slice must beat. Measured on this slice at the commit that set them (training is seeded,
 * so the slice scores the same every run): Banking77 0.827, CLINC150 in-scope 0.894 / OOS recall 0.777
 * / AUROC 0.933, GoEmotions 0.516, SMP2020 0.479, AFQMC AUC 0.605; each floor sits ~2–3 points lower
 * so a deliberate trade-off can land, a real regression cannot.
 */
const CEILINGS = {
  /** Expected calibration error of the in-scope confidences: 0.044 on this slice (0.133 before temperature scaling). */
  clincEce: 0.07,
};
const FLOORS = {
  banking77: 0.8,
  clincInScope: 0.87,
  clincOosRecall: 0.74,
  clincAuroc: 0.9,
  goEmotions: 0.49,
  smp2020: 0.45,
  afqmcAuc: 0.58,
};
