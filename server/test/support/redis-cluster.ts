import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/** Debian's Redis (ENVIRONMENT.md); override with `HUILIU_REDIS_SERVER` / `HUILIU_REDIS_CLI`. */
const REDIS_SERVER = process.env.HUILIU_REDIS_SERVER ?? '/usr/bin/redis-server';
const REDIS_CLI = process.env.HUILIU_REDIS_CLI ?? '/usr/bin/redis-cli';
const HOST = '127.0.0.1';

/** A throwaway 6-node Redis Cluster (3 masters, 3 replicas) for one test file. */
export interface RedisClusterHandle {
  /** Seed nodes for `HUILIU_REDIS_NODES`: `127.0.0.1:p1,…,127.0.0.1:p6`. */
  nodes: string;
  /** The same as `{ host, port }` for ioredis's `Cluster`. */
  seeds: { host: string; port: number }[];
  /** Kills every redis-server and deletes the temp dir (idempotent). */
  stop(): Promise<void>;
  /**
   * Kills the master that serves `slot` (SIGKILL) and waits until its replica took over
   * (cluster_state:ok). Answers the killed node's port (for `restartNode`).
   */
  killMasterOf(slot: number): Promise<number>;
  /**
   * Starts a node this handle killed again on its port with its `nodes.conf` (no data: persistence is
   * off), as an orchestrator would restart a pod: it rejoins as a replica of whoever took its slots
   * over, and this waits until its replication link is up and every node says `cluster_state:ok`.
   */
  restartNode(port: number): Promise<void>;
  /**
   * A manual failover of `slot`'s master: `CLUSTER FAILOVER` on its replica (the master stops taking
   * writes, the replica catches up to its offset, then takes over — no write lost by design), and waits
   * until the replica is the master of `slot` and the cluster reports `cluster_state:ok`.
   * Answers the ports of the old and the new master.
   */
  failoverSlot(slot: number): Promise<{ from: number; to: number }>;
  /** The port of the master that serves `slot` now. */
  masterPortOf(slot: number): Promise<number>;
  /** The ports of the replicas of `slot`'s master now. */
  replicaPortsOf(slot: number): Promise<number[]>;
  /**
   * Waits (up to the handle's timeout) until every live node says `cluster_state:ok` and, for a cluster
   * this handle started, 3 masters each have a replica whose link is up — after a freeze, a failover or
   * on a starved machine where a node was briefly flagged `fail?`.
   * @throws Error when the cluster is not healthy in time
   */
  waitHealthy(): Promise<void>;
  /** Freezes (SIGSTOP) or thaws (SIGCONT) a node this handle started: a replica that stops acknowledging. */
  pauseNode(port: number, paused: boolean): void;
  /** The ports of the nodes this handle started and that are still alive (all seeds for an external cluster). */
  livePorts(): number[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Is `port` free to listen on, on the loopback? */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, HOST, () => srv.close(() => resolve(true)));
  });
}

/**
 * `count` ports each free with its cluster bus port (port + 10000, cluster spec) also free. Picks at
 * random in 20000–54999 so the bus port stays below 65536; ports may still be taken between the check
 * and redis-server's bind — `startRedisCluster` retries a node that fails to bind on other ports.
 */
async function freeClusterPorts(count: number, avoid: Set<number>): Promise<number[]> {
  const ports: number[] = [];
  for (let tries = 0; ports.length < count; tries++) {
    if (tries > 2000) throw new Error('redis-cluster: found no free port pairs (port, port+10000) on 127.0.0.1');
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if (avoid.has(port) || avoid.has(port + 10_000) || ports.includes(port)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) ports.push(port);
  }
  return ports;
}

interface NodeProcess {
  port: number;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Starts one cluster-enabled redis-server and waits until it answers PING; null when it could not bind. */
async function startNode(dir: string, port: number): Promise<NodeProcess | null> {
  const child = spawn(
    REDIS_SERVER,
    [
      '--port',
      String(port),
      '--bind',
      HOST,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout',
      '2000',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--protected-mode',
      'no',
      '--daemonize',
      'no',
      // Replicas sync at once (Redis 7 waits 5 s for more replicas to share a diskless transfer).
      '--repl-diskless-sync-delay',
      '0',
      '--loglevel',
      'warning',
      '--logfile',
      '',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (error) => {
      out += String(error);
      resolve(-1);
    });
  });
  let gone = false;
  void exited.then(() => (gone = true));
  const end = Date.now() + 15_000;
  while (Date.now() < end) {
    if (gone) {
      if (/Address already in use|bind/i.test(out)) return null;
      throw new Error(`redis-cluster: redis-server on port ${port} exited:\n${out}`);
    }
    if (await ping(port)) return { port, child, output: () => out, exited };
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`redis-cluster: redis-server on port ${port} did not answer PING in 15 s:\n${out}`);
}

