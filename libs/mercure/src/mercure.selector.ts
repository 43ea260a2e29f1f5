import { compileTemplate, TEMPLATE_LIMITS, TemplateSyntaxError } from './mercure.selector-template';
import {
  compileUrlPattern,
  URLPATTERN_LIMITS,
  UrlPatternSelectorError,
} from './mercure.selector-urlpattern';

/**
 * Mercure topic selectors: `exact` (Mercure 1.0 `match` / `match_exact`, legacy exact topics),
 * `template` (legacy 0.x RFC 6570 URI templates) and `urlpattern` (Mercure 1.0 WHATWG URL
 * patterns). Each is compiled once; `SelectorIndex` finds the subscribers of an update.
 */

/** How a selector's text is interpreted. */
export type MercureSelectorKind = 'exact' | 'template' | 'urlpattern';

/** A compiled topic selector. */
export interface MercureSelector {
  readonly kind: MercureSelectorKind;
  /** The selector as the subscriber sent it. */
  readonly raw: string;
  /** True when `topic` is selected. Never throws. */
  matches(topic: string): boolean;
}

/** A selector that cannot be compiled (syntax or limits); `message` names the problem (HTTP 400). */
export class MercureSelectorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MercureSelectorError';
  }
}

/** Options of `compileSelector`. */
export interface MercureSelectorOptions {
  /**
   * The hub's URL, against which relative URL patterns and relative topics are resolved
   * (default `https://mercure.invalid/.well-known/mercure`, so relative patterns match relative
   * topics only).
   */
  readonly baseURL?: string;
}

/** Bounds on selectors, so that a hostile selector cannot make matching expensive. */
export const MERCURE_SELECTOR_LIMITS = {
  /** Characters per selector. */
  maxLength: 2048,
  template: TEMPLATE_LIMITS,
  urlpattern: URLPATTERN_LIMITS,
} as const;

/** The reserved wildcard: selects every topic, whatever the selector kind. */
export const MERCURE_WILDCARD = '*';

const DEFAULT_BASE_URL = 'https://mercure.invalid/.well-known/mercure';

class CompiledSelector implements MercureSelector {
  constructor(
    readonly kind: MercureSelectorKind,
    readonly raw: string,
    /** Set when the selector selects exactly this one topic (an index key). */
    readonly exactTopic: string | undefined,
    private readonly test: (topic: string) => boolean,
  ) {}

  matches(topic: string): boolean {
    return this.test(topic);
  }
}

const ANY = (): boolean => true;

function checkText(raw: string): void {
  if (typeof raw !== 'string' || raw === '') throw new MercureSelectorError('empty topic selector');
  if (raw.length > MERCURE_SELECTOR_LIMITS.maxLength) {
    throw new MercureSelectorError(
      `topic selector longer than ${MERCURE_SELECTOR_LIMITS.maxLength} characters`,
    );
  }
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c <= 0x1f || (c >= 0x7f && c <= 0x9f)) {
      throw new MercureSelectorError(`topic selector contains a control character at ${i}`);
    }
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = raw.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff))
        throw new MercureSelectorError('topic selector is not valid UTF-8');
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      throw new MercureSelectorError('topic selector is not valid UTF-8');
    }
  }
}

/**
 * Compiles `raw` as a selector of `kind`. `*` selects every topic whatever the kind.
 * @throws MercureSelectorError when `raw` is empty, too long, has control characters, or is not a
 *   valid (or is a too costly) template or URL pattern.
 */
export function compileSelector(
  raw: string,
  kind: MercureSelectorKind,
  options: MercureSelectorOptions = {},
): MercureSelector {
  checkText(raw);
  if (raw === MERCURE_WILDCARD) return new CompiledSelector(kind, raw, undefined, ANY);
  switch (kind) {
    case 'exact':
      return new CompiledSelector(kind, raw, raw, (topic) => topic === raw);
    case 'template': {
      let test: ((topic: string) => boolean) | undefined;
      try {
        test = compileTemplate(raw);
      } catch (err) {
        if (err instanceof TemplateSyntaxError)
          throw new MercureSelectorError(`invalid URI template: ${err.message}`);
        throw err;
      }
      // A template without expressions is a literal: it selects exactly itself.
      return test
        ? new CompiledSelector(kind, raw, undefined, test)
        : new CompiledSelector(kind, raw, raw, (t) => t === raw);
    }
    case 'urlpattern':
      try {
        return new CompiledSelector(
          kind,
          raw,
          undefined,
          compileUrlPattern(raw, options.baseURL ?? DEFAULT_BASE_URL),
        );
      } catch (err) {
        if (err instanceof UrlPatternSelectorError) throw new MercureSelectorError(err.message);
        throw err;
      }
    default:
      throw new MercureSelectorError(`unknown topic selector kind "${String(kind)}"`);
  }
}

