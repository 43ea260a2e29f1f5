import { URLPattern as PolyfillURLPattern } from 'urlpattern-polyfill/urlpattern';

/**
 * WHATWG URL patterns as topic matchers. Parsing and matching are the URLPattern standard's (the
 * runtime's global `URLPattern` when it has one, else the `urlpattern-polyfill` package); since
 * those compile to backtracking regular expressions, a pattern is first checked against a cost
 * model that keeps its worst-case matching time polynomial of degree <= 2 in the topic length.
 */

/** Limits applied to one URL pattern. */
export const URLPATTERN_LIMITS = {
  /** Variable parts (`:name`, `(regexp)`, `*`) across all components. */
  maxParts: 16,
  /** Optional (`?`) parts or groups per component. */
  maxOptionals: 8,
  /**
   * "Ambiguity degree" per component: wildcards, regexp groups with a repeating quantifier,
   * repeated segments and segments holding several groups, each of which lets the regexp engine
   * try another split of the input. Degree d costs at most about n^d steps for a topic of n chars.
   */
  maxDegree: 2,
  /** Alternatives inside one regexp group. */
  maxAlternatives: 32,
} as const;

/** A URL pattern the cost model refuses, or that the URLPattern parser rejects. */
export class UrlPatternSelectorError extends Error {}

interface UrlPatternLike {
  test(input: string, baseURL?: string): boolean;
  readonly protocol: string;
  readonly username: string;
  readonly password: string;
  readonly hostname: string;
  readonly port: string;
  readonly pathname: string;
  readonly search: string;
  readonly hash: string;
}
type UrlPatternCtor = new (input: string, baseURL?: string) => UrlPatternLike;

const URLPatternImpl: UrlPatternCtor =
  (globalThis as { URLPattern?: UrlPatternCtor }).URLPattern ?? PolyfillURLPattern;

const COMPONENTS = [
  'protocol',
  'username',
  'password',
  'hostname',
  'port',
  'pathname',
  'search',
  'hash',
] as const;

/** Checks one regexp group body: no groups, no back-references, at most one repeat per alternative. */
function checkRegexp(body: string, component: string): { repeats: boolean } {
  let alternatives = 1;
  let repeatsHere = 0;
  let anyRepeat = false;
  let atom = false;
  const fail = (why: string): never => {
    throw new UrlPatternSelectorError(`regexp group "(${body})" in the ${component}: ${why}`);
  };
  let i = 0;
  while (i < body.length) {
    const ch = body[i];
    if (ch === '(' || ch === ')')
      fail('groups and lookarounds inside a regexp group are not allowed');
    if (ch === '|') {
      alternatives++;
      if (alternatives > URLPATTERN_LIMITS.maxAlternatives) {
        fail(`more than ${URLPATTERN_LIMITS.maxAlternatives} alternatives`);
      }
      repeatsHere = 0;
      atom = false;
      i++;
      continue;
    }
    if (ch === '*' || ch === '+' || ch === '?' || ch === '{') {
      if (!atom) fail(`quantifier "${ch}" without an atom`);
      let repeating = ch !== '?';
      if (ch === '{') {
        const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(body.slice(i));
        if (!m) fail('malformed {n,m} quantifier');
        const [whole, min, comma, max] = m as RegExpExecArray;
        repeating = comma !== undefined && (max === '' || Number(max) > 1);
        if (comma === undefined && Number(min) > 1) repeating = true;
        i += whole.length;
      } else {
        i++;
      }
      if (body[i] === '?') i++; // lazy
      if (repeating) {
        repeatsHere++;
        anyRepeat = true;
        if (repeatsHere > 1) fail('more than one repeating quantifier in an alternative');
      }
      atom = false;
      continue;
    }
    if (ch === '\\') {
      const next = body[i + 1];
      if (next === undefined) fail('trailing backslash');
      if (/[1-9k]/.test(next)) fail('back-references are not allowed');
      if (next === 'p' || next === 'P' || next === 'u' || next === 'x') {
        // \p{...}, \u{...}, \uXXXX, \xXX: one atom.
        const m = /^\\[pPux](\{[^}]*\}|[0-9A-Fa-f]{2,4})/.exec(body.slice(i));
        i += m ? m[0].length : 2;
      } else {
        i += 2;
      }
      atom = true;
      continue;
    }
    if (ch === '[') {
      let j = i + 1;
      if (body[j] === '^') j++;
      if (body[j] === ']') j++;
      while (j < body.length && body[j] !== ']') j += body[j] === '\\' ? 2 : 1;
      if (j >= body.length) fail('unclosed character class');
      if (body.slice(i + 1, j).includes('[')) fail('nested character classes are not allowed');
      i = j + 1;
      atom = true;
      continue;
    }
    atom = true;
    i++;
  }
  return { repeats: anyRepeat };
}

