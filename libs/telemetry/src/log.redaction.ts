import {
  deepDecode,
  scrubAuthSchemes,
  scrubJws,
  scrubPairs,
  SecretNames,
  type ScanMeter,
} from './secret.scanner';

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
 * pairs (query strings, cookies, JSON-ish text) whose key is redacted. Every scan is a linear,
 * hand-written pass over the input (secret.scanner.ts): no regular expression sees it.
 */
export class LogScrubber {
  private readonly keys: ReadonlySet<string>;
  private readonly names: SecretNames;
  private readonly meter: ScanMeter = { steps: 0 };

  /** @param redactKeys keys redacted in fields and in `key=value` text, on top of the built-ins. */
  constructor(redactKeys: readonly string[]) {
    const keys = [...new Set([...ALWAYS_REDACTED_KEYS, ...redactKeys].map((k) => k.toLowerCase()))];
    this.keys = new Set(keys);
    this.names = new SecretNames(keys);
  }

  /**
   * Characters examined by this scrubber since it was made. The scans are linear, so this grows
   * by a small multiple of the input length whatever the input (tests bound it).
   */
  get steps(): number {
    return this.meter.steps;
  }

  /** True when a field named `key` must be redacted. */
  isSecretKey(key: string): boolean {
    return this.keys.has(key.toLowerCase());
  }

  /** `text` with bearer tokens, JWTs and secret `key=value` values replaced. */
  text(text: string): string {
    if (text.length === 0) return text;
    const meter = this.meter;
    const schemes = scrubAuthSchemes(text, LOG_REDACTED, meter);
    return scrubPairs(scrubJws(schemes, LOG_REDACTED, meter), this.names, LOG_REDACTED, meter);
  }

  /**
   * A request URL for a log line. The query is read pair by pair the way URLSearchParams reads it
   * (split on `&`, `+` and `%HH` decoded), the view token extraction uses, and judged decoded
   * (up to three rounds, so double encoding does not hide a name): a pair whose name ends with a
   * secret key (`access_%74oken`, `%61ccess_token`, `ACCESS_TOKEN`, `access_token%00`) has its
   * value replaced, and any name or value whose decoded text holds a secret is replaced whole.
   * Other pairs stay as sent.
   */
  url(url: string): string {
    const q = url.indexOf('?');
    if (q < 0) return this.text(url);
    const pieces = url
      .slice(q + 1)
      .split('&')
      .map((piece) => {
        if (piece === '') return piece;
        const eq = piece.indexOf('=');
        const name = eq < 0 ? piece : piece.slice(0, eq);
        const shownName = this.decodedClean(name) ? name : LOG_REDACTED;
        if (eq < 0) return shownName;
        const value = piece.slice(eq + 1);
        if (this.names.isSecret(name, this.meter)) return `${shownName}=${LOG_REDACTED}`;
        return `${shownName}=${this.decodedClean(value) ? value : LOG_REDACTED}`;
      });
    return `${this.text(url.slice(0, q))}?${pieces.join('&')}`;
  }

  /** True when neither `raw` nor its decoded form holds anything {@link text} would scrub. */
  private decodedClean(raw: string): boolean {
    if (this.text(raw) !== raw) return false;
    const decoded = deepDecode(raw, this.meter);
    return decoded === raw || this.text(decoded) === decoded;
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
