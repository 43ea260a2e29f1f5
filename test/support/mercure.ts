import { request } from 'node:http';
import { hs256, TEST_JWT_SECRET } from './tokens';

/** A Mercure 1.0 access token (`typ: at+jwt`, `authorization_details`) for the test secret. */
export function v1Token(
  details: readonly {
    actions: readonly ('publish' | 'subscribe')[];
    topics: readonly { match: string; matchType?: string }[];
    payload?: unknown;
  }[],
  extra: Record<string, unknown> = {},
  secret: string = TEST_JWT_SECRET,
  header: Record<string, unknown> = { typ: 'at+jwt' },
): string {
  const now = Math.floor(Date.now() / 1000);
  return hs256(
    {
      sub: 'mercure-tester',
      iat: now,
      exp: now + 3600,
      authorization_details: details.map((d) => ({ type: 'mercure', ...d })),
      ...extra,
    },
    secret,
    header,
  );
}

/** A Mercure 0.x token (`mercure: {publish, subscribe}`), without `exp` as Symfony signs them. */
export function legacyToken(
  grants: { publish?: string[]; subscribe?: string[]; payload?: unknown },
  extra: Record<string, unknown> = {},
  secret: string = TEST_JWT_SECRET,
): string {
  return hs256({ mercure: grants, ...extra }, secret);
}

/** A 1.0 token that may publish and subscribe to everything. */
export const V1_ALL = v1Token([{ actions: ['publish', 'subscribe'], topics: [{ match: '*' }] }]);
/** A 0.x token that may publish and subscribe to everything. */
export const LEGACY_ALL = legacyToken({ publish: ['*'], subscribe: ['*'] });

/** The hub URL of a gateway with `params` (repeatable) as its query. */
export function hubUrl(base: string, params: readonly [string, string][] = []): string {
  const url = new URL('/.well-known/mercure', base);
  for (const [k, v] of params) url.searchParams.append(k, v);
  return url.href;
}

/** POSTs one Mercure update (form fields, repeatable; `token` null: none) and returns the answer. */
export async function mercurePublish(
  base: string,
  fields: readonly [string, string][],
  token: string | null = V1_ALL,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(hubUrl(base), {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      ...(token === null ? {} : { Authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: new URLSearchParams(fields.map(([k, v]): [string, string] => [k, v])).toString(),
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/**
 * {@link mercurePublish} on a new TCP connection every time (no keep-alive pool), so that a
 * round-robin proxy in front of several instances routes each publish afresh.
 */
export function mercurePublishFresh(
  base: string,
  fields: readonly [string, string][],
  token: string = V1_ALL,
): Promise<{ status: number; body: string }> {
  const body = new URLSearchParams(fields.map(([k, v]): [string, string] => [k, v])).toString();
  return new Promise((ok, fail) => {
    const req = request(
      hubUrl(base),
      {
        method: 'POST',
        agent: false,
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'Content-Length': Buffer.byteLength(body),
          Authorization: `Bearer ${token}`,
          Connection: 'close',
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, body: text }));
        res.on('error', fail);
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}