type Token =
  | { t: 'char'; v: string }
  | { t: 'name' }
  | { t: 'regexp'; body: string }
  | { t: 'wildcard' }
  | { t: 'modifier'; v: string }
  | { t: 'open' }
  | { t: 'close' };

/** Splits one component pattern string (the parser's normalized form) into tokens. */
function tokenize(pattern: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === '\\') {
      tokens.push({ t: 'char', v: pattern[i + 1] ?? '' });
      i += 2;
    } else if (ch === '{') {
      tokens.push({ t: 'open' });
      i++;
    } else if (ch === '}') {
      tokens.push({ t: 'close' });
      i++;
    } else if (ch === ':' && /[\p{ID_Start}$_]/u.test(pattern[i + 1] ?? '')) {
      i++;
      while (i < pattern.length && /[\p{ID_Continue}$\u200c\u200d]/u.test(pattern[i])) i++;
      tokens.push({ t: 'name' });
    } else if (ch === '(') {
      let depth = 1;
      let j = i + 1;
      while (j < pattern.length && depth > 0) {
        if (pattern[j] === '\\') j++;
        else if (pattern[j] === '(') depth++;
        else if (pattern[j] === ')') depth--;
        j++;
      }
      // `:name(regexp)` is one part: the regexp replaces the name's default segment regexp.
      if (tokens[tokens.length - 1]?.t === 'name') tokens.pop();
      tokens.push({ t: 'regexp', body: pattern.slice(i + 1, j - 1) });
      i = j;
    } else if (ch === '*' || ch === '+' || ch === '?') {
      const prev = tokens[tokens.length - 1];
      const afterPart =
        prev !== undefined &&
        (prev.t === 'name' || prev.t === 'regexp' || prev.t === 'wildcard' || prev.t === 'close');
      if (afterPart) tokens.push({ t: 'modifier', v: ch });
      else if (ch === '*') tokens.push({ t: 'wildcard' });
      else tokens.push({ t: 'char', v: ch });
      i++;
    } else {
      tokens.push({ t: 'char', v: ch });
      i++;
    }
  }
  return tokens;
}

/** Applies the cost model to one component; returns its number of variable parts. */
function checkComponent(component: string, pattern: string): number {
  const delimiter = component === 'pathname' ? '/' : component === 'hostname' ? '.' : undefined;
  const tokens = tokenize(pattern);
  let parts = 0;
  let optionals = 0;
  let degree = 0;
  let segmentGroups = 0; // delimited `:name` groups in the current segment
  let crowded = 0; // extra groups sharing a segment
  let confined = 0;
  const fail = (why: string): never => {
    throw new UrlPatternSelectorError(`URL pattern ${component} "${pattern}": ${why}`);
  };
  for (let k = 0; k < tokens.length; k++) {
    const tok = tokens[k];
    const mod = tokens[k + 1]?.t === 'modifier' ? (tokens[k + 1] as { v: string }).v : undefined;
    if (tok.t === 'char') {
      if (tok.v === delimiter) segmentGroups = 0;
      continue;
    }
    if (tok.t === 'open' || tok.t === 'modifier') continue;
    if (tok.t === 'close') {
      if (mod === '*' || mod === '+') fail(`a repeated group "{...}${mod}" is not allowed`);
      if (mod === '?') optionals++;
      continue;
    }
    parts++;
    if (mod === '?') optionals++;
    if (mod === '*' || mod === '+') {
      if (tok.t !== 'name' || delimiter !== '/') {
        fail(`the repeat modifier "${mod}" is only allowed on a :name group of the pathname`);
      }
      degree++;
      continue;
    }
    if (tok.t === 'wildcard') {
      degree++;
    } else if (tok.t === 'regexp') {
      if (checkRegexp(tok.body, component).repeats) degree++;
    } else if (delimiter === undefined) {
      degree++; // `:name` without a delimiter matches anything, like a wildcard
    } else {
      confined++;
      segmentGroups++;
      if (segmentGroups > 1) crowded++;
    }
  }
  if (optionals > URLPATTERN_LIMITS.maxOptionals)
    fail(`more than ${URLPATTERN_LIMITS.maxOptionals} optional parts`);
  const total = degree + crowded + (degree > 0 && confined > 0 ? 1 : 0);
  if (total > URLPATTERN_LIMITS.maxDegree) {
    fail(
      `too ambiguous to match in bounded time (degree ${total} > ${URLPATTERN_LIMITS.maxDegree}: ` +
        'use fewer wildcards, repeating regexps or groups sharing one segment)',
    );
  }
  return parts;
}

