import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HuiliuError } from '../../../common/errors/codes';
import { openDatabase, type Db } from '../db/sqlite';
import { AuthService } from './auth';
import { retryAfterSeconds } from '../http/errors';
import { ConcurrencyGate, LoginThrottle, clientNetwork } from './throttle';

describe('ConcurrencyGate', () => {
  it('runs at most `max` jobs at once, queues `maxWaiting` more and refuses the rest at call time', async () => {
    const gate = new ConcurrencyGate(2, 3);
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const job = () =>
      new Promise<string>((resolve) => {
        running += 1;
        peak = Math.max(peak, running);
        releases.push(() => {
          running -= 1;
          resolve('done');
        });
      });
    const runs = Array.from({ length: 8 }, () => gate.run(job).catch((e: unknown) => e));
    // The last three are refused without waiting for any running job.
    const refused = await Promise.all(runs.slice(5));
    for (const e of refused) expect(retryAfterSeconds(e)).toBe(1);
    for (let released = 0; released < 5;) {
      await new Promise((r) => setTimeout(r, 1));
      const next = releases.shift();
      if (next) {
        next();
        released += 1;
      }
    }
    expect(await Promise.all(runs.slice(0, 5))).toEqual(Array(5).fill('done'));
    expect(peak).toBe(2);
  });

  it('frees the slot of a job that throws', async () => {
    const gate = new ConcurrencyGate(1, 0);
    await expect(gate.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(() => Promise.resolve(7))).toBe(7);
  });
});

describe('LoginThrottle', () => {
  let dir: string;
  let db: Db;
  let clock = 0;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-throttle-'));
    db = openDatabase(join(dir, 'auth.db'));
    new AuthService(db); // runs the auth migrations
    clock = 1_000_000;
  });
  afterEach(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const limits = {
    perUserAndClient: { attempts: 2, windowMs: 1000 },
    perUser: { attempts: 3, windowMs: 10_000 },
    perClient: { attempts: 100, windowMs: 1000 },
  };

  it('keeps names and addresses out of the table and never confuses keys that would join to the same string', () => {
    const throttle = new LoginThrottle(db, limits, () => clock);
    throttle.reserve('a|b', 'c');
    throttle.reserve('a|b', 'c');
    // "a" from "b|c" would be the same key as "a|b" from "c" if the parts were joined with "|".
    expect(() => throttle.reserve('a', 'b|c')).not.toThrow();
    const rows = db.prepare('SELECT key_hash FROM login_attempts').all() as { key_hash: string }[];
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.key_hash))).toBe(true);
  });

  it('refuses with the seconds left in the longest exhausted window', () => {
    const throttle = new LoginThrottle(db, limits, () => clock);
    throttle.reserve('mei', '192.0.2.1');
    throttle.reserve('mei', '192.0.2.1');
    const refused = (() => {
      try {
        throttle.reserve('mei', '192.0.2.1');
        return null;
      } catch (error) {
        return error;
      }
    })();
    expect(refused).toBeInstanceOf(HuiliuError);
    expect(retryAfterSeconds(refused)).toBe(1);
    clock += 1000;
    throttle.reserve('mei', '192.0.2.2');
    clock += 1;
    // The per-user window (10 s) is now full: three attempts from two addresses.
    expect(() => throttle.reserve('mei', '192.0.2.3')).toThrow(HuiliuError);
  });

  it('gives back a released attempt only while no attempt was refused in that window', () => {
    const throttle = new LoginThrottle(db, limits, () => clock);
    const first = throttle.reserve('mei', '192.0.2.1');
    first.release();
    first.release(); // twice is once
    const second = throttle.reserve('mei', '192.0.2.1');
    throttle.reserve('mei', '192.0.2.1');
    expect(() => throttle.reserve('mei', '192.0.2.1')).toThrow(HuiliuError);
    second.release();
    expect(() => throttle.reserve('mei', '192.0.2.1')).toThrow(HuiliuError);
  });

  it('neither checks nor counts the per-username key from a client the user signed in from', () => {
    const throttle = new LoginThrottle(db, limits, () => clock);
    throttle.reserve('mei', '192.0.2.1').succeeded();
    throttle.reserve('mei', '192.0.2.1');
    throttle.reserve('mei', '192.0.2.1');
    // The per-user-and-client limit (2 a second) still holds from the known client.
    expect(() => throttle.reserve('mei', '192.0.2.1')).toThrow(HuiliuError);
    clock += 1000;
    throttle.reserve('mei', '192.0.2.1');
    throttle.reserve('mei', '192.0.2.1');
    // Five attempts from the known client in the 10 s per-user window, none of them counted there.
    throttle.reserve('mei', '192.0.2.2');
    throttle.reserve('mei', '192.0.2.3');
    throttle.reserve('mei', '192.0.2.4');
    expect(() => throttle.reserve('mei', '192.0.2.5')).toThrow(HuiliuError);
    const known = db.prepare('SELECT key_hash, last_success FROM login_known_clients').all();
    expect(known).toEqual([{ key_hash: expect.stringMatching(/^[0-9a-f]{64}$/) as unknown, last_success: 1_000_000 }]);
  });
});

describe('clientNetwork', () => {
  it('counts an IPv6 client by its /64 and an IPv4 client by its address, also when IPv4-mapped', () => {
    expect(clientNetwork('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(clientNetwork('2001:db8::2:1')).toBe('2001:db8:0:0::/64');
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
    expect(clientNetwork('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(clientNetwork('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetwork('203.0.113.7')).toBe('203.0.113.7');
  });
});
