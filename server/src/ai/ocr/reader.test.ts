import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EventOf } from '../../../../common/events/events';
import { createSqliteAttachmentStore } from '../../attachments/store.sqlite';
import type { AttachmentStore } from '../../attachments/store';
import { imageMessage } from '../../attachments/store.contract';
import type { Bus } from '../../bus/bus';
import { createMemoryBus } from '../../bus/bus.memory';
import { newEvent, sessionFacts } from '../../bus/events';
import { createLocalKeyProvider } from '../../keys/provider.local';
import type { KeyProvider } from '../../keys/provider';
import { createLogger } from '../../logging/logger';
import type { SessionStore } from '../../sessions/store';
import { createSqliteSessionStore } from '../../sessions/store.sqlite';
import { canRenderText, renderTextImage } from '../../../test/support/text-image';
import { until } from '../../../test/support/until';
import { createTesseractEngine, resolveLangPath } from './engine';
import { OcrPool } from './pool';
import { createImageReader } from './reader';

const langPath = resolveLangPath(undefined);
const ready = (langPath !== null && canRenderText()) || Boolean(process.env.CI);

/** The reader on real parts: SQLite session and attachment stores, the memory bus, a real OCR pool. */
describe.skipIf(!ready)('the image reader', () => {
  let dir: string;
  let keys: KeyProvider;
  let sessions: SessionStore;
  let attachments: AttachmentStore;
  let bus: Bus;
  let lines: string[];
  let annotated: EventOf<'message.annotated'>[];
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-reader-'));
    keys = createLocalKeyProvider(join(dir, 'keys'));
    sessions = await createSqliteSessionStore({ path: join(dir, 'huiliu.db'), keys, writer: 'inline' });
    attachments = await createSqliteAttachmentStore({ path: join(dir, 'huiliu.db'), keys });
    bus = createMemoryBus();
    lines = [];
    annotated = [];
    await bus.subscribeAll('message.annotated', (e) => void annotated.push(e));
  });
  afterEach(async () => {
    await bus.close();
    await attachments.close();
    await sessions.shutdown();
    await keys.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const logger = () => createLogger({ level: 'debug', destination: { write: (l: string) => void lines.push(l) } });
  /** Stores an image message with its attachment and publishes its `message.in`, as the app channel does. */
  async function arrive(text: string) {
    const a = await imageMessage(sessions, { bytes: renderTextImage(text) });
    await attachments.put(a);
    const session = (await sessions.getSession(a.sessionId))!;
    const [envelope] = await sessions.listMessages(a.conversationId);
    await bus.publish(
      newEvent('message.in', {
        actor: 'customer',
        sessionId: a.sessionId,
        conversationId: a.conversationId,
        payload: { envelope: envelope!, newSession: true, session: sessionFacts(session) },
      }),
    );
    return a;
  }

  it('reads an arriving image, stores the text sealed and publishes it masked; the log has no text', async () => {
    const pool = new OcrPool({ workers: 1, queue: 4, timeoutMs: 60_000, engine: () => createTesseractEngine(langPath!) });
    const reader = createImageReader({ bus, attachments, sessions, pool, logger: logger() });
    await reader.start();
    try {
      const a = await arrive('Call me at 13812345678');
      await until(() => annotated.length === 1, 30_000);
      expect(annotated[0]!.payload).toMatchObject({ messageId: a.messageId, attachmentId: a.id, ocr: { status: 'done', lang: 'en' } });
      expect(annotated[0]!.payload.ocr.text).toBe('Call me at *******5678');
      expect((await attachments.ocrText([a.id])).get(a.id)?.text).toBe('Call me at 13812345678');
      expect(lines.join('\n')).toContain('image read');
      expect(lines.join('\n')).not.toMatch(/13812345678|Call me/);
    } finally {
      await pool.close();
      await reader.close();
    }
  });

  it('marks an image skipped, not queued without bound, when the pool is full', async () => {
    const pool = new OcrPool({ workers: 1, queue: 0, timeoutMs: 60_000, engine: () => createTesseractEngine(langPath!) });
    const reader = createImageReader({ bus, attachments, sessions, pool, logger: logger() });
    await reader.start();
    try {
      // The one engine is busy with another image when this one arrives.
      const busy = pool.read(renderTextImage('Keeping the engine busy'));
      const a = await arrive('Too many images at once');
      await until(() => annotated.length === 1, 30_000);
      expect(annotated[0]!.payload.ocr).toEqual({ status: 'skipped' });
      expect((await attachments.get(a.id))?.ocr.status).toBe('skipped');
      await busy;
    } finally {
      await pool.close();
      await reader.close();
    }
  });

  it('reads at start the images an earlier run left pending', async () => {
    const a = await imageMessage(sessions, { bytes: renderTextImage('Left over from before') });
    await attachments.put(a);
    const pool = new OcrPool({ workers: 1, queue: 4, timeoutMs: 60_000, engine: () => createTesseractEngine(langPath!) });
    const reader = createImageReader({ bus, attachments, sessions, pool, logger: logger() });
    try {
      await reader.start();
      await reader.idle();
      expect((await attachments.ocrText([a.id])).get(a.id)).toMatchObject({ status: 'done', text: 'Left over from before' });
      await until(() => annotated.length === 1);
    } finally {
      await pool.close();
      await reader.close();
    }
  });

  it('leaves an image pending when the pool is closed before it was read', async () => {
    const pool = new OcrPool({ workers: 1, queue: 4, timeoutMs: 60_000, engine: () => createTesseractEngine(langPath!) });
    await pool.close();
    const reader = createImageReader({ bus, attachments, sessions, pool, logger: logger() });
    await reader.start();
    const a = await arrive('Arrived during shutdown');
    // Closing the bus waits for the delivery under way: the reader has taken the image by then.
    await bus.close();
    await reader.idle();
    expect((await attachments.get(a.id))?.ocr.status).toBe('pending');
    expect(annotated).toEqual([]);
    await reader.close();
    // afterEach closes the bus again: give it an open one.
    bus = createMemoryBus();
  });
});
