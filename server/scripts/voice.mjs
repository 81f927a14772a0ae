#!/usr/bin/env node
// `npm run voice -- up|down|status` (issue 18): starts or stops the voice edge — Kamailio + rtpengine on
// loopback, wired to the running server (HUILIU_URL, default https://127.0.0.1:8443) — in a run dir
// under HUILIU_DATA_DIR (default ./var). The work is in server/src/voice/edge-cli.ts (typed, shared
// with the tests); this file only runs it with tsx.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../src/voice/edge-cli.ts', import.meta.url));
const r = spawnSync(process.execPath, ['--import', 'tsx', cli, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
