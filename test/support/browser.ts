import type { IncomingMessage, Server } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type ConsoleMessage, type Page } from 'playwright-core';
import { requireInCI } from './ci';

/** Debian's `chromium` package (`.ci/run` installs it); override with CHROMIUM_PATH. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Flags for a quiet, offline, sandbox-less headless Chromium in CI containers. */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Where tests leave artifacts for humans (screenshots); gitignored. */
export const TEST_OUTPUT = resolve(__dirname, '../../test-output');

/**
 * True when Chromium is installed. In CI a missing browser fails the suite; locally the browser
 * suites skip with a loud message.
 */
export function chromiumAvailable(): boolean {
  return requireInCI(
    existsSync(CHROMIUM_PATH),
    `Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium)`,
  );
}

/** A headless Chromium with a fresh temporary profile, removed on {@link close}. */
export interface Chromium {
  readonly context: BrowserContext;
  /** Opens a page that records console errors and uncaught exceptions. */
  newPage(): Promise<RecordingPage>;
  close(): Promise<void>;
}

/** A page plus what it reported. */
export interface RecordingPage {
  readonly page: Page;
  /** Console messages of type `error` and uncaught page errors, as text with their URL. */
  readonly errors: string[];
}

/** Options of {@link launchChromium}. */
export interface LaunchOptions {
  /**
   * Ignore Content-Security-Policy. For tests whose page is only a same-origin host for a probe
   * (e.g. `/health/live`, which carries the API's `default-src 'none'`); the demo page's own
   * tests keep CSP on.
   */
  readonly bypassCSP?: boolean;
  /** Accept the test's self-signed certificate (HTTPS / HTTP/2 suites). */
  readonly ignoreHTTPSErrors?: boolean;
}

/** Launches `/usr/bin/chromium` through playwright-core (no browser download). */
export async function launchChromium(options: LaunchOptions = {}): Promise<Chromium> {
  const profile = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS],
    viewport: { width: 1200, height: 860 },
    bypassCSP: options.bypassCSP ?? false,
    ignoreHTTPSErrors: options.ignoreHTTPSErrors ?? false,
  });
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m: ConsoleMessage) => {
        if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`);
      });
      page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
      return { page, errors };
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Path of a file under `test-output/` (created on demand). */
export function outputPath(name: string): string {
  mkdirSync(TEST_OUTPUT, { recursive: true });
  return join(TEST_OUTPUT, name);
}

/** The page's native EventSource, typed without the DOM lib (this project compiles for Node). */
export interface PageEventSource {
  readonly readyState: number;
  onopen: (() => void) | null;
  onerror: (() => void) | null;
  addEventListener(
    type: string,
    listener: (event: { lastEventId: string; data: string }) => void,
  ): void;
  close(): void;
}

/** What {@link installProbe} records in the page (`globalThis.heraldProbe`). */
export interface ProbeState {
  opens: number;
  errors: { at: number; readyState: number }[];
  events: { at: number; type: string; id: string; data: string }[];
  source: PageEventSource;
}

/** A JSON-safe snapshot of the probe (without the EventSource). */
export type ProbeSnapshot = Omit<ProbeState, 'source'> & { readyState: number };

/**
 * Opens a native EventSource on `url` in the page and records every open, error (with the
 * readyState right after it) and event of `types` plus the gateway's `herald.*` events.
 */
export function installProbe(
  page: Page,
  url: string,
  types: readonly string[] = ['message'],
): Promise<void> {
  return page.evaluate(
    ({ url, types }) => {
      const g = globalThis as unknown as {
        EventSource: new (url: string) => PageEventSource;
        heraldProbe: ProbeState;
      };
      const source = new g.EventSource(url);
      const probe: ProbeState = { opens: 0, errors: [], events: [], source };
      g.heraldProbe = probe;
      source.onopen = () => probe.opens++;
      source.onerror = () =>
        probe.errors.push({ at: performance.now(), readyState: source.readyState });
      for (const type of [...types, 'herald.reset', 'herald.shed', 'herald.drain']) {
        source.addEventListener(type, (e) =>
          probe.events.push({ at: performance.now(), type, id: e.lastEventId, data: e.data }),
        );
      }
    },
    { url, types },
  );
}

/** Reads the probe's state from the page. */
export function readProbe(page: Page): Promise<ProbeSnapshot> {
  return page.evaluate(() => {
    const p = (globalThis as unknown as { heraldProbe: ProbeState }).heraldProbe;
    return { opens: p.opens, readyState: p.source.readyState, errors: p.errors, events: p.events };
  });
}

/**
 * Counts `GET /events` requests reaching a gateway's HTTP server (prepended, so it sees the URL
 * before any middleware rewrites it).
 */
export function countStreamRequests(server: Server): () => number {
  let count = 0;
  server.prependListener('request', (req: IncomingMessage) => {
    if (req.url?.startsWith('/events')) count++;
  });
  return () => count;
}
