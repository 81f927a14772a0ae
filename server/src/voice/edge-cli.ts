import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { voiceEdgePath } from './edge';
import { startVoiceEdge, stopVoiceEdge } from './edge-process';

/**
 * `npm run voice -- up [--sip-port N] [--ws-port N]` · `npm run voice -- down` · `npm run voice -- status`.
 * Environment: HUILIU_DATA_DIR (./var), HUILIU_URL (https://127.0.0.1:8443). `up` prints the SIP address
 * as `sip:host:port` on its own line (scripts read it), then the WebSocket address for JsSIP.
 */
/** One line on stdout (the CLI's answer; `up`'s first line is the SIP address). */
const say = (line: string) => process.stdout.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? 'status';
  const dataDirEnv = process.env['HUILIU_DATA_DIR'] ?? './var';
  const dataDir = isAbsolute(dataDirEnv) ? dataDirEnv : resolve(process.cwd(), dataDirEnv);
  const runDir = join(dataDir, 'voice', 'run');
  const flag = (name: string) => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const n = Number(argv[i + 1]);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} needs a port number`);
    return n;
  };
  if (command === 'up') {
    if (existsSync(join(runDir, 'kamailio.pid'))) await stopVoiceEdge(runDir);
    const sipPort = flag('--sip-port');
    const wsPort = flag('--ws-port');
    const edge = await startVoiceEdge(
      {
        dataDir,
        serverUrl: process.env['HUILIU_URL'] ?? 'https://127.0.0.1:8443',
        ...(sipPort ? { sipPort } : {}),
        ...(wsPort ? { wsPort } : {}),
      },
      { detached: true },
    );
    say(edge.sipUri);
    say(`${edge.wsUri}  (JsSIP; credentials: GET /api/v1/voice/credentials)`);
    say(`run dir ${edge.runDir} (config, logs, pid files, queue prompts)`);
    return 0;
  }
  if (command === 'down') {
    const stopped = await stopVoiceEdge(runDir);
    const edgeFile = voiceEdgePath(dataDir);
    if (existsSync(edgeFile)) (await import('node:fs')).rmSync(edgeFile);
    say(stopped.length > 0 ? `stopped ${stopped.join(', ')}` : 'voice edge was not running');
    return 0;
  }
  if (command === 'status') {
    const edgeFile = voiceEdgePath(dataDir);
    say(existsSync(edgeFile) ? readFileSync(edgeFile, 'utf8').trim() : 'voice edge is not running');
    return 0;
  }
  process.stderr.write('usage: npm run voice -- up [--sip-port N] [--ws-port N] | down | status\n');
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
