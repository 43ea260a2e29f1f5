import { BadRequestException, Controller, Get, Header, Query } from '@nestjs/common';
import { parseTopicFilter } from '@herald/topics';
import type { GrantsClaim } from './principal';
import { Public } from './public.decorator';
import { DevTokenSigner, type DevToken } from './token.signer';

const ROLES = ['subscriber', 'publisher', 'admin'] as const;
type Role = (typeof ROLES)[number];

/**
 * `GET /dev/token` (development only; not registered in production): a token for the demo page.
 * Query: `role` = subscriber (default) | publisher | admin, `topics` = comma-separated patterns
 * (default `**`), `sub` (default `dev-<role>`), `ttl` seconds (default 3600, 10..86400).
 */
@Controller('dev')
@Public()
export class DevTokenController {
  constructor(private readonly signer: DevTokenSigner) {}

  @Get('token')
  @Header('Cache-Control', 'no-store')
  async token(
    @Query('role') role = 'subscriber',
    @Query('topics') topics = '**',
    @Query('sub') sub?: string,
    @Query('ttl') ttl = '3600',
  ): Promise<DevToken & { sub: string; claims: GrantsClaim }> {
    if (!ROLES.includes(role as Role)) {
      throw new BadRequestException(`role must be one of ${ROLES.join(', ')}`);
    }
    const patterns = String(topics)
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    for (const p of patterns) {
      try {
        parseTopicFilter(p.replace(/(^|\/)\{sub\}(?=\/|$)/g, '$1x'));
      } catch (err) {
        throw new BadRequestException((err as Error).message);
      }
    }
    const ttlS = Number(ttl);
    if (!Number.isInteger(ttlS) || ttlS < 10 || ttlS > 86_400) {
      throw new BadRequestException('ttl must be whole seconds in 10..86400');
    }
    const subject = typeof sub === 'string' && sub.length > 0 ? sub.slice(0, 128) : `dev-${role}`;
    const grants = grantsFor(role as Role, patterns);
    const signed = await this.signer.sign({ sub: subject, grants, ttlS });
    return { ...signed, sub: subject, claims: grants };
  }
}

function grantsFor(role: Role, patterns: readonly string[]): GrantsClaim {
  switch (role) {
    case 'subscriber':
      return { subscribe: patterns, presence: patterns };
    case 'publisher':
      return { subscribe: patterns, publish: patterns, presence: patterns };
    case 'admin':
      return { subscribe: patterns, publish: patterns, admin: true };
  }
}
