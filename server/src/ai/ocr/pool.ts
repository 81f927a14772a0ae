import { HuiliuError } from '../../../../common/errors/codes';
import type { Lang } from '../../../../common/ai/types';
import type { OcrEngine } from './engine';
import { ocrLang, tidyOcrText } from './text';

export interface OcrPoolOptions {
  /** Engines (two tesseract.js worker threads each, ~140 MB with both models loaded) at most; started on demand. */
  workers: number;
  /** Images that may wait for a free engine; one more is refused OVERLOADED at once. */
  queue: number;
  /** An image still being read after this long (ms) is given up (CANCELLED) and its engine replaced. */
  timeoutMs: number;
  /** Starts one engine. */
  engine: () => Promise<OcrEngine>;
  /** On `close()`, images being read get this long to finish before their engines stop (ms). Default 5 000. */
  closeTimeoutMs?: number;
}

/** What OCR read from one image. */
export interface OcrResult {
  /** Tidied text (`tidyOcrText`), raw: it may hold personal data; mask it before showing or logging it. */
  text: string;
  lang: Lang;
  /** Mean word confidence, 0..100. */
  confidence: number;
  /** Time spent reading it (ms, wall clock, engine start excluded). */
  ms: number;
}

export interface OcrPoolStats {
  /** Engines started and alive. */
  engines: number;
  /** Images being read now. */
  running: number;
  /** Images waiting for an engine. */
  waiting: number;
  /** `workers + queue`: images in flight at most before OVERLOADED. */
  capacity: number;
}

interface Job {
  image: Buffer;
  resolve: (r: OcrResult) => void;
  reject: (e: unknown) => void;
}

/**
 * A bounded pool of OCR engines (issue 10). At most `workers` images are read at once and `queue` more
 * wait; beyond that `read` refuses at once with OVERLOADED, so a burst of images never grows memory
 * or delay without bound. Engines start when first needed and are kept; `close()` stops them.
 */
export class OcrPool {
  private readonly idle: OcrEngine[] = [];
  private readonly waiting: Job[] = [];
  private readonly running = new Set<Promise<unknown>>();
  /** Engines reading an image now, with the image's job. */
  private readonly busy = new Map<OcrEngine, Job>();
  private engines = 0;
  private closed = false;

  constructor(private readonly options: OcrPoolOptions) {
    if (options.workers < 1) throw new RangeError('an OCR pool needs at least one worker');
  }

  /**
   * Reads the text of an encoded image.
   * @throws HuiliuError OVERLOADED (at once) when `workers + queue` images are in flight,
   *   SHUTTING_DOWN after `close()` (also for images still waiting then), CANCELLED when reading took
   *   longer than `timeoutMs`; the engine's own error for an image it cannot decode, or when an
   *   engine cannot start (missing language data)
   */
  read(image: Buffer): Promise<OcrResult> {
    if (this.closed) return Promise.reject(new HuiliuError('SHUTTING_DOWN'));
    if (this.running.size + this.waiting.length >= this.options.workers + this.options.queue) {
      return Promise.reject(new HuiliuError('OVERLOADED', 'The OCR queue is full.'));
    }
    return new Promise<OcrResult>((resolve, reject) => {
      this.waiting.push({ image, resolve, reject });
      this.pump();
    });
  }

  stats(): OcrPoolStats {
    return {
      engines: this.engines,
      running: this.running.size,
      waiting: this.waiting.length,
      capacity: this.options.workers + this.options.queue,
    };
  }

  /** Refuses new images, rejects the waiting ones with SHUTTING_DOWN, lets running ones finish (bounded), stops every engine. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const job of this.waiting.splice(0)) job.reject(new HuiliuError('SHUTTING_DOWN'));
    const grace = this.options.closeTimeoutMs ?? 5000;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.running]),
      new Promise((resolve) => {
        timer = setTimeout(resolve, grace);
      }),
    ]);
    clearTimeout(timer);
    // Past the grace period an image still being read is given up and its engine stopped.
    const stopping = [...this.busy].map(([engine, job]) => {
      job.reject(new HuiliuError('SHUTTING_DOWN'));
      return engine.terminate();
    });
    this.busy.clear();
    await Promise.allSettled([...stopping, ...this.idle.splice(0).map((e) => e.terminate())]);
  }

  private pump(): void {
    // Each running job holds one engine (idle, or started for it), so engines never exceed `workers`.
    while (this.waiting.length > 0 && this.running.size < this.options.workers) {
      const job = this.waiting.shift()!;
      const work = this.run(job);
      this.running.add(work);
      void work.finally(() => {
        this.running.delete(work);
        this.pump();
      });
    }
  }

  private async run(job: Job): Promise<void> {
    let engine = this.idle.pop();
    if (!engine) {
      try {
        engine = await this.options.engine();
      } catch (error) {
        job.reject(error);
        return;
      }
      this.engines++;
    }
    if (this.closed) {
      // close() came while this engine was starting.
      this.engines--;
      job.reject(new HuiliuError('SHUTTING_DOWN'));
      await engine.terminate().catch(() => undefined);
      return;
    }
    this.busy.set(engine, job);
    const started = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new HuiliuError('CANCELLED', `Reading the image took longer than ${this.options.timeoutMs} ms.`)),
        this.options.timeoutMs,
      );
      // The engine's thread keeps the process alive while it reads; this timer alone must not.
      timer.unref();
    });
    try {
      const { text, confidence } = await Promise.race([engine.recognize(job.image), timedOut]);
      const tidy = tidyOcrText(text);
      job.resolve({ text: tidy, lang: ocrLang(tidy), confidence: Math.max(0, Math.min(100, confidence)), ms: performance.now() - started });
      this.release(engine);
    } catch (error) {
      job.reject(error);
      if (error instanceof HuiliuError && error.code === 'CANCELLED') {
        // The engine may still be busy with the image: stop it, a new one starts for the next image.
        if (this.busy.delete(engine)) void engine.terminate().catch(() => undefined);
        this.engines--;
      } else {
        this.release(engine);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  private release(engine: OcrEngine): void {
    // Not busy any more: gone when close() stopped it (it is terminated already).
    if (!this.busy.delete(engine)) return;
    if (this.closed) {
      this.engines--;
      void engine.terminate().catch(() => undefined);
    } else {
      this.idle.push(engine);
    }
  }
}
