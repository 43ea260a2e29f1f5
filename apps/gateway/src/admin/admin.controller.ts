import {
  BadRequestException,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Post,
  Query,
  UseGuards,
} from '@nestjs/common';
import { AdminGuard, RevocationList } from '@herald/auth';
import { Broker, type TopicHistoryInfo } from '@herald/broker';
import { parseTopicFilter } from '@herald/topics';
import type { ConnectionInfo } from '@herald/streams';
import { JsonBodyPipe, RawRequest } from '../publish/json-body.pipe';
import { AdminService } from './admin.service';
import { parseTopicsLimit, type Overview } from './overview.aggregate';
import { OverviewService } from './overview.service';

const CONNECTION_ID = /^[A-Za-z0-9-]{1,64}$/;

/** Admin API (CONTRACT section 5); every route needs a token with `admin: true`. */
@Controller('admin')
@UseGuards(AdminGuard)
export class AdminController {
  constructor(
    private readonly admin: AdminService,
    private readonly revocations: RevocationList,
    private readonly overviews: OverviewService,
    private readonly broker: Broker,
  ) {}

  /**
   * Every live instance's figures (open streams, cumulative publishes, deliveries, sheds,
   * slow-consumer cuts, latency buckets, broker, readiness, event-loop delay), cluster totals and
   * the `topics` (default 20, at most 100) most subscribed topics; the operator console polls it.
   */
  @Get('overview')
  async overview(@Query('topics') topics: unknown): Promise<Overview> {
    const limit = parseTopicsLimit(topics);
    if (typeof limit === 'string') throw new BadRequestException(limit);
    return this.overviews.overview(limit);
  }

  /**
   * One concrete topic's history: the policy in force (HISTORY_POLICIES pattern, or the default
   * HISTORY_SIZE / HISTORY_TTL_S) and how many events it retains for resume.
   */
  @Get('topics/*topic')
  async topic(@Param('topic') segments: string[] | string): Promise<TopicHistoryInfo> {
    const topic = Array.isArray(segments) ? segments.join('/') : segments;
    let kind: string;
    try {
      kind = parseTopicFilter(topic).kind;
    } catch (err) {
      throw new BadRequestException(
        `invalid topic: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    if (kind !== 'topic') throw new BadRequestException('topic must be concrete (no patterns)');
    return this.broker.topicHistory(topic);
  }

  /** Every open stream on every instance. */
  @Get('connections')
  async connections(): Promise<{ count: number; connections: ConnectionInfo[] }> {
    const connections = await this.admin.connections();
    return { count: connections.length, connections };
  }

  /** Closes one stream on whatever instance holds it: 204, or 404 when none does. */
  @Delete('connections/:id')
  @HttpCode(204)
  async close(@Param('id') id: string): Promise<void> {
    if (!CONNECTION_ID.test(id)) throw new BadRequestException('invalid connection id');
    if (!(await this.admin.close(id))) throw new NotFoundException(`no open connection ${id}`);
  }

  /**
   * Revokes a subject: its tokens issued before now are refused from here on, and its open
   * streams close on every instance.
   */
  @Post('revocations')
  @HttpCode(200)
  async revoke(
    @RawRequest(JsonBodyPipe) body: unknown,
  ): Promise<{ sub: string; revokedAt: number; closed: number }> {
    const sub = (body as { sub?: unknown } | null)?.sub;
    if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256) {
      throw new BadRequestException('body must be {"sub": "<subject, 1..256 characters>"}');
    }
    const revokedAt = Date.now();
    await this.revocations.revoke(sub, revokedAt);
    const closed = await this.admin.closeSubject(sub);
    return { sub, revokedAt, closed };
  }
}
