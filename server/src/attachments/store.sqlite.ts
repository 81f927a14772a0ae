import { HuiliuError } from '../../../common/errors/codes';
import type { OcrStatus } from '../../../common/api/attachments';
import type { Lang } from '../../../common/ai/types';
import { open, openText, seal, sealText } from '../crypto/aead';
import type { Statement } from 'better-sqlite3';
import { migrate, openDatabase, type Db } from '../db/sqlite';
import type { KeyProvider } from '../keys/provider';
import { migrationsDir } from '../runtime/paths';
import { DataKeyRing } from '../sessions/data-keys';
import { blindIndex, customerKeyOwner } from '../sessions/sqlite-rows';
import type { AttachmentMime, AttachmentRecord, AttachmentStore, OcrText } from './store';
import { indexTerms, queryTerms } from './terms';

export interface SqliteAttachmentStoreOptions {
  /** The database file the session store uses (its `data_keys` table must exist: open the session store first). */
  path: string;
  keys: KeyProvider;
  now?: () => number;
}

const MIGRATIONS = migrationsDir('attachments');
/** The data key of the OCR text's blind index (its own, so it can be rotated apart from the session store's). */
export const ATTACHMENT_INDEX_OWNER = 'index:attachments';
const SEARCH_MAX = 500;

interface Row {
  id: string;
  customer_id: string;
  session_id: string;
  conversation_id: string;
  message_id: string;
  mime: AttachmentMime;
  size: number;
  width: number;
  height: number;
  created_at: string;
  ocr_status: OcrStatus;
  ocr_lang: Lang | null;
  ocr_confidence: number | null;
  ocr_at: string | null;
}

// Additional authenticated data: a ciphertext opens only in its own row and column.
const bytesAad = (id: string) => `att:${id}:bytes`;
const ocrAad = (id: string) => `att:${id}:ocr`;
const nameAad = (id: string) => `att:${id}:name`;
// Every column but the sealed ones: records never carry ciphertext around.
const COLUMNS =
  'id, customer_id, session_id, conversation_id, message_id, mime, size, width, height, created_at, ocr_status, ocr_lang, ocr_confidence, ocr_at';

function toRecord(r: Row): AttachmentRecord {
  return {
    id: r.id,
    customerId: r.customer_id,
    sessionId: r.session_id,
    conversationId: r.conversation_id,
    messageId: r.message_id,
    mime: r.mime,
    size: r.size,
    width: r.width,
    height: r.height,
    createdAt: r.created_at,
    ocr: {
      status: r.ocr_status,
      ...(r.ocr_lang ? { lang: r.ocr_lang } : {}),
      ...(r.ocr_confidence !== null ? { confidence: r.ocr_confidence } : {}),
      ...(r.ocr_at ? { at: r.ocr_at } : {}),
    },
  };
}

/**
 * AttachmentStore on SQLite (tables `attachments`, `attachment_terms`; migrations in
 * attachments/migrations), on its own connection to the session store's file. Bytes and OCR text are
 * sealed with the customer's data key, read through a `DataKeyRing` over the shared `data_keys` table
 * (the session store creates customer keys; this store only reads them, and creates its own index key).
 */
