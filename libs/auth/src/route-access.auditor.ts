import { Injectable, RequestMethod, type OnApplicationBootstrap } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { HERALD_GUARDS } from './auth.guards';
import { IS_PUBLIC } from './public.decorator';

/** How a route is protected. */
export type RouteAccess = 'public' | 'guarded' | 'undeclared';

/** One HTTP route of the application and its access. */
export interface AuditedRoute {
  readonly method: string;
  readonly path: string;
  readonly controller: string;
  readonly handler: string;
  readonly access: RouteAccess;
}

/**
 * Lists every controller route with its access, and refuses to boot when one is neither guarded
 * by a Herald guard nor marked `@Public()` (fail closed: a forgotten decorator is a startup error).
 */
@Injectable()
export class RouteAccessAuditor implements OnApplicationBootstrap {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  /** Every route of every controller in the application. */
  routes(): AuditedRoute[] {
    const out: AuditedRoute[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const type = wrapper.metatype as (new (...args: never[]) => object) | null;
      if (!type || typeof type !== 'function') continue;
      const base = normalize(Reflect.getMetadata(PATH_METADATA, type));
      for (const name of this.scanner.getAllMethodNames(type.prototype as object)) {
        const handler = (type.prototype as Record<string, unknown>)[name];
        if (typeof handler !== 'function') continue;
        const paths: unknown = Reflect.getMetadata(PATH_METADATA, handler);
        if (paths === undefined) continue;
        const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod;
        for (const path of Array.isArray(paths) ? paths : [paths]) {
          out.push({
            method: RequestMethod[method] ?? String(method),
            path: `/${[...base, ...normalize(path)].join('/')}`,
            controller: type.name,
            handler: name,
            access: accessOf(type, handler),
          });
        }
      }
    }
    return out;
  }

  onApplicationBootstrap(): void {
    const open = this.routes().filter((r) => r.access === 'undeclared');
    if (open.length > 0) {
      throw new Error(
        `routes neither guarded nor @Public(): ${open
          .map((r) => `${r.method} ${r.path} (${r.controller}.${r.handler})`)
          .join(', ')}`,
      );
    }
  }
}

function accessOf(type: object, handler: object): RouteAccess {
  if (Reflect.getMetadata(IS_PUBLIC, handler) === true) return 'public';
  if (Reflect.getMetadata(IS_PUBLIC, type) === true) return 'public';
  const guards = [
    ...((Reflect.getMetadata(GUARDS_METADATA, handler) as unknown[] | undefined) ?? []),
    ...((Reflect.getMetadata(GUARDS_METADATA, type) as unknown[] | undefined) ?? []),
  ];
  return guards.some((g) => HERALD_GUARDS.includes(g as (typeof HERALD_GUARDS)[number]))
    ? 'guarded'
    : 'undeclared';
}

function normalize(path: unknown): string[] {
  if (typeof path !== 'string') return [];
  return path.split('/').filter((s) => s.length > 0);
}
