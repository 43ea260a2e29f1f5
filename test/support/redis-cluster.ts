import { spawn } from 'node:child_process';
import {
  baseServerArgs,
  infoFields,
  redisQuery,
  spawnTracked,
  topologyDir,
  waitForPing,
  useTopology,
  type TopologyProcess,
} from './redis-topology';
import { waitFor } from './wait';

/** One node of a {@link RedisClusterTopology}. */
export interface ClusterNode extends TopologyProcess {
  /** The node's cluster id (CLUSTER MYID). */
  readonly id: string;
}

/** A real Redis Cluster on loopback: 3 primaries with one replica each. */
export interface RedisClusterTopology {
  readonly nodes: readonly ClusterNode[];
  /** `127.0.0.1:<port>` of every node, comma-separated (REDIS_CLUSTER_NODES). */
  readonly seeds: string;
  /** Ports of the live primaries, as the live nodes report them. */
  primaries(): Promise<number[]>;
  /** Port of the primary serving `slot`. */
  primaryForSlot(slot: number): Promise<number>;
  /**
   * Kills (SIGKILL) the primary on `port`, then waits until one of its replicas took over its
   * slots and every live node reports `cluster_state:ok`. Returns the new primary's port.
   */
  killPrimaryAndWaitForFailover(
    port: number,
    timeoutMs?: number,
    afterKill?: () => Promise<void>,
  ): Promise<number>;
  /** The live node processes replicating the primary on `port`. */
  replicasOf(port: number): Promise<ClusterNode[]>;
  /** Waits until every live node says `cluster_state:ok` and every live replica is linked. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /** Stops every node (SIGKILL) and removes the temporary directory. */
  stop(): Promise<void>;
}

/** Options of {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** First port; nodes use `basePort .. basePort + 5` and bus ports +10000. Default 7100. */
  readonly basePort?: number;
  /** cluster-node-timeout in ms (failure detection). Default 1000. */
  readonly nodeTimeoutMs?: number;
}

/**
 * Starts 6 `redis-server --cluster-enabled yes` nodes on 127.0.0.1 and joins them with
 * `redis-cli --cluster create --cluster-replicas 1`, then waits until the cluster is ok and each
 * replica is connected to its primary.
 */
export async function startRedisCluster(
  options: RedisClusterOptions = {},
): Promise<RedisClusterTopology> {
  const base = options.basePort ?? 7100;
  const ports = [0, 1, 2, 3, 4, 5].map((i) => base + i);
  const tmp = topologyDir('cluster');
  const procs: TopologyProcess[] = [];
  const stopAll = async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    tmp.remove();
  };
  try {
    for (const port of ports) {
      procs.push(
        spawnTracked(
          'redis-server',
          [
            ...baseServerArgs(port, tmp.dir),
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            String(options.nodeTimeoutMs ?? 1000),
            // A replica may take over however long it was disconnected (tests kill primaries).
            '--cluster-replica-validity-factor',
            '0',
          ],
          port,
        ),
      );
    }
    await Promise.all(procs.map((p) => waitForPing(p)));
    await runClusterCreate(ports);
    const nodes: ClusterNode[] = [];
    for (const p of procs) {
      const id = await redisQuery(p.port, 'CLUSTER', 'MYID');
      if (typeof id !== 'string') throw new Error(`no CLUSTER MYID from ${p.port}`);
      nodes.push(Object.assign(p, { id }));
    }
    const topology = clusterTopology(nodes, stopAll);
    await topology.waitHealthy(30_000);
    return topology;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

function runClusterCreate(ports: readonly number[]): Promise<void> {
  const args = [
    '--cluster',
    'create',
    ...ports.map((p) => `127.0.0.1:${p}`),
    '--cluster-replicas',
    '1',
    '--cluster-yes',
  ];
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve();
      else reject(new Error(`redis-cli --cluster create failed (${code}):\n${output}`));
    });
  });
}

interface NodeLine {
  readonly id: string;
  readonly port: number;
  readonly primary: boolean;
  readonly failed: boolean;
  readonly primaryId: string;
  readonly slots: readonly [number, number][];
}

