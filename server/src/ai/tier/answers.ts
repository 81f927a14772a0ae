import type { KbEntry, Lang } from '../../../../common/ai/types';
import type { KnowledgeBase } from '../kb';
import type { AnswerBook, KbAnswer } from './decide';

/**
 * The KB's answers by intent and language, in memory (the AI tier reads one per turn): rebuilt from
 * the KB at start and after each KB change, so an edited answer is sent from the next turn on. An
 * intent without an entry in the customer's language answers in the other one rather than not at all.
 */
export class KbAnswerBook implements AnswerBook {
  private byIntent = new Map<string, Map<Lang, KbAnswer>>();
  private loaded: Promise<void> | null = null;
  private readonly stop: () => void;

  constructor(private readonly kb: Pick<KnowledgeBase, 'list' | 'onChange'>) {
    this.stop = kb.onChange(() => void this.reload());
  }

  /** Loads the KB (once; later changes reload by themselves). */
  ready(): Promise<void> {
    this.loaded ??= this.reload();
    return this.loaded;
  }

  async reload(): Promise<void> {
    this.byIntent = KbAnswerBook.index(await this.kb.list());
  }

  /** The index of `entries` (exposed for the evaluation, which builds a book from a corpus). */
  static index(entries: readonly Pick<KbEntry, 'id' | 'intent' | 'lang' | 'answer' | 'questions'>[]): Map<string, Map<Lang, KbAnswer>> {
    const byIntent = new Map<string, Map<Lang, KbAnswer>>();
    for (const e of entries) {
      let langs = byIntent.get(e.intent);
      if (!langs) byIntent.set(e.intent, (langs = new Map()));
      langs.set(e.lang, { entryId: e.id, intent: e.intent, lang: e.lang, answer: e.answer, title: e.questions[0] ?? e.intent });
    }
    return byIntent;
  }

  static of(entries: readonly Pick<KbEntry, 'id' | 'intent' | 'lang' | 'answer' | 'questions'>[]): AnswerBook {
    const index = KbAnswerBook.index(entries);
    return { answerFor: (intent, lang) => pick(index, intent, lang) };
  }

  answerFor(intent: string, lang: Lang): KbAnswer | null {
    return pick(this.byIntent, intent, lang);
  }

  close(): void {
    this.stop();
  }
}

function pick(index: Map<string, Map<Lang, KbAnswer>>, intent: string, lang: Lang): KbAnswer | null {
  const langs = index.get(intent);
  if (!langs) return null;
  return langs.get(lang) ?? langs.values().next().value ?? null;
}
