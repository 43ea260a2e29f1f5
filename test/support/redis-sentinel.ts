import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** A primary, one replica and three sentinels on loopback. */
export interface RedisSentinelTopology {
  /** The name the sentinels monitor (REDIS_SENTINEL_NAME). */
  readonly name: string;
  /** The two data servers (initially primary, replica). */
  readonly servers: readonly TopologyProcess[];
  readonly sentinels: readonly TopologyProcess[];
  /** `127.0.0.1:<port>` of every sentinel, comma-separated (REDIS_SENTINELS). */
  readonly sentinelAddresses: string;
  /** Port of the primary, as the sentinels report it. */
  primaryPort(): Promise<number>;
  /**
   * Kills (SIGKILL) the current primary and waits until every live sentinel names the replica as
   * primary and it answers as `role:master`. Returns the new primary's port.
   */
  killPrimaryAndWaitForFailover(
    timeoutMs?: number,
    afterKill?: () => Promise<void>,
  ): Promise<number>;
  /**
   * Restarts a stopped server as a replica of the primary the sentinels name (REPLICAOF, not left
   * to Sentinel's delayed conversion) and waits until its link is up.
   */
  restartAsReplica(port: number, timeoutMs?: number): Promise<void>;
  /** Stops every process (SIGKILL) and removes the temporary directory. */
  stop(): Promise<void>;
}

/** Options of {@link startRedisSentinel}. */
export interface RedisSentinelOptions {
  /** Ports of the primary and the replica. Default 7130, 7131. */
  readonly serverPorts?: readonly [number, number];
  /** Ports of the three sentinels. Default 26430..26432. */
  readonly sentinelPorts?: readonly [number, number, number];
  /** Monitored name. Default `herald`. */
  readonly name?: string;
  /** down-after-milliseconds. Default 1000. */
  readonly downAfterMs?: number;
}

/**
 * Starts a primary, a replica (`--replicaof`) and three `redis-sentinel`s (config files in a
 * temp dir, quorum 2), and waits until the replica is linked and every sentinel knows the replica
 * and the two other sentinels.
 */
export async function startRedisSentinel(
  options: RedisSentinelOptions = {},
): Promise<RedisSentinelTopology> {
  const [primaryPort, replicaPort] = options.serverPorts ?? [7130, 7131];
  const sentinelPorts = options.sentinelPorts ?? [26430, 26431, 26432];
  const name = options.name ?? 'herald';
  const tmp = topologyDir('sentinel');
  const servers: TopologyProcess[] = [];
  const sentinels: TopologyProcess[] = [];
  const stopAll = async () => {
    await Promise.all([...sentinels, ...servers].map((p) => p.stop('SIGKILL')));
    tmp.remove();
  };
  try {
    servers.push(spawnTracked('redis-server', baseServerArgs(primaryPort, tmp.dir), primaryPort));
    servers.push(
      spawnTracked(
        'redis-server',
        [...baseServerArgs(replicaPort, tmp.dir), '--replicaof', '127.0.0.1', String(primaryPort)],
        replicaPort,
      ),
    );
    await Promise.all(servers.map((p) => waitForPing(p)));
    await waitFor(
      async () =>
        infoFields(await redisQuery(replicaPort, 'INFO', 'replication')).get(
          'master_link_status',
        ) === 'up',
      'replica linked to the primary',
      15_000,
      50,
    );
    for (const port of sentinelPorts) {
      const file = join(tmp.dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${tmp.dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${name} ${options.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      sentinels.push(spawnTracked('redis-sentinel', [file], port));
    }
    await Promise.all(sentinels.map((p) => waitForPing(p)));
    await waitFor(
      async () => {
        for (const s of sentinels) {
          const master = await redisQuery(s.port, 'SENTINEL', 'MASTER', name);
          const fields = pairs(master);
          if (fields.get('num-slaves') !== '1') return false;
          if (fields.get('num-other-sentinels') !== String(sentinelPorts.length - 1)) return false;
        }
        return true;
      },
      'sentinels discovered the replica and each other',
      30_000,
      100,
    );
    const primaryOf = async (): Promise<number> => {
      for (const s of sentinels.filter((p) => p.alive())) {
        const addr = await redisQuery(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name);
        if (Array.isArray(addr) && addr.length === 2) return Number(addr[1]);
      }
      throw new Error('no sentinel names a primary');
    };
    return {
      name,
      servers,
      sentinels,
      sentinelAddresses: sentinelPorts.map((p) => `127.0.0.1:${p}`).join(','),
      primaryPort: primaryOf,
      async killPrimaryAndWaitForFailover(timeoutMs = 30_000, afterKill?: () => Promise<void>) {
        const old = await primaryOf();
        await servers.find((s) => s.port === old)?.stop('SIGKILL');
        await afterKill?.();
        let promoted = 0;
        await waitFor(
          async () => {
            const named = new Set<number>();
            for (const s of sentinels.filter((p) => p.alive())) {
              const addr = await redisQuery(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name);
              if (Array.isArray(addr)) named.add(Number(addr[1]));
            }
            if (named.size !== 1 || named.has(old)) return false;
            promoted = [...named][0];
            const role = infoFields(await redisQuery(promoted, 'INFO', 'replication'));
            return role.get('role') === 'master';
          },
          `sentinel failover away from ${old}`,
          timeoutMs,
          100,
        );
        return promoted;
      },
      async restartAsReplica(port: number, timeoutMs = 30_000) {
        const server = servers.find((s) => s.port === port);
        if (!server) throw new Error(`no server on ${port}`);
        await server.restart();
        // A restarted old primary comes back as a master. Sentinel converts it on its own only
        // after it has reported the wrong role for a while, and not at all while in TILT mode
        // (which a loaded 2-core CI machine can trigger by delaying its timer): 30 s can pass.
        // Point it at the primary the sentinels name, as an operator's restart script would.
        const primary = await primaryOf();
        await redisQuery(port, 'REPLICAOF', '127.0.0.1', String(primary));
        await waitFor(
          async () => {
            const repl = infoFields(await redisQuery(port, 'INFO', 'replication'));
            return repl.get('role') === 'slave' && repl.get('master_link_status') === 'up';
          },
          `server ${port} replicating the new primary`,
          timeoutMs,
          100,
        );
      },
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** A flat `[k, v, k, v]` reply as a map. */
function pairs(reply: unknown): Map<string, string> {
  const out = new Map<string, string>();
  if (!Array.isArray(reply)) return out;
  for (let i = 0; i + 1 < reply.length; i += 2) out.set(String(reply[i]), String(reply[i + 1]));
  return out;
}

/**
 * Registers hooks in the current `describe`: its tests skip unless `binaries` are installed
 * (requireBinaries; in CI a missing one fails), a Sentinel topology is started
 * ({@link startRedisSentinel}) before all and stopped after all. Returns the running topology
 * (throws if it did not start).
 */
export function useRedisSentinel(
  binaries: readonly string[],
  options: RedisSentinelOptions = {},
  setupTimeoutMs = 60_000,
): () => RedisSentinelTopology {
  return useTopology(
    binaries,
    () => startRedisSentinel(options),
    'the Sentinel topology',
    setupTimeoutMs,
  );
}
