export { HeraldExceptionFilter } from './herald-exception.filter';
export { httpErrorOf } from './http-error.mapper';
export type { HttpErrorBody, HttpErrorContext, HttpErrorResponse } from './http-error.mapper';