/** A one-shot client for probes: no retries; its errors surface through the awaited command. */
function probe(port: number): Redis {
  const r = new Redis({
    host: HOST,
    port,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
  });
  r.on('error', () => {});
  return r;
}

async function ping(port: number): Promise<boolean> {
  const r = probe(port);
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** `CLUSTER INFO` / `INFO replication` of one node as a map, or null when it does not answer. */
async function info(port: number, command: 'cluster' | 'replication'): Promise<Map<string, string> | null> {
  const r = probe(port);
  try {
    await r.connect();
    const text = command === 'cluster' ? ((await r.call('CLUSTER', 'INFO')) as string) : await r.info('replication');
    return new Map(
      text
        .split(/\r?\n/)
        .filter((l) => l.includes(':'))
        .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]),
    );
  } catch {
    return null;
  } finally {
    r.disconnect();
  }
}

function runCli(args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(REDIS_CLI, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-cluster: redis-cli ${args.join(' ')} took over ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.once('error', (error) => (clearTimeout(timer), reject(error)));
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`redis-cluster: redis-cli ${args.join(' ')} exited with ${code}:\n${out}`));
    });
  });
}

/** Waits until every live node says `cluster_state:ok`, knows all `known` nodes, and there are `masters` masters each with a replica. */
/** The first slot of each master's range as `redis-cli --cluster create` splits 16,384 slots in three. */
const FIRST_SLOTS = [0, 5461, 10923];

async function waitHealthy(ports: number[], masters: number, known: number, ms: number): Promise<void> {
  const end = Date.now() + ms;
  let last = '';
  while (Date.now() < end) {
    const infos = await Promise.all(ports.map((p) => info(p, 'cluster')));
    const repl = await Promise.all(ports.map((p) => info(p, 'replication')));
    const ok = infos.every((i) => i?.get('cluster_state') === 'ok' && Number(i.get('cluster_known_nodes')) >= known);
    const roles = repl.map((r) => r?.get('role'));
    const attached = repl.filter((r) => r?.get('role') === 'slave' && r.get('master_link_status') === 'up').length;
    const masterCount = roles.filter((r) => r === 'master').length;
    last = `states=${infos.map((i) => i?.get('cluster_state')).join(',')} roles=${roles.join(',')} attached=${attached}`;
    if (ok && masterCount === masters && attached === ports.length - masters) {
      // The cluster's own view too: every master's slots have a replica not flagged down (a node the
      // others marked `fail` under load still shows its replication link up until it is cleared).
      const owners = await Promise.all(FIRST_SLOTS.map((slot) => slotOwners(ports, slot).catch(() => null)));
      const orphaned = owners.filter((o) => !o || o.replicas.length === 0).length;
      last += ` orphaned=${orphaned}`;
      if (orphaned === 0) return;
    }
    await sleep(200);
  }
  throw new Error(`redis-cluster: not healthy within ${ms} ms (${last})`);
}

