import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cer, DEGRADED, OCR_TEXTS } from '../../../eval/ocr';
import { canRenderText, renderTextImage } from '../../../test/support/text-image';
import { createTesseractEngine, resolveLangPath } from './engine';
import { OcrPool } from './pool';

const langPath = resolveLangPath(undefined);

/**
 * CI-sized slice of `npm run eval -- ocr` (docs/ai-quality.md has the whole table): a few rendered
 * images per language, clean and degraded, each held to the character error rate goal
 * (English ≤ 2 %, Chinese ≤ 5 %).
 */
// In CI the Debian packages are installed by .ci/run: missing ones fail there instead of skipping.
describe.skipIf((langPath === null || !canRenderText()) && !process.env.CI)('OCR quality on rendered images', () => {
  let pool: OcrPool;
  beforeAll(() => {
    pool = new OcrPool({ workers: 1, queue: 16, timeoutMs: 60_000, engine: () => createTesseractEngine(langPath!) });
  });
  afterAll(async () => {
    await pool.close();
  });

  const cases = [
    ['en', 0, 'clean'],
    ['en', 1, 'degraded'],
    ['zh', 0, 'clean'],
    ['zh', 1, 'degraded'],
  ] as const;
  it.each(cases)('reads %s text #%i (%s) within the goal', async (lang, i, variant) => {
    const text = OCR_TEXTS[lang][i];
    const image = renderTextImage(text, variant === 'clean' ? {} : DEGRADED(i));
    const read = await pool.read(image);
    expect(cer(text, read.text, lang), `read ${JSON.stringify(read.text)}`).toBeLessThanOrEqual(lang === 'en' ? 0.02 : 0.05);
    expect(read.lang).toBe(lang);
  });
});
