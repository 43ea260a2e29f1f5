import type { IncomingMessage } from 'node:http';
import { Controller, Get, Header, Inject, Req } from '@nestjs/common';
import { Public } from '@herald/auth';
import { MERCURE_MODULE_OPTIONS } from './mercure.module-definition';
import type { MercureModuleOptions } from './mercure.options';

/** OAuth 2.0 Protected Resource Metadata (RFC 9728) of the hub. */
export interface MercureResourceMetadata {
  readonly resource: string;
  readonly bearer_methods_supported: readonly string[];
  readonly mercure_cookie: boolean;
}

/**
 * `GET /.well-known/oauth-protected-resource/.well-known/mercure`: the hub's resource identifier
 * (MERCURE_AUDIENCE, else its URL as this request reached it) and how tokens are presented.
 */
@Controller('.well-known/oauth-protected-resource/.well-known/mercure')
export class MercureMetadataController {
  constructor(@Inject(MERCURE_MODULE_OPTIONS) private readonly options: MercureModuleOptions) {}

  @Public()
  @Get()
  @Header('Cache-Control', 'public, max-age=300')
  metadata(@Req() req: IncomingMessage & { protocol?: string }): MercureResourceMetadata {
    const host = req.headers.host ?? 'localhost';
    const proto = req.protocol === 'https' ? 'https' : 'http';
    return {
      resource: this.options.audience ?? `${proto}://${host}/.well-known/mercure`,
      bearer_methods_supported: ['header'],
      mercure_cookie: true,
    };
  }
}
