import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SignJWT } from 'jose';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition';
import type { AuthModuleOptions } from './auth.options';
import type { GrantsClaim } from './principal';
import { TokenVerifier } from './token.verifier';

/** What a development token grants. */
export interface DevTokenRequest {
  readonly sub: string;
  readonly grants: GrantsClaim;
  /** Lifetime in seconds. */
  readonly ttlS: number;
}

/** A signed development token. */
export interface DevToken {
  readonly token: string;
  /** `exp` in epoch ms. */
  readonly expiresAt: number;
}

/**
 * Development only: signs HS256 tokens with the ephemeral key, and at startup logs one
 * subscriber and one publisher token (the only place Herald ever logs a token).
 */
@Injectable()
export class DevTokenSigner implements OnApplicationBootstrap {
  private readonly logger = new Logger('Auth');

  constructor(
    private readonly verifier: TokenVerifier,
    @Inject(AUTH_MODULE_OPTIONS) private readonly options: AuthModuleOptions,
  ) {}

  /** True when the key is ephemeral (development without JWT_SECRET / JWT_PUBLIC_KEY). */
  get enabled(): boolean {
    return this.options.key.driver === 'ephemeral';
  }

  /**
   * Signs a token for the ephemeral key.
   * @throws Error when the key is not ephemeral.
   */
  async sign(request: DevTokenRequest): Promise<DevToken> {
    if (!this.enabled) throw new Error('development tokens need the ephemeral key');
    const now = Math.floor(Date.now() / 1000);
    const exp = now + request.ttlS;
    let jwt = new SignJWT({ [this.options.permissionsClaim]: request.grants })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(request.sub)
      .setIssuedAt(now)
      .setExpirationTime(exp);
    if (this.options.issuer) jwt = jwt.setIssuer(this.options.issuer);
    if (this.options.audience) jwt = jwt.setAudience(this.options.audience);
    return { token: await jwt.sign(this.verifier.key), expiresAt: exp * 1000 };
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.enabled) return;
    const day = 24 * 3600;
    const subscriber = await this.sign({
      sub: 'dev-subscriber',
      grants: { subscribe: ['**'] },
      ttlS: day,
    });
    const publisher = await this.sign({
      sub: 'dev-publisher',
      grants: { subscribe: ['**'], publish: ['**'] },
      ttlS: day,
    });
    this.logger.warn(
      'DEVELOPMENT MODE: no JWT_SECRET or JWT_PUBLIC_KEY, using an ephemeral HS256 secret ' +
        '(tokens die with this process; GET /dev/token issues more). Never use in production.',
    );
    // Printed outside the structured log on purpose: the log redacts every token, and these two are
    // meant to be copied (CONTRACT section 3, development only).
    process.stdout.write(
      `\nDEV-ONLY subscriber token (24 h, subscribe **): ${subscriber.token}\n` +
        `DEV-ONLY publisher token (24 h, publish **): ${publisher.token}\n\n`,
    );
  }
}
