import { SetMetadata } from '@nestjs/common';

/** Metadata key set by {@link Public}. */
export const IS_PUBLIC = 'herald:auth:public';

/**
 * Marks a route (or controller) as deliberately open to everyone: it needs no Herald JWT. It may
 * still carry its own check (e.g. METRICS_TOKEN). Every route is either this or guarded.
 */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC, true);
