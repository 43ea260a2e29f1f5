import { filterCovers, parseTopicFilter, type TopicFilter } from '@herald/topics';
import { AuthError, AuthErrorCode } from './auth.errors';
import type { Principal } from './principal';

/**
 * Decides which topics a principal may subscribe or publish to. A request is allowed only if
 * EVERY requested topic or pattern is covered (a subset, not an overlap) by one grant.
 */
export class TopicPermissionPolicy {
  /** True when each of `requested` is covered by some of `granted`. */
  static covers(granted: readonly TopicFilter[], requested: readonly TopicFilter[]): boolean {
    return requested.every((r) => granted.some((g) => filterCovers(g, r)));
  }

  /**
   * @throws AuthError `missing-token` (401) for an anonymous client outside ANONYMOUS_TOPICS,
   * `topic-not-permitted` (403) for a token outside its grants.
   */
  static assertSubscribe(principal: Principal, requested: readonly TopicFilter[]): void {
    const denied = requested.filter((r) => !principal.subscribe.some((g) => filterCovers(g, r)));
    if (denied.length === 0) return;
    if (principal.anonymous) {
      throw new AuthError(
        AuthErrorCode.MissingToken,
        'a token is required for these topics (Authorization: Bearer, cookie or access_token)',
      );
    }
    throw new AuthError(
      AuthErrorCode.TopicNotPermitted,
      `not permitted to subscribe to ${describe(denied.map((d) => d.raw))}`,
    );
  }

  /**
   * A stream may not start on a token already past `exp` (accepted within the clock skew for
   * single requests): it would end at once and an EventSource would loop reconnecting.
   * @throws AuthError `invalid-token` (401).
   */
  static assertStreamable(principal: Principal, now = Date.now()): void {
    if (principal.expiresAt !== undefined && principal.expiresAt <= now) {
      throw new AuthError(AuthErrorCode.InvalidToken, 'token expired');
    }
  }

  /**
   * Reading a topic's presence (`GET /presence`): an admin, or a `presence` grant covering it.
   * @throws AuthError `topic-not-permitted` (403).
   */
  static assertPresence(principal: Principal, topic: TopicFilter): void {
    if (principal.admin || principal.presence.some((g) => filterCovers(g, topic))) return;
    throw new AuthError(
      AuthErrorCode.TopicNotPermitted,
      `not permitted to read the presence of "${topic.raw}" (needs a presence grant or admin)`,
    );
  }

  /**
   * @param topics concrete, already validated topics of the events to publish.
   * @throws AuthError `topic-not-permitted` (403) naming the first refused topic.
   */
  static assertPublish(principal: Principal, topics: readonly string[]): void {
    const denied = [...new Set(topics)].filter((t) => {
      const filter = parseTopicFilter(t, false);
      return !principal.publish.some((g) => filterCovers(g, filter));
    });
    if (denied.length === 0) return;
    throw new AuthError(
      AuthErrorCode.TopicNotPermitted,
      `not permitted to publish to ${describe(denied)}`,
    );
  }
}

function describe(topics: readonly string[]): string {
  const shown = topics.slice(0, 3).map((t) => `"${t}"`);
  return topics.length > 3 ? `${shown.join(', ')} and ${topics.length - 3} more` : shown.join(', ');
}
