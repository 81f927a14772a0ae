import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashEntry, type AuditEntryInput, type AuditLog } from './audit';

/** Raw edits an attacker with write access to the database makes, per adapter. */
export interface AuditTamper {
  /** Changes one field of the entry at `seq` (keeping its stored hash and MAC). */
  alterAction(seq: number, action: string): Promise<void>;
  /** Recomputes the entry's hash after changing it (no MAC key: the MAC stays). */
  alterAndRehash(seq: number, action: string): Promise<void>;
  /** Moves every entry after `seq` one up and puts a forged copy of `seq` at `seq + 1`. */
  insertAfter(seq: number): Promise<void>;
  deleteEntry(seq: number): Promise<void>;
  /** Exchanges the positions (seq) of two genuine entries; hashes and MACs stay valid. */
  swap(a: number, b: number): Promise<void>;
  /** Replaces the entry at `to` with an exact copy of the genuine entry at `from` (seq `to` kept). */
  copyOver(from: number, to: number): Promise<void>;
  /** Moves every entry after `after` one up and puts an exact copy of the genuine entry `of` at `after + 1` (a replay). */
  insertCopy(of: number, after: number): Promise<void>;
  /** Deletes every entry and the head record. */
  wipe(): Promise<void>;
}

export interface AuditHarness {
  log: AuditLog;
  /** Opens the same store again, as a server (`refuse`) or `audit:verify` (`open`) would. */
  reopen(onMissingHead: 'refuse' | 'open'): Promise<AuditLog>;
  tamper: AuditTamper;
  /** Sets the log's clock. */
  setNow(d: Date): void;
  cleanup(): Promise<void>;
}

const entry = (user: string, action: string, extra: Partial<AuditEntryInput> = {}): AuditEntryInput => ({
  actor: { kind: 'staff', id: `id-${user}`, name: user },
  action,
  outcome: 'ok',
  ...extra,
});

/**
 * The AuditLog contract (issue 17): every adapter (SQLite embedded, PostgreSQL scale-out) runs it.
 */
