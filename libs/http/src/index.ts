export { HeraldExceptionFilter } from './herald-exception.filter';
export { httpErrorOf } from './http-error.mapper';
export type { HttpErrorBody, HttpErrorContext, HttpErrorResponse } from './http-error.mapper';
export { ClientAddressModule } from './client-address.module';
export { ProxyTrust, clientIp, isSecure } from './client-ip';
export { requestLogMiddleware } from './request-log.middleware';
export type { RequestLogDeps } from './request-log.middleware';
