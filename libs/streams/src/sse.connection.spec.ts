import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { constants, gunzipSync } from 'node:zlib';
import { firstValueFrom, take, toArray } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type BrokerEvent } from '@herald/broker';
import { InMemoryBroker } from '@herald/broker/testing';
import { parseTopicFilter } from '@herald/topics';
import { requestContext } from '@herald/telemetry';
import { ConnectionRegistry } from './connection.registry';
import { chunkOf, frameOf } from './frame.cache';
import { SseConnection } from './sse.connection';
import { StreamPipeline } from './stream.pipeline';
import {
  SocketClientAddress,
  StreamAdmission,
  StreamAuthorization,
  type StreamAdmissionResult,
  type StreamPrincipal,
} from './stream.ports';
import { StreamsObserver } from './streams.observer';
import { StreamsService } from './streams.service';
import type { StreamsModuleOptions } from './streams.options';
import { WriteScheduler } from './write.scheduler';

/** Admits every stream. */
class OpenAdmission extends StreamAdmission {
  override admit(): Promise<StreamAdmissionResult> {
    return Promise.resolve({ admitted: true, lease: { release: () => undefined } });
  }
}

/** Every client is anonymous and may read everything. */
class OpenAuthorization extends StreamAuthorization {
  override authorize(): StreamPrincipal {
    return { sub: undefined, expiresAt: undefined, issuedAt: undefined };
  }

  override revalidate(): Promise<void> {
    return Promise.resolve();
  }
}

class QuietObserver extends StreamsObserver {}

const CAP = 256 * 1024;
const EVENT_BYTES = 8 * 1024;

interface Rig {
  readonly broker: InMemoryBroker;
  readonly streams: StreamsService;
  readonly server: Server;
  readonly port: number;
  /** Every chunk handed to each server-side socket, in order. */
  readonly writes: Map<SseConnection, Buffer[]>;
  /** Highest queued + unsent bytes seen for each connection after any delivery. */
  readonly peak: Map<SseConnection, number>;
  /** How many writes (write or writev calls into libuv) each server-side socket made. */
  readonly socketWrites: Map<SseConnection, { count: number }>;
}

const rigs: Rig[] = [];
const clients: Socket[] = [];

afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of clients.splice(0)) c.destroy();
  for (const rig of rigs.splice(0)) {
    await rig.streams.beforeApplicationShutdown();
    rig.streams.onModuleDestroy();
    await new Promise<void>((r) => rig.server.close(() => r()));
    await rig.broker.close();
  }
});

