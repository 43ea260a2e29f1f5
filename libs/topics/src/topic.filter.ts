/** Maximum length of a topic or pattern, in characters (CONTRACT section 4). */
export const MAX_TOPIC_LENGTH = 256;

const SEGMENT = /^[A-Za-z0-9_.~:@-]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;

/** A validated topic (`kind: 'topic'`) or pattern (`kind: 'pattern'`), split into segments. */
export interface TopicFilter {
  readonly raw: string;
  readonly kind: 'topic' | 'pattern';
  readonly segments: readonly string[];
}

/** Why a string is not a valid topic or pattern. */
export class TopicSyntaxError extends Error {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid topic "${printable(input)}": ${reason}`);
    this.name = 'TopicSyntaxError';
  }
}

function printable(input: string): string {
  const shown = input.length > 64 ? `${input.slice(0, 64)}...` : input;
  return shown.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** True for the first segment of an internal topic (`$...`), which wildcards never match. */
export function isInternalTopic(firstSegment: string | undefined): boolean {
  return firstSegment !== undefined && firstSegment.charCodeAt(0) === 36; // '$'
}

/** True when `segment` is a valid literal topic segment. */
export function isTopicSegment(segment: string): boolean {
  return SEGMENT.test(segment);
}

/**
 * Parses a topic or pattern (`*` is one segment, a trailing `**` is zero or more).
 * @throws TopicSyntaxError when the input is not valid; patterns only when `allowPatterns`.
 */
export function parseTopicFilter(input: string, allowPatterns = true): TopicFilter {
  if (typeof input !== 'string' || input.length === 0) {
    throw new TopicSyntaxError(String(input), 'must not be empty');
  }
  if (input.length > MAX_TOPIC_LENGTH) {
    throw new TopicSyntaxError(input, `longer than ${MAX_TOPIC_LENGTH} characters`);
  }
  const segments = input.split('/');
  let wildcard = false;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment === '*' || segment === '**') {
      if (!allowPatterns) {
        throw new TopicSyntaxError(
          input,
          'patterns are not allowed here (publish to a concrete topic)',
        );
      }
      if (segment === '**' && i !== segments.length - 1) {
        throw new TopicSyntaxError(input, '"**" is only allowed as the last segment');
      }
      wildcard = true;
      continue;
    }
    if (segment.length === 0) {
      throw new TopicSyntaxError(input, 'empty segment');
    }
    if (!SEGMENT.test(segment)) {
      throw new TopicSyntaxError(
        input,
        `segment "${printable(segment)}" has characters outside [A-Za-z0-9_.~:@-]`,
      );
    }
  }
  return { raw: input, kind: wildcard ? 'pattern' : 'topic', segments };
}

/** True when the concrete `topic` segments match `filter`; linear in the topic length. */
export function filterMatches(filter: TopicFilter, topic: readonly string[]): boolean {
  const pattern = filter.segments;
  // An internal topic (first segment `$...`, e.g. the Mercure hub's) is never matched by a
  // wildcard: only its exact name, which no client can subscribe to (`$` is not a segment char).
  if (isInternalTopic(topic[0]) && pattern[0] !== topic[0]) return false;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === '**') return true;
    if (i >= topic.length) return false;
    if (p !== '*' && p !== topic[i]) return false;
  }
  return pattern.length === topic.length;
}

/**
 * True when every topic matched by `requested` is also matched by `granted`
 * (subset, not mere overlap). Both must be parsed filters.
 */
export function filterCovers(granted: TopicFilter, requested: TopicFilter): boolean {
  const g = granted.segments;
  const r = requested.segments;
  for (let i = 0; i < g.length; i++) {
    const gs = g[i];
    if (gs === '**') return true;
    if (i >= r.length) return false;
    const rs = r[i];
    if (rs === '**') return false;
    if (gs === '*') continue;
    if (rs === '*' || rs !== gs) return false;
  }
  return g.length === r.length;
}
