import { createHmac, generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
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

  it('should verify HMAC tokens itself: MAC, time claims and headers as jose would', async () => {
    const t = tokens();
    const good = { exp: now() + 60, authorization_details: all };
    const token = sign(good);
    await expect(t.verify(token, 'publisher')).resolves.toMatchObject({ dialect: 'v1' });
    const [h, p, mac] = token.split('.');
    // Another payload under the same MAC, a MAC of another key, a truncated or extra part.
    await refused(t.verify(`${h}.${b64({ ...good, sub: 'x' })}.${mac}`, 'publisher'));
    const other = createHmac('sha256', 'another-secret').update(`${h}.${p}`).digest('base64url');
    await refused(t.verify(`${h}.${p}.${other}`, 'publisher'));
    await refused(t.verify(`${h}.${p}.${mac.slice(0, -2)}`, 'publisher'));
    await refused(t.verify(`${h}.${p}.${mac}.x`, 'publisher'));
    await refused(t.verify(`${h}.${p}`, 'publisher'));
    // Time claims: nbf ahead, exp past the tolerance (30 s), exp or iat of the wrong type.
    await refused(t.verify(sign({ ...good, nbf: now() + 120 }), 'publisher'));
    await expect(t.verify(sign({ ...good, exp: now() - 5 }), 'publisher')).resolves.toBeDefined();
    await refused(t.verify(sign({ ...good, exp: 'later' }), 'publisher'));
    await refused(t.verify(sign({ ...good, iat: 'now' }), 'publisher'));
    // Claims that are not a JSON object, and the headers jose would interpret.
    const input = `${b64({ alg: 'HS256', typ: 'at+jwt' })}.${Buffer.from('[1]').toString('base64url')}`;
    const mac2 = createHmac('sha256', SECRET).update(input).digest('base64url');
    await refused(t.verify(`${input}.${mac2}`, 'publisher'));
    await refused(t.verify(sign(good, { typ: 'at+jwt', crit: ['b64'], b64: false }), 'publisher'));
    // Only the configured algorithms: HS384 when allowed, refused otherwise.
    const hs384 = (() => {
      const i = `${b64({ alg: 'HS384', typ: 'at+jwt' })}.${b64(good)}`;
      return `${i}.${createHmac('sha384', SECRET).update(i).digest('base64url')}`;
    })();
    await refused(t.verify(hs384, 'publisher'));
    await expect(
      tokens({ algorithms: ['HS256', 'HS384'] }).verify(hs384, 'publisher'),
    ).resolves.toMatchObject({ dialect: 'v1' });
  });

  it('should verify asymmetric tokens with jose', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const t = tokens({
      publisherKey: { driver: 'public-key', publicKeyPem: pem },
      algorithms: ['ES256'],
    });
    const es = await new SignJWT({ authorization_details: all })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt' })
      .setExpirationTime('1m')
      .sign(privateKey);
    await expect(t.verify(es, 'publisher')).resolves.toMatchObject({ dialect: 'v1' });
    const [h, , sig] = es.split('.');
    const forged = b64({ authorization_details: all, exp: now() + 60, sub: 'forged' });
    await refused(t.verify(`${h}.${forged}.${sig}`, 'publisher'));
  });
});
