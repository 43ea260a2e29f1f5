/** Options of {@link PublishModule}. */
export interface PublishModuleOptions {
  /** Largest serialized `data` per event, in bytes (MAX_EVENT_BYTES). */
  readonly maxEventBytes: number;
  /** Keys whose values are replaced by `[REDACTED]` (REDACT_KEYS). */
  readonly redactKeys: readonly string[];
  /** Events per batch; default 100. */
  readonly maxBatchSize?: number;
}