async function rig(heartbeatMs = 60_000, compression: 'off' | 'gzip' = 'off'): Promise<Rig> {
  const broker = new InMemoryBroker({ historySize: 10_000, historyTtlMs: 600_000 });
  const options: StreamsModuleOptions = {
    heartbeatMs,
    compression,
    retryMs: 1000,
    maxBufferedBytes: CAP,
    maxTopicsPerConnection: 8,
    shedMode: 'retry',
    shutdownGraceMs: 1000,
    batchLingerMs: 0,
    tokenExpiryWarningMs: 1000,
    instanceId: 'spec',
  };
  const registry = new ConnectionRegistry();
  const observer = new QuietObserver();
  const streams = new StreamsService(broker, registry, options, observer);
  const pipeline = new StreamPipeline(
    streams,
    registry,
    broker,
    new OpenAdmission(),
    new OpenAuthorization(),
    new SocketClientAddress(),
    options,
    observer,
  );
  const writes = new Map<SseConnection, Buffer[]>();
  const peak = new Map<SseConnection, number>();
  // Observe every delivery (a replay starts as soon as the pipeline opened the stream).
  const deliver = SseConnection.prototype.deliver;
  vi.spyOn(SseConnection.prototype, 'deliver').mockImplementation(function (
    this: SseConnection,
    event: BrokerEvent,
  ) {
    deliver.call(this, event);
    peak.set(this, Math.max(peak.get(this) ?? 0, this.unsentBytes));
  });
  // Each request's socket writes, found again by the request id the connection carries.
  const seenByRequest = new Map<string, Buffer[]>();
  const writesByRequest = new Map<string, { count: number }>();
  const socketWrites = new Map<SseConnection, { count: number }>();
  const add = registry.add.bind(registry);
  registry.add = (connection: SseConnection) => {
    writes.set(connection, seenByRequest.get(connection.meta.requestId ?? '') ?? []);
    socketWrites.set(
      connection,
      writesByRequest.get(connection.meta.requestId ?? '') ?? { count: 0 },
    );
    add(connection);
  };
  let requests = 0;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const socket = res.socket!;
    const seen: Buffer[] = [];
    // Observe (not replace) what reaches the socket.
    const write = socket.write.bind(socket) as (chunk: Buffer, cb?: () => void) => boolean;
    socket.write = (chunk: Buffer, ...rest: unknown[]) => {
      if (Buffer.isBuffer(chunk)) seen.push(chunk);
      return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
    };
    // Node's one entry point per write/writev that reaches libuv (a corked batch is one).
    const counted = { count: 0 };
    const generic = socket as unknown as { _writeGeneric: (...a: unknown[]) => unknown };
    const writeGeneric = generic._writeGeneric.bind(socket);
    generic._writeGeneric = (...a: unknown[]) => {
      counted.count++;
      return writeGeneric(...a);
    };
    const requestId = String(++requests);
    seenByRequest.set(requestId, seen);
    writesByRequest.set(requestId, counted);
    const topic = url.searchParams.get('topic') ?? 't';
    requestContext.run({ requestId }, () =>
      pipeline
        .run(req, res, { handle: () => streams.events([topic]) })
        .subscribe({ error: () => res.destroy() }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const r: Rig = {
    broker,
    streams,
    server,
    port: (server.address() as AddressInfo).port,
    writes,
    peak,
    socketWrites,
  };
  rigs.push(r);
  return r;
}

/** A raw client that sends its request and reads nothing (until `resume()`). */
async function stalledClient(
  port: number,
  path: string,
  gzip = false,
): Promise<{ socket: Socket; text(): string; bytes(): Buffer }> {
  const socket = connect(port, '127.0.0.1');
  clients.push(socket);
  socket.on('error', () => undefined);
  let text = '';
  const chunks: Buffer[] = [];
  await new Promise<void>((r) => socket.once('connect', () => r()));
  const encoding = gzip ? 'Accept-Encoding: gzip\r\n' : '';
  socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n${encoding}\r\n`);
  await new Promise<void>((r) =>
    socket.once('data', (d: Buffer) => {
      chunks.push(d);
      text += d.toString('latin1');
      r();
    }),
  );
  socket.pause();
  socket.on('data', (d: Buffer) => {
    chunks.push(d);
    text += d.toString('latin1');
  });
  return { socket, text: () => text, bytes: () => Buffer.concat(chunks) };
}

/** The body of a chunked HTTP/1.1 response (possibly still open), de-chunked. */
function dechunk(response: Buffer): Buffer {
  let at = response.indexOf('\r\n\r\n') + 4;
  const parts: Buffer[] = [];
  for (;;) {
    const eol = response.indexOf('\r\n', at);
    if (eol < 0) break;
    const size = parseInt(response.toString('latin1', at, eol), 16);
    if (!(size > 0) || eol + 2 + size > response.length) break;
    parts.push(response.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `value()` stops changing for `quietMs`. */
async function settle(value: () => number, quietMs = 300): Promise<void> {
  let last = value();
  for (;;) {
    await sleep(quietMs);
    const now = value();
    if (now === last) return;
    last = now;
  }
}

/** An event of about EVENT_BYTES that gzip cannot shrink much. */
function noise(n: number): { topic: string; type: string; data: string } {
  const pad = randomBytes((EVENT_BYTES * 3) / 4).toString('base64');
  return { topic: 't', type: 'message', data: JSON.stringify({ n, pad }) };
}

function payload(n: number): { topic: string; type: string; data: string } {
  return { topic: 't', type: 'message', data: JSON.stringify({ n, pad: 'x'.repeat(EVENT_BYTES) }) };
}

describe('SseConnection', () => {
  it('should send the response head and the first retry: in one write', async () => {
    const r = await rig();
    // The first bytes the client reads carry both: the head is not flushed on its own.
    const client = await stalledClient(r.port, '/events?topic=t');
    const text = client.text();
    const [connection] = [...r.writes.keys()];
    expect(r.socketWrites.get(connection)?.count).toBe(1);
    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/\r\ncontent-type: text\/event-stream; charset=utf-8\r\n/i);
    expect(text).toMatch(/\r\n\r\n[0-9a-f]+\r\nretry: 1000\n\n\r\n$/);
  });

  it('should replay a long history in pages as the socket drains, holding at most the cap plus one event', async () => {
    const r = await rig();
    const first = await r.broker.publish([payload(0)]);
    const total = 3000; // events after the cursor: ~24 MB, far beyond what kernel buffers absorb
    for (let n = 1; n <= total; n += 100) {
      await r.broker.publish(Array.from({ length: 100 }, (_, i) => payload(n + i)));
    }
    const readers = await Promise.all(
      Array.from({ length: 6 }, () =>
        stalledClient(r.port, `/?topic=t&lastEventId=${first.ids[0]}`),
      ),
    );
    const sent = () => [...r.writes.keys()].reduce((sum, c) => sum + c.bytesSent, 0);
    await settle(sent);
    const frame = frameOf((await stored(r, 1))[0]).length;
    expect(r.peak.size).toBe(6);
    for (const [connection, peak] of r.peak) {
      expect(connection.closed).toBe(false);
      // Queued plus unsent output never passed the cap plus one event...
      expect(peak).toBeLessThanOrEqual(CAP + frame);
      expect(connection.unsentBytes).toBeLessThanOrEqual(CAP + frame);
      // ...and the replay stopped where the socket did: it was not materialized in full.
      expect(connection.bytesSent).toBeLessThan((total * frame) / 2);
    }
    // One reader starts reading: it gets the whole history, in order, then live.
    const reader = readers[0];
    reader.socket.resume();
    const live = await r.broker.publish([payload(total)]);
    await waitUntil(() => reader.text().includes(`id: ${live.ids[0]}\n`), 20_000);
    const ids = [...reader.text().matchAll(/^id: (\S+)$/gm)].map((m) => m[1]);
    expect(ids.length).toBe(total + 1);
    expect(ids.at(-1)).toBe(live.ids[0]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('should hand every socket the same pre-chunked frame buffers (no per-connection copy of event bytes)', async () => {
    const r = await rig();
    const first = await r.broker.publish([payload(0)]);
    await r.broker.publish(Array.from({ length: 50 }, (_, i) => payload(i + 1)));
    // Three replaying readers and three live ones, all reading.
    const replaying = await Promise.all(
      Array.from({ length: 3 }, () =>
        stalledClient(r.port, `/?topic=t&lastEventId=${first.ids[0]}`),
      ),
    );
    const live = await Promise.all(
      Array.from({ length: 3 }, () => stalledClient(r.port, '/?topic=t')),
    );
    for (const c of [...replaying, ...live]) c.socket.resume();
    await waitUntil(() => r.writes.size === 6);
    const batch = await r.broker.publish(Array.from({ length: 20 }, (_, i) => payload(100 + i)));
    const last = batch.ids.at(-1)!;
    await waitUntil(() => [...replaying, ...live].every((c) => c.text().includes(`id: ${last}\n`)));
    const events = await stored(r, 71);
    // Chunked HTTP/1.1: each event goes out as its frame's one cached HTTP chunk.
    const shared = new Set(events.map((e) => chunkOf(frameOf(e))));
    for (const [connection, written] of r.writes) {
      const big = written.filter((b) => b.length >= EVENT_BYTES);
      // Every event-sized buffer a socket got is the one cached chunk of its event...
      for (const b of big) expect(shared.has(b)).toBe(true);
      // ...and each connection got each of its events' frames itself, not a copy.
      expect(connection.closed).toBe(false);
    }
    const counts = [...r.writes.values()].map((w) => w.filter((b) => shared.has(b)).length);
    expect(counts.sort((a, b) => a - b)).toEqual([20, 20, 20, 70, 70, 70]);
  });

  it('should write a fan-out of small events as one shared joined buffer per flush (one socket write each)', async () => {
    const r = await rig();
    const live = await Promise.all(
      Array.from({ length: 4 }, () => stalledClient(r.port, '/?topic=t')),
    );
    for (const c of live) c.socket.resume();
    await waitUntil(() => r.writes.size === 4);
    const small = (n: number) => ({ topic: 't', type: 'message', data: JSON.stringify({ n }) });
    const batch = await r.broker.publish(Array.from({ length: 5 }, (_, i) => small(i)));
    const last = batch.ids.at(-1)!;
    await waitUntil(() => live.every((c) => c.text().includes(`id: ${last}\n`)));
    const events = (await stored(r, 5)).slice(-5);
    const frames = Buffer.concat(events.map((e) => frameOf(e)));
    // Each connection's socket got one write carrying the five frames as one HTTP chunk...
    const carrying = [...r.writes.values()].map((written) =>
      written.filter((b) => b.includes(frames)),
    );
    for (const w of carrying) expect(w).toHaveLength(1);
    const [first] = carrying[0];
    expect(
      first.equals(
        Buffer.concat([
          Buffer.from(`${frames.length.toString(16)}\r\n`),
          frames,
          Buffer.from('\r\n'),
        ]),
      ),
    ).toBe(true);
    // ...and it is the same Buffer object for every connection: joined once, not per connection.
    for (const w of carrying) expect(w[0]).toBe(first);
    for (const c of live) expect(dechunk(c.bytes()).includes(frames)).toBe(true);
  });

  it('should cut a non-reading subscriber of a batch larger than the cap without exceeding it', async () => {
    const r = await rig();
    const stalled = await Promise.all(
      Array.from({ length: 4 }, () => stalledClient(r.port, '/?topic=t')),
    );
    await waitUntil(() => r.writes.size === 4);
    await r.broker.publish([payload(-1)]);
    const frame = frameOf((await stored(r, 1))[0]).length;
    // Batches of 100 x 8 KiB (800 KB each, above the 256 KiB cap) until every stalled one is cut.
    for (let i = 0; i < 40 && [...r.writes.keys()].some((c) => !c.closed); i++) {
      await r.broker.publish(Array.from({ length: 100 }, (_, k) => payload(i * 100 + k)));
      await sleep(5);
    }
    for (const [connection, peak] of r.peak) {
      expect(connection.closeReason).toBe('slow-consumer');
      expect(peak).toBeLessThanOrEqual(CAP + frame);
    }
    expect(stalled).toHaveLength(4);
  });

  it('should cut a replay whose socket takes nothing for HEARTBEAT_MS, not one that reads', async () => {
    const r = await rig(1000);
    const first = await r.broker.publish([payload(0)]);
    for (let n = 1; n <= 2000; n += 100) {
      await r.broker.publish(Array.from({ length: 100 }, (_, i) => payload(n + i)));
    }
    await stalledClient(r.port, `/?topic=t&lastEventId=${first.ids[0]}`);
    const reading = await stalledClient(r.port, `/?topic=t&lastEventId=${first.ids[0]}`);
    reading.socket.resume();
    await waitUntil(() => r.writes.size === 2);
    const [cut, kept] = [...r.writes.keys()];
    await waitUntil(() => cut.closed, 8000);
    expect(cut.closeReason).toBe('slow-consumer');
    await waitUntil(() => (reading.text().match(/^id: /gm) ?? []).length === 2000, 20_000);
    await sleep(2500); // several heartbeat periods after the replay
    expect(kept.closed).toBe(false);
  });

  it('should pace a gzip replay the same way and keep the compressed stream exact', async () => {
    const r = await rig(60_000, 'gzip');
    // Incompressible data: the socket must hold back compressed bytes too.
    const first = await r.broker.publish([noise(0)]);
    for (let n = 1; n <= 1500; n += 100) {
      await r.broker.publish(Array.from({ length: 100 }, (_, i) => noise(n + i)));
    }
    const client = await stalledClient(r.port, `/?topic=t&lastEventId=${first.ids[0]}`, true);
    const sent = () => [...r.writes.keys()].reduce((sum, c) => sum + c.bytesSent, 0);
    await settle(sent);
    const [connection] = [...r.writes.keys()];
    const frame = frameOf((await stored(r, 1))[0]).length;
    expect(r.peak.get(connection)).toBeLessThanOrEqual(CAP + frame);
    // Paused before the end: the replay was not pushed into gzip in full.
    expect(connection.bytesSent).toBeLessThan(1500 * frame);
    client.socket.resume();
    const live = await r.broker.publish([payload(9999)]);
    await waitUntil(() => client.bytes().length > 0);
    await settle(() => client.bytes().length);
    const text = gunzipSync(dechunk(client.bytes()), { finishFlush: constants.Z_SYNC_FLUSH });
    const ids = [...text.toString('utf8').matchAll(/^id: (\S+)$/gm)].map((m) => m[1]);
    expect(ids).toHaveLength(1501);
    expect(new Set(ids).size).toBe(1501);
    expect(ids.at(-1)).toBe(live.ids[0]);
  });
});

/** The first `n` stored events of `t` (the broker's own objects), via a replay from the start. */
async function stored(r: Rig, n: number): Promise<BrokerEvent[]> {
  const start = r.broker.nowCursor().replace(/\.\d+$/, '.0');
  const all = await firstValueFrom(
    r.broker.subscribe([parseTopicFilter('t')], { cursor: start }).pipe(take(n), toArray()),
  );
  return all.filter((m): m is BrokerEvent => m.kind === 'event');
}

async function waitUntil(ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await sleep(10);
  }
}

describe('SseConnection joined flushes across protocols', () => {
  /** A response whose body goes to a capturing Writable: HTTP/2-like (`stream`) or HTTP/1.0. */
  function fakeResponse(h2: boolean): { res: ServerResponse; written: Buffer[] } {
    const written: Buffer[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        written.push(chunk);
        cb();
      },
    });
    const socket = Object.assign(sink, { setNoDelay: () => sink, setTimeout: () => sink });
    const res = Object.assign(new EventEmitter(), {
      writeHead: () => res,
      write: () => true,
      destroy: () => undefined,
      // Node's Http2ServerResponse has no chunkedEncoding at all; an HTTP/1.0 response has false.
      ...(h2 ? { stream: socket } : { socket, chunkedEncoding: false }),
    });
    return { res: res as unknown as ServerResponse, written };
  }

  it('should hand HTTP/2 and HTTP/1.0 streams of one fan-out the same joined buffer (both unchunked)', () => {
    const scheduler = new WriteScheduler(0);
    const event = (n: number): BrokerEvent => ({
      kind: 'event',
      id: `0-${n}`,
      topic: 't',
      type: 'message',
      data: JSON.stringify(`event ${n}`),
      publishedAt: 0,
    });
    const a = event(1);
    const b = event(2);
    const outs = [fakeResponse(false), fakeResponse(true), fakeResponse(false), fakeResponse(true)];
    for (const { res } of outs) {
      const c = new SseConnection(
        res,
        { ip: '127.0.0.1', topics: ['t'] },
        '0',
        scheduler,
        CAP,
        new QuietObserver(),
      );
      c.open(1000);
      c.deliver(a);
      c.deliver(b);
      c.flush();
    }
    const joined = outs.map(({ written }) => written.at(-1));
    expect(joined[0]?.toString()).toBe(`${frameOf(a).toString()}${frameOf(b).toString()}`);
    for (const j of joined) expect(j).toBe(joined[0]);
  });
  it('should not cut a reader whose queue reaches a small cap while its flush run lingers', () => {
    // A scheduler whose run is still waiting (the adaptive linger under load): nothing is
    // flushed by it while these events arrive, though the socket takes everything at once.
    const lingering = { now: 0, schedule: () => undefined } as unknown as WriteScheduler;
    const { res, written } = fakeResponse(false);
    const cap = 16 * 1024;
    const c = new SseConnection(
      res,
      { ip: '127.0.0.1', topics: ['t'] },
      '0',
      lingering,
      cap,
      new QuietObserver(),
    );
    c.open(1000);
    const data = JSON.stringify('x'.repeat(1_000));
    for (let n = 0; n < 40; n++) {
      c.deliver({ kind: 'event', id: `0-${n}`, topic: 't', type: 'message', data, publishedAt: 0 });
    }
    expect(c.closeReason).toBeUndefined();
    expect(c.unsentBytes).toBeLessThan(cap);
    expect(written.length).toBeGreaterThan(0);
  });
});
