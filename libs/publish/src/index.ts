export { PublishModule } from './publish.module';
export { PUBLISH_MODULE_OPTIONS } from './publish.module-definition';
export type { PublishModuleOptions } from './publish.options';
export { PublishService } from './publish.service';
export type { PublishContext, PublishOutcome } from './publish.service';
export { PublishError, PublishErrorCode } from './publish.errors';
export { REDACTED, serializeRedacted } from './redaction';
export { PublishObserver } from './publish.observer';
export type { PublishObservation } from './publish.observer';
