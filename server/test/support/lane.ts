import { createHash } from 'node:crypto';
import { resolve } from 'node:path';

/**
 * The test lanes (docs/testing.md "Scale-out lane"). `HUILIU_TEST_LANE` unset (or `default`): every
 * server a test starts runs as configured by the test (embedded: SQLite, in-process bus, local KEK).
 * `HUILIU_TEST_LANE=scaleout` (`npm run test:scaleout`): vitest's global setup
 * (`server/test/support/scaleout-setup.ts`) starts one 6-node Redis Cluster and one SoftHSM2 token for
 * the whole run, and `laneEnv` points every server at them.
 */
export type TestLane = 'default' | 'scaleout';

/** What the global setup hands the test processes (JSON in `SCALEOUT_LANE`, no `HUILIU_` prefix: servers refuse unknown `HUILIU_*`). */
export interface ScaleoutLane {
  /** Seed nodes of the lane's Redis Cluster, `127.0.0.1:p1,…,127.0.0.1:p6`. */
  redisNodes: string;
  /** The lane's SoftHSM2 token (in the temp dir that `SOFTHSM2_CONF`, also set by the setup, names). */
  pkcs11: { lib: string; token: string; pin: string };
}

/**
 * The lane this test run is in, from `HUILIU_TEST_LANE`.
 * @throws Error for an unknown lane name
 */
export function testLane(env: Record<string, string | undefined> = process.env): TestLane {
  const lane = env['HUILIU_TEST_LANE'];
  if (lane === undefined || lane === '' || lane === 'default') return 'default';
  if (lane === 'scaleout') return 'scaleout';
  throw new Error(`HUILIU_TEST_LANE: unknown lane "${lane}" (known: default, scaleout)`);
}

/**
 * The scale-out lane's cluster and token, or null outside that lane.
 * @throws Error when the lane is on but the global setup did not run (a vitest config without it)
 */
export function scaleoutLane(env: Record<string, string | undefined> = process.env): ScaleoutLane | null {
  if (testLane(env) !== 'scaleout') return null;
  const json = env['SCALEOUT_LANE'];
  if (!json)
    throw new Error('HUILIU_TEST_LANE=scaleout but SCALEOUT_LANE is unset: run through vitest.config.ts (its globalSetup starts the lane)');
  return JSON.parse(json) as ScaleoutLane;
}

/** Variables that pin where a server keeps conversations and events: the lane leaves all of them to the test. */
const REDIS_PINS = ['HUILIU_STORE', 'HUILIU_BUS', 'HUILIU_REDIS_NODES', 'HUILIU_REDIS_PREFIX'];
/** Variables that pin the KEK's keeper. */
const KEY_PINS = ['HUILIU_KEYS', 'HUILIU_PKCS11_LIB', 'HUILIU_PKCS11_TOKEN', 'HUILIU_PKCS11_PIN', 'HUILIU_PKCS11_KEY'];

/**
 * A server's `HUILIU_*` environment in this run's lane. Default lane: `env` unchanged. Scale-out lane:
 * `env` plus `HUILIU_STORE=redis`, `HUILIU_BUS=redis`, `HUILIU_REDIS_NODES` (the lane's cluster) and a
 * `HUILIU_REDIS_PREFIX`, and `HUILIU_KEYS=pkcs11` with the lane's token and a `HUILIU_PKCS11_KEY` label.
 * The prefix and the KEK label are derived from the data directory (`t<12 hex of sha256(path)>`): servers
 * of different tests never see each other's keys, events or KEK, while a server restarted on the same
 * data dir (or two nodes sharing it) finds its own again. A test that sets any Redis variable
 * (`HUILIU_STORE`, `HUILIU_BUS`, `HUILIU_REDIS_NODES`, `HUILIU_REDIS_PREFIX`) keeps its own choice for
 * that group, likewise for the key variables (`HUILIU_KEYS`, `HUILIU_PKCS11_*`). `lane`: the lane's
 * cluster and token (default: this run's, `scaleoutLane()`; null = the default lane).
 */
export function laneEnv(env: Record<string, string>, dataDir: string, lane: ScaleoutLane | null = scaleoutLane()): Record<string, string> {
  if (!lane) return env;
  const id = `t${createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 12)}`;
  const overlay: Record<string, string> = {};
  if (!REDIS_PINS.some((k) => k in env)) {
    Object.assign(overlay, { HUILIU_STORE: 'redis', HUILIU_BUS: 'redis', HUILIU_REDIS_NODES: lane.redisNodes, HUILIU_REDIS_PREFIX: id });
  }
  if (!KEY_PINS.some((k) => k in env)) {
    Object.assign(overlay, {
      HUILIU_KEYS: 'pkcs11',
      HUILIU_PKCS11_LIB: lane.pkcs11.lib,
      HUILIU_PKCS11_TOKEN: lane.pkcs11.token,
      HUILIU_PKCS11_PIN: lane.pkcs11.pin,
      HUILIU_PKCS11_KEY: `kek-${id}`,
    });
  }
  return { ...overlay, ...env };
}
