import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROUTING_CONFIG } from '../../../common/routing/types';
import { ConfigError, DEFAULT_LIMITS, loadConfig } from './config';
import { DEFAULT_WEBHOOK_RETRY } from '../gateway/app/webhook';

const load = (env: Record<string, string> = {}, argv: string[] = []) => loadConfig({ env, argv, cwd: '/srv/huiliu' });
const errorOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration (DESIGN §6 HUILIU_* variables)', () => {
  it('has the documented defaults', () => {
    const c = load();
    expect(c).toMatchObject({
      demo: false,
      dataDir: '/srv/huiliu/var',
      host: '127.0.0.1',
      port: 8443,
      store: 'sqlite',
      bus: 'memory',
      keys: { mode: 'local' },
      routing: DEFAULT_ROUTING_CONFIG,
    });
    expect(c.paths).toEqual({
      db: '/srv/huiliu/var/huiliu.db',
      tls: '/srv/huiliu/var/tls',
      keys: '/srv/huiliu/var/keys',
      logs: '/srv/huiliu/var/logs',
    });
    expect(c.skillGroups.map((g) => g.id)).toEqual(['general', 'vip']);
    expect(Object.isFrozen(c) && Object.isFrozen(c.paths)).toBe(true);
  });

  it('honours every variable', () => {
    const c = load(
      {
        HUILIU_DATA_DIR: '/data',
        HUILIU_HOST: '0.0.0.0',
        HUILIU_PORT: '9443',
        HUILIU_STORE: 'redis',
        HUILIU_BUS: 'redis',
        HUILIU_REDIS_NODES: '127.0.0.1:7000, 127.0.0.1:7001',
        HUILIU_REDIS_PREFIX: 'huiliu-eu',
        HUILIU_PG_URL: 'postgres://localhost/huiliu',
        HUILIU_KEYS: 'pkcs11',
        HUILIU_PKCS11_LIB: '/usr/lib/softhsm/libsofthsm2.so',
        HUILIU_PKCS11_TOKEN: 'huiliu',
        HUILIU_PKCS11_PIN: '1234',
        HUILIU_PKCS11_KEY: 'kek',
      },
      ['--demo'],
    );
    expect(c).toMatchObject({
      demo: true,
      dataDir: '/data',
      host: '0.0.0.0',
      port: 9443,
      store: 'redis',
      bus: 'redis',
      redisNodes: ['127.0.0.1:7000', '127.0.0.1:7001'],
      redisPrefix: 'huiliu-eu',
      pgUrl: 'postgres://localhost/huiliu',
      keys: { mode: 'pkcs11', lib: '/usr/lib/softhsm/libsofthsm2.so', token: 'huiliu', pin: '1234', keyLabel: 'kek' },
    });
  });

  it.each([
    [{ HUILIU_PORT: 'eighty' }, /^HUILIU_PORT: /],
    [{ HUILIU_PORT: '70000' }, /^HUILIU_PORT: port must be/],
    [{ HUILIU_STORE: 'mongo' }, /^HUILIU_STORE: /],
    [{ HUILIU_HOST: 'bad host!' }, /^HUILIU_HOST: /],
    [{ HUILIU_STORE: 'redis' }, /^HUILIU_REDIS_NODES: required/],
    [{ HUILIU_REDIS_NODES: 'localhost' }, /^HUILIU_REDIS_NODES/],
    [{ HUILIU_REDIS_PREFIX: 'a{b}' }, /^HUILIU_REDIS_PREFIX: /],
    [{ HUILIU_KEYS: 'pkcs11' }, /^HUILIU_PKCS11_LIB: required/],
    [{ HUILIU_PG_URL: 'mysql://x' }, /^HUILIU_PG_URL: /],
    [{ HUILIU_TYPO: '1' }, /^HUILIU_TYPO: unknown variable/],
  ])('stops on %j, naming the variable', (env, message) => {
    const e = errorOf(() => load(env as Record<string, string>));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(message);
  });

  it('refuses unknown arguments', () => {
    expect(errorOf(() => load({}, ['--demoo'])).message).toMatch(/unknown argument --demoo/);
  });

  it('reads HUILIU_CONFIG (YAML) and names a bad field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-cfg-'));
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      'skillGroups:\n  - {id: billing, name: Billing}\n  - {id: tech, name: Tech}\nchannels:\n  web: {defaultSkillGroup: tech}\n',
    );
    const c = load({ HUILIU_CONFIG: good });
    expect(c.skillGroups.map((g) => g.id)).toEqual(['billing', 'tech']);
    expect(c.channels).toEqual({
      web: { defaultSkillGroup: 'tech' },
      app: {
        defaultSkillGroup: 'billing',
        webhook: { ...DEFAULT_WEBHOOK_RETRY, keepDeliveredDays: 7 },
        imageUrls: { timeoutMs: 10_000, allowLoopbackHttp: false },
      },
    });

    const typo = join(dir, 'typo.yaml');
    writeFileSync(typo, 'skilGroups: []\n');
    expect(errorOf(() => load({ HUILIU_CONFIG: typo })).message).toMatch(/HUILIU_CONFIG .* field .*skilGroups/);

    const badWeights = join(dir, 'weights.json');
    writeFileSync(badWeights, JSON.stringify({ routing: { ...DEFAULT_ROUTING_CONFIG, weights: { value: 0.9, difficulty: 0.9 } } }));
    expect(errorOf(() => load({ HUILIU_CONFIG: badWeights })).message).toMatch(
      /field routing\.weights: weights\.value \+ weights\.difficulty must be 1/,
    );

    const badGroup = join(dir, 'group.yaml');
    writeFileSync(badGroup, 'channels:\n  app: {defaultSkillGroup: nowhere}\n');
    expect(errorOf(() => load({ HUILIU_CONFIG: badGroup })).message).toMatch(/channels\.app\.defaultSkillGroup/);

    expect(errorOf(() => load({ HUILIU_CONFIG: join(dir, 'missing.yaml') })).message).toMatch(/^HUILIU_CONFIG: cannot read/);
  });

  it('reads the limits section over the defaults and names a bad limit', () => {
    expect(load().limits).toEqual(DEFAULT_LIMITS);
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-cfg-'));
    const good = join(dir, 'limits.yaml');
    writeFileSync(good, 'limits:\n  widget: {replayPageSize: 50}\n  ip: {connections: 5, newSessions: {points: 3, seconds: 10}}\n');
    const c = load({ HUILIU_CONFIG: good });
    expect(c.limits.widget).toEqual({ ...DEFAULT_LIMITS.widget, replayPageSize: 50 });
    expect(c.limits.ip).toEqual({ ...DEFAULT_LIMITS.ip, connections: 5, newSessions: { points: 3, seconds: 10 } });
    expect(c.limits.appKey).toEqual(DEFAULT_LIMITS.appKey);

    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'limits:\n  visitor: {messages: {points: 0, seconds: 60}}\n');
    expect(errorOf(() => load({ HUILIU_CONFIG: bad })).message).toMatch(/field limits\.visitor\.messages\.points/);
    const typo = join(dir, 'typo.yaml');
    const heartbeat = join(dir, 'heartbeat.yaml');
    writeFileSync(heartbeat, 'limits:\n  widget: {heartbeatSeconds: 0}\n');
    expect(errorOf(() => load({ HUILIU_CONFIG: heartbeat })).message).toMatch(/field limits\.widget\.heartbeatSeconds/);
    writeFileSync(typo, 'limits:\n  ip: {conections: 5}\n');
    expect(errorOf(() => load({ HUILIU_CONFIG: typo })).message).toMatch(/field limits\.ip/);
  });

  it('reads the CPU pool size from workers: and names a bad value', () => {
    expect(load().workers).toEqual({});
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-cfg-'));
    const good = join(dir, 'workers.yaml');
    writeFileSync(good, 'workers: {threads: 3, queue: 50}\n');
    expect(load({ HUILIU_CONFIG: good }).workers).toEqual({ threads: 3, queue: 50 });
    const bad = join(dir, 'workers-bad.yaml');
    writeFileSync(bad, 'workers: {threads: 0}\n');
    expect(errorOf(() => load({ HUILIU_CONFIG: bad })).message).toMatch(/field workers\.threads/);
  });

  it('reads attachments: and ocr: over their defaults and names a bad value (issue 10)', () => {
    expect(load().attachments).toEqual({ maxImageBytes: 5 * 1024 * 1024, maxImagePixels: 40_000_000 });
    expect(load().ocr).toEqual({ enabled: true, workers: 1, queue: 16, timeoutMs: 60_000 });
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-cfg-'));
    const good = join(dir, 'ocr.yaml');
    writeFileSync(good, 'attachments: {maxImageBytes: 1048576}\nocr: {enabled: false, workers: 2, langPath: /opt/tessdata}\n');
    const c = load({ HUILIU_CONFIG: good });
    expect(c.attachments).toEqual({ maxImageBytes: 1048576, maxImagePixels: 40_000_000 });
    expect(c.ocr).toEqual({ enabled: false, workers: 2, queue: 16, timeoutMs: 60_000, langPath: '/opt/tessdata' });
    for (const [yaml, field] of [
      ['ocr: {workers: 0}', /field ocr\.workers/],
      ['ocr: {enabled: "yes"}', /field ocr\.enabled/],
      ['ocr: {lang: eng}', /field ocr/],
      ['attachments: {maxImageBytes: 999999999}', /field attachments\.maxImageBytes/],
    ] as const) {
      const bad = join(dir, 'ocr-bad.yaml');
      writeFileSync(bad, `${yaml}\n`);
      expect(errorOf(() => load({ HUILIU_CONFIG: bad })).message).toMatch(field);
    }
  });

  it('reads the continuity window (default 30 minutes) and names a bad one (issue 12)', () => {
    expect(load().continuity).toEqual({ windowMinutes: 30 });
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-cfg-'));
    const good = join(dir, 'continuity.yaml');
    writeFileSync(good, 'continuity: {windowMinutes: 120}\n');
    expect(load({ HUILIU_CONFIG: good }).continuity).toEqual({ windowMinutes: 120 });
    for (const yaml of ['continuity: {windowMinutes: 0}', 'continuity: {windowMinutes: 1441}', 'continuity: {window: 5}']) {
      const bad = join(dir, 'continuity-bad.yaml');
      writeFileSync(bad, `${yaml}\n`);
      expect(errorOf(() => load({ HUILIU_CONFIG: bad })).message).toMatch(/field continuity/);
    }
  });

  it('reads HUILIU_TRUSTED_PROXIES (loopback by default) and refuses a bad address', () => {
    expect(load().trustedProxies).toEqual(['loopback']);
    expect(load({ HUILIU_TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.5,uniquelocal' }).trustedProxies).toEqual([
      '10.0.0.0/8',
      '192.168.1.5',
      'uniquelocal',
    ]);
    expect(errorOf(() => load({ HUILIU_TRUSTED_PROXIES: 'proxy.example.com' })).message).toMatch(/^HUILIU_TRUSTED_PROXIES: expected IP/);
  });

  it('reads app channel accounts with an inline key or a key file, and names a bad account field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'huiliu-accounts-'));
    writeFileSync(join(dir, 'shop.key'), 'shop-app-key-0123456789\n');
    writeFileSync(join(dir, 'wx.json'), JSON.stringify({ token: 'tok' }));
    const good = join(dir, 'accounts.json');
    writeFileSync(
      good,
      JSON.stringify({
        channels: {
          accounts: [
            { channel: 'AP', accountId: 'shop', name: 'Shop app', skillGroup: 'vip', keyFile: join(dir, 'shop.key') },
            { channel: 'AP', accountId: 'kiosk', name: 'Kiosk', key: 'kiosk-key-0123456789' },
            { channel: 'WX', accountId: 'shop-wx', name: 'Shop WeChat', settings: { appId: 'wx1234' }, secretsFile: join(dir, 'wx.json') },
          ],
        },
      }),
    );
    expect(load({ HUILIU_CONFIG: good }).channelAccounts).toEqual([
      { channel: 'AP', accountId: 'shop', name: 'Shop app', skillGroup: 'vip', key: 'shop-app-key-0123456789' },
      { channel: 'AP', accountId: 'kiosk', name: 'Kiosk', skillGroup: null, key: 'kiosk-key-0123456789' },
      {
        channel: 'WX',
        accountId: 'shop-wx',
        name: 'Shop WeChat',
        skillGroup: null,
        settings: { appId: 'wx1234' },
        secrets: { token: 'tok' },
      },
    ]);
    const cases: [unknown, RegExp][] = [
      [{ channel: 'AP', accountId: 'a:b', name: 'x', key: 'k'.repeat(16) }, /channels\.accounts\.0\.accountId/],
      [{ channel: 'AP', accountId: 'a', name: 'x' }, /exactly one of key or keyFile/],
      [{ channel: 'AP', accountId: 'a', name: 'x', key: 'short' }, /at least 16/],
      [{ channel: 'WX', accountId: 'a', name: 'x', key: 'k'.repeat(16) }, /key and keyFile are for app \(AP\) accounts/],
      [{ channel: 'SP', accountId: 'a', name: 'x' }, /accounts can be AP \(app\), WX \(WeChat\) or XM \(XMPP\)/],
      [{ channel: 'WX', accountId: 'a', name: 'x', secrets: { token: 't' }, secretsFile: 'x.json' }, /secrets or secretsFile, not both/],
      [{ channel: 'WX', accountId: 'a', name: 'x', secretsFile: join(dir, 'missing.json') }, /secretsFile: cannot read/],
      [
        { channel: 'AP', accountId: 'a', name: 'x', key: 'k'.repeat(16), skillGroup: 'nope' },
        /channels\.accounts\.0\.skillGroup: no skill group/,
      ],
      [{ channel: 'AP', accountId: 'a', name: 'x', keyFile: join(dir, 'missing.key') }, /keyFile: cannot read/],
    ];
    for (const [account, message] of cases) {
      const bad = join(dir, 'bad.json');
      writeFileSync(bad, JSON.stringify({ channels: { accounts: [account] } }));
      const error = errorOf(() => load({ HUILIU_CONFIG: bad }));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error?.message).toMatch(message);
    }
  });
});
