import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  Controller,
  ForbiddenException,
  Injectable,
  Module,
  UnauthorizedException,
  Req,
  UseInterceptors,
  type CallHandler,
  type ExecutionContext,
  type INestApplication,
  type NestInterceptor,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Subscriber, filter, finalize, map, of, type Observable } from 'rxjs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Broker, BrokerModule } from '@herald/broker';
import { ClusterModule } from '@herald/cluster';
import { openStream, type SseStream } from '../../../test/support/sse-client';
import { waitFor } from '../../../test/support/wait';
import { ConnectionRegistry } from './connection.registry';
import type { HeraldEvent, HeraldStream } from './herald.stream';
import {
  ClientAddress,
  SocketClientAddress,
  StreamAdmission,
  StreamAuthorization,
  type StreamAdmissionResult,
  type StreamPrincipal,
} from './stream.ports';
import { StreamRoute } from './stream.route';
import { StreamsModule } from './streams.module';
import { StreamsObserver } from './streams.observer';
import { StreamsService } from './streams.service';

/** Admission whose answers a test controls, counting leases taken and released. */
@Injectable()
class ControlledAdmission extends StreamAdmission {
  gate: Promise<void> = Promise.resolve();
  refuse = false;
  taken = 0;
  released = 0;

  override async admit(): Promise<StreamAdmissionResult> {
    await this.gate;
    if (this.refuse) return { admitted: false, reason: 'capacity', retryAfterMs: 0 };
    this.taken++;
    let done = false;
    return {
      admitted: true,
      lease: {
        release: () => {
          if (done) throw new Error('lease released twice');
          done = true;
          this.released++;
        },
      },
    };
  }
}

/** Authorization by an `x-sub` header; revalidation refuses while `revoked` is set. */
@Injectable()
class HeaderAuthorization extends StreamAuthorization {
  revoked = false;

  override authorize(req: { headers: Record<string, unknown> }): StreamPrincipal {
    const sub = req.headers['x-sub'];
    if (typeof sub !== 'string') throw new UnauthorizedException('x-sub required');
    return { sub, expiresAt: undefined, issuedAt: undefined };
  }

  override revalidate(): Promise<void> {
    return this.revoked ? Promise.reject(new ForbiddenException('revoked')) : Promise.resolve();
  }

  /** Requests whose streams opened (the pipeline released their authorization state). */
  readonly released: IncomingMessage[] = [];

  override release(req: IncomingMessage): void {
    this.released.push(req);
  }
}

/** A method interceptor that sees the handler's events (declared above `@StreamRoute`). */
@Injectable()
class TagInterceptor implements NestInterceptor {
  intercept(_: unknown, next: CallHandler<HeraldEvent>): Observable<HeraldEvent> {
    return next.handle().pipe(map((e) => ({ ...e, type: `tagged.${e.type}` })));
  }
}

/** An outer interceptor reading a request header when Nest's side of the request completes. */
@Injectable()
class HeaderProbeInterceptor implements NestInterceptor {
  static readonly seen: unknown[] = [];

  intercept(ctx: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = ctx.switchToHttp().getRequest<IncomingMessage>();
    return next
      .handle()
      .pipe(finalize(() => HeaderProbeInterceptor.seen.push(req.headers['x-sub'])));
  }
}

/** Observes nothing (the streams observer is a required port). */
class QuietObserver extends StreamsObserver {}

@Module({
  providers: [
    ControlledAdmission,
    HeaderAuthorization,
    { provide: StreamAdmission, useExisting: ControlledAdmission },
    { provide: StreamAuthorization, useExisting: HeaderAuthorization },
    { provide: ClientAddress, useClass: SocketClientAddress },
    { provide: StreamsObserver, useClass: QuietObserver },
  ],
  exports: [
    StreamsObserver,
    StreamAdmission,
    StreamAuthorization,
    ClientAddress,
    ControlledAdmission,
    HeaderAuthorization,
  ],
})
class PortsModule {}

