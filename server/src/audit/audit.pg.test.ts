import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createLocalKeyProvider } from '../keys/provider.local';
import { auditLogContract } from './audit.contract';
import { createPgAuditLog } from './audit.pg';
import { KeyRotation } from '../keys/rewrap';

/**
 * The PostgreSQL audit log against the PostgreSQL this machine runs (DESIGN: HUILIU_PG_URL; CI
 * starts it). Each test gets a schema of its own, dropped afterwards.
 */
const PG_URL = process.env['HUILIU_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Pool({ connectionString: PG_URL, max: 2 });
let schemas = 0;
afterAll(() => admin.end());

const COLUMNS = 'seq, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, outcome, detail, ip, prev_hash, hash, mac';

auditLogContract('PostgreSQL (monthly partitions)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-audit-pg-'));
  const keys = createLocalKeyProvider(join(dir, 'keys'));
  const schema = `huiliu_audit_t${process.pid}_${++schemas}`;
  let now = new Date();
  const log = await createPgAuditLog({ url: PG_URL, keys, schema, now: () => now });
  const q = (sql: string, params: unknown[] = []) =>
    admin.query(sql.replaceAll('audit_log', `${schema}.audit_log`).replaceAll('audit_meta', `${schema}.audit_meta`), params);
  return {
    log,
    reopen: (onMissingHead) => createPgAuditLog({ url: PG_URL, keys, schema, now: () => now, onMissingHead }),
    setNow: (d) => (now = d),
    tamper: {
      async alterAction(seq, action) {
        await q('UPDATE audit_log SET action = $1 WHERE seq = $2', [action, seq]);
      },
      async alterAndRehash(seq, action) {
        await q("UPDATE audit_log SET action = $1, hash = md5($1) || md5('x') WHERE seq = $2", [action, seq]);
      },
      async insertAfter(seq) {
        const max = Number((await q('SELECT MAX(seq) AS m FROM audit_log')).rows[0].m);
        for (let s = max; s > seq; s--) await q('UPDATE audit_log SET seq = $1 WHERE seq = $2', [s + 1, s]);
        await q(
          `INSERT INTO audit_log (seq, at, actor_kind, actor_id, actor_name, action, target_kind, target_id, outcome, detail, ip, prev_hash, hash, mac)
           SELECT seq + 1, at, actor_kind, actor_id, actor_name, 'forged', NULL, NULL, outcome, detail, ip, hash, hash, mac FROM audit_log WHERE seq = $1`,
          [seq],
        );
        await q("UPDATE audit_meta SET seq = seq + 1 WHERE name = 'head'");
      },
      async deleteEntry(seq) {
        await q('DELETE FROM audit_log WHERE seq = $1', [seq]);
      },
      async swap(a, b) {
        await q('UPDATE audit_log SET seq = -1 WHERE seq = $1', [a]);
        await q('UPDATE audit_log SET seq = $1 WHERE seq = $2', [a, b]);
        await q('UPDATE audit_log SET seq = $1 WHERE seq = -1', [b]);
      },
      async copyOver(from, to) {
        await q('DELETE FROM audit_log WHERE seq = $1', [to]);
        await q(`INSERT INTO audit_log SELECT ${COLUMNS.replace('seq,', '$1,')} FROM audit_log WHERE seq = $2`, [to, from]);
      },
      async insertCopy(of, after) {
        const max = Number((await q('SELECT MAX(seq) AS m FROM audit_log')).rows[0].m);
        for (let s = max; s > after; s--) await q('UPDATE audit_log SET seq = $1 WHERE seq = $2', [s + 1, s]);
        await q(`INSERT INTO audit_log SELECT ${COLUMNS.replace('seq,', '$1::bigint,')} FROM audit_log WHERE seq = $2`, [after + 1, of]);
        await q("UPDATE audit_meta SET seq = seq + 1 WHERE name = 'head'");
      },
      async wipe() {
        await q('DELETE FROM audit_log');
        await q("DELETE FROM audit_meta WHERE name = 'head'");
      },
    },
    async cleanup() {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('PostgreSQL audit partitions', () => {
  it('puts each month in its own partition and drops whole months at retention', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-audit-pg-'));
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const schema = `huiliu_audit_t${process.pid}_parts`;
    let now = new Date('2026-01-15T10:00:00.000Z');
    const log = await createPgAuditLog({ url: PG_URL, keys, schema, now: () => now });
    try {
      for (const at of ['2026-01-15T10:00:00.000Z', '2026-02-03T10:00:00.000Z', '2026-09-20T10:00:00.000Z']) {
        now = new Date(at);
        await log.append([{ actor: { kind: 'system', id: 'system' }, action: 'retention.run', outcome: 'ok' }]);
      }
      const parts = async () =>
        (
          await admin.query<{ relname: string }>(
            `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
             JOIN pg_namespace n ON n.oid = p.relnamespace WHERE p.relname = 'audit_log' AND n.nspname = $1 ORDER BY 1`,
            [schema],
          )
        ).rows.map((r) => r.relname);
      expect(await parts()).toEqual(['audit_log_202601', 'audit_log_202602', 'audit_log_202609']);
      // 183 days before 2026-09-20 is 2026-03-21: January and February go, whole.
      expect(await log.prune(new Date('2026-09-01T00:00:00.000Z'))).toBe(2);
      expect(await parts()).toEqual(['audit_log_202609']);
      expect(await log.verify()).toEqual({ ok: true, checked: 1 });
    } finally {
      await log.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has its MAC key re-wrapped by KEK rotation, so the old KEK can be retired and the log still opens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-audit-pg-'));
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const schema = `huiliu_audit_t${process.pid}_rewrap`;
    const log = await createPgAuditLog({ url: PG_URL, keys, schema });
    try {
      await log.append([{ actor: { kind: 'system', id: 'system' }, action: 'retention.run', outcome: 'ok' }]);
      const rotation = new KeyRotation({ holders: [log.wrappedKeys!], keys });
      const old = keys.kekStatus().current;
      expect((await rotation.status()).keks).toEqual([{ kekId: old, current: true, wrappedKeys: 1 }]);
      await rotation.rotate();
      await rotation.settled();
      const after = await rotation.status();
      expect(after.keks).toEqual([
        { kekId: after.current, current: true, wrappedKeys: 1 },
        { kekId: old, current: false, wrappedKeys: 0 },
      ]);
      expect(after.rewrap).toMatchObject({ rewrapped: 1, failed: 0 });
      const stored = await admin.query<{ kek_id: string }>(`SELECT kek_id FROM ${schema}.audit_keys`);
      expect(stored.rows).toEqual([{ kek_id: after.current }]);
      await rotation.retire(old);
      // Another node (or a restart) unwraps the key with the new KEK; the chain still verifies.
      const reopened = await createPgAuditLog({ url: PG_URL, keys, schema });
      try {
        await reopened.append([{ actor: { kind: 'system', id: 'system' }, action: 'retention.run', outcome: 'ok' }]);
        expect(await reopened.verify()).toEqual({ ok: true, checked: 2 });
      } finally {
        await reopened.close();
      }
    } finally {
      await log.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps one chain when two nodes append at once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-audit-pg-'));
    const keys = createLocalKeyProvider(join(dir, 'keys'));
    const schema = `huiliu_audit_t${process.pid}_nodes`;
    const a = await createPgAuditLog({ url: PG_URL, keys, schema });
    const b = await createPgAuditLog({ url: PG_URL, keys, schema });
    try {
      const one = (actor: string) => ({ actor: { kind: 'staff' as const, id: actor }, action: 'session.view', outcome: 'ok' as const });
      await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? a : b).append([one(`u${i}`)])));
      expect(await a.verify()).toEqual({ ok: true, checked: 30 });
      expect(await b.verify()).toEqual({ ok: true, checked: 30 });
    } finally {
      await a.close();
      await b.close();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await keys.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