export async function createSqliteAttachmentStore(options: SqliteAttachmentStoreOptions): Promise<AttachmentStore> {
  const db: Db = openDatabase(options.path);
  migrate(db, 'attachments', MIGRATIONS);
  const now = options.now ?? Date.now;
  const ring = new DataKeyRing(db, options.keys);
  const term = blindIndex(await ring.getOrCreate(ATTACHMENT_INDEX_OWNER));
  const termHmac = (t: string) => term('ocr-term', t);

  const q = {
    get: db.prepare(`SELECT ${COLUMNS} FROM attachments WHERE id = ?`),
    bytes: db.prepare('SELECT customer_id, bytes_ct FROM attachments WHERE id = ?'),
    name: db.prepare('SELECT customer_id, name_ct FROM attachments WHERE id = ?'),
    ofMessage: db.prepare(`SELECT ${COLUMNS} FROM attachments WHERE message_id = ? LIMIT 1`),
    insert: db.prepare(
      `INSERT OR IGNORE INTO attachments (id, customer_id, session_id, conversation_id, message_id, mime, size, width, height, bytes_ct, created_at, ocr_status, name_ct)
       VALUES (@id, @customer_id, @session_id, @conversation_id, @message_id, @mime, @size, @width, @height, @bytes_ct, @created_at, @ocr_status, @name_ct)`,
    ),
    setOcr: db.prepare(
      `UPDATE attachments SET ocr_status = @status, ocr_lang = @lang, ocr_confidence = @confidence, ocr_ct = @ct, ocr_at = @at WHERE id = @id`,
    ),
    ocr: db.prepare(`SELECT ${COLUMNS}, ocr_ct FROM attachments WHERE id = ?`),
    dropTerms: db.prepare('DELETE FROM attachment_terms WHERE attachment_id = ?'),
    addTerm: db.prepare('INSERT OR IGNORE INTO attachment_terms (term_hmac, attachment_id) VALUES (?, ?)'),
    pending: db.prepare(`SELECT ${COLUMNS} FROM attachments WHERE ocr_status = 'pending' ORDER BY created_at LIMIT ?`),
  };
  const searches = new Map<number, Statement<unknown[]>>();
  /** One statement per number of terms (few shapes): attachments having all of them, newest first. */
  const searchStatement = (n: number) => {
    let stmt = searches.get(n);
    if (!stmt) {
      stmt = db.prepare(
        `SELECT ${COLUMNS} FROM attachments WHERE id IN (
           SELECT attachment_id FROM attachment_terms WHERE term_hmac IN (${Array.from({ length: n }, () => '?').join(',')})
           GROUP BY attachment_id HAVING count(*) = ?)
         AND (? IS NULL OR (created_at, id) < (?, ?))
         ORDER BY created_at DESC, id DESC LIMIT ?`,
      );
      searches.set(n, stmt);
    }
    return stmt;
  };

  const customerKey = async (customerId: string) => {
    const key = await ring.get(customerKeyOwner(customerId));
    // Issue 17: an erased customer's key was destroyed; their files cannot be opened any more.
    if (!key) throw new HuiliuError('CUSTOMER_ERASED', "This customer's data was erased.");
    return key;
  };

  return {
    idFor: (...parts) => term('attachment-id', ...parts).slice(0, 32),

    async put(a) {
      const key = await customerKey(a.customerId);
      const created =
        q.insert.run({
          id: a.id,
          customer_id: a.customerId,
          session_id: a.sessionId,
          conversation_id: a.conversationId,
          message_id: a.messageId,
          mime: a.mime,
          size: a.bytes.length,
          width: a.width,
          height: a.height,
          bytes_ct: seal(key, a.bytes, bytesAad(a.id)),
          created_at: new Date(now()).toISOString(),
          ocr_status: a.ocr,
          name_ct: a.name === undefined ? null : sealText(key, a.name, nameAad(a.id)),
        }).changes === 1;
      return { record: toRecord(q.get.get(a.id) as Row), created };
    },

    async get(id) {
      const row = q.get.get(id) as Row | undefined;
      return row ? toRecord(row) : null;
    },

    async bytes(id) {
      const row = q.bytes.get(id) as { customer_id: string; bytes_ct: Buffer } | undefined;
      if (!row) return null;
      return open(await customerKey(row.customer_id), row.bytes_ct, bytesAad(id));
    },

    async name(id) {
      const row = q.name.get(id) as { customer_id: string; name_ct: Buffer | null } | undefined;
      if (!row?.name_ct) return null;
      return openText(await customerKey(row.customer_id), row.name_ct, nameAad(id));
    },

    async saveOcr(id, outcome) {
      const row = q.get.get(id) as Row | undefined;
      if (!row) throw new HuiliuError('NOT_FOUND', 'No such attachment.');
      const at = new Date(now()).toISOString();
      if (outcome.status === 'done') {
        const key = await customerKey(row.customer_id);
        const ct = sealText(key, outcome.text, ocrAad(id));
        const hashes = indexTerms(outcome.text).map(termHmac);
        db.transaction(() => {
          q.dropTerms.run(id);
          for (const h of hashes) q.addTerm.run(h, id);
          q.setOcr.run({ id, status: 'done', lang: outcome.lang, confidence: outcome.confidence, ct, at });
        })();
      } else {
        db.transaction(() => {
          q.dropTerms.run(id);
          q.setOcr.run({ id, status: outcome.status, lang: null, confidence: null, ct: null, at });
        })();
      }
      return toRecord(q.get.get(id) as Row);
    },

    async ocrText(ids) {
      const out = new Map<string, OcrText>();
      for (const id of new Set(ids)) {
        const row = q.ocr.get(id) as (Row & { ocr_ct: Buffer | null }) | undefined;
        if (!row) continue;
        const state = toRecord(row).ocr;
        const text = row.ocr_ct ? openText(await customerKey(row.customer_id), row.ocr_ct, ocrAad(id)) : undefined;
        out.set(id, text === undefined ? state : { ...state, text });
      }
      return out;
    },

    async search(query, { limit, before }) {
      const terms = queryTerms(query);
      if (terms.length === 0) return [];
      const n = Math.max(1, Math.min(limit, SEARCH_MAX));
      const cursor: (string | null)[] = before ? [before.createdAt, before.createdAt, before.id] : [null, null, null];
      const params: unknown[] = [...terms.map(termHmac), terms.length, ...cursor, n];
      const rows = searchStatement(terms.length).all(...params) as Row[];
      return rows.map(toRecord);
    },

    async ofMessage(messageId) {
      const row = q.ofMessage.get(messageId) as Row | undefined;
      return row ? toRecord(row) : null;
    },

    async pendingOcr(limit) {
      return (q.pending.all(Math.max(1, Math.min(limit, 10_000))) as Row[]).map(toRecord);
    },

    async close() {
      db.close();
    },
  };
}
