/**
 * `npm run eval -- ocr` (issue 10): character error rate and time of the server's OCR path (the OCR
 * pool with tesseract.js and the local Debian language data) on images rendered here with ImageMagick
 * and WenQuanYi Micro Hei: English and simplified Chinese customer texts, clean and degraded (rotated
 * ±2.5°, Gaussian noise, a slight blur, JPEG at quality 75). Writes its table into docs/ai-quality.md
 * between its own markers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { createTesseractEngine, OCR_LANGS, resolveLangPath } from '../src/ai/ocr/engine';
import { OcrPool } from '../src/ai/ocr/pool';
import { REPO_ROOT } from '../src/runtime/paths';
import { canRenderText, renderTextImage, type TextImageOptions } from '../test/support/text-image';
import { percentile } from './metrics';

/** The project's own customer texts (no corpus licence involved): what people photograph and send. */
export const OCR_TEXTS = {
  en: [
    'Order 88990011 was charged twice on 12 May.\nPlease refund the second payment.',
    'Tracking number: SF1234567890\nStatus: out for delivery',
    'Your verification code is 482913.\nIt expires in 10 minutes.',
    'Invoice #2024-0612\nTotal due: $1,249.00',
    'Error 504: Gateway timeout\nPlease try again later.',
    'Delivery address: 88 Century Avenue,\nPudong, Shanghai 200120',
    'Payment failed. Your card was declined.\nContact your bank for details.',
    'Subscription renewed: Premium plan\nNext billing date: 1 July 2025',
    'Refund of $35.80 approved on 3 June.\nIt takes 5 to 7 working days.',
    'Warranty valid until December 2026.\nSerial number: XK-4471-B',
    'The app crashed when I opened settings.\nVersion 3.2.1 on Android 14',
    'Booking reference: QW7RT2\nCheck-in opens 24 hours before departure.',
    'Your parcel is held at the customs office.\nPlease provide your ID to release it.',
    'Coupon SAVE20 cannot be combined with other offers.',
    'Account locked after 5 failed sign-in attempts.\nReset your password to unlock it.',
    'Item: Wireless earbuds (black) x 2\nUnit price: $59.99',
    'We could not deliver your package today.\nNext attempt: Monday 9:00-12:00',
    'Your return label has been emailed to you.\nDrop the box at any post office.',
    'Low battery warning after the latest update.\nPhone model: Pixel 8',
    'Membership points: 12,480\nPoints expire on 31 March 2026.',
  ],
  zh: [
    '我的订单还没有收到，请帮我查一下物流信息。',
    '订单号：88990011\n支付金额：1249元',
    '您的验证码是482913，十分钟内有效。',
    '退款申请已提交，预计三个工作日内到账。',
    '快递显示已签收，但是我没有收到包裹。',
    '收货地址：上海市浦东新区世纪大道88号',
    '支付失败，请检查银行卡余额或联系发卡行。',
    '会员自动续费成功，下次扣款日期为七月一日。',
    '商品有质量问题，申请换货或者退货。',
    '发票抬头填写错误，需要重新开具。',
    '应用打开设置页面时闪退，版本号3.2.1。',
    '客服电话一直打不通，请尽快回复我。',
    '包裹被海关扣留，需要提供身份证明才能放行。',
    '优惠券不能与其他活动同时使用吗？',
    '账号连续五次登录失败已被锁定，请重置密码。',
    '商品：无线耳机（黑色）两副\n单价：三百五十九元',
    '今天没有派送成功，下次派送时间是周一上午。',
    '退货标签已经发到您的邮箱，请到邮局寄回。',
    '更新系统以后手机耗电特别快，怎么办？',
    '会员积分一万两千四百八十分，明年三月底过期。',
  ],
} as const;

export type Lang = keyof typeof OCR_TEXTS;

/** The degraded variant: a photo of a screen rather than a screenshot. The sign of the rotation alternates. */
export const DEGRADED: (i: number) => TextImageOptions = (i) => ({
  rotate: i % 2 === 0 ? 2.5 : -2.5,
  noise: 0.5,
  blur: 0.4,
  format: 'jpeg',
});

/** Edit distance in code points (Levenshtein: insertions, deletions and substitutions cost 1). */
export function editDistance(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[y.length]!;
}

/**
 * What CER compares: NFKC (full-width `，：` and ASCII `,:` are one character); English with runs of
 * white space as one space, Chinese without white space (it is not part of written Chinese, and the
 * engine puts some after punctuation).
 */
export function cerForm(text: string, lang: Lang): string {
  const nfkc = text.normalize('NFKC');
  return lang === 'zh' ? nfkc.replace(/\s+/g, '') : nfkc.replace(/\s+/g, ' ').trim();
}

/** Character error rate of a hypothesis against its reference: edit distance / reference length (code points). */
export function cer(reference: string, hypothesis: string, lang: Lang): number {
  const ref = cerForm(reference, lang);
  return editDistance(ref, cerForm(hypothesis, lang)) / Math.max(1, [...ref].length);
}

interface Row {
  lang: Lang;
  variant: 'clean' | 'degraded';
  images: number;
  chars: number;
  errors: number;
  confidence: number[];
  ms: number[];
  worst: { cer: number; reference: string; read: string };
}

const GOALS: Record<Lang, number> = { en: 0.02, zh: 0.05 };
const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

/**
 * Runs the OCR measurement and writes docs/ai-quality.md's OCR section.
 * @returns the table lines it printed, or null when ImageMagick, the font or the language data is missing
 */