@Controller()
class RoutesController {
  constructor(private readonly streams: StreamsService) {}

  @StreamRoute('plain')
  plain(): HeraldStream {
    return this.streams.events(['t/a']);
  }

  @StreamRoute('mapped')
  mapped(): Observable<HeraldEvent> {
    return this.streams.events(['t/a']).pipe(
      filter((e) => e.type !== 'skip'),
      map((e) => ({ ...e, data: JSON.stringify({ wrapped: JSON.parse(e.data) as unknown }) })),
    );
  }

  @UseInterceptors(TagInterceptor)
  @StreamRoute('intercepted')
  intercepted(): HeraldStream {
    return this.streams.events(['t/a']);
  }

  /** The last request `probed` served. */
  static probedRequest: IncomingMessage | undefined;

  @StreamRoute('probed')
  @UseInterceptors(HeaderProbeInterceptor)
  probed(@Req() req: IncomingMessage): HeraldStream {
    RoutesController.probedRequest = req;
    return this.streams.events(['t/a']);
  }

  /** A team's piped route whose operator reads a request header per event (after open). */
  @StreamRoute('tenant')
  tenant(@Req() req: IncomingMessage): Observable<HeraldEvent> {
    return this.streams
      .events(['t/a'])
      .pipe(
        map((e) => ({ ...e, data: JSON.stringify({ tenant: req.headers['x-tenant'] ?? null }) })),
      );
  }

  @StreamRoute('not-herald')
  notHerald(): Observable<number> {
    return of(1);
  }
}

@Module({
  imports: [
    BrokerModule.forRoot({
      driver: 'memory',
      historySize: 100,
      historyTtlMs: 60_000,
      isGlobal: true,
    }),
    PortsModule,
    StreamsModule.forRootAsync({
      imports: [PortsModule, ClusterModule.forRoot({ driver: 'local', instanceId: 'unit' })],
      useFactory: () => ({
        heartbeatMs: 15_000,
        retryMs: 1234,
        maxBufferedBytes: 1 << 20,
        maxTopicsPerConnection: 4,
        shedMode: 'retry' as const,
        shutdownGraceMs: 500,
        batchLingerMs: 0,
        tokenExpiryWarningMs: 1000,
        instanceId: 'unit',
      }),
    }),
  ],
  controllers: [RoutesController],
})
class TestAppModule {}

