import type { ServerResponse } from 'node:http';
import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { AuthError } from '@herald/auth';

/** Answers Herald's auth refusals as Herald does: 401/403, `WWW-Authenticate`, JSON error body. */
@Catch(AuthError)
export class AuthErrorFilter implements ExceptionFilter<AuthError> {
  catch(error: AuthError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<ServerResponse>();
    const status = error.status;
    const challenge = error.challenge;
    res.writeHead(status, {
      'Content-Type': 'application/json; charset=utf-8',
      ...(challenge === undefined ? {} : { 'WWW-Authenticate': challenge }),
    });
    res.end(
      JSON.stringify({
        statusCode: status,
        error: status === 401 ? 'Unauthorized' : 'Forbidden',
        message: error.message,
      }),
    );
  }
}
