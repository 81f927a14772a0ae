import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/runtime/paths';
import { alive, assertVoiceBinaries, defaultMediaPorts, sipOptions } from '../src/voice/edge-process';
import { openAgentSocket } from './support/agent-client';
import { startTestServer, type TestServer } from './support/harness';
import { edgeTlsArgs, registeredPhone, runSipp, SCENARIOS } from './support/sip';
import { eventually, until } from './support/until';

/** Pids of processes whose command line names `dir` (the edge's run dir: Kamailio's config, rtpengine's, the supervisor's). */
function processesNaming(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(dir)) found.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/**
 * `npm run voice -- up` is supervised (docs/voice.md "Supervisor"): `up` leaves a supervisor process
 * that restarts Kamailio after a SIGKILL (edge-supervisor.ts, as for a server's own edge), `status`
 * shows its pid and the restart, a phone registers again and a call goes through the restarted
 * Kamailio to the agent, and `down` leaves no process of the edge behind.
 */
describe('npm run voice -- up: a supervised edge', () => {
  let s: TestServer;
  let agent: Socket;
  let runDir: string;

  /** `npm run voice -- <args>` against the test server's data dir (the same script, run with node). */
  const voiceCli = (...args: string[]) =>
    spawnSync(process.execPath, [join(REPO_ROOT, 'server', 'scripts', 'voice.mjs'), ...args], {
      encoding: 'utf8',
      env: { ...process.env, HUILIU_DATA_DIR: s.dataDir, HUILIU_URL: s.url },
      timeout: 90_000,
    });

  beforeAll(async () => {
    assertVoiceBinaries();
    s = await startTestServer();
    runDir = join(s.dataDir, 'voice', 'run');
    agent = await openAgentSocket(s, await s.login('agent1'));
    const agentId = s.services.auth.listStaff().find((u) => u.username === 'agent1')!.id;
    await until(() => s.services.pool.get(agentId) !== undefined);
  }, 60_000);

  afterAll(async () => {
    agent?.close();
    if (s) voiceCli('down');
    await s?.cleanup();
  });

  it('ships a systemd unit for the supervised edge that systemd-analyze verifies', () => {
    const verify = spawnSync('systemd-analyze', ['verify', join(REPO_ROOT, 'deploy', 'systemd', 'huiliu-voice.service')], {
      encoding: 'utf8',
    });
    expect(verify.error, 'systemd-analyze (Debian package systemd)').toBeUndefined();
    expect(verify.status, verify.stderr).toBe(0);
    // verify exits 0 on an unknown key or a bad value too, and only says so: nothing said is the pass.
    expect(verify.stderr.trim()).toBe('');
  });

  it('restarts a SIGKILLed Kamailio, takes a call through it, and down leaves no process', async () => {
    const [mediaMin, mediaMax] = defaultMediaPorts(200);
    const up = voiceCli('up', '--media-ports', `${mediaMin}-${mediaMax}`, ...(await edgeTlsArgs(s.dataDir, s.url)));
    expect(up.status, up.stderr + up.stdout).toBe(0);
    const rtpConf = readFileSync(join(runDir, 'rtpengine.conf'), 'utf8');
    expect(rtpConf).toContain(`port-min = ${mediaMin}\nport-max = ${mediaMax}\n`);
    const sipPort = Number(/^sip:127\.0\.0\.1:(\d+)$/m.exec(up.stdout)?.[1]);
    const supervisorPid = Number(/^supervisor pid (\d+) /m.exec(up.stdout)?.[1]);
    expect(sipPort).toBeGreaterThan(0);
    expect(alive(supervisorPid), up.stdout).toBe(true);
    expect(voiceCli('status').stdout).toMatch(new RegExp(`supervisor pid ${supervisorPid}, .*restarts: kamailio 0, rtpengine 0`));
    // What systemd's unit (deploy/systemd/huiliu-voice.service, Type=forking) relies on: when `up`
    // returns, the PIDFile it names (under HUILIU_DATA_DIR, here this server's data dir) holds the
    // supervisor's pid, so systemd tracks it and restarts the edge when it dies.
    const unit = readFileSync(join(REPO_ROOT, 'deploy', 'systemd', 'huiliu-voice.service'), 'utf8');
    const unitDataDir = /^Environment=HUILIU_DATA_DIR=(.+)$/m.exec(unit)?.[1];
    const pidFile = /^PIDFile=(.+)$/m.exec(unit)?.[1];
    expect(unitDataDir && pidFile?.startsWith(`${unitDataDir}/`), unit).toBe(true);
    const ourPidFile = join(s.dataDir, pidFile!.slice(unitDataDir!.length + 1));
    expect(Number(readFileSync(ourPidFile, 'utf8').trim())).toBe(supervisorPid);

    const pidOf = (name: string) => Number(readFileSync(join(runDir, `${name}.pid`), 'utf8').trim());
    const before = pidOf('kamailio');
    const rtpengine = pidOf('rtpengine');
    process.kill(before, 'SIGKILL');
    await until(() => existsSync(join(runDir, 'kamailio.pid')) && pidOf('kamailio') !== before && alive(pidOf('kamailio')), 20_000);
    await eventually(async () => (await sipOptions('127.0.0.1', sipPort, 500)) ?? null, 20_000);
    await until(() => /restarts: kamailio 1, rtpengine 0/.test(voiceCli('status').stdout), 20_000);
    expect(readFileSync(join(runDir, 'supervisor.log'), 'utf8')).toMatch(/kamailio exited unexpectedly/);

    // The restarted Kamailio lost its registrations: the phone registers again and takes a call.
    const phone = await registeredPhone(s, sipPort, 'agent1', 'phone.xml', 40_000);
    const caller = await runSipp(
      [
        `127.0.0.1:${sipPort}`,
        ...['-sf', join(SCENARIOS, 'caller.xml'), '-s', 'support', '-m', '1', '-d', '300', '-p', '0'],
        '-recv_timeout',
        '20000',
      ],
      30_000,
    );
    expect(caller.code, `${caller.out}\n${readFileSync(join(runDir, 'kamailio.log'), 'utf8').slice(-4000)}`).toBe(0);
    expect((await phone.running).code).toBe(0);
    const customer = await eventually(() => s.services.store.findCustomerByIdentity('SP', 'tel:+86138001'));
    const session = await eventually(async () => {
      const found = await s.services.store.latestSession(customer.id, 'SP');
      return found?.status === 'closed' ? found : null;
    }, 15_000);
    expect(session.wrapUpCode).toBe('resolved');

    const restarted = pidOf('kamailio');
    const down = voiceCli('down');
    expect(down.status, down.stderr + down.stdout).toBe(0);
    expect(down.stdout).toContain(`supervisor (pid ${supervisorPid})`);
    for (const pid of [supervisorPid, rtpengine, restarted]) expect(alive(pid)).toBe(false);
    // Nothing of the edge is left: no supervisor, Kamailio (main or worker) nor rtpengine names the run dir.
    await until(() => processesNaming(runDir).length === 0, 5000).catch(() => undefined);
    expect(processesNaming(runDir)).toEqual([]);
    expect(voiceCli('status').stdout).toContain('voice edge is not running');
  }, 180_000);
});
