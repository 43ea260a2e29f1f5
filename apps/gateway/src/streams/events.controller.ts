import { Controller, UseGuards } from '@nestjs/common';
import { SubscriberGuard } from '@herald/auth';
import { HeraldStream, StreamRoute, StreamTopics, StreamsService } from '@herald/streams';

/** `GET /events`: the SSE stream (CONTRACT section 1). */
@Controller('events')
export class EventsController {
  constructor(private readonly streams: StreamsService) {}

  /**
   * The events of `?topic=` (repeated), resumed from `Last-Event-ID` or `?lastEventId=`. The
   * guard refuses bad tokens (401); the stream pipeline validates topics and cursor (400), the
   * grants (403), then admits, sheds or opens the stream (`StreamPipeline`).
   */
  @StreamRoute()
  @UseGuards(SubscriberGuard)
  subscribe(@StreamTopics() topics: string[]): HeraldStream {
    return this.streams.events(topics);
  }
}
