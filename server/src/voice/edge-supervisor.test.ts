import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DaemonSupervisor, type DaemonSpec, type EdgeSupervisorEvent } from './edge-supervisor';

const alive = (pid: number | undefined) => {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not reaped yet by whoever adopted it) is not alive.
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined } as unknown as NonNullable<
  ConstructorParameters<typeof DaemonSupervisor>[0]
>['logger'];

describe('DaemonSupervisor (real processes)', () => {
  let dir = '';
  let sup: DaemonSupervisor | null = null;
  afterEach(async () => {
    await sup?.stop();
    sup = null;
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const spec = (over: Partial<DaemonSpec> = {}): DaemonSpec => ({
    name: 'kamailio',
    bin: '/bin/sh',
    // Prints its start, leaves a grandchild in its process group (like Kamailio's workers), then waits.
    args: ['-c', 'echo started $$; sleep 60 & echo worker $!; wait'],
    logPath: join(dir, 'daemon.log'),
    cwd: dir,
    ready: () => Promise.resolve(true),
    ...over,
  });

  it('restarts a killed daemon with backoff, appends to its log, kills the orphans of its group, counts the restarts', async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-sup-'));
    const events: EdgeSupervisorEvent[] = [];
    sup = new DaemonSupervisor({ baseDelayMs: 50, logger: silent, onEvent: (e) => events.push(e) });
    const first = sup.start(spec({ ownGroup: true }));
    await until(() => /worker \d+/.test(readFileSync(join(dir, 'daemon.log'), 'utf8')));
    const worker = Number(/worker (\d+)/.exec(readFileSync(join(dir, 'daemon.log'), 'utf8'))![1]);
    expect(alive(worker)).toBe(true);

    first.kill('SIGKILL');
    await until(() => sup!.restarts().kamailio === 1 && sup!.child('kamailio') !== first);
    await sup.settled('kamailio');
    // The worker the killed leader left behind is gone (it would hold Kamailio's ports).
    await until(() => !alive(worker));
    expect(alive(sup.child('kamailio')!.pid)).toBe(true);
    expect(events.map((e) => e.kind)).toEqual(['exited', 'restarting', 'restarted']);
    expect(events[0]).toMatchObject({ daemon: 'kamailio', signal: 'SIGKILL', restarts: 0 });
    expect(events[1]).toMatchObject({ delayMs: 50, restarts: 1 });
    await until(() => (readFileSync(join(dir, 'daemon.log'), 'utf8').match(/started \d+/g) ?? []).length === 2);
    expect(readFileSync(join(dir, 'daemon.log'), 'utf8')).toMatch(
      /started \d+\n[\s\S]*restarted by the voice edge supervisor ---\nstarted/,
    );

    // The second restart within the window waits twice as long.
    sup.child('kamailio')!.kill('SIGKILL');
    await until(() => sup!.restarts().kamailio === 2);
    expect(events.filter((e) => e.kind === 'restarting').map((e) => e.delayMs)).toEqual([50, 100]);
    await sup.settled('kamailio');
  });

  it('a daemon dies with the process supervising it, even one SIGKILLed (no orphan holding the ports)', async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-sup-'));
    // A supervising process of its own (a test process, `npm run voice -- up`): SIGKILL gives it no
    // chance to stop its daemons, so only the kernel's parent-death signal can (setpriv --pdeathsig).
    const holder = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '__fixtures__', 'supervised-daemon.ts'), dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    holder.stdout.on('data', (b: Buffer) => (out += b.toString()));
    let daemon = 0;
    try {
      await until(() => /^\d+\n/.test(out), 20_000);
      daemon = Number(out.trim());
      expect(alive(daemon)).toBe(true);
      holder.kill('SIGKILL');
      await until(() => !alive(daemon), 5_000);
    } finally {
      holder.kill('SIGKILL');
      if (alive(daemon)) process.kill(daemon, 'SIGKILL');
    }
  }, 30_000);

  it('gives up after maxRestarts within the window and never restarts after stop()', async () => {
    dir = mkdtempSync(join(tmpdir(), 'huiliu-sup-'));
    const events: EdgeSupervisorEvent[] = [];
    sup = new DaemonSupervisor({ baseDelayMs: 10, maxRestarts: 2, logger: silent, onEvent: (e) => events.push(e) });
    // Exits at once with code 3: a daemon that cannot stay up.
    sup.start(spec({ name: 'rtpengine', args: ['-c', 'exit 3'] }));
    await until(() => events.some((e) => e.kind === 'gave-up'));
    expect(sup.restarts().rtpengine).toBe(2);
    expect(events.filter((e) => e.kind === 'exited')).toHaveLength(3);
    expect(events.find((e) => e.kind === 'exited')).toMatchObject({ code: 3 });

    const events2: EdgeSupervisorEvent[] = [];
    const sup2 = new DaemonSupervisor({ baseDelayMs: 10, logger: silent, onEvent: (e) => events2.push(e) });
    const c = sup2.start(spec({ args: ['-c', 'sleep 60'] }));
    await until(() => alive(c.pid));
    await sup2.stop();
    expect(alive(c.pid)).toBe(false);
    await new Promise((r) => setTimeout(r, 100));
    expect(events2).toEqual([]);
    expect(sup2.restarts().kamailio).toBe(0);
  });
});
