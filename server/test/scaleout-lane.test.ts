import { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './support/harness';
import { laneEnv, scaleoutLane, type ScaleoutLane } from './support/lane';

const LANE: ScaleoutLane = { redisNodes: '127.0.0.1:7001,127.0.0.1:7002', pkcs11: { lib: '/x/libsofthsm2.so', token: 'tok', pin: '1234' } };

describe('laneEnv (the scale-out test lane, docs/testing.md)', () => {
  it('leaves a server alone in the default lane', () => {
    expect(laneEnv({ HUILIU_PORT: '0' }, '/tmp/a', null)).toEqual({ HUILIU_PORT: '0' });
  });

  it('puts a server on the lane cluster and token with a prefix and KEK label of its data dir', () => {
    const a = laneEnv({ HUILIU_PORT: '0' }, '/tmp/a', LANE);
    expect(a).toMatchObject({
      HUILIU_PORT: '0',
      HUILIU_STORE: 'redis',
      HUILIU_BUS: 'redis',
      HUILIU_REDIS_NODES: LANE.redisNodes,
      HUILIU_KEYS: 'pkcs11',
      HUILIU_PKCS11_LIB: '/x/libsofthsm2.so',
      HUILIU_PKCS11_TOKEN: 'tok',
      HUILIU_PKCS11_PIN: '1234',
    });
    expect(a['HUILIU_REDIS_PREFIX']).toMatch(/^t[0-9a-f]{12}$/);
    expect(a['HUILIU_PKCS11_KEY']).toBe(`kek-${a['HUILIU_REDIS_PREFIX']}`);
    // The same data dir (a restart, a second node on it) finds the same keys; another does not.
    expect(laneEnv({}, '/tmp/a/', LANE)['HUILIU_REDIS_PREFIX']).toBe(a['HUILIU_REDIS_PREFIX']);
    expect(laneEnv({}, '/tmp/b', LANE)['HUILIU_REDIS_PREFIX']).not.toBe(a['HUILIU_REDIS_PREFIX']);
  });

  it('keeps the mode a test pins, per group', () => {
    const sqlite = laneEnv({ HUILIU_STORE: 'sqlite' }, '/tmp/a', LANE);
    expect(sqlite['HUILIU_STORE']).toBe('sqlite');
    expect(sqlite['HUILIU_BUS']).toBeUndefined();
    expect(sqlite['HUILIU_REDIS_NODES']).toBeUndefined();
    expect(sqlite['HUILIU_KEYS']).toBe('pkcs11');
    const local = laneEnv({ HUILIU_KEYS: 'local' }, '/tmp/a', LANE);
    expect(local['HUILIU_KEYS']).toBe('local');
    expect(local['HUILIU_PKCS11_TOKEN']).toBeUndefined();
    expect(local['HUILIU_STORE']).toBe('redis');
  });
});

describe(`a server the harness starts in this run's lane (${scaleoutLane() ? 'scaleout' : 'default'})`, () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => {
    await s?.cleanup();
  });

  it('runs on the lane: embedded by default, Redis Cluster + PKCS#11 in the scale-out lane', async () => {
    const lane = scaleoutLane();
    if (!lane) {
      expect({ store: s.config.store, bus: s.config.bus, keys: s.config.keys.mode }).toEqual({
        store: 'sqlite',
        bus: 'memory',
        keys: 'local',
      });
      return;
    }
    expect({ store: s.config.store, bus: s.config.bus, keys: s.config.keys.mode }).toEqual({
      store: 'redis',
      bus: 'redis',
      keys: 'pkcs11',
    });
    expect(s.config.redisNodes.join(',')).toBe(lane.redisNodes);
    // A message lands in the lane's cluster under this server's prefix.
    const res = await s.app.inject({
      method: 'POST',
      url: '/api/v1/channels/app/messages',
      headers: { 'x-huiliu-key': 'demo-app-key' },
      payload: { customer: { externalId: 'lane-1', name: 'Lane One' }, clientMessageId: 'lane-1-m1', text: 'hello from the lane' },
    });
    expect(res.statusCode, res.body).toBeLessThan(300);
    const cluster = new Cluster(lane.redisNodes.split(',').map((n) => ({ host: n.split(':')[0]!, port: Number(n.split(':')[1]) })));
    try {
      await cluster.ping();
      const found: string[] = [];
      for (const node of cluster.nodes('master')) {
        found.push(...(await node.keys(`${s.config.redisPrefix}:*`)));
      }
      expect(
        found.filter((k) => k.startsWith(`${s.config.redisPrefix}:{`) && k.includes(':m:')),
        found.join(' '),
      ).toHaveLength(1);
    } finally {
      cluster.disconnect();
    }
  });
});
