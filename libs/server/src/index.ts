export { HeraldServerModule } from './herald-server.module';
export { ShutdownService } from './shutdown.service';
export {
  EVENT_LOOP_DELAY_THRESHOLD_MS,
  authOptions,
  brokerOptions,
  clusterOptions,
  ingestOptions,
  limitsOptions,
  mercureOptions,
  presenceOptions,
  publishOptions,
  redisConnectionOptions,
  streamsOptions,
  telemetryOptions,
} from './herald.options';
