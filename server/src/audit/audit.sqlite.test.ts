import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../db/sqlite';
import { createLocalKeyProvider } from '../keys/provider.local';
import { createSqliteSessionStore } from '../sessions/store.sqlite';
import { hashEntry, type AuditEntry } from './audit';
import { auditLogContract } from './audit.contract';
import { createSqliteAuditLog } from './audit.sqlite';

const COLUMNS = 'seq, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, outcome, detail, ip, prev_hash, hash, mac';

auditLogContract('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-audit-'));
  const path = join(dir, 'huiliu.db');
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  // The session store owns `data_keys`, where the audit MAC key lives.
  const store = await createSqliteSessionStore({ path, keys });
  let now = new Date();
  const log = await createSqliteAuditLog({ path, keys, now: () => now });
  const raw = openDatabase(path);
  const row = (seq: number) => raw.prepare('SELECT * FROM audit_log WHERE seq = ?').get(seq) as Record<string, unknown>;
  return {
    log,
    reopen: (onMissingHead) => createSqliteAuditLog({ path, keys, now: () => now, onMissingHead }),
    setNow: (d) => (now = d),
    tamper: {
      async alterAction(seq, action) {
        raw.prepare('UPDATE audit_log SET action = ? WHERE seq = ?').run(action, seq);
      },
      async alterAndRehash(seq, action) {
        const r = row(seq);
        const e = {
          at: r['at'],
          actor: { kind: r['actor_kind'], id: r['actor_id'], name: r['actor_name'] },
          action,
          target: null,
          outcome: r['outcome'],
          detail: JSON.parse(r['detail'] as string),
          ip: r['ip'],
          prevHash: r['prev_hash'],
        } as unknown as AuditEntry;
        raw.prepare('UPDATE audit_log SET action = ?, hash = ? WHERE seq = ?').run(action, hashEntry(e), seq);
      },
      async insertAfter(seq) {
        raw.transaction(() => {
          const max = (raw.prepare('SELECT MAX(seq) AS m FROM audit_log').get() as { m: number }).m;
          for (let s = max; s > seq; s--) raw.prepare('UPDATE audit_log SET seq = ? WHERE seq = ?').run(s + 1, s);
          const r = row(seq);
          raw
            .prepare(
              `INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, outcome, detail, ip, prev_hash, hash, mac)
             VALUES (?, ?, ?, ?, ?, 'forged', NULL, NULL, ?, ?, ?, ?, ?, ?)`,
            )
            .run(
              seq + 1,
              r['at'],
              r['actor_kind'],
              r['actor_id'],
              r['actor_name'],
              r['outcome'],
              r['detail'],
              r['ip'],
              r['hash'],
              r['hash'],
              r['mac'],
            );
          raw.prepare("UPDATE audit_meta SET seq = seq + 1 WHERE name = 'head'").run();
        })();
      },
      async deleteEntry(seq) {
        raw.prepare('DELETE FROM audit_log WHERE seq = ?').run(seq);
      },
      async swap(a, b) {
        raw.transaction(() => {
          raw.prepare('UPDATE audit_log SET seq = -1 WHERE seq = ?').run(a);
          raw.prepare('UPDATE audit_log SET seq = ? WHERE seq = ?').run(a, b);
          raw.prepare('UPDATE audit_log SET seq = ? WHERE seq = -1').run(b);
        })();
      },
      async copyOver(from, to) {
        raw.transaction(() => {
          raw.prepare('DELETE FROM audit_log WHERE seq = ?').run(to);
          raw.prepare(`INSERT INTO audit_log SELECT ${COLUMNS.replace('seq,', '?,')} FROM audit_log WHERE seq = ?`).run(to, from);
        })();
      },
      async insertCopy(of, after) {
        raw.transaction(() => {
          const max = (raw.prepare('SELECT MAX(seq) AS m FROM audit_log').get() as { m: number }).m;
          for (let s = max; s > after; s--) raw.prepare('UPDATE audit_log SET seq = ? WHERE seq = ?').run(s + 1, s);
          raw.prepare(`INSERT INTO audit_log SELECT ${COLUMNS.replace('seq,', '?,')} FROM audit_log WHERE seq = ?`).run(after + 1, of);
          raw.prepare("UPDATE audit_meta SET seq = seq + 1 WHERE name = 'head'").run();
        })();
      },
      async wipe() {
        raw.prepare('DELETE FROM audit_log').run();
        raw.prepare("DELETE FROM audit_meta WHERE name = 'head'").run();
      },
    },
    async cleanup() {
      raw.close();
      await store.shutdown();
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