/** Parses CLUSTER NODES. */
function parseNodes(text: string): NodeLine[] {
  return text
    .trim()
    .split('\n')
    .map((line) => {
      const [id, addr, flags, primaryId, , , , , ...slots] = line.split(' ');
      return {
        id,
        port: Number(/:(\d+)@/.exec(addr)?.[1] ?? 0),
        primary: flags.includes('master'),
        failed: flags.includes('fail'),
        primaryId,
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s) => {
            const [from, to] = s.split('-').map(Number);
            return [from, to ?? from] as [number, number];
          }),
      };
    });
}

function clusterTopology(
  nodes: readonly ClusterNode[],
  stopAll: () => Promise<void>,
): RedisClusterTopology {
  const live = () => nodes.filter((n) => n.alive());
  const view = async (): Promise<NodeLine[]> => {
    for (const n of live()) {
      const text = await redisQuery(n.port, 'CLUSTER', 'NODES');
      if (typeof text === 'string') return parseNodes(text);
    }
    throw new Error('no live cluster node answers CLUSTER NODES');
  };
  const liveIds = () => new Set(live().map((n) => n.id));

  const topology: RedisClusterTopology = {
    nodes,
    seeds: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    async primaries() {
      const ids = liveIds();
      return (await view())
        .filter((l) => l.primary && !l.failed && ids.has(l.id) && l.slots.length > 0)
        .map((l) => l.port);
    },
    async primaryForSlot(slot: number) {
      const ids = liveIds();
      const owner = (await view()).find(
        (l) => l.primary && ids.has(l.id) && l.slots.some(([a, b]) => slot >= a && slot <= b),
      );
      if (!owner) throw new Error(`no live primary serves slot ${slot}`);
      return owner.port;
    },
    async waitHealthy(timeoutMs = 30_000) {
      await waitFor(
        async () => {
          for (const n of live()) {
            const info = infoFields(await redisQuery(n.port, 'CLUSTER', 'INFO'));
            if (info.get('cluster_state') !== 'ok') return false;
            const repl = infoFields(await redisQuery(n.port, 'INFO', 'replication'));
            if (repl.get('role') === 'slave' && repl.get('master_link_status') !== 'up') {
              return false;
            }
          }
          // Every node agrees on three primaries covering the slots.
          return (await topology.primaries()).length === 3;
        },
        'Redis Cluster healthy (cluster_state:ok, replicas linked)',
        timeoutMs,
        100,
      );
    },
    async replicasOf(port: number) {
      const lines = await view();
      const primary = lines.find((l) => l.port === port && l.primary);
      const ports = new Set(lines.filter((l) => l.primaryId === primary?.id).map((l) => l.port));
      return live().filter((n) => ports.has(n.port));
    },
    async killPrimaryAndWaitForFailover(
      port: number,
      timeoutMs = 30_000,
      afterKill?: () => Promise<void>,
    ) {
      const before = await view();
      const victim = before.find((l) => l.port === port && l.primary);
      if (!victim) throw new Error(`${port} is not a primary`);
      const replicas = before.filter((l) => l.primaryId === victim.id).map((l) => l.port);
      const node = nodes.find((n) => n.port === port);
      await node?.stop('SIGKILL');
      await afterKill?.();
      let promoted = 0;
      await waitFor(
        async () => {
          for (const r of replicas) {
            const repl = infoFields(await redisQuery(r, 'INFO', 'replication'));
            if (repl.get('role') === 'master') promoted = r;
          }
          if (promoted === 0) return false;
          for (const n of live()) {
            const info = infoFields(await redisQuery(n.port, 'CLUSTER', 'INFO'));
            if (info.get('cluster_state') !== 'ok') return false;
          }
          return true;
        },
        `failover of primary ${port}`,
        timeoutMs,
        100,
      );
      return promoted;
    },
    stop: stopAll,
  };
  return topology;
}

/**
 * Registers hooks in the current `describe`: its tests skip unless `binaries` are installed
 * (requireBinaries; in CI a missing one fails), a cluster is started ({@link startRedisCluster})
 * before all and stopped after all. Returns the running topology (throws if it did not start).
 */
export function useRedisCluster(
  binaries: readonly string[],
  options: RedisClusterOptions = {},
  setupTimeoutMs = 60_000,
): () => RedisClusterTopology {
  return useTopology(
    binaries,
    () => startRedisCluster(options),
    'the Redis Cluster',
    setupTimeoutMs,
  );
}
