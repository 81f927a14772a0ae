import { describe, expect, it } from 'vitest';
import { HuiliuError } from '../../../../common/errors/codes';
import { canRenderText, renderTextImage } from '../../../test/support/text-image';
import { chooseReading, createTesseractEngine, resolveLangPath, type OcrEngine } from './engine';
import { OcrPool } from './pool';
import { tidyOcrText } from './text';

const langPath = resolveLangPath(undefined);
// In CI the Debian packages are installed by .ci/run: missing ones fail there instead of skipping.
const ready = (langPath !== null && canRenderText()) || Boolean(process.env.CI);

/** The real engine, counted: how many were started and how many are still alive. */
function countedEngines() {
  const counts = { started: 0, terminated: 0 };
  const engine = async (): Promise<OcrEngine> => {
    const inner = await createTesseractEngine(langPath!);
    counts.started++;
    return {
      recognize: (image) => inner.recognize(image),
      async terminate() {
        counts.terminated++;
        await inner.terminate();
      },
    };
  };
  return { counts, engine };
}

const code = (error: unknown) => (error instanceof HuiliuError ? error.code : String(error));

describe('choosing between the Chinese and the English reading', () => {
  it('keeps a sure, mostly-Han Chinese reading without an English pass', () => {
    expect(chooseReading({ text: '订单号：88990011', confidence: 86 }, null)).toEqual({ text: '订单号：88990011', confidence: 86 });
  });
  it('asks for the English pass when the Chinese reading is Latin or unsure, then keeps the more confident one', () => {
    const latin = { text: 'Order 88990011', confidence: 91 };
    expect(chooseReading(latin, null)).toBeNull();
    expect(chooseReading(latin, { text: 'Order 88990011', confidence: 95 })).toMatchObject({ confidence: 95 });
    const unsure = { text: '订单', confidence: 60 };
    expect(chooseReading(unsure, null)).toBeNull();
    expect(chooseReading(unsure, { text: 'iJ#', confidence: 20 })).toBe(unsure);
  });
});

describe('tidying OCR text', () => {
  it('drops spaces the engine put between Han characters and keeps English spacing', () => {
    expect(tidyOcrText('我 的 订单 还 没有 收到 ， 请 帮 我\nOrder  88990011 was charged   \n\n\n\nend')).toBe(
      '我的订单还没有收到，请帮我\nOrder  88990011 was charged\n\nend',
    );
  });
});

describe.skipIf(!ready)('the OCR pool (tesseract.js, local Debian language data)', () => {
  it('reads an English and a Chinese image with one engine, started on demand', async () => {
    const { counts, engine } = countedEngines();
    const pool = new OcrPool({ workers: 1, queue: 4, timeoutMs: 60_000, engine });
    try {
      expect(counts.started).toBe(0);
      const en = await pool.read(renderTextImage('Order 88990011 was charged twice'));
      const zh = await pool.read(renderTextImage('我的订单还没有收到'));
      expect(en).toMatchObject({ text: 'Order 88990011 was charged twice', lang: 'en' });
      expect(en.confidence).toBeGreaterThan(50);
      expect(zh).toMatchObject({ text: '我的订单还没有收到', lang: 'zh' });
      expect(counts.started).toBe(1);
    } finally {
      await pool.close();
    }
    expect(counts.terminated).toBe(1);
  });

  it('refuses an image at once (OVERLOADED) when workers + queue images are in flight', async () => {
    const { engine } = countedEngines();
    const pool = new OcrPool({ workers: 1, queue: 1, timeoutMs: 60_000, engine });
    const image = renderTextImage('Queue bound');
    try {
      const first = pool.read(image);
      const second = pool.read(image);
      const third = await pool.read(image).then(
        () => 'read',
        (e: unknown) => code(e),
      );
      expect(third).toBe('OVERLOADED');
      expect(pool.stats()).toMatchObject({ running: 1, waiting: 1, capacity: 2 });
      expect((await first).text).toBe('Queue bound');
      expect((await second).text).toBe('Queue bound');
      // Room again once those were read.
      expect((await pool.read(image)).text).toBe('Queue bound');
    } finally {
      await pool.close();
    }
  });

  it('rejects what still waits at close (SHUTTING_DOWN), finishes what runs, stops its engines and refuses new images', async () => {
    const { counts, engine } = countedEngines();
    const pool = new OcrPool({ workers: 1, queue: 2, timeoutMs: 60_000, engine });
    const image = renderTextImage('Closing time');
    const running = pool.read(image);
    const waiting = pool.read(image).then(
      () => 'read',
      (e: unknown) => code(e),
    );
    await pool.close();
    expect(await waiting).toBe('SHUTTING_DOWN');
    expect(await running.then((r) => r.text, code)).toMatch(/^(Closing time|SHUTTING_DOWN)$/);
    expect(await pool.read(image).then(() => 'read', code)).toBe('SHUTTING_DOWN');
    expect(counts.terminated).toBe(counts.started);
    expect(pool.stats()).toMatchObject({ running: 0, waiting: 0 });
  });

  it('rejects bytes the engine cannot decode and keeps working', async () => {
    const { engine } = countedEngines();
    const pool = new OcrPool({ workers: 1, queue: 1, timeoutMs: 60_000, engine });
    try {
      // A PNG signature and header with no image data after it.
      const broken = renderTextImage('x').subarray(0, 40);
      await expect(pool.read(broken)).rejects.toBeDefined();
      expect((await pool.read(renderTextImage('Still reading'))).text).toBe('Still reading');
    } finally {
      await pool.close();
    }
  });
});
