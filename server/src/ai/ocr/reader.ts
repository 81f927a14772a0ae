import { HuiliuError } from '../../../../common/errors/codes';
import type { SessionFacts } from '../../../../common/events/events';
import type { Bus, Subscription } from '../../bus/bus';
import { newEvent, sessionFacts } from '../../bus/events';
import type { Logger } from '../../logging/logger';
import type { SessionStore } from '../../sessions/store';
import { toOcrView } from '../../attachments/ocr-view';
import type { AttachmentRecord, AttachmentStore, OcrOutcome } from '../../attachments/store';
import type { OcrPool } from './pool';

export interface ImageReaderDeps {
  bus: Bus;
  attachments: AttachmentStore;
  sessions: Pick<SessionStore, 'getSession'>;
  pool: Pick<OcrPool, 'read'>;
  logger: Logger;
  /** Images left `pending` by an earlier run that are read again at start, at most (default 1,000). */
  resumeLimit?: number;
}

/** Reads customers' images in the background as they arrive (see `createImageReader`). */
export interface ImageReader {
  /** Subscribes to `message.in` (work group `ocr`) and queues the images an earlier run left unread. */
  start(): Promise<void>;
  /** Resolves when every image accepted so far has been read and its outcome stored and published. */
  idle(): Promise<void>;
  /** Stops taking images and waits for those under way (close the pool first, so waiting ones end at once). */
  close(): Promise<void>;
}

/** The bus work group of the OCR consumer: one node reads each image, whatever the node count. */
export const OCR_GROUP = 'ocr';

/**
 * OCR of customer images (issue 10). Every stored customer message of kind `image` is read by the
 * OCR pool in the background — the bus handler only hands the image over, so a slow image never holds
 * up the `message.in` queue — and the outcome is stored sealed with the attachment (searchable through
 * its blind index) and published as `message.annotated` with the text masked. A full pool marks the
 * image `skipped` rather than queueing without bound; an image the engine cannot decode is `failed`;
 * one still waiting at shutdown stays `pending` and is read after the next start. Logs carry ids,
 * status, language, confidence and time, never the text.
 */
export function createImageReader(deps: ImageReaderDeps): ImageReader {
  const log = deps.logger.child({ component: 'ocr' });
  const inFlight = new Set<Promise<void>>();
  /** Attachments being read now: a redelivered event or a resume does not read one twice at once. */
  const reading = new Set<string>();
  let subscription: Subscription | null = null;
  let closed = false;

  async function publish(record: AttachmentRecord, facts: SessionFacts): Promise<void> {
    const [text] = [...(await deps.attachments.ocrText([record.id])).values()];
    // The session as it is now: the agent who took the contact while the image was read gets the push.
    const session = await deps.sessions.getSession(record.sessionId);
    await deps.bus.publish(
      newEvent('message.annotated', {
        actor: 'system',
        sessionId: record.sessionId,
        conversationId: record.conversationId,
        payload: {
          messageId: record.messageId,
          attachmentId: record.id,
          ocr: toOcrView(text ?? record.ocr),
          session: session ? sessionFacts(session) : facts,
        },
      }),
    );
  }

  async function read(record: AttachmentRecord, facts: SessionFacts): Promise<void> {
    const bytes = await deps.attachments.bytes(record.id);
    if (!bytes) return;
    let outcome: OcrOutcome;
    let ms: number | undefined;
    try {
      const result = await deps.pool.read(bytes);
      outcome = { status: 'done', text: result.text, lang: result.lang, confidence: result.confidence };
      ms = Math.round(result.ms);
    } catch (error) {
      const code = error instanceof HuiliuError ? error.code : null;
      // Shutting down: left pending, read after the next start.
      if (code === 'SHUTTING_DOWN') return;
      outcome = { status: code === 'OVERLOADED' ? 'skipped' : 'failed' };
      // The engine's error names the image's problem, never its text; its class is enough here.
      log.warn(
        { attachmentId: record.id, status: outcome.status, code, errorType: error instanceof Error ? error.name : typeof error },
        'image not read',
      );
    }
    const saved = await deps.attachments.saveOcr(record.id, outcome);
    if (outcome.status === 'done') {
      log.info(
        {
          attachmentId: record.id,
          messageId: record.messageId,
          lang: outcome.lang,
          confidence: Math.round(outcome.confidence),
          ms,
          chars: outcome.text.length,
        },
        'image read',
      );
    }
    await publish(saved, facts);
  }

  /** Hands one image to the pool without waiting for it; failures are logged, never thrown to the bus. */
  function accept(record: AttachmentRecord, facts: SessionFacts): void {
    if (closed || reading.has(record.id) || record.ocr.status !== 'pending') return;
    reading.add(record.id);
    const work = read(record, facts)
      .catch((error: unknown) => log.error({ err: error, attachmentId: record.id }, 'reading an image failed'))
      .finally(() => {
        reading.delete(record.id);
        inFlight.delete(work);
      });
    inFlight.add(work);
  }

  return {
    async start() {
      subscription = await deps.bus.subscribe('message.in', OCR_GROUP, async ({ payload: { envelope, session } }) => {
        if (envelope.kind !== 'image' || envelope.direction !== 'in') return;
        const record = await deps.attachments.get(envelope.body.attachmentId);
        // No record: the channel stored the message but not its image (OCR is off for it, or it failed).
        if (record) accept(record, session);
      });
      for (const record of await deps.attachments.pendingOcr(deps.resumeLimit ?? 1000)) {
        const session = await deps.sessions.getSession(record.sessionId);
        if (session) accept(record, sessionFacts(session));
      }
    },
    async idle() {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    async close() {
      closed = true;
      await subscription?.unsubscribe();
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
  };
}
