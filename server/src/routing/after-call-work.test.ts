import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_CONFIG, type RoutingConfig } from '../../../common/routing/types';
import { createLogger } from '../logging/logger';
import { until } from '../../test/support/until';
import { AgentPool } from './agent-pool';
import { createAfterCallWork, type AfterCallWork } from './after-call-work';

describe('after-call work', () => {
  let acw: AfterCallWork;
  afterEach(() => acw.stop());

  const setup = (seconds: RoutingConfig['afterCallWorkSeconds']) => {
    const pool = new AgentPool();
    pool.connect({ id: 'a1', username: 'a1', displayName: 'A1', skillGroups: ['general'], expert: false }, 0, 0);
    const available: string[] = [];
    const changes: [string, string, string | null][] = [];
    acw = createAfterCallWork({
      pool,
      config: () => ({ ...DEFAULT_ROUTING_CONFIG, afterCallWorkSeconds: seconds }),
      available: async (id) => void available.push(id),
      logger: createLogger({ level: 'silent' }),
    });
    acw.onChange((id, presence, until) => changes.push([id, presence, until]));
    return { pool, available, changes };
  };

  it('holds offers for the configured seconds after the last chat closes, then makes the agent available and offers', async () => {
    const { pool, available, changes } = setup({ chat: 1, voice: 30 });
    const before = Date.now();
    const end = await acw.contactClosed('a1', 'WB');
    expect(Date.parse(end!) - before).toBeGreaterThanOrEqual(1000);
    expect(pool.get('a1')?.presence).toBe('after-call-work');
    expect(changes).toEqual([['a1', 'after-call-work', end]]);
    await until(async () => available.length === 1, 3000);
    expect(pool.get('a1')?.presence).toBe('available');
    expect(changes.at(-1)).toEqual(['a1', 'available', null]);
  });

  it('does not start while other chats are open, when 0 seconds are configured, or for an agent not available', async () => {
    const { pool } = setup({ chat: 0, voice: 1 });
    expect(await acw.contactClosed('a1', 'WB')).toBeNull();
    pool.setActiveChats('a1', 2, 0);
    expect(await acw.contactClosed('a1', 'SP')).not.toBeNull(); // a call's wrap-up applies whatever chats remain
    acw.stop();
    const second = setup({ chat: 5, voice: 5 });
    second.pool.setActiveChats('a1', 1, 0);
    expect(await acw.contactClosed('a1', 'WB')).toBeNull();
    second.pool.setActiveChats('a1', 0, 0);
    second.pool.setPresence('a1', 'away', 0);
    expect(await acw.contactClosed('a1', 'WB')).toBeNull();
    expect(await acw.contactClosed('nobody', 'WB')).toBeNull();
  });

  it('ends when the agent sets a presence themselves: no later switch to available', async () => {
    const { pool, available } = setup({ chat: 1, voice: 1 });
    await acw.contactClosed('a1', 'WB');
    acw.cancel('a1');
    pool.setPresence('a1', 'busy', Date.now());
    await new Promise((r) => setTimeout(r, 1300));
    expect(pool.get('a1')?.presence).toBe('busy');
    expect(available).toEqual([]);
  });
});
