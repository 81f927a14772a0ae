// Development only (tsx, vitest): the script of a TypeScript worker thread (runtime/worker-entry.ts).
// Node 20 applies tsx's ES-module hooks (`--import tsx`) to the main thread only, so a worker loads
// TypeScript through tsx's CommonJS hooks instead: its execArgv is `--require <tsx/cjs> --require
// <the worker's .ts>`, which runs the worker's module before this file, and this file hands that
// module's exports on (Piscina looks its tasks up on the worker file's exports).
'use strict';
const at = process.execArgv.lastIndexOf('--require');
// eslint-disable-next-line @typescript-eslint/no-require-imports -- CommonJS on purpose (see above)
module.exports = require(process.execArgv[at + 1]);
