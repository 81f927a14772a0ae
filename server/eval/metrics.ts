/** Evaluation measures (issue 9): accuracy, per-class and macro F1, AUROC, percentiles. */

export function accuracy(gold: readonly string[], predicted: readonly string[]): number {
  let ok = 0;
  gold.forEach((g, i) => (ok += g === predicted[i] ? 1 : 0));
  return gold.length ? ok / gold.length : 0;
}

/** Macro-F1 over `classes` (a class with no gold and no predictions scores 0 and still counts). */
export function macroF1(
  gold: readonly string[],
  predicted: readonly string[],
  classes: readonly string[],
): { macro: number; perClass: Record<string, number> } {
  const perClass: Record<string, number> = {};
  for (const c of classes) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    gold.forEach((g, i) => {
      const p = predicted[i];
      if (p === c && g === c) tp++;
      else if (p === c) fp++;
      else if (g === c) fn++;
    });
    perClass[c] = tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
  }
  const macro = classes.reduce((s, c) => s + perClass[c]!, 0) / classes.length;
  return { macro, perClass };
}

/** Area under the ROC curve of `scores` for `positives` (ties count half; Mann–Whitney U). */
export function auroc(scores: readonly number[], positives: readonly boolean[]): number {
  const items = scores.map((s, i) => ({ s, pos: positives[i]! })).sort((a, b) => a.s - b.s);
  let rankSum = 0;
  let nPos = 0;
  let i = 0;
  while (i < items.length) {
    let j = i;
    while (j < items.length && items[j]!.s === items[i]!.s) j++;
    const avgRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++)
      if (items[k]!.pos) {
        rankSum += avgRank;
        nPos++;
      }
    i = j;
  }
  const nNeg = items.length - nPos;
  if (nPos === 0 || nNeg === 0) return 0.5;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const pct = (x: number, digits = 2) => `${(x * 100).toFixed(digits)} %`;

/**
 * Expected calibration error (Guo et al. 2017): the mean |accuracy − confidence| over `bins`
 * equal-width confidence bins, weighted by each bin's share of the answers. 0 = perfectly calibrated.
 */
export function expectedCalibrationError(confidence: readonly number[], correct: readonly boolean[], bins = 10): number {
  const n = confidence.length;
  if (n === 0) return 0;
  let ece = 0;
  for (let b = 0; b < bins; b++) {
    const lo = b / bins;
    const hi = (b + 1) / bins;
    let count = 0;
    let conf = 0;
    let ok = 0;
    confidence.forEach((c, i) => {
      if ((c > lo || (b === 0 && c >= lo)) && c <= hi) {
        count++;
        conf += c;
        ok += correct[i] ? 1 : 0;
      }
    });
    if (count) ece += (count / n) * Math.abs(ok / count - conf / count);
  }
  return ece;
}