/** Compiles a URL pattern (relative ones against `baseURL`) into a topic predicate. */
export function compileUrlPattern(
  raw: string,
  baseURL: string,
  options: { fastPath?: boolean } = {},
): (topic: string) => boolean {
  let pattern: UrlPatternLike;
  try {
    pattern = new URLPatternImpl(raw, baseURL);
  } catch (err) {
    throw new UrlPatternSelectorError(
      `invalid URL pattern: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  let parts = 0;
  for (const c of COMPONENTS) {
    // An unspecified component is the bare wildcard `*`: one regexp, no ambiguity, not counted.
    if (pattern[c] !== '*') parts += checkComponent(c, pattern[c]);
  }
  if (parts > URLPATTERN_LIMITS.maxParts) {
    throw new UrlPatternSelectorError(
      `URL pattern has more than ${URLPATTERN_LIMITS.maxParts} variable parts`,
    );
  }
  const fast = options.fastPath === false ? undefined : fastMatcher(pattern, baseURL);
  if (fast) return fast;
  return (topic) => {
    try {
      return pattern.test(topic, baseURL);
    } catch {
      return false;
    }
  };
}

type Components = Record<(typeof COMPONENTS)[number], string>;

// The topic parsed last: SelectorIndex tests every pattern against the same topic in a row, so
// one URL parse serves them all.
let lastTopic: string | undefined;
let lastBase: string | undefined;
let lastParsed: Components | undefined;

/** The URL components of `topic` resolved against `base`, as URLPattern compares them. */
function componentsOf(topic: string, base: string): Components | undefined {
  if (topic === lastTopic && base === lastBase) return lastParsed;
  let parsed: Components | undefined;
  try {
    const u = new URL(topic, base);
    parsed = {
      protocol: u.protocol.slice(0, -1),
      username: u.username,
      password: u.password,
      hostname: u.hostname,
      port: u.port,
      pathname: u.pathname,
      search: u.search.slice(1),
      hash: u.hash.slice(1),
    };
  } catch {
    parsed = undefined;
  }
  lastTopic = topic;
  lastBase = base;
  lastParsed = parsed;
  return parsed;
}

/**
 * A matcher for the common shape (fixed or `*` components, a pathname of fixed text and whole
 * `:name` groups) that skips the polyfill's per-call parsing: one shared URL parse per topic,
 * string compares and one small linear regexp. Undefined when the pattern has another shape.
 */
function fastMatcher(
  pattern: UrlPatternLike,
  base: string,
): ((topic: string) => boolean) | undefined {
  const checks: ((c: Components) => boolean)[] = [];
  for (const name of COMPONENTS) {
    const value = pattern[name];
    if (value === '*') continue;
    const tokens = tokenize(value);
    if (tokens.every((t) => t.t === 'char')) {
      const fixed = tokens.map((t) => (t as { v: string }).v).join('');
      checks.push((c) => c[name] === fixed);
      continue;
    }
    if (name !== 'pathname') return undefined;
    let source = '^';
    for (let k = 0; k < tokens.length; k++) {
      const tok = tokens[k];
      if (tok.t === 'char') source += tok.v.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
      else if (tok.t === 'name' && tokens[k + 1]?.t !== 'modifier') source += '[^/]+?';
      else return undefined;
    }
    const re = new RegExp(`${source}$`, 'u');
    checks.push((c) => re.test(c.pathname));
  }
  return (topic) => {
    const c = componentsOf(topic, base);
    if (c === undefined) return false;
    for (const check of checks) if (!check(c)) return false;
    return true;
  };
}
