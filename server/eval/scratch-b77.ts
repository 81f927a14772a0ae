import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { extractFeatures, Vectorizer, DEFAULT_FEATURES } from '../src/ai/features';
import { LinearModel, DEFAULT_LINEAR } from '../src/ai/linear';
const D = '/work/shared/data/intent-banking77/';
const read = (f: string) => (parse(readFileSync(D + f), { columns: true }) as { text: string; category: string }[]);
let train = read("train.csv"); const test = read("test.csv");
if (process.env.SHOTS) { const per = new Map<string, number>(); train = train.filter((r) => { const n = per.get(r.category) ?? 0; per.set(r.category, n + 1); return n < Number(process.env.SHOTS); }); }
if (process.env.LABELS) { for (const l of new Set(train.map((r) => r.category))) train.push({ text: l.replace(/_/g, " "), category: l }); }
const labels = [...new Set(train.map((r) => r.category))].sort();
const lab = new Map(labels.map((l, i) => [l, i]));
const opt = JSON.parse(process.env.FOPT ?? '{}'); const lopt = JSON.parse(process.env.LOPT ?? '{}');
const fo = { ...DEFAULT_FEATURES, ...opt, weights: { ...DEFAULT_FEATURES.weights, ...(opt.weights ?? {}) } };
let t0 = Date.now();
const bags = train.map((r) => extractFeatures(r.text, fo));
const vec = Vectorizer.fit(bags, fo);
const xs = bags.map((b) => vec.transform(b));
console.log('features', vec.size, 'ms', Date.now() - t0);
t0 = Date.now();
const m = LinearModel.train(xs, train.map((r) => lab.get(r.category)!), labels, vec.size, { ...DEFAULT_LINEAR, ...lopt });
console.log('train ms', Date.now() - t0);
let ok = 0;
for (const r of test) { const p = m.logits(vec.vector(r.text)); let best = 0; for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c; if (labels[best] === r.category) ok++; }
console.log('acc', (ok / test.length * 100).toFixed(2));
console.log('avg nnz', xs.reduce((s, x) => s + x.idx.length, 0) / xs.length);
t0 = Date.now(); for (let k = 0; k < 3; k++) for (const x of xs) m.logits(x); console.log('3x logits ms', Date.now() - t0);
{
  const C = labels.length; const cent = labels.map(() => new Map<number, number>());
  train.forEach((r, i) => { const c = lab.get(r.category)!; const x = xs[i]!; for (let k = 0; k < x.idx.length; k++) cent[c]!.set(x.idx[k]!, (cent[c]!.get(x.idx[k]!) ?? 0) + x.val[k]!); });
  const cn = cent.map((m) => { let s = 0; for (const v of m.values()) s += v * v; return Math.sqrt(s); });
  for (const beta of [0, 0.3, 0.5, 0.7, 1]) for (const tau of [0.05]) {
    let ok2 = 0;
    for (const r of test) {
      const x = vec.vector(r.text); const pl = m.probabilities(x);
      const cs = new Float64Array(C); for (let c = 0; c < C; c++) { let s = 0; for (let k = 0; k < x.idx.length; k++) s += (cent[c]!.get(x.idx[k]!) ?? 0) * x.val[k]!; cs[c] = s / cn[c]!; }
      let mx = -1e9; for (const v of cs) mx = Math.max(mx, v); let sum = 0; for (let c = 0; c < C; c++) { cs[c] = Math.exp((cs[c]! - mx) / tau); sum += cs[c]!; }
      let best = 0, bv = -1; for (let c = 0; c < C; c++) { const v = (1 - beta) * pl[c]! + beta * cs[c]! / sum; if (v > bv) { bv = v; best = c; } }
      if (labels[best] === r.category) ok2++;
    }
    console.log('blend beta', beta, 'tau', tau, (ok2 / test.length * 100).toFixed(2));
  }
}
