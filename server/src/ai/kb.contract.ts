import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KbEntrySchema, type KbImportRow } from '../../../common/ai/types';
import { KbImportErrorDetailsSchema } from '../../../common/api/kb';
import { HuiliuError } from '../../../common/errors/codes';
import { KB_LIMITS, type KnowledgeBase } from './kb';

export interface KbHarness {
  kb: KnowledgeBase;
  /** Moves the store's clock forward. */
  advance: (ms: number) => void;
  cleanup: () => Promise<void>;
}

/** A valid row; `overrides` replace its fields. */
export function kbRow(intent: string, overrides: Partial<KbImportRow> = {}): KbImportRow {
  return { intent, questions: [`How does ${intent} work?`], answer: `This is how ${intent} works.`, lang: 'en', ...overrides };
}

/** `n` distinct English rows: `faq_0000` … */
export function kbRows(n: number, answer = 'See the help centre.'): KbImportRow[] {
  return Array.from({ length: n }, (_, i) => kbRow(`faq_${String(i).padStart(4, '0')}`, { answer: `${answer} (${i})` }));
}

async function refusal(p: Promise<unknown>): Promise<HuiliuError> {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HuiliuError);
  return error as HuiliuError;
}

/** The KnowledgeBase contract: SQLite now, any other adapter later, the same suite. */
export function knowledgeBaseContract(name: string, factory: () => Promise<KbHarness>): void {
  describe(`KnowledgeBase contract: ${name}`, () => {
    let h: KbHarness;
    beforeEach(async () => {
      h = await factory();
    });
    afterEach(async () => {
      await h.cleanup();
    });

    it('starts empty at version 0 with no history', async () => {
      expect(await h.kb.version()).toBe(0);
      expect(await h.kb.list()).toEqual([]);
      expect(await h.kb.history()).toEqual([]);
    });

    it('creates an entry with its defaults, as version 1, and reads it back by id', async () => {
      const entry = await h.kb.create(
        { intent: 'order_status', questions: ['Where is my order?'], answer: 'Track it under My orders.' },
        'admin-1',
      );
      expect(KbEntrySchema.parse(entry)).toEqual(entry);
      expect(entry).toMatchObject({
        intent: 'order_status',
        lang: 'en',
        tags: [],
        skillGroup: null,
        related: [],
        version: 1,
        updatedBy: 'admin-1',
      });
      expect(await h.kb.version()).toBe(1);
      expect(await h.kb.get(entry.id)).toEqual(entry);
      expect(await h.kb.get('no-such-id')).toBeNull();
    });

    it('refuses a second entry for the same intent and lang with KB_CONFLICT, using no version', async () => {
      await h.kb.create(kbRow('refund'), 'admin-1');
      expect((await refusal(h.kb.create(kbRow('refund', { answer: 'Other' }), 'admin-1'))).code).toBe('KB_CONFLICT');
      await h.kb.create(kbRow('refund', { lang: 'zh', questions: ['怎么退款？'] }), 'admin-1');
      expect(await h.kb.version()).toBe(2);
    });

    it('refuses an invalid row or a missing author with VALIDATION_FAILED and changes nothing', async () => {
      const bad = await refusal(h.kb.create({ ...kbRow('x'), questions: ['ok', ' '] }, 'admin-1'));
      expect(bad.code).toBe('VALIDATION_FAILED');
      expect(bad.details).toEqual([expect.objectContaining({ path: 'questions.1' })]);
      expect((await refusal(h.kb.create(kbRow('x'), ''))).code).toBe('VALIDATION_FAILED');
      expect(await h.kb.version()).toBe(0);
    });

    it('lists entries ordered by intent then lang, filtered by lang and intent', async () => {
      await h.kb.create(kbRow('shipping'), 'a');
      await h.kb.create(kbRow('billing', { lang: 'zh', questions: ['发票怎么开？'] }), 'a');
      await h.kb.create(kbRow('shipping', { lang: 'zh', questions: ['多久发货？'] }), 'a');
      await h.kb.create(kbRow('billing'), 'a');
      const keys = (entries: { intent: string; lang: string }[]) => entries.map((e) => `${e.intent}/${e.lang}`);
      expect(keys(await h.kb.list())).toEqual(['billing/en', 'billing/zh', 'shipping/en', 'shipping/zh']);
      expect(keys(await h.kb.list({ lang: 'zh' }))).toEqual(['billing/zh', 'shipping/zh']);
      expect(keys(await h.kb.list({ intent: 'shipping' }))).toEqual(['shipping/en', 'shipping/zh']);
      expect(keys(await h.kb.list({ intent: 'shipping', lang: 'en' }))).toEqual(['shipping/en']);
      expect(await h.kb.list({ intent: 'nothing' })).toEqual([]);
    });

    it('pages the ordered list with limit and offset, and counts what the filter matches', async () => {
      await h.kb.import(kbRows(5), { mode: 'merge', by: 'a' });
      await h.kb.create(kbRow('faq_0002', { lang: 'zh', questions: ['怎么办？'] }), 'a');
      const keys = (entries: { intent: string; lang: string }[]) => entries.map((e) => `${e.intent}/${e.lang}`);
      expect(keys(await h.kb.list({ limit: 2, offset: 1 }))).toEqual(['faq_0001/en', 'faq_0002/en']);
      expect(keys(await h.kb.list({ limit: 10, offset: 4 }))).toEqual(['faq_0003/en', 'faq_0004/en']);
      expect(await h.kb.list({ limit: 10, offset: 6 })).toEqual([]);
      expect(keys(await h.kb.list({ intent: 'faq_0002', limit: 1, offset: 1 }))).toEqual(['faq_0002/zh']);
      expect(await h.kb.list()).toHaveLength(6);
      expect(await h.kb.count()).toBe(6);
      expect(await h.kb.count({ lang: 'zh', limit: 0 })).toBe(1);
      expect(await h.kb.count({ intent: 'faq_0002' })).toBe(2);
    });

    it('keeps the KB within KB_LIMITS: entries after a merge, intents, and questions in total, changing nothing when refused', async () => {
      const tooLarge = async (p: Promise<unknown>, limit: string) => {
        const error = await refusal(p);
        expect([error.code, (error.details as { limit: string }).limit]).toEqual(['KB_TOO_LARGE', limit]);
      };
      // 1,000 intents in two languages: 2,000 entries, both limits reached.
      const rows = kbRows(KB_LIMITS.intents).flatMap((r) => [r, { ...r, lang: 'zh' as const }]);
      await h.kb.import(rows, { mode: 'replace', by: 'a' });
      await tooLarge(h.kb.create(kbRow('one_intent_too_many'), 'a'), 'entries');
      await tooLarge(h.kb.import([kbRow('one_intent_too_many')], { mode: 'merge', by: 'a' }), 'entries');
      const first = (await h.kb.list({ limit: 1 }))[0]!;
      await tooLarge(h.kb.update(first.id, kbRow('one_intent_too_many'), 'a'), 'intents');
      // The same intents again in merge are updates, not new entries or intents.
      expect(
        await h.kb.import(
          kbRows(10).map((r) => ({ ...r, answer: 'changed' })),
          { mode: 'merge', by: 'a' },
        ),
      ).toMatchObject({ updated: 10 });
      // More rows than the KB may hold are refused before any is checked.
      const version = await h.kb.version();
      await tooLarge(h.kb.import(kbRows(KB_LIMITS.entries + 1), { mode: 'replace', by: 'a' }), 'entries');
      expect(await h.kb.version()).toBe(version);
      expect(await h.kb.count()).toBe(KB_LIMITS.entries);

      // Questions: 300 entries of 100 questions are 30,000.
      const full = kbRows(KB_LIMITS.questions / 100).map((r) => ({
        ...r,
        questions: Array.from({ length: 100 }, (_, i) => `Question ${i} on ${r.intent}?`),
      }));
      await h.kb.import(full, { mode: 'replace', by: 'a' });
      await tooLarge(h.kb.create(kbRow('one_more'), 'a'), 'questions');
      const entry = (await h.kb.list({ limit: 1 }))[0]!;
      await h.kb.update(entry.id, { ...full[0]!, answer: 'Same number of questions.' }, 'a');
      await h.kb.update(entry.id, { ...full[0]!, questions: ['Just one now?'] }, 'a'); // 29,901
      const many = (n: number) => Array.from({ length: n }, (_, i) => `More ${i}?`);
      const added = await h.kb.create(kbRow('one_more', { questions: many(99) }), 'a'); // 30,000
      await tooLarge(h.kb.update(added.id, kbRow('one_more', { questions: many(100) }), 'a'), 'questions');
      await tooLarge(h.kb.import([kbRow('one_more', { questions: many(100) })], { mode: 'merge', by: 'a' }), 'questions');
      expect(await h.kb.count()).toBe(KB_LIMITS.questions / 100 + 1);
    }, 60_000);

    it('updates an entry as one new version, keeps an identical update at the same version, and refuses clashes', async () => {
      const a = await h.kb.create(kbRow('refund'), 'admin-1');
      const b = await h.kb.create(kbRow('returns'), 'admin-1');
      h.advance(60_000);
      const changed = await h.kb.update(a.id, kbRow('refund', { answer: 'Refunds take 3 days.', tags: ['money'] }), 'admin-2');
      expect(changed).toMatchObject({ id: a.id, answer: 'Refunds take 3 days.', tags: ['money'], version: 3, updatedBy: 'admin-2' });
      expect(Date.parse(changed.updatedAt)).toBeGreaterThan(Date.parse(a.updatedAt));
      expect(await h.kb.update(a.id, kbRow('refund', { answer: 'Refunds take 3 days.', tags: ['money'] }), 'admin-3')).toEqual(changed);
      expect(await h.kb.version()).toBe(3);
      expect((await refusal(h.kb.update(b.id, kbRow('refund'), 'admin-1'))).code).toBe('KB_CONFLICT');
      expect((await refusal(h.kb.update('no-such-id', kbRow('refund'), 'admin-1'))).code).toBe('NOT_FOUND');
      // Moving an entry to a free (intent, lang) is fine.
      const moved = await h.kb.update(b.id, kbRow('returns', { lang: 'zh', questions: ['怎么退货？'] }), 'admin-1');
      expect(moved).toMatchObject({ id: b.id, lang: 'zh', version: 4 });
      expect(await h.kb.version()).toBe(4);
    });

    it('removes an entry as one new version and answers NOT_FOUND for an unknown id', async () => {
      const a = await h.kb.create(kbRow('refund'), 'admin-1');
      await h.kb.remove(a.id, 'admin-1');
      expect(await h.kb.get(a.id)).toBeNull();
      expect(await h.kb.version()).toBe(2);
      expect((await refusal(h.kb.remove(a.id, 'admin-1'))).code).toBe('NOT_FOUND');
      expect(await h.kb.version()).toBe(2);
    });

    it('imports 500 rows as exactly one version, and the same rows again as no change at all', async () => {
      const first = await h.kb.import(kbRows(500), { mode: 'merge', by: 'admin-1' });
      expect(first).toEqual({ version: 1, created: 500, updated: 0, removed: 0 });
      expect(await h.kb.list()).toHaveLength(500);
      expect(new Set((await h.kb.list()).map((e) => e.version))).toEqual(new Set([1]));
      const again = await h.kb.import(kbRows(500), { mode: 'merge', by: 'admin-1' });
      expect(again).toEqual({ version: 1, created: 0, updated: 0, removed: 0 });
      const sameReplace = await h.kb.import(kbRows(500), { mode: 'replace', by: 'admin-1' });
      expect(sameReplace).toEqual({ version: 1, created: 0, updated: 0, removed: 0 });
      expect((await h.kb.history()).map((v) => v.version)).toEqual([1]);
    });

    it('merges by (intent, lang): creates new pairs, updates changed ones, keeps the rest', async () => {
      const kept = await h.kb.create(kbRow('keep'), 'admin-1');
      const changing = await h.kb.create(kbRow('change'), 'admin-1');
      const result = await h.kb.import(
        [kbRow('change', { answer: 'New answer.' }), kbRow('change', { lang: 'zh', questions: ['怎么改？'] }), kbRow('added')],
        { mode: 'merge', by: 'admin-2' },
      );
      expect(result).toEqual({ version: 3, created: 2, updated: 1, removed: 0 });
      const all = await h.kb.list();
      expect(all.map((e) => `${e.intent}/${e.lang}`)).toEqual(['added/en', 'change/en', 'change/zh', 'keep/en']);
      expect(all.find((e) => e.id === changing.id)).toMatchObject({ answer: 'New answer.', version: 3, updatedBy: 'admin-2' });
      expect(all.find((e) => e.id === kept.id)).toEqual(kept);
    });

    it('replaces: afterwards the KB is exactly the imported rows, entries still present keep their id', async () => {
      const stays = await h.kb.create(kbRow('stays'), 'admin-1');
      await h.kb.create(kbRow('goes'), 'admin-1');
      await h.kb.create(kbRow('goes', { lang: 'zh', questions: ['这个要删'] }), 'admin-1');
      const rows = [kbRow('fresh'), kbRow('stays', { answer: 'Changed.' })]; // in list order
      const result = await h.kb.import(rows, { mode: 'replace', by: 'admin-2' });
      expect(result).toEqual({ version: 4, created: 1, updated: 1, removed: 2 });
      const all = await h.kb.list();
      expect(all.map((e) => ({ intent: e.intent, questions: e.questions, answer: e.answer, lang: e.lang }))).toEqual(
        rows.map((r) => ({ intent: r.intent, questions: r.questions, answer: r.answer, lang: r.lang })),
      );
      expect(all[1]!.id).toBe(stays.id);
      const emptied = await h.kb.import([], { mode: 'replace', by: 'admin-2' });
      expect(emptied).toEqual({ version: 5, created: 0, updated: 0, removed: 2 });
      expect(await h.kb.list()).toEqual([]);
    });

    it('imports all or nothing: one bad row or a repeated (intent, lang) refuses the whole import with row numbers', async () => {
      await h.kb.create(kbRow('existing'), 'admin-1');
      const rows: unknown[] = [kbRow('a'), kbRow('b'), { ...kbRow('c'), questions: ['fine', ''] }, kbRow('Bad Intent'), kbRow('a')];
      const error = await refusal(h.kb.import(rows as KbImportRow[], { mode: 'replace', by: 'admin-1' }));
      expect(error.code).toBe('VALIDATION_FAILED');
      const details = KbImportErrorDetailsSchema.parse(error.details);
      expect(details.total).toBe(3);
      expect(details.rows.map((r) => [r.row, r.field])).toEqual([
        [3, 'questions.1'],
        [4, 'intent'],
        [5, 'intent'],
      ]);
      expect(details.rows[2]).toMatchObject({ duplicateOf: 1 });
      expect(details.rows[2]!.message).toMatch(/row 1/);
      expect((await h.kb.list()).map((e) => e.intent)).toEqual(['existing']);
      expect(await h.kb.version()).toBe(1);
    });

    it('tells each listener every new version once, and nothing for a write that changed nothing', async () => {
      const heard: number[] = [];
      const stop = h.kb.onChange((v) => heard.push(v));
      h.kb.onChange(() => {
        throw new Error('a broken listener');
      });
      const a = await h.kb.create(kbRow('a'), 'admin-1');
      await h.kb.update(a.id, kbRow('a'), 'admin-1'); // identical
      await h.kb.import(kbRows(3), { mode: 'merge', by: 'admin-1' });
      await h.kb.import(kbRows(3), { mode: 'merge', by: 'admin-1' }); // identical
      await h.kb.update(a.id, kbRow('a', { answer: 'Changed.' }), 'admin-1');
      await h.kb.remove(a.id, 'admin-1');
      expect(heard).toEqual([1, 2, 3, 4]);
      stop();
      await h.kb.create(kbRow('b'), 'admin-1');
      expect(heard).toEqual([1, 2, 3, 4]);
      expect(await h.kb.version()).toBe(5);
    });

    it('infers the language of a row without one from the Han share of its questions', async () => {
      const rows: KbImportRow[] = [
        { intent: 'zh_plain', questions: ['我的快递到哪了？'], answer: '请在订单页查看。' },
        { intent: 'zh_mixed', questions: ['iPhone 保修多久'], answer: '一年。' }, // 4 of 10 letters Han
        { intent: 'en_one_han', questions: ['What does 汇 mean in Huiliu?'], answer: 'Converge.' },
        { intent: 'en_digits', questions: ['12345?'], answer: 'A number.' },
        { intent: 'explicit', questions: ['我的快递到哪了？'], answer: 'Kept as given.', lang: 'en' },
      ];
      await h.kb.import(rows, { mode: 'merge', by: 'admin-1' });
      const langs = Object.fromEntries((await h.kb.list()).map((e) => [e.intent, e.lang]));
      expect(langs).toEqual({ zh_plain: 'zh', zh_mixed: 'zh', en_one_han: 'en', en_digits: 'en', explicit: 'en' });
      const created = await h.kb.create(
        { intent: 'zh_create', questions: ['怎么开发票', 'how to get an invoice'], answer: '在设置里。' },
        'a',
      );
      expect(created.lang).toBe('en'); // 5 of 22 letters are Han
    });

    it('keeps related intents as given, also ones no entry has', async () => {
      const entry = await h.kb.create(kbRow('refund', { related: ['returns', 'no_such_intent'] }), 'admin-1');
      expect((await h.kb.get(entry.id))!.related).toEqual(['returns', 'no_such_intent']);
    });

    it('lists the history newest first with who changed what', async () => {
      const a = await h.kb.create(kbRow('refund'), 'admin-1');
      await h.kb.import([kbRow('returns')], { mode: 'merge', by: 'admin-2' });
      await h.kb.remove(a.id, 'admin-3');
      const history = await h.kb.history();
      expect(history.map((v) => [v.version, v.by])).toEqual([
        [3, 'admin-3'],
        [2, 'admin-2'],
        [1, 'admin-1'],
      ]);
      expect(history[1]!.summary).toBe('import (merge): 1 created, 0 updated, 0 removed');
      expect(history[0]!.summary).toContain('refund/en');
      expect(Number.isNaN(Date.parse(history[0]!.at))).toBe(false);
      expect((await h.kb.history(1)).map((v) => v.version)).toEqual([3]);
    });
  });
}
