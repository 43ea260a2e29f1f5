import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { InMemoryRevocationList } from './adapters/in-memory.revocation-list';
import { PRINCIPAL, type AuthenticatedRequest } from './request.authenticator';
import { AuthStreamAuthorization } from './stream.authorization';
import { parseTopicFilter } from '@herald/topics';

describe('AuthStreamAuthorization', () => {
  it('should authorize from the principal on the request, and drop it on release', () => {
    const authorization = new AuthStreamAuthorization(new InMemoryRevocationList());
    const req = new IncomingMessage(new Socket()) as AuthenticatedRequest;
    req[PRINCIPAL] = {
      sub: 'u1',
      anonymous: false,
      subscribe: [parseTopicFilter('orders/*')],
      publish: [],
      presence: [],
      admin: false,
      expiresAt: Date.now() + 60_000,
      issuedAt: Date.now(),
    };
    expect(authorization.authorize(req, [parseTopicFilter('orders/1')]).sub).toBe('u1');
    authorization.release(req);
    expect(req[PRINCIPAL]).toBeUndefined();
    // A later authorize finds no principal (as on an unguarded route).
    expect(() => authorization.authorize(req, [parseTopicFilter('orders/1')])).toThrow();
  });
});
