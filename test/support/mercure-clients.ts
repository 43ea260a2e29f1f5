import { execFile, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { requireInCI } from './ci';
import { b64 } from './tokens';
import { createHmac } from 'node:crypto';

/**
 * Real Mercure clients for the tests: the Symfony publisher (PHP, Debian's php-symfony-mercure)
 * and a browser `EventSource` on `/.well-known/mercure`.
 */

/** The PHP script that publishes through symfony/mercure's `Hub` and `Update`. */
export const SYMFONY_PUBLISH_SCRIPT = resolve(__dirname, '../fixtures/mercure-symfony/publish.php');

/** The Mercure hub path. */
export const HUB_PATH = '/.well-known/mercure';

/**
 * True when `php` runs and Debian's symfony/mercure autoloader loads. In CI a missing one fails
 * the suite (`.ci/run` installs php-cli php-symfony-mercure); locally the suite skips loudly.
 */
export function symfonyMercureAvailable(): boolean {
  const probe = spawnSync(
    'php',
    [
      '-r',
      "require_once 'Symfony/Component/Mercure/autoload.php'; " +
        "echo class_exists('Symfony\\\\Component\\\\Mercure\\\\Hub') ? 'ok' : 'missing';",
    ],
    { encoding: 'utf8', timeout: 20_000 },
  );
  return requireInCI(
    probe.status === 0 && probe.stdout.trim() === 'ok',
    'PHP with symfony/mercure (apt-get install -y php-cli php-symfony-mercure)',
  );
}

/** What the Symfony script publishes (symfony/mercure's `Update` constructor arguments). */
export interface SymfonyUpdate {
  readonly topics: string | readonly string[];
  readonly data?: string;
  readonly private?: boolean;
  readonly id?: string;
  readonly type?: string;
  readonly retry?: number;
  /** The publisher token's `mercure.publish` claim (default `["*"]`). */
  readonly publish?: readonly string[];
}

/** Result of one run of the Symfony publisher. */
export type SymfonyResult = { ok: true; id: string } | { ok: false; error: string };

/** Runs the PHP publisher against `hubUrl` with an HS256 publisher key. */
export function publishWithSymfony(
  hubUrl: string,
  secret: string,
  update: SymfonyUpdate,
): Promise<SymfonyResult> {
  return new Promise((done) => {
    execFile(
      'php',
      [SYMFONY_PUBLISH_SCRIPT, JSON.stringify(update)],
      {
        env: { ...process.env, MERCURE_URL: hubUrl, MERCURE_JWT_SECRET: secret },
        timeout: 30_000,
      },
      (err, stdout, stderr) => {
        if (err) return done({ ok: false, error: `${err.message}\n${stderr}` });
        const parsed = JSON.parse(stdout) as { id: string };
        done({ ok: true, id: parsed.id });
      },
    );
  });
}

/** An HS256 JWT with an arbitrary payload (legacy `mercure` claim or 1.0 at+jwt). */
export function hsJwt(payload: unknown, secret: string, typ = 'JWT'): string {
  const input = `${b64({ alg: 'HS256', typ })}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A legacy (0.x) subscriber token: `{"mercure": {"subscribe": [...]}}`. */
export function legacySubscriberJwt(subscribe: readonly string[], secret: string): string {
  return hsJwt({ mercure: { subscribe } }, secret);
}

/** A legacy (0.x) publisher token: `{"mercure": {"publish": [...]}}`. */
export function legacyPublisherJwt(publish: readonly string[], secret: string): string {
  return hsJwt({ mercure: { publish } }, secret);
}

/** One event as the page's EventSource saw it. */
export interface PageEvent {
  readonly type: string;
  readonly id: string;
  readonly data: string;
}

/** State of a named EventSource opened with {@link openPageSource}. */
export interface PageSourceState {
  readonly opens: number;
  readonly errors: number;
  readonly readyState: number;
  readonly events: PageEvent[];
}

/**
 * Opens `new EventSource(url, { withCredentials })` in the page under `name` and records its
 * opens, errors and events of `types` (several sources can live in one page).
 */
export function openPageSource(
  page: Page,
  name: string,
  url: string,
  types: readonly string[] = ['message'],
  withCredentials = false,
): Promise<void> {
  return page.evaluate(
    ({ name, url, types, withCredentials }) => {
      type Source = {
        readyState: number;
        onopen: (() => void) | null;
        onerror: (() => void) | null;
        addEventListener(t: string, l: (e: { lastEventId: string; data: string }) => void): void;
        close(): void;
      };
      const g = globalThis as unknown as {
        EventSource: new (url: string, init?: { withCredentials: boolean }) => Source;
        mercureSources?: Record<string, { source: Source; state: PageSourceState }>;
      };
      const source = new g.EventSource(url, { withCredentials });
      const state = { opens: 0, errors: 0, readyState: 0, events: [] as PageEvent[] };
      (g.mercureSources ??= {})[name] = { source, state };
      source.onopen = () => state.opens++;
      source.onerror = () => state.errors++;
      for (const type of types) {
        source.addEventListener(type, (e) =>
          state.events.push({ type, id: e.lastEventId, data: e.data }),
        );
      }
    },
    { name, url, types, withCredentials },
  );
}

/** Reads the state of the page source `name`. */
export function readPageSource(page: Page, name: string): Promise<PageSourceState> {
  return page.evaluate((name) => {
    const g = globalThis as unknown as {
      mercureSources: Record<string, { source: { readyState: number }; state: PageSourceState }>;
    };
    const entry = g.mercureSources[name];
    return { ...entry.state, readyState: entry.source.readyState };
  }, name);
}

/** Closes the page source `name`. */
export function closePageSource(page: Page, name: string): Promise<void> {
  return page.evaluate((name) => {
    const g = globalThis as unknown as {
      mercureSources: Record<string, { source: { close(): void } }>;
    };
    g.mercureSources[name].source.close();
  }, name);
}

/** Sets a cookie for `baseUrl` (host-only) in the browser context. */
export async function setCookie(
  context: BrowserContext,
  baseUrl: string,
  name: string,
  value: string,
): Promise<void> {
  await context.addCookies([{ name, value, url: baseUrl }]);
}

/**
 * The same gateway under a second host name (`localhost` instead of `127.0.0.1`): cookies are
 * per host, so a page there is a subscriber without the first host's cookies.
 */
export function otherHost(baseUrl: string): string {
  const u = new URL(baseUrl);
  u.hostname = u.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
  return u.origin;
}

/** A 1.0 access token (RFC 9068 `at+jwt`) with `mercure` authorization details. */
export function v1Jwt(
  grants: { subscribe?: readonly string[]; publish?: readonly string[]; urlpattern?: boolean },
  secret: string,
  extra: Record<string, unknown> = {},
): string {
  const now = Math.floor(Date.now() / 1000);
  const topics = (list: readonly string[]) =>
    list.map((match) => (grants.urlpattern ? { match, matchType: 'URLPattern' } : { match }));
  const details: Record<string, unknown>[] = [];
  if (grants.subscribe?.length) {
    details.push({ type: 'mercure', actions: ['subscribe'], topics: topics(grants.subscribe) });
  }
  if (grants.publish?.length) {
    details.push({ type: 'mercure', actions: ['publish'], topics: topics(grants.publish) });
  }
  return hsJwt(
    { sub: 'tester', iat: now, exp: now + 3600, authorization_details: details, ...extra },
    secret,
    'at+jwt',
  );
}

/** A Mercure update as form fields (`topic` may repeat: the first is canonical). */
export interface MercureUpdate {
  readonly topic: string | readonly string[];
  readonly data?: string;
  readonly private?: boolean;
  readonly id?: string;
  readonly type?: string;
  readonly retry?: number;
}

/** `POST /.well-known/mercure` (form-encoded) with `token`; returns the status and body text. */
export async function mercurePublish(
  base: string,
  update: MercureUpdate,
  token: string,
): Promise<{ status: number; body: string; headers: Headers }> {
  const form = new URLSearchParams();
  for (const t of typeof update.topic === 'string' ? [update.topic] : update.topic) {
    form.append('topic', t);
  }
  if (update.data !== undefined) form.append('data', update.data);
  if (update.private) form.append('private', 'on');
  if (update.id !== undefined) form.append('id', update.id);
  if (update.type !== undefined) form.append('type', update.type);
  if (update.retry !== undefined) form.append('retry', String(update.retry));
  const res = await fetch(`${base}${HUB_PATH}`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/x-www-form-urlencoded',
      Authorization: `Bearer ${token}`,
    },
    body: form.toString(),
  });
  return { status: res.status, body: await res.text(), headers: res.headers };
}

/** {@link mercurePublish}, failing unless the hub answered 200; returns the update's id. */
export async function mercurePublishOk(
  base: string,
  update: MercureUpdate,
  token: string,
): Promise<string> {
  const res = await mercurePublish(base, update, token);
  if (res.status !== 200) throw new Error(`publish answered ${res.status}: ${res.body}`);
  return res.body;
}
