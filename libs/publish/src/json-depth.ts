/** Nesting levels of `data` accepted by default (MAX_EVENT_DEPTH). */
export const DEFAULT_MAX_EVENT_DEPTH = 64;

/**
 * The nesting depth of a parsed JSON value, counted without recursion: a scalar is 0, `[]` or
 * `{}` is 1, `{"a":[1]}` is 2. Stops as soon as `max` is passed and returns `max + 1`, so the
 * work is bounded by the value's size and never by the call stack.
 */
export function jsonDepth(value: unknown, max: number): number {
  if (typeof value !== 'object' || value === null) return 0;
  let deepest = 0;
  const stack: { value: object; depth: number }[] = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: node, depth } = stack.pop() as { value: object; depth: number };
    if (depth > deepest) deepest = depth;
    if (deepest > max) return max + 1;
    const children: unknown[] = Array.isArray(node) ? node : Object.values(node);
    for (const child of children) {
      if (typeof child === 'object' && child !== null)
        stack.push({ value: child, depth: depth + 1 });
    }
  }
  return deepest;
}

/**
 * The bracket nesting depth of a JSON text (outside strings), scanned once without parsing:
 * lets a body nested far too deep be refused before `JSON.parse` builds it. Returns `max + 1`
 * as soon as `max` is passed. Malformed text gives some number; the parser reports the error.
 */
export function jsonTextDepth(text: string, max: number): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > max) return max + 1;
      }
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return deepest;
}
