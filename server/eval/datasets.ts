import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { seededRandom } from '../src/ai/linear';
import { REPO_ROOT } from '../src/runtime/paths';

/**
 * Loaders for the public corpora under `../shared/data` (issue 9 evaluation). Each returns plain
 * `{text, label}` rows; the split names are the datasets' own. Licences are in each folder's
 * SOURCE.md: corpora with no declared licence are read here for evaluation only.
 */

/** `../shared/data` beside the checkout (override with HUILIU_DATA_ROOT only in scripts, never in the server). */
export const DATA_ROOT = join(REPO_ROOT, '..', 'shared', 'data');
export const hasData = (folder: string) => existsSync(join(DATA_ROOT, folder));

export interface Labelled {
  text: string;
  label: string;
}
/** A multi-label row (GoEmotions): every gold label. */
export interface MultiLabelled {
  text: string;
  labels: string[];
}

const file = (...p: string[]) => readFileSync(join(DATA_ROOT, ...p), 'utf8');

/** Banking77 (CC BY 4.0): 77 fine-grained banking intents; `train` 10,003, `test` 3,080. */
export function banking77(split: 'train' | 'test'): Labelled[] {
  const rows = parse(file('intent-banking77', `${split}.csv`), { columns: true }) as { text: string; category: string }[];
  return rows.map((r) => ({ text: r.text, label: r.category }));
}

/** CLINC150 "full" (CC BY 3.0): 150 intents + `oos`; splits train/val/test and oos_train/oos_val/oos_test. */
export function clinc150(split: 'train' | 'val' | 'test' | 'oos_train' | 'oos_val' | 'oos_test'): Labelled[] {
  const data = JSON.parse(file('intent-clinc150', 'data_full.json')) as Record<string, [string, string][]>;
  return data[split]!.map(([text, label]) => ({ text, label }));
}

/** AFQMC dev (no declared licence: evaluation only): Alipay question pairs, label 1 = same meaning. */
export function afqmcDev(): { a: string; b: string; same: boolean }[] {
  return file('intent-zh-afqmc', 'dev.json')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { sentence1: string; sentence2: string; label: string })
    .map((r) => ({ a: r.sentence1, b: r.sentence2, same: r.label === '1' }));
}

/** SMP2020-EWECT (no declared licence: evaluation only): Weibo posts, 6 labels (angry happy neutral sad surprise fear). */
export function smp2020(split: 'usual_eval' | 'usual_test' | 'virus_eval' | 'virus_test'): Labelled[] {
  const rows = JSON.parse(file('emotion-zh-smp2020-ewect', `${split}_labeled.json`)) as { content: string; label: string }[];
  return rows.map((r) => ({ text: r.content, label: r.label }));
}

/** SMP2020's labels in the core's Ekman names. SMP2020 has no disgust. */
export const SMP_TO_EKMAN: Record<string, string> = {
  angry: 'anger',
  happy: 'happiness',
  neutral: 'neutral',
  sad: 'sadness',
  surprise: 'surprise',
  fear: 'fear',
};

/** GoEmotions mapped to Ekman 6 + neutral (Apache-2.0): Reddit comments, multi-label; `dev` 5,426, `test` 5,427. */
export function goEmotions(split: 'dev' | 'test'): MultiLabelled[] {
  const names = file('emotion-en-goemotions', 'ekman', 'labels.txt').trim().split('\n');
  const rename: Record<string, string> = { joy: 'happiness' };
  return file('emotion-en-goemotions', 'ekman', `${split}.tsv`)
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [text, ids] = l.split('\t');
      return {
        text: text!,
        labels: ids!
          .split(',')
          .map((i) => names[Number(i)]!)
          .map((n) => rename[n] ?? n),
      };
    });
}

/** The first `n` rows per label after a seeded shuffle (a few-shot knowledge base, or a fixed slice). */
export function fewShot<T extends { label: string }>(rows: readonly T[], n: number, seed: number): T[] {
  const random = seededRandom(seed);
  const shuffled = rows
    .map((r) => ({ r, k: random() }))
    .sort((a, b) => a.k - b.k)
    .map((x) => x.r);
  const taken = new Map<string, number>();
  return shuffled.filter((r) => {
    const k = taken.get(r.label) ?? 0;
    taken.set(r.label, k + 1);
    return k < n;
  });
}
