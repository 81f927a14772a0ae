import type { Bus } from '../../bus/bus';
import type { ServerConfig } from '../../config/config';
import type { Logger } from '../../logging/logger';
import type { SessionStore } from '../../sessions/store';
import type { AttachmentStore } from '../../attachments/store';
import { createTesseractEngine, DEFAULT_LANG_PATHS, OCR_LANGS, resolveLangPath } from './engine';
import { OcrPool } from './pool';
import { createImageReader, type ImageReader } from './reader';

/** OCR as the composition root wires it: on (a pool and a reader) or off (images are stored, marked `skipped`). */
export interface Ocr {
  readonly enabled: boolean;
  /** Null when OCR is off. */
  readonly reader: ImageReader | null;
  /** Subscribes the reader and queues images an earlier run left unread (nothing when off). */
  start(): Promise<void>;
  /** Stops the pool (waiting images stay `pending` for the next start) and the reader. */
  close(): Promise<void>;
}

/**
 * Sets up OCR of customer images from `ocr:` of the configuration (docs/ocr.md): off when
 * `ocr.enabled` is false, or — with a warning naming the packages to install — when no folder has the
 * English and Chinese language data. Engines start on the first image, not here.
 * @throws ConfigError for an `ocr.langPath` without the language data
 */
export function setUpOcr(
  config: ServerConfig['ocr'],
  deps: { bus: Bus; attachments: AttachmentStore; sessions: SessionStore; logger: Logger },
): Ocr {
  const off: Ocr = { enabled: false, reader: null, start: async () => undefined, close: async () => undefined };
  if (!config.enabled) {
    deps.logger.info('OCR of customer images is off (ocr.enabled: false)');
    return off;
  }
  const langPath = resolveLangPath(config.langPath);
  if (!langPath) {
    deps.logger.warn(
      { looked: DEFAULT_LANG_PATHS, langs: OCR_LANGS },
      'OCR of customer images is off: no language data; install the Debian packages tesseract-ocr-eng and tesseract-ocr-chi-sim, or set ocr.langPath',
    );
    return off;
  }
  const pool = new OcrPool({
    workers: config.workers,
    queue: config.queue,
    timeoutMs: config.timeoutMs,
    engine: () => createTesseractEngine(langPath),
  });
  const reader = createImageReader({ bus: deps.bus, attachments: deps.attachments, sessions: deps.sessions, pool, logger: deps.logger });
  return {
    enabled: true,
    reader,
    start: () => reader.start(),
    async close() {
      await pool.close();
      await reader.close();
    },
  };
}
