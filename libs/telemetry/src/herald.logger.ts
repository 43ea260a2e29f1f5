import type { LoggerService, LogLevel } from '@nestjs/common';
import pino, { type DestinationStream, type Logger as PinoLogger } from 'pino';
import { LogScrubber, REDACT_PATHS } from './log.redaction';
import { requestContext } from './request.context';

/** Options of {@link HeraldLogger}. */
export interface HeraldLoggerOptions {
  /** pino level (LOG_LEVEL); `silent` logs nothing. */
  readonly level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** `json` (one object per line) or `pretty` (pino-pretty, for humans) (LOG_FORMAT). */
  readonly format: 'json' | 'pretty';
  /** Payload keys redacted in log fields as well (REDACT_KEYS). */
  readonly redactKeys: readonly string[];
  /** Constant fields on every line (e.g. `instance`). */
  readonly base?: Readonly<Record<string, string>>;
  /** Where lines go (default stdout); tests pass a capture stream. */
  readonly destination?: DestinationStream;
}

type Fields = Record<string, unknown>;

/**
 * Nest contexts whose `log` lines are written at `debug`: the route mapping (`RoutesResolver`,
 * `RouterExplorer`) and module initialisation (`InstanceLoader`), some thirty lines per boot.
 */
export const NEST_STARTUP_CONTEXTS: ReadonlySet<string> = new Set([
  'RoutesResolver',
  'RouterExplorer',
  'InstanceLoader',
]);

/**
 * Nest's logger on pino: structured JSON lines with `context`, the request id of the current
 * request, and secrets (tokens, cookies, `access_token`, REDACT_KEYS values) redacted in the
 * message and in every field. Use with `app.useLogger(logger)`.
 */
export class HeraldLogger implements LoggerService {
  readonly pino: PinoLogger;
  /** The scrubber of this logger's secrets (for URLs logged elsewhere). */
  readonly scrubber: LogScrubber;

  constructor(options: HeraldLoggerOptions) {
    this.scrubber = new LogScrubber(options.redactKeys);
    const scrubber = this.scrubber;
    this.pino = pino(
      {
        level: options.level,
        base: { ...options.base },
        timestamp: pino.stdTimeFunctions.isoTime,
        redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
        formatters: {
          level: (label) => ({ level: label }),
          log: (fields) => scrubber.value(fields) as Fields,
        },
        mixin: () => {
          const ctx = requestContext.getStore();
          return ctx ? { reqId: ctx.requestId } : {};
        },
      },
      options.destination ?? destinationFor(options.format),
    );
  }

  /** A child pino logger with fixed fields (e.g. `{ context: 'Streams' }`). */
  child(fields: Fields): PinoLogger {
    return this.pino.child(fields);
  }

  log(message: unknown, ...params: unknown[]): void {
    const context = params[params.length - 1];
    const quiet = typeof context === 'string' && NEST_STARTUP_CONTEXTS.has(context);
    this.write(quiet ? 'debug' : 'info', message, params);
  }

  error(message: unknown, ...params: unknown[]): void {
    this.write('error', message, params, true);
  }

  warn(message: unknown, ...params: unknown[]): void {
    this.write('warn', message, params);
  }

  debug(message: unknown, ...params: unknown[]): void {
    this.write('debug', message, params);
  }

  verbose(message: unknown, ...params: unknown[]): void {
    this.write('trace', message, params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    this.write('fatal', message, params, true);
  }

  /** Levels are pino's; Nest's `setLogLevels` is ignored (LOG_LEVEL rules). */
  setLogLevels(_levels: LogLevel[]): void {}

  private write(
    level: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace',
    message: unknown,
    params: unknown[],
    withStack = false,
  ): void {
    if (!this.pino.isLevelEnabled(level)) return;
    const rest = [...params];
    const fields: Fields = {};
    // Nest passes the context last, and (for errors) a stack before it.
    if (rest.length > 0 && typeof rest[rest.length - 1] === 'string') {
      fields.context = rest.pop();
    }
    if (withStack && typeof rest[0] === 'string') fields.stack = rest.shift();
    let msg: string | undefined;
    if (typeof message === 'string') msg = this.scrubber.text(message);
    else if (message instanceof Error) {
      msg = this.scrubber.text(message.message);
      fields.err = message;
    } else if (typeof message === 'object' && message !== null) {
      Object.assign(fields, message);
      if (typeof fields.msg === 'string') {
        msg = this.scrubber.text(fields.msg);
        delete fields.msg;
      }
    } else msg = String(message);
    this.pino[level](fields, msg);
  }
}

/**
 * stdout as JSON, or through pino-pretty (a dev dependency, loaded only for `pretty`) when it is
 * installed; a production install without it (`npm ci --omit=dev`) logs JSON and says so once.
 */
function destinationFor(format: 'json' | 'pretty'): DestinationStream {
  if (format === 'pretty') {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pretty = require('pino-pretty') as (o: object) => DestinationStream;
      return pretty({
        colorize: process.stdout.isTTY,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname,instance,context',
        messageFormat: '{if context}[{context}] {end}{msg}',
        singleLine: true,
        sync: true,
      });
    } catch {
      process.stderr.write('LOG_FORMAT=pretty needs pino-pretty (a devDependency); logging JSON\n');
    }
  }
  return pino.destination(1);
}
