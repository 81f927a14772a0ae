import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { voiceEdgePath } from './edge';
import { startVoiceEdge, stopVoiceEdge } from './edge-process';

/**
 * `npm run voice -- up [--sip-port N] [--ws-port N] [--wss-port N] [--no-tls | --tls-cert FILE --tls-key FILE] [--no-ws]`
 * · `npm run voice -- down` · `npm run voice -- status`.
 * Environment: HUILIU_DATA_DIR (./var), HUILIU_URL (https://127.0.0.1:8443). `up` prints the SIP address
 * as `sip:host:port` on its own line (scripts read it), then the WebSocket addresses for JsSIP (wss, TLS 1.3
 * only, with the server's certificate when the server serves https; `--tls-cert/--tls-key` a real one).
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
    const wssPort = flag('--wss-port');
    const file = (name: string) => {
      const i = argv.indexOf(name);
      const value = i < 0 ? undefined : argv[i + 1];
      if (i >= 0 && (!value || value.startsWith('--'))) throw new Error(`${name} needs a file`);
      return value ? resolve(process.cwd(), value) : undefined;
    };
    const certFile = file('--tls-cert');
    const keyFile = file('--tls-key');
    if (Boolean(certFile) !== Boolean(keyFile)) throw new Error('--tls-cert and --tls-key go together');
    const tls = argv.includes('--no-tls') ? false : certFile && keyFile ? { certFile, keyFile } : undefined;
    const edge = await startVoiceEdge(
      {
        dataDir,
        serverUrl: process.env['HUILIU_URL'] ?? 'https://127.0.0.1:8443',
        ...(sipPort ? { sipPort } : {}),
        ...(wsPort ? { wsPort } : {}),
        ...(wssPort ? { wssPort } : {}),
        ...(tls !== undefined ? { tls } : {}),
        ...(argv.includes('--no-ws') ? { ws: false } : {}),
      },
      { detached: true },
    );
    say(edge.sipUri);
    if (edge.wssUri) say(`${edge.wssUri}  (JsSIP, TLS 1.3 only; credentials: GET /api/v1/voice/credentials)`);
    else say(`no wss: ${edge.tlsOffReason ?? 'off'}`);
    say(edge.wsUri ? `${edge.wsUri}  (JsSIP from http pages and loopback tests)` : 'no ws: turned off (--no-ws)');
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
  process.stderr.write(
    'usage: npm run voice -- up [--sip-port N] [--ws-port N] [--wss-port N] [--no-tls | --tls-cert FILE --tls-key FILE] [--no-ws]' +
      ' | down | status\n',
  );
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
