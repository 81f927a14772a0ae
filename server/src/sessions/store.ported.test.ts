import { describe, expect, it } from 'vitest';
import type { Envelope } from '../../../common/message/envelope';
import type { ConversationStore } from './conversations';
import { routeConversations } from './store.ported';
import type { SessionStore } from './store';

/** A port holding `n` messages of one conversation (odd seqs by customer a, even by b); records its page sizes. */
function fakePort(n: number) {
  const asked: number[] = [];
  const port = {
    kind: 'redis',
    async listMessages(_conversationId: string, { afterSeq = 0, limit = 100 } = {}) {
      asked.push(limit);
      const out: Envelope[] = [];
      for (let seq = afterSeq + 1; seq <= Math.min(n, afterSeq + limit); seq++) {
        out.push({ seq, customerId: seq % 2 ? 'a' : 'b' } as Envelope);
      }
      return out;
    },
  } as unknown as ConversationStore;
  return { port, asked };
}
const wide = { admitInbound: async () => ({}), forgetCached: () => 0 } as unknown as SessionStore;

describe('routeConversations: history pages through the port', () => {
  it('reads only what is wanted: a page of 50 asks the port for 50 records, a long read pages by 1,000', async () => {
    const { port, asked } = fakePort(2500);
    const store = routeConversations(wide, port);
    const page = await store.listMessages('c', { afterSeq: 100, limit: 50 });
    expect(page.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => 101 + i));
    expect(asked).toEqual([50]);
    asked.length = 0;
    const long = await store.listMessages('c', { limit: 2100 });
    expect(long.map((m) => m.seq)).toEqual(Array.from({ length: 2100 }, (_, i) => i + 1));
    expect(asked).toEqual([1000, 1000, 100]);
    asked.length = 0;
    // The end of the conversation stops the walk.
    expect(await store.listMessages('c', { afterSeq: 2450, limit: 100 })).toHaveLength(50);
    expect(asked).toEqual([100]);
  });

  it("filters by customer over full pages, so a filtered read still finds `limit` of the customer's messages", async () => {
    const { port, asked } = fakePort(2500);
    const store = routeConversations(wide, port);
    const mine = await store.listMessages('c', { limit: 600, customerId: 'b' });
    expect(mine).toHaveLength(600);
    expect(mine.every((m) => m.customerId === 'b')).toBe(true);
    expect(asked).toEqual([1000, 1000]);
  });
});

describe('routeConversations: session state stays on the wide store', () => {
  it("answers a decision's candidates from the wide store, so the session detail shows them in redis mode (issue 18)", async () => {
    const candidates = [{ agentId: 'ann', chosen: true, reasons: ['idle longest'] }];
    const withCandidates = {
      ...wide,
      routingCandidates: async (id: string) => (id === 'WB100000000000000001' ? candidates : null),
    } as unknown as SessionStore;
    const store = routeConversations(withCandidates, fakePort(0).port);
    expect(await store.routingCandidates?.('WB100000000000000001')).toEqual(candidates);
    expect(await store.routingCandidates?.('WB100000000000000002')).toBeNull();
  });
});
