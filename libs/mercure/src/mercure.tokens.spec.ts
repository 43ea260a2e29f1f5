import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MercureError } from './mercure.errors';
import type { MercureModuleOptions } from './mercure.options';
import { MercureTokens } from './mercure.tokens';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function sign(payload: unknown, header: Record<string, unknown> = { typ: 'at+jwt' }): string {
  const input = `${b64({ alg: 'HS256', ...header })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', SECRET).update(input).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
const all = [{ type: 'mercure', actions: ['publish', 'subscribe'], topics: [{ match: '*' }] }];

function tokens(extra: Partial<MercureModuleOptions> = {}): MercureTokens {
  const options = {
    protocol: 'both',
    publisherKey: { driver: 'secret', secret: SECRET },
    subscriberKey: { driver: 'secret', secret: SECRET },
    algorithms: ['HS256'],
    ...extra,
  } as MercureModuleOptions;
  return new MercureTokens(options);
}

async function refused(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(MercureError);
    expect((err as MercureError).getStatus()).toBe(401);
    expect((err as MercureError).headers['WWW-Authenticate']).toContain('invalid_token');
    return (err as MercureError).message;
  }
  throw new Error('the token was accepted');
}

describe('MercureTokens', () => {
  it('should compile 1.0 grants, payloads and times', async () => {
    const grants = await tokens().verify(
      sign({
        sub: 's',
        exp: now() + 60,
        iat: now(),
        authorization_details: [
          {
            type: 'mercure',
            actions: ['subscribe'],
            topics: [{ match: 'https://x/books/:id', matchType: 'URLPattern' }],
            payload: { a: 1 },
          },
          { type: 'other', actions: ['anything'] },
        ],
      }),
      'subscriber',
    );
    expect(grants).toMatchObject({ dialect: 'v1', sub: 's', publish: [] });
    expect(grants.subscribe[0].matches('https://x/books/1')).toBe(true);
    expect(grants.payloads[0].payload).toEqual({ a: 1 });
  });

  it('should check iss and aud of 1.0 tokens when configured', async () => {
    const t = tokens({ issuer: 'https://issuer', audience: 'https://hub' });
    const ok = {
      exp: now() + 60,
      iss: 'https://issuer',
      aud: ['x', 'https://hub'],
      authorization_details: all,
    };
    await expect(t.verify(sign(ok), 'publisher')).resolves.toMatchObject({ dialect: 'v1' });
    expect(await refused(t.verify(sign({ ...ok, aud: 'x' }), 'publisher'))).toContain('aud');
    expect(await refused(t.verify(sign({ ...ok, iss: 'y' }), 'publisher'))).toContain('iss');
  });

  it('should refuse untyped, unexpiring, malformed or alg-swapped 1.0 tokens', async () => {
    const t = tokens();
    const good = { exp: now() + 60, authorization_details: all };
    expect(await refused(t.verify(sign(good, { typ: 'JWT' }), 'publisher'))).toContain('at+jwt');
    expect(await refused(t.verify(sign({ authorization_details: all }), 'publisher'))).toContain(
      'exp',
    );
    await refused(t.verify(sign({ exp: now() + 60, authorization_details: {} }), 'publisher'));
    await refused(
      t.verify(
        sign({
          exp: now() + 60,
          authorization_details: [{ type: 'mercure', actions: ['x'], topics: [] }],
        }),
        'publisher',
      ),
    );
    await refused(
      t.verify(
        sign({
          exp: now() + 60,
          authorization_details: [
            {
              type: 'mercure',
              actions: ['subscribe'],
              topics: [{ match: 'a', matchType: 'Regex' }],
            },
          ],
        }),
        'publisher',
      ),
    );
    await refused(t.verify(sign(good, { typ: 'at+jwt', alg: 'none' }), 'publisher'));
    await refused(t.verify(sign(good, { typ: 'at+jwt', jwk: {} }), 'publisher'));
    await refused(t.verify(sign({ ...good, exp: now() - 120 }), 'publisher'));
  });

  it('should accept 0.x tokens without exp, and each dialect only where MERCURE_PROTOCOL allows', async () => {
    const legacy = sign(
      { mercure: { publish: ['https://x/{id}'], subscribe: ['*'] } },
      { typ: 'JWT' },
    );
    const grants = await tokens().verify(legacy, 'publisher');
    expect(grants).toMatchObject({ dialect: 'legacy', expiresAt: undefined });
    expect(grants.publish[0].matches('https://x/1')).toBe(true);
    await refused(tokens({ protocol: 'v1' }).verify(legacy, 'publisher'));
    await refused(
      tokens({ protocol: 'legacy' }).verify(
        sign({ exp: now() + 60, authorization_details: all }),
        'publisher',
      ),
    );
    await refused(tokens().verify(sign({ exp: now() + 60 }), 'publisher'));
  });
});