/**
 * A legacy (0.x) `topic=` selector: `*` selects every topic, text with `{` or `}` is an RFC 6570
 * URI template, anything else is an exact topic.
 * @throws MercureSelectorError as `compileSelector` does (e.g. a malformed template).
 */
export function legacySelector(raw: string): MercureSelector {
  if (raw === MERCURE_WILDCARD) return compileSelector(raw, 'exact');
  return compileSelector(raw, raw.includes('{') || raw.includes('}') ? 'template' : 'exact');
}

/** The topic a selector selects exclusively, if it is that simple. */
function exactKey(selector: MercureSelector): string | undefined {
  if (selector instanceof CompiledSelector) return selector.exactTopic;
  return selector.kind === 'exact' && selector.raw !== MERCURE_WILDCARD ? selector.raw : undefined;
}

interface PatternEntry<T> {
  readonly selector: MercureSelector;
  readonly values: Map<T, number>;
}

/**
 * Maps selectors to values (e.g. subscriptions). `match` costs one Map lookup per topic for the
 * exact selectors plus one `matches` call per distinct non-exact selector (identical kind + text
 * registered by many values are tested once). A (selector, value) pair added twice must be
 * removed twice.
 */
export class SelectorIndex<T> {
  private readonly exact = new Map<string, Map<T, number>>();
  private readonly patterns = new Map<string, PatternEntry<T>>();
  private registrations = 0;

  /** Number of (selector, value) registrations held. */
  get size(): number {
    return this.registrations;
  }

  /** Number of distinct non-exact selectors, each tested once per `match`. */
  get patternCount(): number {
    return this.patterns.size;
  }

  add(selector: MercureSelector, value: T): void {
    const key = exactKey(selector);
    let values: Map<T, number>;
    if (key !== undefined) {
      let v = this.exact.get(key);
      if (!v) this.exact.set(key, (v = new Map<T, number>()));
      values = v;
    } else {
      const pkey = `${selector.kind}\u0000${selector.raw}`;
      let entry = this.patterns.get(pkey);
      if (!entry) this.patterns.set(pkey, (entry = { selector, values: new Map<T, number>() }));
      values = entry.values;
    }
    values.set(value, (values.get(value) ?? 0) + 1);
    this.registrations++;
  }

  remove(selector: MercureSelector, value: T): void {
    const key = exactKey(selector);
    if (key !== undefined) {
      const values = this.exact.get(key);
      if (values && this.release(values, value) && values.size === 0) this.exact.delete(key);
      return;
    }
    const pkey = `${selector.kind}\u0000${selector.raw}`;
    const entry = this.patterns.get(pkey);
    if (entry && this.release(entry.values, value) && entry.values.size === 0)
      this.patterns.delete(pkey);
  }

  /** The values of every selector that matches at least one of `topics`. */
  match(topics: readonly string[]): Set<T> {
    const out = new Set<T>();
    for (const topic of topics) {
      const values = this.exact.get(topic);
      if (values) for (const v of values.keys()) out.add(v);
    }
    for (const entry of this.patterns.values()) {
      if (topics.some((t) => entry.selector.matches(t)))
        for (const v of entry.values.keys()) out.add(v);
    }
    return out;
  }

  /**
   * Calls `visit` once for each value {@link match} would return, without building its Set when
   * one topic meets exact selectors only (the values are then distinct already): an update to a
   * topic with N subscribers costs one copy of N references rather than N Set insertions. The
   * values are collected before the first call (a value added or removed by `visit` does not
   * change this round).
   */
  forEachMatch(topics: readonly string[], visit: (value: T) => void): void {
    if (topics.length === 1 && this.patterns.size === 0) {
      const values = this.exact.get(topics[0]);
      if (values === undefined) return;
      for (const v of Array.from(values.keys())) visit(v);
      return;
    }
    for (const v of this.match(topics)) visit(v);
  }

  private release(values: Map<T, number>, value: T): boolean {
    const n = values.get(value);
    if (n === undefined) return false;
    if (n <= 1) values.delete(value);
    else values.set(value, n - 1);
    this.registrations--;
    return true;
  }
}
