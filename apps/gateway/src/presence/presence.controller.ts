import { BadRequestException, Controller, Get, Query, UseGuards } from '@nestjs/common';
import {
  CurrentPrincipal,
  PublisherGuard,
  TopicPermissionPolicy,
  type Principal,
} from '@herald/auth';
import {
  PRESENCE_DEFAULT_LIMIT,
  PRESENCE_MAX_LIMIT,
  PresenceService,
  type PresencePage,
} from '@herald/presence';
import { parseTopicFilter, TopicSyntaxError, type TopicFilter } from '@herald/topics';

/**
 * `GET /presence?topic=<topic>[&limit=N][&next=...]` (CONTRACT section 10): who is subscribed
 * to a concrete topic under PRESENCE_TOPICS, cluster-wide. A valid token is required (401;
 * the guard admits no anonymous client), with a `presence` grant covering the topic or `admin`
 * (403).
 */
@Controller('presence')
export class PresenceController {
  constructor(private readonly presence: PresenceService) {}

  @Get()
  @UseGuards(PublisherGuard)
  async get(
    @CurrentPrincipal() principal: Principal,
    @Query('topic') topic: unknown,
    @Query('limit') limit: unknown,
    @Query('next') next: unknown,
  ): Promise<PresencePage> {
    const filter = this.topicOf(topic);
    TopicPermissionPolicy.assertPresence(principal, filter);
    return this.presence.page(filter.raw, limitOf(limit), single(next, 'next'));
  }

  private topicOf(raw: unknown): TopicFilter {
    const topic = single(raw, 'topic');
    if (topic === undefined) throw new BadRequestException('topic is required (?topic=...)');
    let filter: TopicFilter;
    try {
      filter = parseTopicFilter(topic);
    } catch (err) {
      if (err instanceof TopicSyntaxError) throw new BadRequestException(err.message);
      throw err;
    }
    if (filter.kind === 'pattern') {
      throw new BadRequestException('presence is per concrete topic: patterns are not accepted');
    }
    if (!this.presence.tracks(filter.raw)) {
      throw new BadRequestException(`"${filter.raw}" is not under PRESENCE_TOPICS`);
    }
    return filter;
  }
}

function single(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new BadRequestException(`${name} must be given once`);
  return value;
}

function limitOf(value: unknown): number {
  const raw = single(value, 'limit');
  if (raw === undefined) return PRESENCE_DEFAULT_LIMIT;
  const n = Number(raw);
  if (!/^[0-9]+$/.test(raw) || n < 1 || n > PRESENCE_MAX_LIMIT) {
    throw new BadRequestException(`limit must be an integer from 1 to ${PRESENCE_MAX_LIMIT}`);
  }
  return n;
}
