/** Placeholder written instead of a sensitive value. */
export const REDACTED = '[REDACTED]';

/**
 * Serializes `value` as JSON, replacing the value of every key in `keys` (lower-case, matched
 * case-insensitively, at any depth, inside arrays too) with {@link REDACTED}.
 * JSON.stringify recurses: a value nested a few thousand levels deep throws a RangeError, so
 * bound the depth first (`jsonDepth`; PublishService refuses past MAX_EVENT_DEPTH).
 */
export function serializeRedacted(value: unknown, keys: ReadonlySet<string>): string {
  if (keys.size === 0) return JSON.stringify(value);
  return JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    if (key !== '' && !Array.isArray(this) && keys.has(key.toLowerCase())) return REDACTED;
    return v;
  });
}
