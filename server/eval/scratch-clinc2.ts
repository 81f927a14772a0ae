import { clinc150 } from './datasets';
import { NgramIntentClassifier } from '../src/ai/intent';
const train = [...clinc150('train'), ...clinc150('oos_train')].map((r) => ({ text: r.text, intent: r.label }));
const test = clinc150('test');
for (const lin of JSON.parse(process.env.LINS!)) {
  const m = NgramIntentClassifier.train(train, { folds: 0, linear: { epochs: 6, lr: 1, decay: 1e-5, l2: 1e-6, seed: 7, ...lin }, ...(JSON.parse(process.env.OPTS ?? '{}')) });
  let ok = 0; for (const r of test) if (m.classify(r.text, 0).label === r.label) ok++;
  console.log(JSON.stringify(lin), process.env.OPTS, m.stats.trainMs, (ok / test.length * 100).toFixed(2));
}
