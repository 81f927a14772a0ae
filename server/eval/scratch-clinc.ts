import { clinc150 } from './datasets';
import { NgramIntentClassifier, OOS } from '../src/ai/intent';
const train = [...clinc150('train'), ...clinc150('oos_train')].map((r) => ({ text: r.text, intent: r.label }));
const m = NgramIntentClassifier.train(train, { folds: Number(process.env.FOLDS ?? 3), linear: { epochs: 6, lr: 1, decay: 1e-5, l2: 1e-6, seed: 7 } });
console.log(m.stats);
const val = [...clinc150('val'), ...clinc150('oos_val')]; const test = [...clinc150('test'), ...clinc150('oos_test')];
for (const th of [0, 0.2, 0.3, 0.4, 0.5, 0.6]) {
  for (const [name, set] of [['val', val], ['test', test]] as const) {
    let inOk = 0, inN = 0, oosOk = 0, oosN = 0;
    for (const r of set) { const p = m.classify(r.text, th); if (r.label === OOS) { oosN++; if (p.outOfScope) oosOk++; } else { inN++; if (p.label === r.label) inOk++; } }
    console.log(th, name, 'in-scope', (inOk / inN * 100).toFixed(2), 'oos recall', (oosOk / oosN * 100).toFixed(2));
  }
}
