import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../logging/logger';
import { startRecordingSweeper, sweepRecordings } from './recording-sweep';

const MINUTE = 60_000;

describe('the media spool sweep (recordings no tap deleted)', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  /** A spool as rtpengine leaves it: a call's pcap, its metadata and tmp files, aged `minutes`. */
  function spool(calls: Record<string, number>): string {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-spool-'));
    dirs.push(dir);
    for (const sub of ['pcaps', 'metadata', 'tmp']) mkdirSync(join(dir, sub));
    const now = Date.now();
    for (const [stem, minutes] of Object.entries(calls)) {
      const files = [
        join(dir, 'pcaps', `${stem}.pcap`),
        join(dir, 'metadata', `${stem}.txt`),
        join(dir, 'tmp', `rtpengine-meta-${stem}.tmp`),
      ];
      for (const f of files) {
        writeFileSync(f, 'caller voice');
        const t = (now - minutes * MINUTE) / 1000;
        utimesSync(f, t, t);
      }
    }
    return dir;
  }

  it('deletes the files of calls idle longer than idleMs and keeps those still written to', async () => {
    const dir = spool({ 'orphan-0123456789abcdef': 45, 'live-0123456789abcdef': 1 });
    mkdirSync(join(dir, 'pcaps', 'not-a-file'));
    const result = await sweepRecordings(dir, { idleMs: 30 * MINUTE });
    expect(result).toEqual({ deleted: 3, failed: 0 });
    expect(existsSync(join(dir, 'pcaps', 'orphan-0123456789abcdef.pcap'))).toBe(false);
    expect(existsSync(join(dir, 'metadata', 'orphan-0123456789abcdef.txt'))).toBe(false);
    expect(existsSync(join(dir, 'tmp', 'rtpengine-meta-orphan-0123456789abcdef.tmp'))).toBe(false);
    expect(existsSync(join(dir, 'pcaps', 'live-0123456789abcdef.pcap'))).toBe(true);
    expect(existsSync(join(dir, 'metadata', 'live-0123456789abcdef.txt'))).toBe(true);
    expect(existsSync(join(dir, 'pcaps', 'not-a-file'))).toBe(true);
  });

  it('takes a spool without its subdirectories, or none at all, as empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-spool-'));
    dirs.push(dir);
    expect(await sweepRecordings(dir)).toEqual({ deleted: 0, failed: 0 });
    expect(await sweepRecordings(join(dir, 'gone'))).toEqual({ deleted: 0, failed: 0 });
  });

  it('sweeps once at start and on every interval, on the spool of the edge running then', async () => {
    const first = spool({ 'a-0123456789abcdef': 60 });
    let current: string | null = first;
    const sweeper = startRecordingSweeper({
      recordingDir: () => current,
      logger: createLogger({ level: 'silent' }),
      idleMs: 30 * MINUTE,
      intervalMs: 50,
    });
    try {
      await expect.poll(() => existsSync(join(first, 'pcaps', 'a-0123456789abcdef.pcap'))).toBe(false);
      // The edge restarted on another spool: the next pass sweeps that one.
      const second = spool({ 'b-0123456789abcdef': 31, 'c-0123456789abcdef': 0 });
      current = second;
      await expect.poll(() => existsSync(join(second, 'pcaps', 'b-0123456789abcdef.pcap'))).toBe(false);
      expect(existsSync(join(second, 'pcaps', 'c-0123456789abcdef.pcap'))).toBe(true);
      current = null;
      // A pass the interval started before (on the second spool) may still be finishing: it answers that
      // pass's count; the pass after it sees no edge and deletes nothing.
      await sweeper.sweep();
      expect(await sweeper.sweep()).toBe(0);
    } finally {
      sweeper.stop();
    }
  });
});
