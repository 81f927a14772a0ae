import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalKeyProvider } from '../keys/provider.local';
import { conversationContract } from './conversations.contract';
import { createSqliteConversationStore } from './conversations.sqlite';

conversationContract('SQLite (embedded)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-conversations-'));
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const store = await createSqliteConversationStore({ path: join(dir, 'huiliu.db'), keys });
  return {
    store,
    async cleanup() {
      await store.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
