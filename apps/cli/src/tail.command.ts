import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { CliCommand, CliContext } from './cli.context';
import { UsageError } from './cli.output';
import {
  GATEWAY_OPTIONS,
  authHeaders,
  errorBody,
  gatewayEndpoint,
  gatewayToken,
  networkError,
  parsePositiveInt,
} from './cli.http';

const HELP = `Usage: herald tail <topic...> [options]

Subscribes (GET /events) to topics or patterns and prints events as they arrive. When the
stream drops (network, proxy, gateway drain or restart), it reconnects after the gateway's
retry: hint and resumes with Last-Event-ID, so nothing retained is missed; herald.reset is
reported on stderr. Stops on Ctrl-C. Exits 1 on a refusal (400, 401, 403).

Options:
  --since latest        start with the newest retained event of each topic (of at most 100
                        topics for patterns), then go live; without it, only new events
  --last-event-id <id>  resume after this id
  --json                one JSON object per event: {"id","event","data","receivedAt"}
  --count <n>           exit 0 after n events
  --url <url>           gateway URL (default: HERALD_URL, else http://localhost:$PORT)
  --token <jwt>         token with subscribe grants (default: HERALD_TOKEN)
  -h, --help            this help

Example:
  herald tail 'orders/*' --token "$TOKEN"`;

const MAX_BACKOFF_MS = 30_000;

/** Fatal answers: retrying cannot help. */
const FATAL = new Set([400, 401, 403, 404, 204]);

interface TailState {
  lastEventId: string | undefined;
  retryMs: number;
  received: number;
}

/** `herald tail`: prints events, resuming with Last-Event-ID after drops. */
export const tailCommand: CliCommand = {
  name: 'tail',
  summary: 'print the events of topics as they arrive, resuming after drops',
  help: HELP,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        since: { type: 'string' },
        'last-event-id': { type: 'string' },
        json: { type: 'boolean', default: false },
        count: { type: 'string' },
        ...GATEWAY_OPTIONS,
      },
    });
    if (positionals.length === 0) throw new UsageError('name at least one <topic>');
    if (values.since !== undefined && values.since !== 'latest') {
      throw new UsageError(`--since: only "latest" is supported, not "${values.since}"`);
    }
    const count =
      values.count === undefined ? undefined : parsePositiveInt(values.count, '--count');
    const url = gatewayEndpoint(values, ctx.env, '/events');
    for (const topic of positionals) url.searchParams.append('topic', topic);
    if (values.since === 'latest') url.searchParams.set('since', 'latest');
    const token = gatewayToken(values, ctx.env);
    const state: TailState = {
      lastEventId: values['last-event-id'],
      retryMs: 1000,
      received: 0,
    };
    let failures = 0;
    const done = new AbortController();
    const stop = () => done.abort();
    ctx.signal.addEventListener('abort', stop, { once: true });

    const print = (m: EventSourceMessage) => {
      const type = m.event ?? 'message';
      if (type.startsWith('herald.')) {
        ctx.err.line(ctx.err.paint('yellow', `${type} ${m.data}`));
        if (type === 'herald.shed') {
          const hint = (JSON.parse(m.data) as { retryAfterMs?: number }).retryAfterMs;
          if (typeof hint === 'number') state.retryMs = Math.max(state.retryMs, hint);
        }
        if (m.id) state.lastEventId = m.id;
        return;
      }
      if (m.id) state.lastEventId = m.id;
      state.received++;
      if (values.json) {
        let data: unknown = m.data;
        try {
          data = JSON.parse(m.data);
        } catch {
          // not JSON: printed as text
        }
        ctx.out.line(JSON.stringify({ id: m.id, event: type, data, receivedAt: Date.now() }));
      } else {
        const time = new Date().toISOString().slice(11, 23);
        ctx.out.line(
          `${ctx.out.paint('dim', time)} ${ctx.out.paint('cyan', type)} ${ctx.out.paint('dim', m.id ?? '')} ${m.data}`,
        );
      }
      if (count !== undefined && state.received >= count) done.abort();
    };

    while (!done.signal.aborted) {
      const headers: Record<string, string> = {
        Accept: 'text/event-stream',
        ...authHeaders(token),
      };
      if (state.lastEventId !== undefined) headers['Last-Event-ID'] = state.lastEventId;
      let res: Response;
      try {
        res = await fetch(url, { headers, signal: done.signal });
      } catch (err) {
        if (done.signal.aborted) break;
        failures++;
        await wait(ctx, state, failures, networkError(url, err), done.signal);
        continue;
      }
      if (res.status !== 200 || res.body === null) {
        const detail = await errorBody(res);
        if (FATAL.has(res.status)) {
          ctx.err.line(ctx.err.paint('red', `subscribe refused: ${res.status} ${res.statusText}`));
          if (detail !== '') ctx.err.line(detail);
          return 1;
        }
        failures++;
        await wait(ctx, state, failures, `${res.status} ${detail}`, done.signal);
        continue;
      }
      ctx.err.progress(
        `connected to ${url.origin}${state.lastEventId ? ` (resuming after ${state.lastEventId})` : ''}`,
      );
      const parser = createParser({
        onEvent: print,
        onRetry: (ms) => (state.retryMs = ms),
      });
      const decoder = new TextDecoder();
      let gotBytes = false;
      try {
        for await (const chunk of res.body) {
          gotBytes = true;
          parser.feed(decoder.decode(chunk as Uint8Array, { stream: true }));
        }
      } catch {
        // dropped mid-stream: reconnect below
      }
      if (done.signal.aborted) break;
      if (gotBytes) failures = 0;
      failures++;
      await wait(ctx, state, failures, 'stream ended', done.signal);
    }
    ctx.err.clearProgress();
    ctx.signal.removeEventListener('abort', stop);
    return 0;
  },
};

/** Waits before reconnecting: the server's retry: hint, backing off on repeated failures. */
async function wait(
  ctx: CliContext,
  state: TailState,
  failures: number,
  why: string,
  signal: AbortSignal,
): Promise<void> {
  const backoff = Math.min(MAX_BACKOFF_MS, state.retryMs * 2 ** Math.max(0, failures - 1));
  const resume = state.lastEventId === undefined ? '' : `, resuming after ${state.lastEventId}`;
  ctx.err.line(
    ctx.err.paint('yellow', `${why}; reconnecting in ${(backoff / 1000).toFixed(1)} s${resume}`),
  );
  await sleep(backoff, undefined, { signal }).catch(() => undefined);
}
