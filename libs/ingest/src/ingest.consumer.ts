import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { Broker, BrokerError, BrokerErrorCode } from '@herald/broker';
import { PublishError, PublishService } from '@herald/publish';
import { RedisConnections, type RedisClient } from '@herald/redis';
import { INGEST_MODULE_OPTIONS } from './ingest.module-definition';
import type { IngestModuleOptions } from './ingest.options';

type Entry = [id: string, fields: string[]];

/** What happened to one entry. */
export type IngestOutcome = 'published' | 'duplicate' | 'dead' | 'retry';

/** Counters of the consumer (metrics, tests). */
export interface IngestStats {
  readonly published: number;
  readonly duplicates: number;
  readonly dead: number;
  readonly claimed: number;
}

const KNOWN_FIELDS = new Set(['topic', 'type', 'data', 'idempotencyKey']);

/**
 * Failed attempts at one entry (while Redis answers) before it is dead-lettered: an entry the
 * broker keeps refusing, or whose handling throws, never holds back the entries after it.
 */
export const INGEST_MAX_ATTEMPTS = 5;

/** Default cap of the dead-letter stream (INGEST_DEAD_MAXLEN; trimmed with `MAXLEN ~`). */
export const DEFAULT_INGEST_DEAD_MAXLEN = 10_000;

/**
 * Backoff after the n-th failed attempt at an entry: 500 ms, doubling, at most 4 s, so an entry
 * is dead-lettered about 7.5 s after its first failure, not by a brief blip.
 */
function backoffMs(attempt: number): number {
  return Math.min(500 * 2 ** Math.max(0, attempt - 1), 4000);
}

/**
 * Reads the ingest stream with XREADGROUP (its own blocking connection), publishes each entry
 * through {@link PublishService} (same validation and redaction as `POST /events`), then XACKs.
 * Each entry's idempotency key (its own `idempotencyKey` field, else its entry id) makes a
 * re-delivered or re-claimed entry publish once. Invalid entries go to `<stream>:dead` with the
 * reason. Entries idle for `claimIdleMs` on any consumer (a dead instance) are XAUTOCLAIMed.
 * An entry whose publish fails while the broker answers is retried with backoff, then
 * dead-lettered after {@link INGEST_MAX_ATTEMPTS} attempts; while the broker does not answer
 * (Redis away, reconnecting) nothing is counted.
 */
