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

/** POSTs one Mercure update (form fields, repeatable) and returns status and body text. */
export async function mercurePublish(
  base: string,
  fields: readonly [string, string][],
  token: string | undefined = V1_ALL,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Headers }> {
  const res = await fetch(hubUrl(base), {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: new URLSearchParams(fields.map(([k, v]) => [k, v])).toString(),
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}
