/**
 * Test fixture (edge-supervisor.test.ts): a process that supervises one daemon (`/bin/sleep 600`, or
 * argv[3..] when given) and prints its pid, then idles until it is killed — as a test process or
 * `npm run voice -- up` holding its edge does.
 * Usage: node --import tsx supervised-daemon.ts <dir> [bin args...]
 */
import { join } from 'node:path';
import { DaemonSupervisor } from '../edge-supervisor';

const [dir, bin = '/bin/sleep', ...args] = process.argv.slice(2);
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const supervisor = new DaemonSupervisor({ logger: quiet, enabled: false });
const child = supervisor.start({
  name: 'rtpengine',
  bin,
  args: args.length ? args : ['600'],
  logPath: join(dir!, 'daemon.log'),
  cwd: dir!,
  ready: () => Promise.resolve(true),
});
process.stdout.write(`${child.pid}\n`);
setInterval(() => undefined, 60_000);