const live = new Set<ChildProcess>();
let exitHook = false;
function killOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.once('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}

/**
 * Starts a 6-node Redis Cluster (3 masters, 3 replicas; `redis-cli --cluster create …
 * --cluster-replicas 1`) of Debian's `redis-server` on free loopback ports in a temp dir — no
 * persistence (`--save "" --appendonly no`), node timeout 2 s — and waits (up to `timeoutMs`, default
 * 60 s for slow 2-core CI) until every node reports `cluster_state:ok` and each replica's link to its
 * master is up. The processes are killed by `stop()` and, failing that, when this process exits.
 * Use one per test file: a start takes a few seconds.
 * @throws Error naming the step and carrying redis's output when a node will not start or the
 *   cluster does not form in time
 */
export async function startRedisCluster(options: { timeoutMs?: number } = {}): Promise<RedisClusterHandle> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const dir = mkdtempSync(join(tmpdir(), 'huiliu-redis-cluster-'));
  const procs: NodeProcess[] = [];
  killOnExit();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    for (const p of procs) live.delete(p.child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const tried = new Set<number>();
    for (let attempt = 0; procs.length < 6; attempt++) {
      if (attempt > 10) throw new Error('redis-cluster: ports kept being taken while starting nodes');
      const ports = await freeClusterPorts(6 - procs.length, tried);
      for (const port of ports) tried.add(port);
      // In parallel: six sequential starts cost ~6 × the fork + first PING on a 2-core CI box.
      const started = await Promise.allSettled(ports.map((port) => startNode(dir, port)));
      for (const r of started) {
        if (r.status === 'fulfilled' && r.value) {
          procs.push(r.value);
          live.add(r.value.child);
        }
      }
      const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    const ports = procs.map((p) => p.port);
    await runCli(['--cluster', 'create', ...ports.map((p) => `${HOST}:${p}`), '--cluster-replicas', '1', '--cluster-yes'], timeoutMs);
    await waitHealthy(ports, 3, 6, timeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }

  const seeds = procs.map((p) => ({ host: HOST, port: p.port }));
  const alivePorts = () => procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null).map((p) => p.port);
  return {
    nodes: seeds.map((s) => `${s.host}:${s.port}`).join(','),
    seeds,
    stop,
    livePorts: alivePorts,
    masterPortOf: (slot) => slotOwners(alivePorts(), slot).then((o) => o.master),
    replicaPortsOf: (slot) => slotOwners(alivePorts(), slot).then((o) => o.replicas),
    pauseNode(port, paused) {
      const p = procs.find((x) => x.port === port && x.child.exitCode === null && x.child.signalCode === null);
      if (!p) throw new Error(`redis-cluster: no live node on port ${port}`);
      p.child.kill(paused ? 'SIGSTOP' : 'SIGCONT');
    },
    failoverSlot: async (slot) => {
      // A replica whose link is down (thawed, just restarted) cannot take a manual failover.
      await waitHealthy(alivePorts(), 3, 6, timeoutMs);
      return failoverSlot(alivePorts(), slot, timeoutMs);
    },
    waitHealthy: () => waitHealthy(alivePorts(), 3, 6, timeoutMs),
    async restartNode(port: number) {
      const p = await startNode(dir, port);
      if (!p) throw new Error(`redis-cluster: port ${port} was taken before the node restarted`);
      const at = procs.findIndex((x) => x.port === port);
      if (at >= 0) procs[at] = p;
      else procs.push(p);
      live.add(p.child);
      await waitHealthy(alivePorts(), 3, 6, timeoutMs);
    },
    async killMasterOf(slot: number) {
      const alive = procs.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
      const masterPort = (
        await slotOwners(
          alive.map((p) => p.port),
          slot,
        )
      ).master;
      const victim = procs.find((p) => p.port === masterPort)!;
      victim.child.kill('SIGKILL');
      await victim.exited;
      live.delete(victim.child);
      const rest = alive.filter((p) => p !== victim).map((p) => p.port);
      // The replica is promoted after the node timeout (2 s); the dead master stays "known" but failed.
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        const infos = await Promise.all(rest.map((p) => info(p, 'cluster')));
        const repl = await Promise.all(rest.map((p) => info(p, 'replication')));
        if (infos.every((i) => i?.get('cluster_state') === 'ok') && repl.filter((x) => x?.get('role') === 'master').length === 3) {
          return victim.port;
        }
        await sleep(200);
      }
      throw new Error(`redis-cluster: no failover of slot ${slot} within ${timeoutMs} ms`);
    },
  };
}

/**
 * The master and replica ports serving `slot`, as `CLUSTER NODES` of the first answering node says
 * (not `CLUSTER SLOTS`: Redis 7 leaves out replicas that have not replicated a write yet).
 */
async function slotOwners(ports: number[], slot: number): Promise<{ master: number; replicas: number[] }> {
  for (const port of ports) {
    const r = probe(port);
    try {
      await r.connect();
      const lines = String(await r.call('CLUSTER', 'NODES'))
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' '));
      const portOf = (addr: string) => Number(addr.split('@')[0]!.split(':').pop());
      const owns = (ranges: string[]) =>
        ranges.some((range) => {
          if (range.startsWith('[')) return false; // a slot being migrated
          const [from, to] = range.split('-').map(Number);
          return slot >= from! && slot <= (to ?? from)!;
        });
      // Only a node the cluster agreed is down (`fail`) is left out: `fail?` is one node's suspicion
      // (PFAIL), which a starved 2-core machine raises and clears within a node timeout.
      const flags = (f: string[]) => f[2]!.split(',');
      const down = (f: string[]) => flags(f).includes('fail') || flags(f).includes('handshake') || flags(f).includes('noaddr');
      const master = lines.find((f) => flags(f).includes('master') && !down(f) && owns(f.slice(8)));
      if (!master) throw new Error(`redis-cluster: no node serves slot ${slot}`);
      const replicas = lines.filter((f) => f[3] === master[0] && !down(f)).map((f) => portOf(f[1]!));
      return { master: portOf(master[1]!), replicas };
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('redis-cluster:')) throw error;
    } finally {
      r.disconnect();
    }
  }
  throw new Error('redis-cluster: no node answered CLUSTER NODES');
}

