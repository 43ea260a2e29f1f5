const LINE_BREAK = /\r\n|\r|\n/;

/** True when `id` is a valid Herald event id: 1..128 bytes of `[A-Za-z0-9._~:-]`. */
export function isValidEventId(id: string): boolean {
  return /^[A-Za-z0-9._~:-]{1,128}$/.test(id);
}

/**
 * Frames one SSE event. `data` is JSON text; each of its lines becomes one `data: ` line, so a
 * payload can never inject fields. `retryMs` adds a `retry:` field.
 */
export function frameEvent(id: string, type: string, data: string, retryMs?: number): Buffer {
  return Buffer.from(frameEventText(id, type, data, retryMs), 'utf8');
}

/** The text of {@link frameEvent}'s frame (for a caller that encodes it into its own buffer). */
export function frameEventText(id: string, type: string, data: string, retryMs?: number): string {
  let out = retryMs === undefined ? '' : `retry: ${Math.max(0, Math.floor(retryMs))}\n`;
  out += `id: ${id}\nevent: ${type}\n`;
  for (const line of data.split(LINE_BREAK)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** A `retry:` field on its own (dispatches nothing in the client). */
export function frameRetry(retryMs: number): Buffer {
  return Buffer.from(`retry: ${Math.max(0, Math.floor(retryMs))}\n\n`, 'utf8');
}

/** The heartbeat comment. */
export const HEARTBEAT_FRAME = Buffer.from(': ping\n\n', 'utf8');

/** `base` plus up to `spread` of random jitter, in whole ms. */
export function jitter(base: number, spread: number): number {
  return Math.floor(base + Math.random() * Math.max(0, spread));
}
