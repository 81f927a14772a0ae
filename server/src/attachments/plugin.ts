import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { HuiliuError } from '../../../common/errors/codes';
import {
  AttachmentIdSchema,
  AttachmentSearchQuerySchema,
  type AttachmentSearchHit,
  type AttachmentSearchResponse,
} from '../../../common/api/attachments';
import { truncateText } from '../../../common/text/text';
import type { UserView } from '../../../common/api/auth';
import { can } from '../auth/policy';
import { staffOf } from '../auth/route-policy';
import { parseWith } from '../http/errors';
import type { SessionStore } from '../sessions/store';
import { IMAGE_EXTENSIONS } from './image';
import { toOcrView } from './ocr-view';
import { isImageMime, type AttachmentRecord, type AttachmentStore, type SearchCursor } from './store';

/** A served attachment may do nothing: no script, no plugin, no frame, no form, not even as a document. */
export const ATTACHMENT_CSP = "default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'; sandbox; frame-ancestors 'none'";
/** Characters of OCR text a search hit shows. */
const SNIPPET = 200;
/** Candidates a search reads at most to fill one page of hits the user may see. */
const SEARCH_SCAN = 2000;

/**
 * Staff routes over customers' attachments (issue 10), RBAC as for the session the attachment came
 * with (`can(user, 'session.view', {skillGroup})`; another group's attachment is NOT_FOUND, its
 * existence not revealed):
 * - `GET /api/v1/attachments/:id`: the image, with its own type, `nosniff`, a CSP that forbids all
 *   active content and `Content-Disposition: inline` with a neutral file name; never cached by shared
 *   caches.
 * - `GET /api/v1/attachments/search?q=&limit=`: images whose OCR text has every term of `q`
 *   (attachments/terms.ts), newest first, with the start of their text masked.
 */
export async function attachmentsPlugin(app: FastifyInstance, opts: { attachments: AttachmentStore; store: SessionStore }): Promise<void> {
  const { attachments, store } = opts;

  /** The session's group decides; a session gone (erased) hides its attachments too. */
  async function visible(user: UserView, record: AttachmentRecord): Promise<boolean> {
    const session = await store.getSession(record.sessionId);
    return session !== null && can(user, 'session.view', { skillGroup: session.skillGroup });
  }

  app.get('/api/v1/attachments/search', { config: { policy: 'session.view' } }, async (request): Promise<AttachmentSearchResponse> => {
    const user = staffOf(request);
    const q = parseWith(AttachmentSearchQuerySchema, request.query);
    const hits: AttachmentSearchHit[] = [];
    let before: SearchCursor | undefined;
    let scanned = 0;
    // Candidates are filtered by the user's groups; pages are read until the page is full or the
    // scan bound is reached (an agent of a small group among many others' images).
    while (hits.length < q.limit && scanned < SEARCH_SCAN) {
      const page = await attachments.search(q.q, { limit: 100, ...(before ? { before } : {}) });
      if (page.length === 0) break;
      scanned += page.length;
      const last = page.at(-1)!;
      before = { createdAt: last.createdAt, id: last.id };
      const mine = [];
      for (const record of page) if (await visible(user, record)) mine.push(record);
      const texts = await attachments.ocrText(mine.map((r) => r.id));
      for (const record of mine) {
        if (hits.length >= q.limit) break;
        const view = toOcrView(texts.get(record.id) ?? record.ocr);
        hits.push({
          attachmentId: record.id,
          messageId: record.messageId,
          sessionId: record.sessionId,
          conversationId: record.conversationId,
          receivedAt: record.createdAt,
          snippet: truncateText(view.text ?? '', SNIPPET, '…'),
        });
      }
    }
    return { hits };
  });

  app.get('/api/v1/attachments/:id', { config: { policy: 'session.view' } }, async (request, reply) => {
    const user = staffOf(request);
    const { id } = parseWith(z.object({ id: AttachmentIdSchema }), request.params);
    const record = await attachments.get(id);
    if (!record || !(await visible(user, record))) throw new HuiliuError('NOT_FOUND');
    const bytes = await attachments.bytes(id);
    if (!bytes) throw new HuiliuError('NOT_FOUND');
    return (
      reply
        .type(record.mime === 'text/plain' ? 'text/plain; charset=utf-8' : record.mime)
        .header('X-Content-Type-Options', 'nosniff')
        .header('Content-Security-Policy', ATTACHMENT_CSP)
        // Issue 13: a file that is no image (a widget visitor's PDF or text) is only ever downloaded.
        .header(
          'Content-Disposition',
          isImageMime(record.mime)
            ? `inline; filename="image-${id}.${IMAGE_EXTENSIONS[record.mime]}"`
            : `attachment; filename="file-${id}.${record.mime === 'application/pdf' ? 'pdf' : 'txt'}"`,
        )
        .header('Cross-Origin-Resource-Policy', 'same-origin')
        // Customer data: kept by no cache (an erased customer's image must not outlive the erasure).
        .header('Cache-Control', 'private, no-store')
        .send(bytes)
    );
  });
}
