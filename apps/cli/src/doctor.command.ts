import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { CliCommand, CliContext } from './cli.context';
import { UsageError, type Output } from './cli.output';
import { GATEWAY_OPTIONS, gatewayToken, parsePositiveInt } from './cli.http';
import { diagnose, type Finding, type Severity } from './doctor.findings';
import { probePreflight, probeStream, probeTls, type ProbeResult } from './doctor.probe';

const HELP = `Usage: herald doctor <url> [options]

Diagnoses an SSE deployment from the client side, through whatever proxies sit in front of
Herald: opens a stream as a browser would and watches it for --idle-ms. Reports time to first
byte, whether heartbeats arrive on time or in bursts (buffering), whether the stream is cut
while idle (proxy timeouts), compression, HTTP version and HTTP/2 (ALPN), TLS, HSTS, retry:
and CORS for --origin; each finding with its fix for nginx, Caddy, Cloudflare and AWS ALB.
Exits 1 when a finding is an error.

<url> is the gateway's base URL (https://events.example.com, probed at /events?topic=<--topic>)
or a full stream URL (https://events.example.com/events?topic=orders/1).

Options:
  --topic <topic>    topic to subscribe to with a base URL (default: herald-doctor)
  --token <jwt>      token that may subscribe to it (default: HERALD_TOKEN)
  --origin <origin>  check CORS as a page on this origin would (e.g. https://app.example.com)
  --idle-ms <n>      how long to watch the idle stream (default 35000: above 2 x HEARTBEAT_MS)
  --ca <pem>         also trust this CA certificate (a private CA, a test certificate)
  --insecure         do not verify the TLS certificate of the stream request
  --json             print {"url","findings","measurements"} as JSON
  -h, --help         this help

Example:
  herald doctor https://events.example.com --origin https://app.example.com --token "$TOKEN"`;

const MARK: Record<Severity, [string, 'green' | 'cyan' | 'yellow' | 'red']> = {
  ok: ['ok   ', 'green'],
  info: ['info ', 'cyan'],
  warn: ['warn ', 'yellow'],
  error: ['ERROR', 'red'],
};

/** The URL to open: a base URL gets `/events?topic=...`, a stream URL is kept as is. */
function streamUrl(text: string, topic: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`"${text}" is not a URL (e.g. https://events.example.com)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`"${text}" must be http:// or https://`);
  }
  if (!url.searchParams.has('topic')) {
    if (!/\/events\/?$/.test(url.pathname))
      url.pathname = `${url.pathname.replace(/\/+$/, '')}/events`;
    url.searchParams.append('topic', topic);
  }
  return url;
}

function print(out: Output, result: ProbeResult, findings: Finding[]): void {
  out.line(out.paint('bold', `herald doctor ${result.url}`));
  for (const f of findings) {
    const [label, style] = MARK[f.severity];
    out.line(`${out.paint(style, label)} ${f.title}`);
    if (f.detail) out.line(`      ${out.paint('dim', f.detail)}`);
    for (const [where, how] of Object.entries(f.fix ?? {})) {
      if (f.severity === 'ok' || f.severity === 'info') continue;
      out.line(`      ${out.paint('dim', `fix (${where}):`)} ${how}`);
    }
  }
  const errors = findings.filter((f) => f.severity === 'error').length;
  const warnings = findings.filter((f) => f.severity === 'warn').length;
  out.line(
    errors > 0
      ? out.paint('red', `${errors} error(s), ${warnings} warning(s)`)
      : out.paint('green', `no errors${warnings > 0 ? `, ${warnings} warning(s)` : ''}`),
  );
}

/** `herald doctor`: client-side diagnosis of an SSE deployment. */
export const doctorCommand: CliCommand = {
  name: 'doctor',
  summary: 'diagnose streaming through proxies: buffering, idle cuts, compression, TLS, CORS',
  help: HELP,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        topic: { type: 'string', default: 'herald-doctor' },
        token: GATEWAY_OPTIONS.token,
        origin: { type: 'string' },
        'idle-ms': { type: 'string', default: '35000' },
        ca: { type: 'string' },
        insecure: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length !== 1) throw new UsageError('expected one <url>');
    const url = streamUrl(positionals[0], values.topic);
    const idleMs = parsePositiveInt(values['idle-ms'], '--idle-ms');
    const origin = values.origin;
    if (origin !== undefined && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new UsageError(`--origin: "${origin}" must be an origin like https://app.example.com`);
    }
    const token = gatewayToken(values, ctx.env);
    let ca: Buffer | undefined;
    if (values.ca !== undefined) {
      try {
        ca = readFileSync(values.ca);
      } catch (err) {
        throw new UsageError(`--ca: cannot read ${values.ca} (${(err as Error).message})`);
      }
    }
    ctx.err.progress(`connecting to ${url.origin} ...`);
    const [tls, stream, preflight] = await Promise.all([
      url.protocol === 'https:' ? probeTls(url, ca) : Promise.resolve(undefined),
      probeStream({
        url,
        token,
        origin,
        idleMs,
        insecure: values.insecure,
        ca,
        signal: ctx.signal,
        onProgress: (elapsed, o) =>
          ctx.err.progress(
            `watching the idle stream: ${(elapsed / 1000).toFixed(1)} / ${(idleMs / 1000).toFixed(1)} s, ` +
              `${o.comments.length} heartbeat(s), ${o.chunks.length} chunk(s)`,
          ),
      }),
      origin === undefined
        ? Promise.resolve(undefined)
        : probePreflight(url, origin, values.insecure, ca),
    ]);
    ctx.err.clearProgress();
    const result: ProbeResult = { url: url.href, idleMs, origin, tls, stream, preflight };
    const findings = diagnose(result);
    if (values.json) {
      const { headers, ...measured } = stream;
      ctx.out.line(
        JSON.stringify({
          url: url.href,
          findings,
          measurements: { idleMs, tls, preflight, stream: { ...measured, headers } },
        }),
      );
    } else {
      print(ctx.out, result, findings);
    }
    return findings.some((f) => f.severity === 'error') ? 1 : 0;
  },
};
