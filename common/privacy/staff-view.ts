import type { Content } from '../message/envelope';
import { maskPii } from './mask';

/**
 * Personal data in what staff see (issue 17, docs/privacy-masking.md): every text staff are shown is
 * masked with `maskPii` (phone numbers, resident IDs, cards, e-mails); the `pii.reveal` act shows one
 * value again, audited. These helpers are pure string code, used by the server's view builders and
 * by the renderer (to find the masked runs it offers "Show" on).
 */

/** A masked run as `maskPii` writes it: three or more `*` (the kept tail is not part of the run). */
export const MASKED_RUN = /\*{3,}/;

/** Whether `text` holds a run `maskPii` could have written (a value staff may ask to reveal). */
export function hasMaskedRun(text: string): boolean {
  return MASKED_RUN.test(text);
}

/**
 * A message's content as staff see it: its words (text, image caption, voice transcript, file name)
 * masked with `maskPii`; ids, sizes and event bodies as they are. Returns `content` itself when
 * nothing was masked.
 */
export function maskContent<C extends Content>(content: C): C {
  switch (content.kind) {
    case 'text': {
      const text = maskPii(content.body.text);
      return text === content.body.text ? content : ({ ...content, body: { ...content.body, text } } as C);
    }
    case 'image': {
      const caption = content.body.caption;
      if (caption === undefined) return content;
      const masked = maskPii(caption);
      return masked === caption ? content : ({ ...content, body: { ...content.body, caption: masked } } as C);
    }
    case 'audio': {
      const transcript = content.body.transcript;
      if (transcript === undefined) return content;
      const masked = maskPii(transcript);
      return masked === transcript ? content : ({ ...content, body: { ...content.body, transcript: masked } } as C);
    }
    case 'file': {
      const name = maskPii(content.body.name);
      return name === content.body.name ? content : ({ ...content, body: { ...content.body, name } } as C);
    }
    case 'event':
      return content;
  }
}

/** The words of a content that `maskContent` masks (text, caption, transcript, file name); null for events. */
export function contentWords(content: Content): string | null {
  switch (content.kind) {
    case 'text':
      return content.body.text;
    case 'image':
      return content.body.caption ?? null;
    case 'audio':
      return content.body.transcript ?? null;
    case 'file':
      return content.body.name;
    case 'event':
      return null;
  }
}

/** More masked runs than this in one text: not restored (the alignment below may backtrack per run). */
const MAX_RUNS = 16;
/** Longer originals are not aligned (an AI draft or suggestion is a few hundred characters). */
const MAX_ALIGNED = 4000;
const STAR_RUNS = /\*+/g;
const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The masked values of `original`: pairs of what staff see (`masked`: the `*` run and up to 4
 * characters after it, e.g. `*******5678` or `***@exam`) and what it stands for (`plain`: the
 * original characters of that stretch). Found by aligning `maskPii(original)` with `original`: the
 * unmasked stretches between runs are literal, each run stands for one or more original characters.
 * @returns [] when nothing is masked, or the original is longer than MAX_ALIGNED or has more than MAX_RUNS runs
 */
export function maskedPairs(original: string): { masked: string; plain: string }[] {
  if (original.length > MAX_ALIGNED) return [];
  const masked = maskPii(original);
  if (masked === original) return [];
  const runs = [...masked.matchAll(STAR_RUNS)];
  if (runs.length === 0 || runs.length > MAX_RUNS) return [];
  let source = '^';
  let at = 0;
  for (const run of runs) {
    source += escapeRe(masked.slice(at, run.index)) + '([\\s\\S]+?)';
    at = run.index + run[0].length;
  }
  source += escapeRe(masked.slice(at)) + '$';
  const match = new RegExp(source).exec(original);
  if (!match) return [];
  const pairs: { masked: string; plain: string }[] = [];
  runs.forEach((run, i) => {
    const end = run.index + run[0].length;
    const tail = masked.slice(end, end + 4).replace(/\*[\s\S]*$/, '');
    const plain = match[i + 1]!;
    if (plain !== run[0]) pairs.push({ masked: run[0] + tail, plain: plain + tail });
  });
  return pairs;
}

/**
 * Puts back the values staff saw masked in `originals` (an AI draft or suggestion the agent sends,
 * edited or not): each masked stretch of `text` that `maskedPairs` of an original names becomes
 * that original's characters again, so the customer gets the real text (issue 17: only staff views
 * are masked). Two originals' values that look alike masked go back in the order they came.
 * Stretches from elsewhere (a run the agent typed, another customer's value) stay.
 */
export function restoreMasked(text: string, originals: readonly string[]): string {
  if (!hasMaskedRun(text)) return text;
  // Two values can look alike masked (`*******5678`): the n-th such stretch of `text` gets the n-th value.
  const values = new Map<string, string[]>();
  for (const original of originals) {
    for (const { masked, plain } of maskedPairs(original)) values.set(masked, [...(values.get(masked) ?? []), plain]);
  }
  let out = text;
  for (const [masked, plains] of values) {
    const parts = out.split(masked);
    out = parts.reduce((acc, part, i) => acc + plains[Math.min(i - 1, plains.length - 1)]! + part);
  }
  return out;
}

/** A conversation summary as staff see it: its sentences masked (an extractive summary quotes the customer). */
export function maskSummary<S extends { wants: string; done: string; lines: string[]; intent: string | null }>(summary: S): S {
  return {
    ...summary,
    wants: maskPii(summary.wants),
    done: maskPii(summary.done),
    lines: summary.lines.map(maskPii),
    intent: summary.intent === null ? null : maskPii(summary.intent),
  };
}

/** A text-carrying item (an AI draft or suggestion) as staff see it: `text` masked. */
export function maskText<T extends { text: string }>(item: T): T {
  const text = maskPii(item.text);
  return text === item.text ? item : { ...item, text };
}

/** A transfer as staff see it: the sender's note and the AI summary masked. */
export function maskTransfer<
  T extends { note: string | null; summary: { wants: string; done: string; lines: string[]; intent: string | null } | null },
>(transfer: T): T {
  return {
    ...transfer,
    note: transfer.note === null ? null : maskPii(transfer.note),
    summary: transfer.summary === null ? null : maskSummary(transfer.summary),
  };
}