export function auditLogContract(name: string, factory: () => Promise<AuditHarness>): void {
  describe(`AuditLog contract: ${name}`, () => {
    let h: AuditHarness;
    let clock = Date.parse('2026-06-01T08:00:00.000Z');
    const tick = (ms = 1000) => {
      clock += ms;
      h.setNow(new Date(clock));
    };
    beforeEach(async () => {
      h = await factory();
      clock = Date.parse('2026-06-01T08:00:00.000Z');
      h.setNow(new Date(clock));
    });
    afterEach(async () => {
      await h.log.close();
      await h.cleanup();
    });

    it('appends a gap-free chain: each entry holds the hash of the previous one and of its own content', async () => {
      const a = await h.log.append([
        entry('agent1', 'auth.login'),
        entry('agent1', 'session.view', { target: { kind: 'session', id: 'WB1' } }),
      ]);
      tick();
      const b = await h.log.append([entry('lead', 'auth.login', { ip: '127.0.0.1', detail: { via: 'password' } })]);
      const all = [...a, ...b];
      expect(all.map((e) => e.seq)).toEqual([1, 2, 3]);
      expect(all[0]!.prevHash).toBe('0'.repeat(64));
      expect(all[1]!.prevHash).toBe(all[0]!.hash);
      expect(all[2]!.prevHash).toBe(all[1]!.hash);
      for (const e of all) expect(hashEntry(e)).toBe(e.hash);
      expect(await h.log.verify()).toEqual({ ok: true, checked: 3 });
    });

    it('searches one user by id or username over [from, to), newest first, in pages that cover everything once', async () => {
      for (let i = 0; i < 25; i++) {
        await h.log.append([entry(i % 2 ? 'agent1' : 'agent2', 'session.view', { target: { kind: 'session', id: `S${i}` } })]);
        tick(60_000);
      }
      const range = { from: '2026-06-01T00:00:00.000Z', to: '2026-06-02T00:00:00.000Z' };
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await h.log.search({ userId: 'agent1', ...range, limit: 5, ...(cursor ? { cursor } : {}) });
        expect(page.entries.length).toBeLessThanOrEqual(5);
        for (const e of page.entries) {
          expect(e.actor.name).toBe('agent1');
          seen.push(e.target!.id);
        }
        cursor = page.next;
      } while (cursor);
      expect(seen).toEqual(Array.from({ length: 12 }, (_, k) => `S${23 - 2 * k}`));
      const byId = await h.log.search({ userId: 'id-agent1', ...range, limit: 100 });
      expect(byId.entries).toHaveLength(12);
      // `to` is exclusive, `from` inclusive: the minute of S1 alone.
      const one = await h.log.search({ userId: 'agent1', from: '2026-06-01T08:01:00.000Z', to: '2026-06-01T08:02:00.000Z', limit: 10 });
      expect(one.entries.map((e) => e.target!.id)).toEqual(['S1']);
      expect((await h.log.search({ userId: 'nobody', ...range, limit: 10 })).entries).toEqual([]);
    });

    it('keeps one chain under concurrent appends', async () => {
      await Promise.all(
        Array.from({ length: 40 }, (_, i) => h.log.append([entry(`u${i % 4}`, 'message.reply'), entry(`u${i % 4}`, 'session.view')])),
      );
      expect(await h.log.verify()).toEqual({ ok: true, checked: 80 });
    });

    it('names an altered entry, even when its hash was recomputed (the MAC key is not in the database)', async () => {
      for (let i = 0; i < 6; i++) await h.log.append([entry('agent1', `a${i}`)]);
      await h.tamper.alterAction(3, 'innocent');
      expect((await h.log.verify()).firstBreak).toEqual({ kind: 'altered', seq: 3 });
    });

    it('names an entry whose content and hash were both rewritten', async () => {
      for (let i = 0; i < 6; i++) await h.log.append([entry('agent1', `a${i}`)]);
      await h.tamper.alterAndRehash(4, 'innocent');
      expect((await h.log.verify()).firstBreak).toEqual({ kind: 'altered', seq: 4 });
    });

    it('names an inserted entry', async () => {
      for (let i = 0; i < 6; i++) await h.log.append([entry('agent1', `a${i}`)]);
      await h.tamper.insertAfter(2);
      expect((await h.log.verify()).firstBreak).toEqual({ kind: 'inserted', seq: 3 });
    });

    it('names a deleted entry, in the middle and at the end', async () => {
      for (let i = 0; i < 6; i++) await h.log.append([entry('agent1', `a${i}`)]);
      await h.tamper.deleteEntry(6);
      expect((await h.log.verify()).firstBreak).toEqual({ kind: 'deleted', afterSeq: 5, missing: 1 });
      await h.tamper.deleteEntry(3);
      expect((await h.log.verify()).firstBreak).toEqual({ kind: 'deleted', afterSeq: 2, missing: 1 });
    });

    it('names the first of two swapped entries as altered, not as a deletion', async () => {
      for (let i = 0; i < 6; i++) await h.log.append([entry('agent1', `a${i}`)]);
      await h.tamper.swap(3, 4);
      expect((await h.log.verify()).firstBreak).toEqual({ kind: 'altered', seq: 3 });
    });

    it('names the first of two entries swapped far apart, and a swap that includes the newest entry', async () => {
      for (let i = 0; i < 8; i++) await h.log.append([entry('agent1', `a${i}`)]);
      await h.tamper.swap(2, 6);
      expect((await h.log.verify()).firstBreak).toEqual({ kind: 'altered', seq: 2 });
      await h.tamper.swap(2, 6);
      expect(await h.log.verify()).toEqual({ ok: true, checked: 8 });
      await h.tamper.swap(7, 8);
      expect((await h.log.verify()).firstBreak).toEqual({ kind: 'altered', seq: 7 });
    });

    it('names an entry overwritten with a copy of another genuine entry as altered, in the middle and at the end', async () => {
      for (let i = 0; i < 6; i++) await h.log.append([entry('agent1', `a${i}`)]);
      await h.tamper.copyOver(1, 6);
      expect((await h.log.verify()).firstBreak).toEqual({ kind: 'altered', seq: 6 });
      await h.tamper.copyOver(2, 4);
      expect((await h.log.verify()).firstBreak).toEqual({ kind: 'altered', seq: 4 });
    });

    it('names a genuine entry copied in (replayed) as inserted', async () => {
      for (let i = 0; i < 6; i++) await h.log.append([entry('agent1', `a${i}`)]);
      await h.tamper.insertCopy(2, 4);
      expect((await h.log.verify()).firstBreak).toEqual({ kind: 'inserted', seq: 5 });
    });

    it('names a wiped log (every entry and the head deleted), and an empty new log verifies', async () => {
      expect(await h.log.verify()).toEqual({ ok: true, checked: 0 });
      for (let i = 0; i < 4; i++) await h.log.append([entry('agent1', `a${i}`)]);
      await h.tamper.wipe();
      expect((await h.log.verify()).ok).toBe(false);
    });

    it('refuses to open a log whose head was deleted, instead of re-creating it; verify opens it and names the break', async () => {
      for (let i = 0; i < 4; i++) await h.log.append([entry('agent1', `a${i}`)]);
      await h.tamper.wipe(); // entries and head gone; the log's MAC key stays
      await expect(h.reopen('refuse')).rejects.toThrow(/head record is missing/);
      const reader = await h.reopen('open');
      try {
        expect((await reader.verify()).ok).toBe(false);
        // Nothing is appended onto a headless log either (no silent restart of the chain).
        await expect(reader.append([entry('agent1', 'after')])).rejects.toThrow(/head record is missing/);
        expect((await reader.verify()).ok).toBe(false);
      } finally {
        await reader.close();
      }
    });

    it('never reports entries appended while it walks as tampering', async () => {
      for (let i = 0; i < 20; i++) await h.log.append([entry('agent1', `a${i}`)]);
      const writing = Promise.all(Array.from({ length: 30 }, (_, i) => h.log.append([entry('agent2', `b${i}`)])));
      const reports = await Promise.all([h.log.verify(), h.log.verify(), h.log.verify()]);
      await writing;
      for (const r of reports) expect(r.ok, JSON.stringify(r)).toBe(true);
      expect(await h.log.verify()).toEqual({ ok: true, checked: 50 });
    });

    it('retention removes only entries older than 6 months whatever it is asked, and the chain still verifies', async () => {
      await h.log.append([entry('agent1', 'old.1'), entry('agent1', 'old.2')]);
      tick(200 * 86_400_000);
      await h.log.append([entry('agent1', 'recent')]);
      // Asked to keep only a day: the 183-day floor keeps the recent entry... and the old ones go.
      expect(await h.log.prune(new Date(clock - 86_400_000))).toBe(2);
      expect(await h.log.verify()).toEqual({ ok: true, checked: 1 });
      await h.log.append([entry('agent1', 'after')]);
      expect(await h.log.verify()).toEqual({ ok: true, checked: 2 });
      // Nothing is younger than 183 days: a second prune removes nothing.
      expect(await h.log.prune(new Date(clock))).toBe(0);
      const all = await h.log.search({ from: '2000-01-01T00:00:00.000Z', to: '2100-01-01T00:00:00.000Z', limit: 10 });
      expect(all.entries.map((e) => e.action)).toEqual(['after', 'recent']);
    });
  });
}
