import { afterAll, afterEach, beforeAll } from 'vitest';
import { deleteKeys, redisUrlForTests, requireRedis, uniqueKeyPrefix } from './redis';
import { spawnReadyGateway, type SpawnedGateway } from './spawn-gateway';
import { openStream, type SseStream } from './sse-client';

/** Two gateway processes of one suite and the streams it opened on them. */
export interface GatewayPair {
  /** The first gateway (set once the suite's `beforeAll` ran). */
  readonly a: SpawnedGateway;
  /** The second gateway. */
  readonly b: SpawnedGateway;
  /** Every stream {@link GatewayPair.open} opened and not yet closed by {@link closeStreams}. */
  readonly streams: SseStream[];
  /** Opens `path` on `base` (one of the pair's URLs) and tracks the stream for closing. */
  open(base: string, path: string, headers?: Record<string, string>): Promise<SseStream>;
  /** Closes the tracked streams now (the hooks do it too; see {@link GatewayPairOptions}). */
  closeStreams(): Promise<void>;
}

/** How {@link useGatewayPair} starts and stops the two gateways. */
export interface GatewayPairOptions {
  /**
   * The environment of both gateways, read in `beforeAll` (so it may start what they connect to
   * first); `undefined` starts none (the suite skips, see requireRedis / requireBinaries).
   */
  env(): Promise<Record<string, string> | undefined> | Record<string, string> | undefined;
  /** INSTANCE_ID of each; without it each gateway makes its own. */
  ids?: readonly [string, string];
  /** Boot timeout of each gateway (spawnReadyGateway's default when absent). */
  readyTimeoutMs?: number;
  /** `beforeAll` timeout (vitest's default when absent). */
  setupTimeoutMs?: number;
  /** Close tracked streams after each test (default) or keep them until all ran. */
  closeStreams?: 'afterEach' | 'afterAll';
  /** Runs after both gateways exited (remove keys, stop a topology). */
  cleanup?(): Promise<void>;
}

/**
 * Registers hooks in the current `describe`: `beforeAll` spawns two ready gateways
 * (spawnReadyGateway, built `dist/`) with `options.env()`, streams opened through the pair are
 * closed after each test (or after all), and `afterAll` kills both by pid, waits for their exit,
 * then runs `options.cleanup`.
 */
export function useGatewayPair(options: GatewayPairOptions): GatewayPair {
  let a: SpawnedGateway | undefined;
  let b: SpawnedGateway | undefined;
  const streams: SseStream[] = [];
  const closeStreams = async (): Promise<void> => {
    for (const s of streams.splice(0)) await s.close();
  };
  const started = (g: SpawnedGateway | undefined, name: string): SpawnedGateway => {
    if (!g) throw new Error(`gateway ${name} is not running (beforeAll skipped or failed)`);
    return g;
  };

  beforeAll(async () => {
    const env = await options.env();
    if (env === undefined) return;
    const spawnOne = (id: string | undefined) =>
      spawnReadyGateway(
        id === undefined ? env : { ...env, INSTANCE_ID: id },
        options.readyTimeoutMs,
      );
    [a, b] = await Promise.all([spawnOne(options.ids?.[0]), spawnOne(options.ids?.[1])]);
  }, options.setupTimeoutMs);
  if ((options.closeStreams ?? 'afterEach') === 'afterEach') afterEach(closeStreams);
  afterAll(async () => {
    if (options.closeStreams === 'afterAll') await closeStreams();
    for (const g of [a, b]) g?.kill('SIGKILL');
    await Promise.all([a?.exited, b?.exited]);
    await options.cleanup?.();
  });

  return {
    get a() {
      return started(a, 'a');
    },
    get b() {
      return started(b, 'b');
    },
    streams,
    async open(base, path, headers) {
      const s = await openStream(base, path, { headers });
      streams.push(s);
      return s;
    },
    closeStreams,
  };
}

/** A {@link GatewayPair} on the shared test Redis, and what it was started with. */
export interface RedisGatewayPair extends GatewayPair {
  /** The suite's own key prefix (its keys are deleted after all). */
  readonly prefix: string;
  /** The environment both gateways got (without INSTANCE_ID), to spawn more alike. */
  readonly env: Record<string, string>;
  /** False when Redis was unreachable (locally the suite's tests skip). */
  redisReady(): boolean;
}

/**
 * {@link useGatewayPair} with `BROKER=redis` on the shared test Redis (requireRedis) under a
 * fresh key prefix `label`… (REDIS_KEY_PREFIX, INGEST_STREAM `<prefix>ingest`) plus `env`.
 */
export function useRedisGatewayPair(
  label: string,
  env: Record<string, string>,
  options: Omit<GatewayPairOptions, 'env' | 'cleanup'> = {},
): RedisGatewayPair {
  const redisReady = requireRedis();
  const prefix = uniqueKeyPrefix(label);
  const full: Record<string, string> = {
    BROKER: 'redis',
    REDIS_URL: redisUrlForTests(),
    REDIS_KEY_PREFIX: prefix,
    INGEST_STREAM: `${prefix}ingest`,
    ...env,
  };
  const pair = useGatewayPair({
    ...options,
    env: () => (redisReady() ? full : undefined),
    cleanup: () => deleteKeys(prefix),
  });
  return {
    get a() {
      return pair.a;
    },
    get b() {
      return pair.b;
    },
    streams: pair.streams,
    open: pair.open,
    closeStreams: pair.closeStreams,
    prefix,
    env: full,
    redisReady,
  };
}
