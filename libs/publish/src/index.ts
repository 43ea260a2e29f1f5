export { PublishModule } from './publish.module';
export type { PublishModuleOptions } from './publish.options';
export { PublishService } from './publish.service';
export type { PublishContext, PublishOutcome } from './publish.service';
export { PublishError, PublishErrorCode } from './publish.errors';
export { serializeRedacted } from './redaction';
export { jsonTextDepth } from './json-depth';
export { PublishObserver } from './publish.observer';
export type { PublishObservation } from './publish.observer';
