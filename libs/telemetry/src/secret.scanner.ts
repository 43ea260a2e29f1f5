/**
 * Hand-written, single-pass scanners that find secrets in untrusted text (request lines, header
 * values, messages). Each one examines every character a bounded number of times, so its work is
 * linear in the input length whatever the input: no regular expression, hence no backtracking
 * (a 16 KB path of `eyJ` repeated used to cost about half a second in a backtracking pattern).
 * Every character examined adds one to the {@link ScanMeter}, which tests use to bound the work.
 */

/** Counts characters examined, across calls. */
export interface ScanMeter {
  steps: number;
}

/** Longest name looked at before a `=`/`:` separator (longer runs are cut to their end). */
const MAX_NAME = 256;
/** Rounds of percent-decoding applied to names and values before they are judged. */
const DECODE_ROUNDS = 3;

const DOT = 0x2e;
const PERCENT = 0x25;
const QUOTE = 0x22;

/** JavaScript's `\s` (WhiteSpace and LineTerminator). */
export function isSpace(c: number): boolean {
  return (
    c === 0x20 ||
    (c >= 0x09 && c <= 0x0d) ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000 ||
    c === 0xfeff
  );
}

function isAlnum(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

function isWordChar(c: number): boolean {
  return isAlnum(c) || c === 0x5f;
}

/** base64url alphabet plus the dot that joins JWS segments. */
function isJwsChar(c: number): boolean {
  return isAlnum(c) || c === 0x5f || c === 0x2d || c === DOT;
}

/** Characters that end a name when read backwards from a separator. */
function endsName(c: number): boolean {
  return (
    isSpace(c) ||
    c === 0x26 || // &
    c === 0x3f || // ?
    c === 0x3b || // ;
    c === 0x2c || // ,
    c === QUOTE ||
    c === 0x27 || // '
    c === 0x7b || // {
    c === 0x7d || // }
    c === 0x28 || // (
    c === 0x29 || // )
    c === 0x5b || // [
    c === 0x5d || // ]
    c === 0x3c || // <
    c === 0x3e || // >
    c === 0x2f || // /
    c === 0x3d || // =
    c === 0x3a || // :
    c === 0x23 // #
  );
}

/** Characters that end a secret value: `&`, whitespace, `;`, `,`, quotes and `}`. */
function endsValue(c: number): boolean {
  return (
    isSpace(c) || c === 0x26 || c === 0x3b || c === 0x2c || c === QUOTE || c === 0x27 || c === 0x7d
  );
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

/** `%HH` at `i` (any case) as a byte, or -1. */
function percentByte(s: string, i: number): number {
  if (i < 0 || i + 2 >= s.length || s.charCodeAt(i) !== PERCENT) return -1;
  const hi = hexValue(s.charCodeAt(i + 1));
  const lo = hexValue(s.charCodeAt(i + 2));
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

/** True when `s` has, at `i`, the ASCII word `lower` in any case. */
function wordAt(s: string, i: number, lower: string): boolean {
  if (i + lower.length > s.length) return false;
  for (let k = 0; k < lower.length; k++) {
    const c = s.charCodeAt(i + k);
    if ((c >= 0x41 && c <= 0x5a ? c | 0x20 : c) !== lower.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * One round of `application/x-www-form-urlencoded` decoding as URLSearchParams does it (`+` is a
 * space, `%HH` a byte, bytes read as UTF-8; a `%` not followed by two hex digits stays).
 */
export function formDecode(s: string, meter: ScanMeter): string {
  meter.steps += s.length;
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  let out = '';
  let run = 0;
  let i = 0;
  while (i < s.length) {
    if (s.charCodeAt(i) === 0x2b) {
      out += `${s.slice(run, i)} `;
      run = ++i;
      continue;
    }
    let byte = percentByte(s, i);
    if (byte < 0) {
      i++;
      continue;
    }
    out += s.slice(run, i);
    const bytes: number[] = [];
    while (byte >= 0) {
      bytes.push(byte);
      i += 3;
      byte = percentByte(s, i);
    }
    out += Buffer.from(bytes).toString('utf8');
    run = i;
  }
  return out + s.slice(run);
}

/** `s` percent-decoded up to {@link DECODE_ROUNDS} times (double encoding undone too). */
export function deepDecode(s: string, meter: ScanMeter): string {
  let out = s;
  for (let round = 0; round < DECODE_ROUNDS; round++) {
    const next = formDecode(out, meter);
    if (next === out) break;
    out = next;
  }
  return out;
}

/**
 * Judges names (query parameters, `key=value` and `"key":` pairs) against a set of secret keys:
 * the name is decoded ({@link deepDecode}), stripped of control characters and whitespace, and
 * lowercased; it is secret when it ends with a key (`access_token`, `x_password`, ...).
 */
export class SecretNames {
  /** The keys reversed, as a trie: a name is read from its end, one node per character. */
  private readonly root: SuffixNode = { next: new Map(), key: false };

  constructor(keys: readonly string[]) {
    for (const key of keys) {
      let node = this.root;
      const lower = key.toLowerCase();
      for (let i = lower.length - 1; i >= 0; i--) {
        let child = node.next.get(lower[i]);
        if (child === undefined) {
          child = { next: new Map(), key: false };
          node.next.set(lower[i], child);
        }
        node = child;
      }
      if (node !== this.root) node.key = true;
    }
  }

  /** True when the (raw, possibly encoded) `name` ends with a secret key. */
  isSecret(name: string, meter: ScanMeter): boolean {
    const decoded = deepDecode(name, meter);
    let node: SuffixNode | undefined = this.root;
    for (let i = decoded.length - 1; i >= 0; i--) {
      meter.steps++;
      const c = decoded.charCodeAt(i);
      if (c < 0x20 || c === 0x7f || isSpace(c)) continue;
      node = node.next.get(decoded[i].toLowerCase());
      if (node === undefined) return false;
      if (node.key) return true;
    }
    return false;
  }
}

interface SuffixNode {
  readonly next: Map<string, SuffixNode>;
  key: boolean;
}

/**
 * Replaces the credentials after `Bearer` / `Basic` (any case, at a word start, then whitespace)
 * with `redacted`: the whole run up to the next whitespace, which is everything a
 * `Authorization: Bearer` reader would take as the token.
 */
export function scrubAuthSchemes(s: string, redacted: string, meter: ScanMeter): string {
  let out = '';
  let last = 0;
  const n = s.length;
  let i = 0;
  while (i < n) {
    meter.steps++;
    const c = s.charCodeAt(i) | 0x20;
    if (c === 0x62 && (i === 0 || !isWordChar(s.charCodeAt(i - 1)))) {
      const len = wordAt(s, i, 'bearer') ? 6 : wordAt(s, i, 'basic') ? 5 : 0;
      if (len > 0) {
        let j = i + len;
        while (j < n && isSpace(s.charCodeAt(j))) {
          meter.steps++;
          j++;
        }
        let k = j;
        while (k < n && !isSpace(s.charCodeAt(k))) {
          meter.steps++;
          k++;
        }
        if (j > i + len && k > j) {
          out += `${s.slice(last, i + len)} ${redacted}`;
          last = k;
          i = k;
          continue;
        }
        // No credentials follow: nothing in the scheme word or the spaces can start another one.
        i = Math.max(j, i + 1);
        continue;
      }
    }
    i++;
  }
  return last === 0 ? s : out + s.slice(last);
}

/**
 * Replaces JWS/JWT-shaped strings with `redacted`. Within a run of base64url characters and dots,
 * a token starts at the first `eyJ` of a segment that has at least 5 more characters and is
 * followed by a non-empty segment and another dot; from there the rest of the run is replaced
 * (a JWE's extra segments too). Each run is read once, and each segment searched once.
 */
export function scrubJws(s: string, redacted: string, meter: ScanMeter): string {
  let out = '';
  let last = 0;
  const n = s.length;
  let i = 0;
  const dots: number[] = [];
  while (i < n) {
    meter.steps++;
    if (!isJwsChar(s.charCodeAt(i))) {
      i++;
      continue;
    }
    let end = i;
    dots.length = 0;
    while (end < n && isJwsChar(s.charCodeAt(end))) {
      meter.steps++;
      if (s.charCodeAt(end) === DOT) dots.push(end);
      end++;
    }
    const start = jwsStart(s, i, dots, meter);
    if (start >= 0) {
      out += s.slice(last, start) + redacted;
      last = end;
    }
    i = end;
  }
  return last === 0 ? s : out + s.slice(last);
}

/** Where a token starts in the run beginning at `from` with dots at `dots`, or -1. */
function jwsStart(s: string, from: number, dots: readonly number[], meter: ScanMeter): number {
  let segment = from;
  for (let d = 0; d + 1 < dots.length; d++) {
    const segmentEnd = dots[d];
    if (dots[d + 1] > segmentEnd + 1) {
      for (let p = segment; p + 8 <= segmentEnd; p++) {
        meter.steps++;
        if (
          s.charCodeAt(p) === 0x65 &&
          s.charCodeAt(p + 1) === 0x79 &&
          s.charCodeAt(p + 2) === 0x4a
        ) {
          return p;
        }
      }
    }
    segment = segmentEnd + 1;
  }
  return -1;
}

/** Length of a `=`, `:`, `%3D` or `%3A` separator at `i`, or 0. */
function separatorAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x3d || c === 0x3a) return 1;
  const b = percentByte(s, i);
  return b === 0x3d || b === 0x3a ? 3 : 0;
}

/** Length of a `"` or `%22` at `i`, or 0. */
function quoteAt(s: string, i: number): number {
  if (s.charCodeAt(i) === QUOTE) return 1;
  return percentByte(s, i) === QUOTE ? 3 : 0;
}

/**
 * Replaces the value of every `name=value`, `name: value`, `"name":"value"` (also with `%3D`,
 * `%3A` and `%22`) whose name {@link SecretNames} calls secret. The name is read backwards from
 * the separator, never past the previous separator (so each character is read a bounded number
 * of times); the value runs to `&`, whitespace, `;`, `,`, a quote or `}`.
 */
export function scrubPairs(
  s: string,
  names: SecretNames,
  redacted: string,
  meter: ScanMeter,
): string {
  let out = '';
  let last = 0;
  let floor = 0;
  const n = s.length;
  let i = 0;
  while (i < n) {
    meter.steps++;
    const sep = separatorAt(s, i);
    if (sep === 0) {
      i++;
      continue;
    }
    // Backwards: optional whitespace, an optional closing quote, then the name.
    let j = i;
    while (j > floor && isSpace(s.charCodeAt(j - 1))) {
      meter.steps++;
      j--;
    }
    if (j > floor && s.charCodeAt(j - 1) === QUOTE) j--;
    else if (j - 3 >= floor && percentByte(s, j - 3) === QUOTE) j -= 3;
    let k = j;
    while (k > floor && j - k < MAX_NAME && !endsName(s.charCodeAt(k - 1))) {
      meter.steps++;
      k--;
    }
    floor = i + sep;
    if (k === j || !names.isSecret(s.slice(k, j), meter)) {
      i += sep;
      continue;
    }
    // Forwards: optional whitespace, an optional opening quote, then the value.
    let v = i + sep;
    while (v < n && isSpace(s.charCodeAt(v))) {
      meter.steps++;
      v++;
    }
    v += quoteAt(s, v);
    let w = v;
    while (w < n && !endsValue(s.charCodeAt(w))) {
      meter.steps++;
      w++;
    }
    if (w === v) {
      i += sep;
      continue;
    }
    out += s.slice(last, v) + redacted;
    last = w;
    floor = w;
    i = w;
  }
  return last === 0 ? s : out + s.slice(last);
}
