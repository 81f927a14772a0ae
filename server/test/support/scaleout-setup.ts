import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { testLane, type ScaleoutLane } from './lane';
import { startRedisCluster } from './redis-cluster';
import { createSoftHsmToken } from './softhsm';

/**
 * vitest global setup of the scale-out lane (`HUILIU_TEST_LANE=scaleout`, docs/testing.md): runs once,
 * in vitest's main process, before any test file. Starts ONE 6-node Redis Cluster on free loopback
 * ports and ONE SoftHSM2 token under a private `SOFTHSM2_CONF` in a temp dir, and hands them to the
 * test processes (forked after this, so they inherit `process.env`) as `SCALEOUT_LANE` JSON and
 * `SOFTHSM2_CONF`; `laneEnv` (`./lane.ts`) then points every server a test starts at them.
 * Answers the teardown: the cluster's processes killed, the token and its temp dir deleted.
 * @throws Error when redis-server or softhsm2 is missing or the cluster does not form
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (testLane() !== 'scaleout') return undefined;
  // A private token directory, whatever SOFTHSM2_CONF the shell had (createSoftHsmToken keeps one in tmpdir).
  delete process.env['SOFTHSM2_CONF'];
  const token = createSoftHsmToken('huiliu-scaleout');
  const softhsmRoot = dirname(process.env['SOFTHSM2_CONF']!);
  const started = Date.now();
  const cluster = await startRedisCluster().catch((error: unknown) => {
    token.cleanup();
    rmSync(softhsmRoot, { recursive: true, force: true });
    throw error;
  });
  const lane: ScaleoutLane = { redisNodes: cluster.nodes, pkcs11: { lib: token.lib, token: token.token, pin: token.pin } };
  process.env['SCALEOUT_LANE'] = JSON.stringify(lane);
  process.stdout.write(
    `scale-out lane: Redis Cluster ${cluster.nodes} (${Date.now() - started} ms), SoftHSM2 token "${token.token}" (SOFTHSM2_CONF=${process.env['SOFTHSM2_CONF']})\n`,
  );
  return async () => {
    await cluster.stop();
    token.cleanup();
    rmSync(softhsmRoot, { recursive: true, force: true });
  };
}
