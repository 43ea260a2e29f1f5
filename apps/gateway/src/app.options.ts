import type { HeraldConfig } from '@herald/config';
import type { BrokerModuleOptions } from '@herald/broker';
import type { PublishModuleOptions } from '@herald/publish';
import type { StreamsModuleOptions } from '@herald/streams';

/** Pure mappers from validated config to each lib's module options. */
export function brokerOptions(config: HeraldConfig): BrokerModuleOptions {
  const common = { historySize: config.HISTORY_SIZE, historyTtlMs: config.HISTORY_TTL_S * 1000 };
  switch (config.BROKER) {
    case 'memory':
      return { driver: 'memory', ...common };
    case 'redis':
      throw new Error('BROKER=redis is not available in this build');
  }
}

export function streamsOptions(config: HeraldConfig): StreamsModuleOptions {
  return {
    heartbeatMs: config.HEARTBEAT_MS,
    retryMs: config.RETRY_MS,
    maxBufferedBytes: config.MAX_BUFFERED_BYTES,
    maxTopicsPerConnection: config.MAX_TOPICS_PER_CONNECTION,
    shedMode: config.SHED_MODE,
    shutdownGraceMs: config.SHUTDOWN_GRACE_MS,
    batchLingerMs: config.BATCH_LINGER_MS,
    compression: config.COMPRESSION,
    instanceId: config.INSTANCE_ID,
  };
}

export function publishOptions(config: HeraldConfig): PublishModuleOptions {
  return { maxEventBytes: config.MAX_EVENT_BYTES, redactKeys: config.REDACT_KEYS };
}

/** Largest accepted `POST /events` body: a full batch of maximum events plus JSON overhead. */
export function maxPublishBodyBytes(config: HeraldConfig): number {
  return 100 * (config.MAX_EVENT_BYTES + 512) + 4096;
}
