/**
 * `npm run train:models`: trains the models the product ships (ai/models.ts) — emotion on the
 * project's seed sentences + GoEmotions dev (Apache-2.0), hand-over requests on the project's own
 * sentences — and writes server/src/ai/models/core-models.json.gz. Data without a declared licence
 * (SMP2020-EWECT, AFQMC, FewCLUE) is never read here.
 */
import { EMOTION_SEED } from '../src/ai/data/emotion-seed';
import { HUMAN_REQUEST_SEED, HUMAN_REQUEST_SHORT } from '../src/ai/data/human-request';
import { isCalm, NgramEmotionClassifier, shippedEmotionExamples } from '../src/ai/emotion';
import { NgramHumanRequestDetector } from '../src/ai/human';
import { saveShippedModels, SHIPPED_MODELS_FILE } from '../src/ai/models';
import { DEMO_KB } from '../src/demo/kb-data';
import { banking77, clinc150, goEmotions } from './datasets';

const dev = goEmotions('dev');
// Calm customer questions as weak "neutral" examples: the demo KB's questions and the short hand-over
// sentences (the long ones tell complaints: not examples of calm).
const calm = [...DEMO_KB.flatMap((r) => r.questions), ...HUMAN_REQUEST_SHORT.map((s) => s.text)];
const emotion = NgramEmotionClassifier.train(shippedEmotionExamples(dev, calm), {
  features: { ...NgramEmotionClassifier.features, minDf: 2 },
});
// Everyday requests that do not ask for a person: the demo KB's questions, CLINC150 train (CC BY 3.0)
// and Banking77 train (CC BY 4.0) utterances; never their test splits.
const background = [
  ...DEMO_KB.flatMap((r) => r.questions),
  ...clinc150('train')
    .filter((_, i) => i % 3 === 0)
    .map((r) => r.text),
  ...clinc150('oos_train').map((r) => r.text),
  ...banking77('train')
    .filter((_, i) => i % 4 === 0)
    .map((r) => r.text),
];
const human = NgramHumanRequestDetector.train(HUMAN_REQUEST_SEED, background);
saveShippedModels({
  provenance: {
    trainedAt: new Date().toISOString(),
    sources: [
      { name: 'Huiliu emotion seed (server/src/ai/data/emotion-seed.ts)', licence: 'Apache-2.0 (this project)', rows: EMOTION_SEED.length },
      { name: 'GoEmotions, Ekman labels, dev split (Demszky et al. 2020)', licence: 'Apache-2.0', rows: dev.length },
      {
        name: 'Calm questions as neutral: demo KB questions and short hand-over sentences (this project)',
        licence: 'Apache-2.0 (this project)',
        rows: calm.filter(isCalm).length,
      },
      {
        name: 'Huiliu hand-over requests (server/src/ai/data/human-request.ts)',
        licence: 'Apache-2.0 (this project)',
        rows: HUMAN_REQUEST_SEED.length,
      },
    ],
  },
  emotion: emotion.classifier.state(),
  human: human.state(),
});
process.stdout.write(
  `wrote ${SHIPPED_MODELS_FILE}: emotion ${JSON.stringify(emotion.classifier.stats)}, human ${JSON.stringify(human.classifier.stats)}\n`,
);
