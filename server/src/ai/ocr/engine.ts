import { existsSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { createRequire } from 'node:module';
import { ConfigError } from '../../config/config';

/** One OCR engine instance (a tesseract.js worker thread with its languages loaded). */
export interface OcrEngine {
  /** Reads the text of an encoded image (PNG, JPEG, WebP, GIF). Rejects for bytes it cannot decode. */
  recognize(image: Buffer): Promise<{ text: string; confidence: number }>;
  terminate(): Promise<void>;
}

/** The language data needed (tesseract's names): English and simplified Chinese. */
export const OCR_LANGS = ['eng', 'chi_sim'] as const;

/**
 * Where tesseract's language data is looked for when `ocr.langPath` is not configured, in order: the
 * Debian/Ubuntu packages `tesseract-ocr-eng` and `tesseract-ocr-chi-sim` (tesseract 5, then 4), and
 * Homebrew's. Never a URL: the data is never fetched at run time.
 */
export const DEFAULT_LANG_PATHS = [
  '/usr/share/tesseract-ocr/5/tessdata',
  '/usr/share/tesseract-ocr/4.00/tessdata',
  '/opt/homebrew/share/tessdata',
  '/usr/local/share/tessdata',
];

/**
 * The folder holding `<lang>.traineddata` (uncompressed) for every one of `langs`: `configured` when
 * given, else the first of DEFAULT_LANG_PATHS that has them all; null when none has.
 * @throws ConfigError when `configured` is given but is not an absolute folder with the files (a
 *   configuration mistake must not silently turn OCR off)
 */
export function resolveLangPath(configured: string | undefined, langs: readonly string[] = OCR_LANGS): string | null {
  const hasAll = (dir: string) => langs.every((l) => existsSync(join(dir, `${l}.traineddata`)));
  if (configured !== undefined) {
    if (!isAbsolute(configured) || !hasAll(configured)) {
      throw new ConfigError(
        `HUILIU_CONFIG field ocr.langPath: ${configured} must be an absolute folder with ${langs.map((l) => `${l}.traineddata`).join(', ')}`,
      );
    }
    return configured;
  }
  return DEFAULT_LANG_PATHS.find(hasAll) ?? null;
}

interface TesseractWorker {
  setParameters(params: Record<string, string>): Promise<unknown>;
  recognize(image: Buffer): Promise<{ data: { text: string; confidence: number } }>;
  terminate(): Promise<unknown>;
}
interface TesseractModule {
  createWorker(langs: string[], oem: number, options: Record<string, unknown>): Promise<TesseractWorker>;
}

/** LSTM only: the Debian data (tessdata_fast) has no legacy-engine models, and LSTM reads better. */
const OEM_LSTM_ONLY = 1;

/** One reading of an image with one language model. */
export interface Reading {
  text: string;
  /** Mean word confidence, 0..100. */
  confidence: number;
}

/** A Chinese reading this sure of itself, mostly Han, is taken without an English pass. */
export const CHINESE_SURE = 80;
const HAN = /\p{Script=Han}/gu;
const LETTER = /\p{L}/gu;

/**
 * Picks the better of a Chinese and an English reading of one image. A model for both languages at once
 * (`eng+chi_sim`) reads some all-Chinese lines as Latin garbage, and each model alone reads its own
 * language best (docs/ai-quality.md, OCR): so the Chinese model reads first, and its reading is kept
 * when it is mostly Han (≥ 30 % of the letters) with confidence ≥ CHINESE_SURE; otherwise the English
 * model reads too and the more confident reading wins (a tie goes to the Chinese one).
 * @param english null when the English pass has not run yet
 * @returns the reading to keep, or null when the English pass is still needed
 */
export function chooseReading(chinese: Reading, english: Reading | null): Reading | null {
  const letters = chinese.text.match(LETTER)?.length ?? 0;
  const han = chinese.text.match(HAN)?.length ?? 0;
  if (letters > 0 && han / letters >= 0.3 && chinese.confidence >= CHINESE_SURE) return chinese;
  if (!english) return null;
  return english.confidence > chinese.confidence ? english : chinese;
}

/**
 * Starts one engine: two tesseract.js worker threads, one per language model (`chi_sim`, `eng`), with
 * the data in `langPath` (a local folder; `cacheMethod: 'none'` so nothing is written beside it or
 * fetched). A reading follows `chooseReading`. Parameters: interword spaces as found (Chinese has
 * none to invent), page segmentation automatic (PSM 3).
 */
export async function createTesseractEngine(langPath: string): Promise<OcrEngine> {
  // tesseract.js is CommonJS; its worker script is found relative to its own files, so it stays a package.
  const tesseract = createRequire(import.meta.url)('tesseract.js') as TesseractModule;
  const start = async (lang: string) => {
    const worker = await tesseract.createWorker([lang], OEM_LSTM_ONLY, {
      langPath,
      gzip: false,
      cacheMethod: 'none',
      // Without a handler tesseract.js throws a failed job's error from its message listener, which
      // would end the process; with one, only the job's promise rejects.
      errorHandler: () => undefined,
    });
    await worker.setParameters({ preserve_interword_spaces: '1' });
    return worker;
  };
  const [zh, en] = await Promise.all([start('chi_sim'), start('eng')]);
  const read = async (worker: TesseractWorker, image: Buffer): Promise<Reading> => {
    const { data } = await worker.recognize(image);
    return { text: data.text, confidence: data.confidence };
  };
  return {
    async recognize(image) {
      const chinese = await read(zh, image);
      return chooseReading(chinese, null) ?? chooseReading(chinese, await read(en, image))!;
    },
    async terminate() {
      await Promise.allSettled([zh.terminate(), en.terminate()]);
    },
  };
}
