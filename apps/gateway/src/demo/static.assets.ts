import { existsSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { Logger } from '@nestjs/common';

/**
 * The policy of Herald's own pages (demo, console): everything from this origin only, no inline
 * script or style. Browsers enforce every CSP header they get, so a stricter global policy still
 * applies on top.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Walks up from this file to the first directory holding `relative` (source tree or `dist/`). */
export function findUp(relative: string): string | undefined {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    for (const candidate of [join(dir, relative), join(dir, 'dist', relative)]) {
      if (existsSync(candidate)) return candidate;
    }
    dir = dirname(dir);
  }
  return undefined;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly page: boolean;
}

/** Where a served file comes from: a path found with {@link findUp}, or an absolute path. */
export interface AssetSource {
  readonly path: string | undefined;
  /** Served as a page: with {@link PAGE_CSP}. */
  readonly page?: boolean;
  /** Rewrites the text once at load (placeholders in HTML). */
  readonly transform?: (text: string) => string;
}

/**
 * An allowlist of static files read once at boot and served with `nosniff`, `no-cache` and, for
 * pages, {@link PAGE_CSP}. A file missing at boot (no build) answers a JSON 503 naming it.
 */
export class StaticAssets {
  private readonly logger: Logger;
  private readonly files = new Map<string, Asset>();

  constructor(owner: string, sources: Readonly<Record<string, AssetSource>>) {
    this.logger = new Logger(owner);
    for (const [name, source] of Object.entries(sources)) {
      if (source.path === undefined || !existsSync(source.path)) {
        this.logger.warn(`asset ${name} not found (run npm run build)`);
        continue;
      }
      let body = readFileSync(source.path);
      if (source.transform) body = Buffer.from(source.transform(body.toString()));
      this.files.set(name, {
        body,
        type: TYPES[extname(name)] ?? 'application/octet-stream',
        page: source.page ?? false,
      });
    }
  }

  /** Writes the file `name`, or a JSON 503 when it was not found at boot. */
  send(res: ServerResponse, name: string): void {
    const file = this.files.get(name);
    if (!file) {
      const body = JSON.stringify({
        statusCode: 503,
        error: 'Service Unavailable',
        message: `${name} is not built; run npm run build`,
      });
      res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8' });
      res.end(body);
      return;
    }
    const headers: Record<string, string> = {
      'Content-Type': file.type,
      'Cache-Control': 'no-cache',
      'Content-Length': String(file.body.length),
      'X-Content-Type-Options': 'nosniff',
    };
    if (file.page) headers['Content-Security-Policy'] = PAGE_CSP;
    res.writeHead(200, headers);
    res.end(file.body);
  }
}
