/** Options of {@link PublishModule}. */
export interface PublishModuleOptions {
  /** Largest serialized `data` per event, in bytes (MAX_EVENT_BYTES). */
  readonly maxEventBytes: number;
  /** Keys whose values are replaced by `[REDACTED]` (REDACT_KEYS). */
  readonly redactKeys: readonly string[];
  /** Deepest nesting of `data` accepted (MAX_EVENT_DEPTH); default 64. */
  readonly maxEventDepth?: number;
  /** Events per batch; default 100. */
  readonly maxBatchSize?: number;
}
