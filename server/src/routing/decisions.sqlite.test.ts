import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { v7 as uuidv7 } from 'uuid';
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../db/sqlite';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createSqliteConversationStore } from '../sessions/conversations.sqlite';
import { draft } from '../sessions/store.contract';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { routingLogContract, nextLogSessionId, sampleDecision } from './decisions.contract';
import { createSqliteRoutingLog } from './decisions.sqlite';

/** Opens two logs (two connections: two processes) and the conversations port on one fresh data file. */
async function openAll() {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-rlog-'));
  const path = join(dir, 'huiliu.db');
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const conversations = await createSqliteConversationStore({ path, keys });
  const store = await createSqliteRoutingLog({ path });
  const second = await createSqliteRoutingLog({ path });
  return {
    path,
    store,
    second,
    async prepareSession(sessionId: string) {
      await conversations.openSession({ sessionId, conversationId: uuidv7(), customerId: uuidv7(), channel: 'WB', skillGroup: 'general' });
    },
    async cleanup() {
      await store.shutdown();
      await second.shutdown();
      await conversations.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

routingLogContract('SQLite (embedded)', openAll);

describe('RoutingLog on SQLite: the wide store’s table', () => {
  it('writes the rows the wide store writes (same columns), reads its id-less rows, and stays append-only', async () => {
    const h = await openAll();
    try {
      const s = nextLogSessionId();
      await h.prepareSession(s);
      const { entry } = await h.store.append({
        id: 'd-1',
        sessionId: s,
        at: '2025-06-01T10:00:00.000Z',
        decision: sampleDecision({ trigger: 'timeout', offeredTo: 'agent-b', offerConfigVersion: 3 }),
      });
      const db = openDatabase(h.path);
      try {
        const row = db.prepare('SELECT * FROM routing_decisions WHERE seq = ?').get(entry.seq) as Record<string, unknown>;
        expect(row).toMatchObject({
          session_id: s,
          at: '2025-06-01T10:00:00.000Z',
          config_version: 3,
          cause: 'timeout',
          offered_to: 'agent-b',
        });
        expect(JSON.parse(row.decision_json as string)).toMatchObject({ logId: 'd-1', trigger: 'timeout' });
        // A row as the wide store's writer inserts it (no logId): listed, with id null.
        const legacy = JSON.stringify(sampleDecision({ trigger: 'new' }));
        db.prepare(
          'INSERT INTO routing_decisions (session_id, at, config_version, cause, offered_to, decision_json) VALUES (?, ?, ?, ?, ?, ?)',
        ).run(s, '2025-06-01T10:00:01.000Z', 1, 'new', 'agent-a', legacy);
        expect(() => db.prepare('UPDATE routing_decisions SET cause = ? WHERE seq = ?').run('x', entry.seq)).toThrow(/append-only/);
      } finally {
        db.close();
      }
      const log = await h.store.ofSession(s);
      expect(log.map((e) => [e.id, e.cause])).toEqual([
        ['d-1', 'timeout'],
        [null, 'new'],
      ]);
      expect(log[0]!.decision).not.toHaveProperty('logId');
      // The log references sessions: an unknown one is refused.
      await expect(
        h.store.append({ id: 'd-2', sessionId: nextLogSessionId(), at: '2025-06-01T10:00:00.000Z', decision: sampleDecision() }),
      ).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
    } finally {
      await h.cleanup();
    }
  });

  it('shares the log with the wide SQLite store: each reads what the other appended, the what-if replay included', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-rlog-wide-'));
    const path = join(dir, 'huiliu.db');
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const wide = await createSqliteSessionStore({ path, keys });
    const log = await createSqliteRoutingLog({ path });
    try {
      const { session } = await wide.appendInbound(draft(), { skillGroup: 'general' });
      const first = sampleDecision({ trigger: 'new', offeredTo: 'agent-a', decidedAt: new Date().toISOString() });
      const saved = await wide.saveRouting(session.id, first, {
        agentId: 'agent-a',
        expiresAt: new Date(Date.now() + 20_000).toISOString(),
      });
      expect(saved.applied).toBe(true);
      const [logged] = await log.ofSession(session.id);
      expect(logged).toMatchObject({ id: null, sessionId: session.id, cause: 'new', offeredTo: 'agent-a', decision: first });

      const at = new Date(Date.parse(logged!.at) + 1000).toISOString();
      const { entry } = await log.append({
        id: 'port-1',
        sessionId: session.id,
        at,
        decision: { ...first, trigger: 'timeout', offeredTo: 'agent-b' },
      });
      const wideLog = await wide.decisions(session.id);
      expect(wideLog.map((e) => [e.seq, e.decision.trigger, e.decision.offeredTo])).toEqual([
        [logged!.seq, 'new', 'agent-a'],
        [entry.seq, 'timeout', 'agent-b'],
      ]);
      const from = new Date(Date.parse(logged!.at) - 1).toISOString();
      const to = new Date(Date.parse(at) + 1).toISOString();
      expect((await wide.offersBetween(from, to)).map((o) => o.agentId)).toEqual(['agent-a', 'agent-b']);
      expect((await log.offers(from, to)).map((o) => o.agentId)).toEqual(['agent-a', 'agent-b']);
      // The replay's contacts: the wide store's first decision, and one the port appended for another session.
      const other = await wide.appendInbound(draft({ identity: { channel: 'WB', externalId: 'visitor-2', displayName: 'Han Meimei' } }), {
        skillGroup: 'general',
      });
      await log.append({ id: 'port-2', sessionId: other.session.id, at, decision: { ...first, offeredTo: null } });
      const contacts = await wide.replayContacts(from, to);
      expect(contacts.map((c) => c.sessionId)).toEqual([session.id, other.session.id]);
      expect((await log.between(from, to, { filter: 'new' })).map((e) => e.sessionId)).toEqual([session.id, other.session.id]);
    } finally {
      await log.shutdown();
      await wide.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
