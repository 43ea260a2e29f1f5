/** What replaces a secret in a log line. */
export const LOG_REDACTED = '[REDACTED]';

/** Keys always redacted in log fields, whatever REDACT_KEYS says. */
export const ALWAYS_REDACTED_KEYS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'set-cookie',
  'access_token',
  'token',
  'x-api-key',
];

/** pino `redact` paths for the fields Herald logs (headers of requests and responses). */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
];

/**
 * Scrubs secrets out of free text and URLs: bearer tokens, JWT-shaped strings, and `key=value`
 * pairs (query strings, cookies) whose key is redacted.
 */
export class LogScrubber {
  private readonly keys: ReadonlySet<string>;
  private readonly pairs: RegExp;

  constructor(redactKeys: readonly string[]) {
    const keys = [...new Set([...ALWAYS_REDACTED_KEYS, ...redactKeys].map((k) => k.toLowerCase()))];
    this.keys = new Set(keys);
    const alternatives = keys.map(escapeRegExp).join('|');
    // `access_token=...`, `"password":"..."`, `password: ...` up to a delimiter.
    this.pairs = new RegExp(
      `((?:${alternatives})(?:"|%22)?\\s*(?:=|:|%3D)\\s*(?:"|%22)?)([^&\\s;,"'}]+)`,
      'gi',
    );
  }

  /** True when a field named `key` must be redacted. */
  isSecretKey(key: string): boolean {
    return this.keys.has(key.toLowerCase());
  }

  /** `text` with bearer tokens, JWTs and secret `key=value` values replaced. */
  text(text: string): string {
    if (text.length === 0) return text;
    return text
      .replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${LOG_REDACTED}`)
      .replace(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, LOG_REDACTED)
      .replace(this.pairs, `$1${LOG_REDACTED}`);
  }

  /**
   * A copy of `value` with secret keys redacted and strings scrubbed, at any depth (bounded).
   * Returns `value` itself when nothing changed.
   */
  value(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.text(value);
    if (typeof value !== 'object' || value === null || depth > 8) return value;
    if (value instanceof Error) {
      return {
        type: value.name,
        message: this.text(value.message),
        stack: this.text(value.stack ?? ''),
      };
    }
    if (Array.isArray(value)) return value.map((v) => this.value(v, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = this.isSecretKey(k) ? LOG_REDACTED : this.value(v, depth + 1);
    }
    return out;
  }
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
