import { LanguageCore } from '../../src/ai/core';
import type { KnowledgeBase } from '../../src/ai/kb';
import { createSqliteKnowledgeBase } from '../../src/ai/kb.sqlite';
import { seedDemoKnowledgeBase } from '../../src/demo/seed';

/**
 * The `--demo` knowledge base on its own SQLite file and a language core trained on it inline
 * (~1.5 s): what the AI parts that read intents (drafts, suggestions, summaries) are tested against.
 */
export async function demoCore(path = ':memory:'): Promise<{ kb: KnowledgeBase; core: LanguageCore; close(): Promise<void> }> {
  const kb = createSqliteKnowledgeBase({ path });
  await seedDemoKnowledgeBase(kb);
  const core = new LanguageCore({ kb });
  await core.start();
  return {
    kb,
    core,
    async close() {
      await core.close();
      await kb.close();
    },
  };
}