/** A manual failover Redis gave up on (it aborts one not done in 5 s, CLUSTER_MF_TIMEOUT) is asked again after this. */
const FAILOVER_REASK_MS = 8000;

async function failoverSlot(ports: number[], slot: number, timeoutMs: number): Promise<{ from: number; to: number }> {
  const { master, replicas } = await slotOwners(ports, slot);
  const replica = replicas[0];
  if (replica === undefined) throw new Error(`redis-cluster: slot ${slot}'s master ${master} has no replica`);
  const ask = async () => {
    const r = probe(replica);
    try {
      await r.connect();
      await r.call('CLUSTER', 'FAILOVER');
    } finally {
      r.disconnect();
    }
  };
  await ask();
  let asked = Date.now();
  let reasked = 0;
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const infos = await Promise.all(ports.map((p) => info(p, 'cluster')));
    if (infos.every((i) => i?.get('cluster_state') === 'ok')) {
      const now = await slotOwners(ports, slot).catch(() => null);
      if (now?.master === replica) return { from: master, to: replica };
    }
    // On a starved machine the master may not pause, or the replica not catch up, within Redis's 5 s:
    // the manual failover is then silently aborted, so it is asked again (still a no-loss failover).
    if (Date.now() - asked > FAILOVER_REASK_MS) {
      await ask().catch(() => undefined);
      asked = Date.now();
      reasked++;
    }
    await sleep(100);
  }
  throw new Error(
    `redis-cluster: CLUSTER FAILOVER of slot ${slot} to ${replica} did not finish within ${timeoutMs} ms (asked ${reasked + 1} times)`,
  );
}

/**
 * The cluster a test file runs against: the one named by `HUILIU_REDIS_NODES` (`host:port,…`, e.g. a
 * CI service or a cluster an operator started; `stop` then only forgets it, and the failover helpers
 * drive that cluster's nodes) or, when unset, a fresh one from `startRedisCluster`.
 */
export async function useRedisCluster(options: { timeoutMs?: number } = {}): Promise<RedisClusterHandle> {
  const env = process.env.HUILIU_REDIS_NODES;
  if (!env) return startRedisCluster(options);
  const seeds = env.split(',').map((s) => {
    const [host, port] = s.trim().split(':');
    if (!host || !port || !/^\d+$/.test(port)) throw new Error(`HUILIU_REDIS_NODES: "${s}" is not host:port`);
    return { host, port: Number(port) };
  });
  const ports = seeds.map((s) => s.port);
  const timeoutMs = options.timeoutMs ?? 60_000;
  return {
    nodes: env,
    seeds,
    stop: async () => {},
    livePorts: () => ports,
    masterPortOf: (slot) => slotOwners(ports, slot).then((o) => o.master),
    replicaPortsOf: (slot) => slotOwners(ports, slot).then((o) => o.replicas),
    pauseNode: () => {
      throw new Error('redis-cluster: pauseNode needs a cluster this test started (unset HUILIU_REDIS_NODES)');
    },
    failoverSlot: (slot) => failoverSlot(ports, slot, timeoutMs),
    async waitHealthy() {
      const end = Date.now() + timeoutMs;
      for (;;) {
        const infos = await Promise.all(ports.map((p) => info(p, 'cluster')));
        if (infos.every((i) => i?.get('cluster_state') === 'ok')) return;
        if (Date.now() > end) throw new Error(`redis-cluster: ${env} not healthy within ${timeoutMs} ms`);
        await sleep(200);
      }
    },
    killMasterOf: () =>
      Promise.reject(new Error('redis-cluster: killMasterOf needs a cluster this test started (unset HUILIU_REDIS_NODES)')),
    restartNode: () => Promise.reject(new Error('redis-cluster: restartNode needs a cluster this test started (unset HUILIU_REDIS_NODES)')),
  };
}
