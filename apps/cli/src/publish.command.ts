import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CliCommand, CliContext } from './cli.context';
import { CliError, UsageError } from './cli.output';
import {
  GATEWAY_OPTIONS,
  authHeaders,
  errorBody,
  gatewayEndpoint,
  gatewayToken,
  networkError,
} from './cli.http';

const HELP = `Usage: herald publish <topic> <json> [options]

Publishes one event with POST /events and prints its id. <json> is the event's data as JSON
(quote strings: '"hello"'); "-" reads it from stdin. Exits 1 with the gateway's error body
when the publish is refused.

Options:
  --type <type>              event type (default: message)
  --idempotency-key <key>    retry-safe publish: the same key returns the first id
  --url <url>                gateway URL (default: HERALD_URL, else http://localhost:$PORT)
  --token <jwt>              token with a publish grant (default: HERALD_TOKEN)
  --json                     print the gateway's answer as JSON
  -h, --help                 this help

Example:
  herald publish orders/42 '{"status":"shipped"}' --type order.updated --token "$TOKEN"`;

/** `herald publish`: POST /events, prints the id. */
export const publishCommand: CliCommand = {
  name: 'publish',
  summary: 'publish one event (POST /events) and print its id',
  help: HELP,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        type: { type: 'string' },
        'idempotency-key': { type: 'string' },
        ...GATEWAY_OPTIONS,
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 2) throw new UsageError('expected <topic> and <json>');
    const [topic, text] = positionals as [string, string];
    const raw = text === '-' ? readFileSync(0, 'utf8') : text;
    let data: unknown;
    try {
      data = JSON.parse(raw);
    } catch {
      throw new UsageError(`<json> is not JSON: ${raw.slice(0, 80)} (quote strings: '"hello"')`);
    }
    const url = gatewayEndpoint(values, ctx.env, '/events');
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      ...authHeaders(gatewayToken(values, ctx.env)),
    };
    if (values['idempotency-key'] !== undefined) {
      headers['Idempotency-Key'] = values['idempotency-key'];
    }
    const body = JSON.stringify({ topic, ...(values.type ? { type: values.type } : {}), data });
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body, signal: ctx.signal });
    } catch (err) {
      throw new CliError(networkError(url, err));
    }
    if (res.status !== 202) {
      const detail = await errorBody(res);
      ctx.err.line(ctx.err.paint('red', `publish refused: ${res.status} ${res.statusText}`));
      ctx.err.line(detail);
      return 1;
    }
    const answer = (await res.json()) as { id?: string };
    ctx.out.line(values.json ? JSON.stringify(answer) : String(answer.id));
    return 0;
  },
};