describe('StreamPipeline', () => {
  let app: INestApplication;
  let url: string;
  let broker: Broker;
  let registry: ConnectionRegistry;
  let admission: ControlledAdmission;
  let authorization: HeaderAuthorization;
  const opened: SseStream[] = [];

  beforeAll(async () => {
    app = await NestFactory.create(TestAppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${((app.getHttpServer() as Server).address() as AddressInfo).port}`;
    broker = app.get(Broker);
    registry = app.get(ConnectionRegistry);
    admission = app.get(ControlledAdmission);
    authorization = app.get(HeaderAuthorization);
  });
  afterEach(async () => {
    for (const s of opened.splice(0)) await s.close();
    await waitFor(() => registry.size === 0, 'registry empty');
    admission.gate = Promise.resolve();
    admission.refuse = false;
    authorization.revoked = false;
    expect(admission.released).toBe(admission.taken);
  });
  afterAll(async () => {
    await app.close();
  });

  const open = async (path: string, headers: Record<string, string> = { 'x-sub': 'u1' }) => {
    const s = await openStream(url, path, { headers });
    opened.push(s);
    return s;
  };
  const publish = async (type: string, data: unknown) =>
    (await broker.publish([{ topic: 't/a', type, data: JSON.stringify(data) }])).ids[0];

  it('should send headers and retry at once, then every event with its broker id', async () => {
    const s = await open('/plain');
    expect(s.status).toBe(200);
    expect(s.headers.get('content-type')).toMatch(/^text\/event-stream/);
    await waitFor(() => s.retries[0] === 1234, 'retry');
    const ids = [await publish('x', 1), await publish('y', 2)];
    await s.waitForEvents(2);
    expect(s.events.map((e) => [e.id, e.event, e.data])).toEqual([
      [ids[0], 'x', '1'],
      [ids[1], 'y', '2'],
    ]);
  });

  it('should drop the request header storage once open, after outer interceptors completed', async () => {
    const s = await open('/probed', { 'x-sub': 'probe', authorization: 'Bearer secret-token' });
    await waitFor(() => s.retries.length > 0, 'retry');
    const id = await publish('x', 1);
    await s.waitForEvents(1);
    expect(s.events.map((e) => e.id)).toEqual([id]);
    // The outer interceptor's completion (at open) still read the headers.
    expect(HeaderProbeInterceptor.seen).toEqual(['probe']);
    const req = RoutesController.probedRequest;
    expect(authorization.released.at(-1)).toBe(req);
    expect(req?.rawHeaders).toEqual([]);
    expect(req?.headers).toEqual({});
    expect(JSON.stringify(req?.headersDistinct)).not.toContain('secret-token');
    // The response's set headers went out as the head; Node's store of them is let go.
    // Express links the response from the request.
    const res = Reflect.get(req ?? {}, 'res') as ServerResponse | undefined;
    expect(res?.headersSent).toBe(true);
    expect(res?.getHeaderNames()).toEqual([]);
  });

  it("should keep the request headers for a piped route's operators, which run after open", async () => {
    const s = await open('/tenant', { 'x-sub': 'u1', 'x-tenant': 'acme' });
    await waitFor(() => s.retries.length > 0, 'retry');
    await publish('x', 1);
    await s.waitForEvents(1);
    // The route's `map` reads `req.headers` for each event, long after the stream opened.
    expect(s.events.map((e) => e.data)).toEqual([JSON.stringify({ tenant: 'acme' })]);
  });

  it('should serve the next request on the socket of a stream the server ended', async () => {
    const { request, Agent } = await import('node:http');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const get = (path: string) =>
      new Promise<{ status: number; body: string; socket: unknown }>((resolve, reject) => {
        const r = request(`${url}${path}`, { agent, headers: { 'x-sub': 'u1' } }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
            // The stream is open: end it from the server (as DELETE /admin/connections does).
            if (body.includes('retry:')) for (const c of registry.values()) c.end('admin');
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body, socket: r.socket }));
        });
        r.on('error', reject);
        r.end();
      });
    const first = await get('/plain');
    expect(first.status).toBe(200);
    const second = await get('/plain');
    expect(second.status).toBe(200);
    expect(second.body).toContain('retry: 1234');
    expect(second.socket).toBe(first.socket);
    agent.destroy();
  });

  it('should refuse with the authorization error as JSON before any stream byte', async () => {
    const res = await fetch(`${url}/plain`, { headers: { Accept: 'text/event-stream' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ statusCode: 401, message: 'x-sub required' });
    expect(admission.taken).toBe(admission.released);
  });

  it('should shed without taking a lease or subscribing when admission refuses', async () => {
    const subscriptions = broker.stats().subscriptions;
    const taken = admission.taken;
    admission.refuse = true;
    const s = await open('/plain');
    await s.waitForEnd();
    expect(s.events.map((e) => e.event)).toEqual(['herald.shed']);
    expect(admission.taken).toBe(taken);
    expect(broker.stats().subscriptions).toBe(subscriptions);
  });

  it('should release the lease and open nothing when the client leaves during admission', async () => {
    const subscriptions = broker.stats().subscriptions;
    let admit!: () => void;
    admission.gate = new Promise((resolve) => (admit = resolve));
    const pending = openStream(url, '/plain', { headers: { 'x-sub': 'leaver' } });
    const controller = new AbortController();
    const early = fetch(`${url}/plain`, {
      headers: { Accept: 'text/event-stream', 'x-sub': 'leaver' },
      signal: controller.signal,
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    await early;
    await new Promise((r) => setTimeout(r, 50));
    admit();
    const stayed = await pending;
    opened.push(stayed);
    await waitFor(() => registry.size === 1, 'the client that stayed is open');
    await waitFor(
      () => admission.released === admission.taken - 1,
      'the leaver released its lease',
    );
    expect(broker.stats().subscriptions).toBe(subscriptions + 1);
  });

  it('should release the lease and answer the error when revalidation refuses', async () => {
    authorization.revoked = true;
    const taken = admission.taken;
    const res = await fetch(`${url}/plain`, {
      headers: { Accept: 'text/event-stream', 'x-sub': 'u1' },
    });
    expect(res.status).toBe(403);
    expect(admission.taken).toBe(taken + 1);
    expect(admission.released).toBe(admission.taken);
    expect(registry.size).toBe(0);
  });

  it('should write what the route maps and filters, keeping the ids', async () => {
    const s = await open('/mapped');
    await waitFor(() => s.retries.length > 0, 'open');
    const first = await publish('x', 1);
    await publish('skip', 2);
    const third = await publish('x', 3);
    await s.waitForEvents(2);
    expect(s.events.map((e) => [e.id, e.data])).toEqual([
      [first, '{"wrapped":1}'],
      [third, '{"wrapped":3}'],
    ]);
  });

  it("should write an unmapped route's events straight from the broker, past any rxjs subscriber", async () => {
    const s = await open('/plain');
    await waitFor(() => s.retries.length > 0, 'open');
    const next = vi.spyOn(Subscriber.prototype, 'next');
    try {
      const ids = [await publish('x', 1), await publish('y', 2)];
      await s.waitForEvents(2);
      expect(s.events.map((e) => [e.id, e.event, e.data])).toEqual([
        [ids[0], 'x', '1'],
        [ids[1], 'y', '2'],
      ]);
      expect(next).not.toHaveBeenCalled();
    } finally {
      next.mockRestore();
    }
  });

  it("should run a mapped route's operators for every event it writes", async () => {
    const s = await open('/mapped');
    await waitFor(() => s.retries.length > 0, 'open');
    const next = vi.spyOn(Subscriber.prototype, 'next');
    try {
      const id = await publish('x', 7);
      await s.waitForEvents(1);
      expect(s.events.map((e) => [e.id, e.data])).toEqual([[id, '{"wrapped":7}']]);
      expect(next).toHaveBeenCalled();
    } finally {
      next.mockRestore();
    }
  });

  it('should keep the chain when an interceptor inside the stream route sees the events', async () => {
    const s = await open('/intercepted');
    await waitFor(() => s.retries.length > 0, 'open');
    const next = vi.spyOn(Subscriber.prototype, 'next');
    try {
      const id = await publish('x', 1);
      await s.waitForEvents(1);
      expect(s.events.map((e) => [e.id, e.event])).toEqual([[id, 'tagged.x']]);
      expect(next).toHaveBeenCalled();
    } finally {
      next.mockRestore();
    }
  });

  it('should answer 500 when a stream route returns an Observable that is not a Herald stream', async () => {
    const res = await fetch(`${url}/not-herald`, {
      headers: { Accept: 'text/event-stream', 'x-sub': 'u1' },
    });
    expect(res.status).toBe(500);
    await res.body?.cancel();
  });

  it('should release the lease once and free the subscription when the stream is closed', async () => {
    const subscriptions = broker.stats().subscriptions;
    const s = await open('/plain');
    const connection = await waitFor(() => [...registry.values()][0], 'registered');
    expect(broker.stats().subscriptions).toBe(subscriptions + 1);
    connection.end('admin');
    await s.waitForEnd();
    expect(s.failure).toBeUndefined();
    expect(admission.released).toBe(admission.taken);
    expect(broker.stats().subscriptions).toBe(subscriptions);
  });

  it('should answer HEAD with the stream headers only', async () => {
    const res = await fetch(`${url}/plain`, { method: 'HEAD', headers: { 'x-sub': 'u1' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(registry.size).toBe(0);
  });
});
