#!/usr/bin/env node
// @ts-check
/**
 * `npm start`: the README's first command. Installs what is missing, builds the workstation, the
 * widget and the server (each only when its sources changed), starts the compiled server
 * (`node server/dist/server/main.js`) on the embedded default with demo data, and opens the
 * workstation — the Electron app where its binary is installed, otherwise the default browser.
 * Plain JavaScript on purpose: it runs before `npm ci` has installed TypeScript tooling.
 * Environment: HUILIU_* as for the server; HUILIU_NO_OPEN=1 starts without opening anything.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { MAIN as SERVER_MAIN, serverBuildStale } from './build-server.mjs';
import { NPM as npm, ROOT, ensureDependencies, run, say } from './ensure-deps.mjs';

ensureDependencies();
ensureOcrData();

/**
 * OCR of customer images (issue 10, docs/ocr.md) reads tesseract's English and simplified Chinese
 * language data from the Debian packages. Where they are missing and this runs as root on a system
 * with apt-get, they are installed; otherwise the server starts with OCR off and says what to install.
 */
function ensureOcrData() {
  const dirs = ['/usr/share/tesseract-ocr/5/tessdata', '/usr/share/tesseract-ocr/4.00/tessdata'];
  const present = dirs.some((d) => existsSync(join(d, 'eng.traineddata')) && existsSync(join(d, 'chi_sim.traineddata')));
  if (present || process.platform !== 'linux') return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    say('OCR language data missing: install tesseract-ocr-eng and tesseract-ocr-chi-sim (OCR of images stays off until then)');
    return;
  }
  say('installing the OCR language data (Debian tesseract-ocr-eng, tesseract-ocr-chi-sim)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '-qq', 'tesseract-ocr-eng', 'tesseract-ocr-chi-sim'], { stdio: 'ignore', env }).status === 0;
  if (!install() && !(spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore', env }).status === 0 && install())) {
    say('could not install the OCR language data; OCR of images stays off');
  }
}

/** The Electron binary path when it is installed, else null. */
function electronBinary() {
  try {
    const require = createRequire(join(ROOT, 'package.json'));
    const path = require('electron');
    return typeof path === 'string' && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}
if (!electronBinary() && process.env.HUILIU_NO_OPEN !== '1') {
  say('fetching the Electron binary (the browser is used if this is not possible)…');
  spawnSync(process.execPath, [join(ROOT, 'node_modules', 'electron', 'install.js')], { cwd: ROOT, stdio: 'ignore' });
}

// 2. Build the workstation renderer, the widget and the Electron main process when their sources
// are newer than the last build (a running server may be serving the current one); the server too.
/** Newest modification time of the files under `paths` (0 when none exist). */
function newest(/** @type {string[]} */ paths) {
  let max = 0;
  const visit = (/** @type {string} */ p) => {
    if (!existsSync(p)) return;
    const st = statSync(p);
    if (st.isDirectory()) {
      for (const name of readdirSync(p)) if (name !== 'dist' && name !== 'node_modules') visit(join(p, name));
    } else max = Math.max(max, st.mtimeMs);
  };
  paths.forEach(visit);
  return max;
}
const outputs = ['app/renderer/dist/index.html', 'server/dist/widget/index.html', 'app/main/dist/main.cjs'].map((p) => join(ROOT, p));
const built = outputs.every((p) => existsSync(p)) ? Math.min(...outputs.map((p) => statSync(p).mtimeMs)) : 0;
const sources = newest(
  ['app/renderer', 'app/main', 'common', 'server/src/gateway/web/widget', 'package-lock.json'].map((p) => join(ROOT, p)),
);
if (built < sources) {
  say('building the workstation, the widget and the server…');
  run(npm, ['run', '--silent', 'build']);
} else if (serverBuildStale()) {
  say('building the server…');
  run(npm, ['run', '--silent', 'build:server']);
}

// 3. Start the compiled server with demo data.
const env = { ...process.env, HUILIU_DATA_DIR: process.env.HUILIU_DATA_DIR ?? join(ROOT, 'var') };
const server = spawn(process.execPath, [SERVER_MAIN, '--demo'], {
  cwd: ROOT,
  env,
  stdio: ['ignore', 'pipe', 'inherit'],
});
let desktop = /** @type {import('node:child_process').ChildProcess | null} */ (null);
const stopAll = () => {
  desktop?.kill();
  server.kill('SIGTERM');
};
process.once('SIGINT', stopAll);
process.once('SIGTERM', stopAll);
server.on('exit', (code) => process.exit(code ?? 0));

let banner = '';
server.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  if (desktop || banner.includes('\u0000')) return;
  banner += chunk.toString();
  const m = /is running on (https:\/\/\S+)/.exec(banner);
  if (!m) return;
  banner += '\u0000';
  open(m[1]);
});

function open(/** @type {string} */ url) {
  if (process.env.HUILIU_NO_OPEN === '1') return say('ready (HUILIU_NO_OPEN=1: not opening a window)');
  const electron = electronBinary();
  const hasDisplay = process.platform !== 'linux' || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
  if (electron && hasDisplay) {
    say('opening the Huiliu desktop app…');
    desktop = spawn(electron, [ROOT], { cwd: ROOT, stdio: 'inherit', env: { ...env, HUILIU_SERVER_URL: url } });
    return;
  }
  const target = `${url}/app/`;
  say(`opening ${target} in your browser (accept the local certificate, or trust ${join(env.HUILIU_DATA_DIR, 'tls', 'ca.pem')})`);
  const opener =
    process.platform === 'darwin'
      ? ['open', [target]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', target]]
        : ['xdg-open', [target]];
  const child = spawn(/** @type {string} */ (opener[0]), /** @type {string[]} */ (opener[1]), { stdio: 'ignore', detached: true });
  child.on('error', () => say(`could not open a browser here; open ${target} yourself`));
  child.unref();
}