@Injectable()
export class IngestConsumer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(IngestConsumer.name);
  private readonly group: string;
  private readonly deadStream: string;
  private blocking: RedisClient | undefined;
  private cmd: RedisClient | undefined;
  private loop: Promise<void> | undefined;
  private stopping = false;
  private counts = { published: 0, duplicates: 0, dead: 0, claimed: 0 };
  /** Failed attempts per entry id on this instance (cleared when the entry is acknowledged). */
  private readonly attempts = new Map<string, number>();
  /** Backoff before the next read after a failed entry. */
  private retryInMs = 0;

  constructor(
    private readonly publisher: PublishService,
    private readonly broker: Broker,
    @Inject(INGEST_MODULE_OPTIONS) private readonly options: IngestModuleOptions,
  ) {
    this.group = options.group ?? 'herald';
    this.deadStream = `${options.stream}:dead`;
  }

  /** Counters since start. */
  stats(): IngestStats {
    return { ...this.counts };
  }

  onApplicationBootstrap(): void {
    const connections = new RedisConnections(this.options.redis);
    this.blocking = connections.create('blocking', { name: 'herald-ingest' });
    this.cmd = connections.create('commands', { name: 'herald-ingest-cmd' });
    this.blocking.on('error', () => undefined);
    this.cmd.on('error', () => undefined);
    this.loop = this.run();
  }

  /** Lets the current batch finish (bounded: a read stuck on a lost Redis is abandoned). */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.loop,
      new Promise<void>(
        (done) => (timer = setTimeout(done, (this.options.blockMs ?? 1000) + 2000)),
      ),
    ]);
    clearTimeout(timer);
    this.blocking?.disconnect();
    this.cmd?.disconnect();
  }

  private async run(): Promise<void> {
    const blocking = this.blocking as RedisClient;
    let groupReady = false;
    let ownPending = true;
    let nextClaimAt = 0;
    while (!this.stopping) {
      try {
        if (!groupReady) groupReady = await this.createGroup(blocking);
        if (Date.now() >= nextClaimAt) {
          nextClaimAt = Date.now() + Math.max(250, Math.floor(this.options.claimIdleMs / 2));
          await this.claimIdle(blocking);
        }
        // After a start or a failure, first retry this consumer's own pending entries ('0').
        const entries = await this.read(blocking, ownPending ? '0' : '>');
        if (ownPending && entries.length === 0) ownPending = false;
        if (!(await this.handleAll(entries))) {
          ownPending = true;
          await sleep(this.retryInMs);
        }
      } catch (err) {
        if (this.stopping) break;
        this.logger.warn(`ingest: ${errorText(err)}`);
        groupReady = false;
        ownPending = true;
        await sleep(500);
      }
    }
  }

  private async createGroup(redis: RedisClient): Promise<boolean> {
    try {
      await redis.xgroup('CREATE', this.options.stream, this.group, '0', 'MKSTREAM');
    } catch (err) {
      if (!errorText(err).includes('BUSYGROUP')) throw err;
    }
    return true;
  }

  private async read(redis: RedisClient, from: '0' | '>'): Promise<Entry[]> {
    const count = this.options.batchSize ?? 100;
    const reply = (
      from === '>'
        ? await redis.xreadgroup(
            'GROUP',
            this.group,
            this.options.consumer,
            'COUNT',
            count,
            'BLOCK',
            this.options.blockMs ?? 1000,
            'STREAMS',
            this.options.stream,
            from,
          )
        : await redis.xreadgroup(
            'GROUP',
            this.group,
            this.options.consumer,
            'COUNT',
            count,
            'STREAMS',
            this.options.stream,
            from,
          )
    ) as [string, Entry[]][] | null;
    if (!reply) return [];
    // Pending entries deleted from the stream come back with null fields: drop them.
    return (reply[0]?.[1] ?? []).filter((e) => Array.isArray(e[1]));
  }

  /** Claims entries another (dead) consumer left pending too long, and handles them. */
  private async claimIdle(redis: RedisClient): Promise<void> {
    let start = '0-0';
    for (let round = 0; round < 10 && !this.stopping; round++) {
      const [next, entries] = (await redis.xautoclaim(
        this.options.stream,
        this.group,
        this.options.consumer,
        this.options.claimIdleMs,
        start,
        'COUNT',
        this.options.batchSize ?? 100,
      )) as [string, Entry[]];
      const live = entries.filter((e) => Array.isArray(e[1]));
      if (live.length > 0) {
        this.counts.claimed += live.length;
        this.logger.log(`claimed ${live.length} idle ingest entries`);
        if (!(await this.handleAll(live))) return;
      }
      if (next === '0-0') return;
      start = next;
    }
  }

  /** Handles entries in order; false when one is to be retried (it and the rest stay pending). */
  private async handleAll(entries: readonly Entry[]): Promise<boolean> {
    for (const entry of entries) {
      const outcome = await this.handle(entry);
      if (outcome === 'retry') return false;
    }
    return true;
  }

  private async handle([id, flat]: Entry): Promise<IngestOutcome> {
    const fields = new Map<string, string>();
    for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i], flat[i + 1]);
    let outcome: IngestOutcome;
    const reason = invalidEntry(fields);
    if (reason !== undefined) {
      outcome = await this.deadLetter(id, flat, reason);
    } else {
      try {
        outcome = await this.publish(id, fields);
      } catch (err) {
        if (err instanceof PublishError) {
          outcome = await this.deadLetter(id, flat, err.message);
        } else if (err instanceof BrokerError && err.code === BrokerErrorCode.IdempotencyConflict) {
          outcome = await this.deadLetter(id, flat, err.message);
        } else {
          const failed = await this.failedAttempt(id, err);
          if (failed === undefined) return 'retry';
          outcome = await this.deadLetter(id, flat, failed);
        }
      }
    }
    await (this.cmd as RedisClient).xack(this.options.stream, this.group, id);
    this.attempts.delete(id);
    return outcome;
  }

  private async publish(id: string, fields: Map<string, string>): Promise<IngestOutcome> {
    const type = fields.get('type');
    const body = {
      topic: fields.get('topic'),
      ...(type === undefined || type === '' ? {} : { type }),
      data: JSON.parse(fields.get('data') as string) as unknown,
    };
    const own = fields.get('idempotencyKey');
    // Own keys and entry ids live in namespaces no HTTP publisher (whatever its sub) can reach.
    const result = await this.publisher.publish(body, {
      scope: {
        namespace: own === undefined || own === '' ? 'ingest-entry' : 'ingest',
        owner: this.options.stream,
      },
      idempotencyKey: own === undefined || own === '' ? id : own,
    });
    if (result.duplicate) this.counts.duplicates++;
    else this.counts.published++;
    return result.duplicate ? 'duplicate' : 'published';
  }

  /**
   * Counts a failed attempt at entry `id` and schedules the retry.
   * @returns the dead-letter reason once the entry has failed INGEST_MAX_ATTEMPTS times, else
   *   undefined (retry). Attempts while the broker does not answer its ping are not counted:
   *   the entry is not at fault (a valid entry must not be dead-lettered during an outage).
   */
  private async failedAttempt(id: string, err: unknown): Promise<string | undefined> {
    const why = errorText(err);
    if (!(await this.brokerAnswers())) {
      this.retryInMs = 500;
      this.logger.warn(`ingest entry ${id} not published yet (broker unavailable): ${why}`);
      return undefined;
    }
    const attempt = (this.attempts.get(id) ?? 0) + 1;
    if (attempt >= INGEST_MAX_ATTEMPTS) {
      this.logger.error(`ingest entry ${id} dead-lettered after ${attempt} attempts: ${why}`);
      return `not published after ${attempt} attempts: ${why}`;
    }
    // Stale ids (entries claimed and finished elsewhere) must not pile up.
    if (this.attempts.size >= 10_000) this.attempts.clear();
    this.attempts.set(id, attempt);
    this.retryInMs = backoffMs(attempt);
    this.logger.warn(`ingest entry ${id} failed (attempt ${attempt}), retrying: ${why}`);
    return undefined;
  }

  private async brokerAnswers(): Promise<boolean> {
    try {
      await this.broker.ping();
      return true;
    } catch {
      return false;
    }
  }

  private async deadLetter(id: string, flat: string[], reason: string): Promise<IngestOutcome> {
    const kept = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      if (KNOWN_FIELDS.has(flat[i])) kept.push(flat[i], flat[i + 1]);
    }
    const maxLen = this.options.deadMaxLen ?? DEFAULT_INGEST_DEAD_MAXLEN;
    await (this.cmd as RedisClient).xadd(
      this.deadStream,
      'MAXLEN',
      '~',
      maxLen,
      '*',
      'reason',
      reason,
      'entry',
      id,
      ...kept,
    );
    this.counts.dead++;
    return 'dead';
  }
}

/** The reason an entry cannot be published as-is, before validation of the event itself. */
function invalidEntry(fields: Map<string, string>): string | undefined {
  if (!fields.has('topic')) return 'field "topic" is required';
  const data = fields.get('data');
  if (data === undefined) return 'field "data" (a JSON text) is required';
  try {
    JSON.parse(data);
  } catch {
    return 'field "data" is not valid JSON';
  }
  return undefined;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
