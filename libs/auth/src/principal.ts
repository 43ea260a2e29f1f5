import { isTopicSegment, parseTopicFilter, type TopicFilter } from '@herald/topics';

/** The permissions claim as carried by a token (CONTRACT section 3). */
export interface GrantsClaim {
  readonly subscribe?: readonly string[];
  readonly publish?: readonly string[];
  /** Topics whose presence (`GET /presence`) this token may read. */
  readonly presence?: readonly string[];
  readonly admin?: boolean;
}

/** Who made a request, with parsed grants. */
export interface Principal {
  /** Token `sub`; undefined for anonymous clients. */
  readonly sub: string | undefined;
  readonly anonymous: boolean;
  /** Patterns this principal may subscribe to (grants plus ANONYMOUS_TOPICS). */
  readonly subscribe: readonly TopicFilter[];
  /** Patterns this principal may publish to. */
  readonly publish: readonly TopicFilter[];
  /** Patterns whose presence this principal may read (`GET /presence`; admins read any). */
  readonly presence: readonly TopicFilter[];
  readonly admin: boolean;
  /** Token `exp` in epoch ms (undefined for anonymous clients). */
  readonly expiresAt: number | undefined;
  /** Token `iat` in epoch ms, when present. */
  readonly issuedAt: number | undefined;
}

/**
 * Parses granted patterns, replacing a `{sub}` segment by `sub` as a literal segment. A pattern
 * that is invalid, or needs `{sub}` while `sub` is not a valid segment (`*`, `a/b`, empty...),
 * grants nothing.
 */
export function compileGrants(patterns: unknown, sub: string | undefined): TopicFilter[] {
  if (!Array.isArray(patterns)) return [];
  const out: TopicFilter[] = [];
  for (const pattern of patterns) {
    if (typeof pattern !== 'string') continue;
    const segments = pattern.split('/');
    if (segments.includes('{sub}')) {
      if (sub === undefined || !isTopicSegment(sub)) continue;
    }
    const literal = segments.map((s) => (s === '{sub}' ? sub : s)).join('/');
    try {
      out.push(parseTopicFilter(literal));
    } catch {
      // an invalid granted pattern grants nothing
    }
  }
  return out;
}

/** Parses ANONYMOUS_TOPICS (validated at boot by the config). */
export function compileAnonymous(patterns: readonly string[]): TopicFilter[] {
  return patterns.map((p) => parseTopicFilter(p));
}