export async function runOcrEval(log: (line: string) => void): Promise<string[] | null> {
  const langPath = resolveLangPath(undefined);
  if (!langPath || !canRenderText()) {
    log('ocr: skipped — needs Debian imagemagick, fonts-wqy-microhei, tesseract-ocr-eng and tesseract-ocr-chi-sim');
    return null;
  }
  // One engine, as the server's default (`ocr.workers: 1`): times are per image, not throughput.
  const pool = new OcrPool({ workers: 1, queue: 1000, timeoutMs: 120_000, engine: () => createTesseractEngine(langPath) });
  // The first image also starts the engine (~0.5 s); it is not counted.
  await pool.read(renderTextImage('warm up 预热'));
  const rows: Row[] = [];
  try {
    for (const lang of ['en', 'zh'] as const) {
      for (const variant of ['clean', 'degraded'] as const) {
        const row: Row = {
          lang,
          variant,
          images: 0,
          chars: 0,
          errors: 0,
          confidence: [],
          ms: [],
          worst: { cer: -1, reference: '', read: '' },
        };
        for (const [i, text] of OCR_TEXTS[lang].entries()) {
          const image = renderTextImage(text, variant === 'clean' ? {} : DEGRADED(i));
          const result = await pool.read(image);
          const ref = cerForm(text, lang);
          const errors = editDistance(ref, cerForm(result.text, lang));
          row.images++;
          row.chars += [...ref].length;
          row.errors += errors;
          row.confidence.push(result.confidence);
          row.ms.push(result.ms);
          const c = errors / [...ref].length;
          if (c > row.worst.cer) row.worst = { cer: c, reference: text, read: result.text };
        }
        rows.push(row);
      }
    }
  } finally {
    await pool.close();
  }
  const lines = rows.map((r) => {
    const rate = r.errors / r.chars;
    const goal = GOALS[r.lang];
    const mean = r.confidence.reduce((a, b) => a + b, 0) / r.confidence.length;
    return `| ${r.lang === 'en' ? 'English' : 'Chinese (simplified)'}, ${r.variant} | ${r.images} | ${r.chars} | ${pct(rate)} | ≤ ${pct(goal)} ${rate <= goal ? '✔' : '✘ missed'} | ${mean.toFixed(0)} | ${percentile(r.ms, 0.5).toFixed(0)} / ${percentile(r.ms, 0.95).toFixed(0)} ms |`;
  });
  for (const l of lines) log(l);
  const worst = rows
    .filter((r) => r.worst.cer > 0)
    .map(
      (r) =>
        `- ${r.lang} ${r.variant}, worst image (CER ${pct(r.worst.cer)}): expected ${JSON.stringify(r.worst.reference)}, read ${JSON.stringify(r.worst.read)}`,
    );
  writeSection(lines, worst, langPath);
  log('wrote the OCR section of docs/ai-quality.md');
  return lines;
}

function writeSection(lines: string[], worst: string[], langPath: string): void {
  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT }).toString().trim();
    } catch {
      return 'unknown';
    }
  })();
  const tesseract = (
    JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'tesseract.js', 'package.json'), 'utf8')) as { version: string }
  ).version;
  const generated = `Written by \`npm run eval -- ocr\` (server/eval/ocr.ts) at commit ${commit}, ${new Date().toISOString().slice(0, 10)}, on ${cpus()[0]?.model ?? 'this machine'} (${cpus().length} cores): tesseract.js ${tesseract}, LSTM engine, the ${OCR_LANGS.join(' and ')} models from ${langPath} (Debian \`tesseract-ocr-eng\`, \`tesseract-ocr-chi-sim\`): the Chinese model reads first and the English one too unless the Chinese reading is mostly Han and sure (server/src/ai/ocr/engine.ts \`chooseReading\`); one engine (the server's default \`ocr.workers: 1\`). The character error rates are deterministic; the times vary a little from run to run.

| images | count | reference characters | CER | goal | mean confidence | time per image p50 / p95 |
|---|---|---|---|---|---|---|
${lines.join('\n')}

- Images: ${OCR_TEXTS.en.length} English and ${OCR_TEXTS.zh.length} Chinese customer texts of one or two lines (server/eval/ocr.ts), rendered black on white in WenQuanYi Micro Hei at 28 px by ImageMagick. Degraded: rotated 2.5° (alternately clockwise and counter-clockwise), Gaussian noise (attenuate 0.5), blur σ 0.4 px, JPEG quality 75.
- CER = edit distance / reference length in code points, after NFKC (full-width and ASCII punctuation are the same character); English with white space runs as one space, Chinese without white space.
- Time: one image through \`OcrPool.read\` (engine already started; starting one takes ~0.5 s), on one engine. English images take two readings (Chinese, then English), Chinese ones usually one.
${worst.join('\n')}`;
  const file = join(REPO_ROOT, 'docs', 'ai-quality.md');
  const BEGIN = '<!-- npm run eval -- ocr: begin -->';
  const END = '<!-- npm run eval -- ocr: end -->';
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '# AI quality\n';
  const start = old.indexOf(BEGIN);
  const stop = old.indexOf(END);
  const doc =
    start >= 0 && stop > start
      ? `${old.slice(0, start + BEGIN.length)}\n${generated}\n${old.slice(stop)}`
      : `${old.trimEnd()}\n\n## OCR of customer images (issue 10)\n\n${BEGIN}\n${generated}\n${END}\n`;
  writeFileSync(file, doc);
}
