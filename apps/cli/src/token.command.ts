import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { HeraldConfig, parsePublicKeyPem } from '@herald/config';
import { parseTopicFilter } from '@herald/topics';
import type { CliCommand, CliContext } from './cli.context';
import { CliError, UsageError } from './cli.output';
import { parseDurationS } from './cli.http';

const HELP = `Usage: herald token --sub <sub> [options]

Mints a JWT that the gateway accepts, signed with the key of the same environment as the
gateway: JWT_SECRET (HS256/384/512), or --key-file with the private key matching
JWT_PUBLIC_KEY. JWT_ALGORITHMS, JWT_ISSUER, JWT_AUDIENCE and JWT_PERMISSIONS_CLAIM are honoured.
Prints the token on stdout. Refuses with NODE_ENV=production unless --force.

Options:
  --sub <sub>            subject (required; used by {sub} grants, revocation, per-user limits)
  --subscribe <pattern>  subscribe grant (repeat, or comma-separate), e.g. 'orders/*'
  --publish <pattern>    publish grant (repeat, or comma-separate), e.g. 'orders/**'
  --admin                grant the admin API
  --ttl <duration>       lifetime: 90s, 15m, 1h (default), 7d
  --key-file <pem>       private key (PEM) for RS*/PS*/ES*/EdDSA instead of JWT_SECRET
  --alg <alg>            signing algorithm (default: the first of JWT_ALGORITHMS fitting the key)
  --force                sign even with NODE_ENV=production
  --json                 print {"token","expiresAt","claims"} instead of the bare token
  -h, --help             this help

Example:
  JWT_SECRET=... herald token --sub alice --subscribe 'orders/*' --publish 'orders/**' --ttl 1h`;

const HMAC = ['HS256', 'HS384', 'HS512'];

/** Algorithms a private key can sign with, by key type (and curve for EC). */
function algorithmsFor(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return curve === 'prime256v1' ? ['ES256'] : curve === 'secp384r1' ? ['ES384'] : ['ES512'];
    }
    case 'ed25519':
    case 'ed448':
      return ['EdDSA'];
    case 'dsa':
    case 'x25519':
    case 'x448':
    case undefined:
      return [];
  }
}

function patterns(values: string[] | undefined, flag: string): string[] {
  const out = (values ?? []).flatMap((v) => v.split(',').map((s) => s.trim())).filter(Boolean);
  for (const pattern of out) {
    try {
      parseTopicFilter(pattern.replace(/(^|\/)\{sub\}(?=\/|$)/g, '$1sub'));
    } catch (err) {
      throw new UsageError(`${flag}: ${(err as Error).message}`);
    }
  }
  return out;
}

function signingKey(
  config: HeraldConfig,
  keyFile: string | undefined,
  alg: string | undefined,
): { key: KeyObject; alg: string } {
  const accepted = config.JWT_ALGORITHMS;
  const pick = (fits: string[], what: string): string => {
    if (alg !== undefined) {
      if (!fits.includes(alg)) throw new UsageError(`--alg ${alg} cannot sign with ${what}`);
      if (!accepted.includes(alg)) {
        throw new CliError(
          `--alg ${alg}: the gateway accepts only ${accepted.join(', ')} (JWT_ALGORITHMS)`,
        );
      }
      return alg;
    }
    const chosen = accepted.find((a) => fits.includes(a));
    if (chosen === undefined) {
      throw new CliError(`JWT_ALGORITHMS (${accepted.join(', ')}) has no algorithm for ${what}`);
    }
    return chosen;
  };
  if (keyFile !== undefined) {
    let key: KeyObject;
    try {
      key = createPrivateKey(readFileSync(keyFile));
    } catch (err) {
      throw new CliError(
        `--key-file ${keyFile}: not a readable PEM private key (${(err as Error).message})`,
      );
    }
    if (config.JWT_SECRET !== undefined) {
      throw new CliError(
        '--key-file: the gateway verifies with JWT_SECRET; drop --key-file to use it',
      );
    }
    if (config.JWT_PUBLIC_KEY !== undefined) {
      const expected = parsePublicKeyPem(config.JWT_PUBLIC_KEY).export({
        type: 'spki',
        format: 'der',
      });
      const actual = createPublicKey(key).export({ type: 'spki', format: 'der' });
      if (!expected.equals(actual)) {
        throw new CliError(
          '--key-file: this private key does not match JWT_PUBLIC_KEY; the gateway would refuse its tokens',
        );
      }
    }
    return { key, alg: pick(algorithmsFor(key), `a ${key.asymmetricKeyType ?? 'unknown'} key`) };
  }
  if (config.JWT_SECRET !== undefined) {
    return {
      key: createSecretKey(Buffer.from(config.JWT_SECRET, 'utf8')),
      alg: pick(HMAC, 'JWT_SECRET'),
    };
  }
  if (config.JWT_PUBLIC_KEY !== undefined) {
    throw new CliError('JWT_PUBLIC_KEY is set: pass --key-file with its private key to sign');
  }
  throw new CliError(
    "no signing key: set JWT_SECRET (the same as the gateway's) or pass --key-file.\n" +
      'A gateway in development mode without a key makes its own; ask it: GET /dev/token',
  );
}

/** `herald token`: mints a token for the configured key. */
export const tokenCommand: CliCommand = {
  name: 'token',
  summary: 'mint a JWT for the configured key (JWT_SECRET or --key-file)',
  help: HELP,
  async run(args: string[], ctx: CliContext): Promise<number> {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        sub: { type: 'string' },
        subscribe: { type: 'string', multiple: true },
        publish: { type: 'string', multiple: true },
        admin: { type: 'boolean', default: false },
        ttl: { type: 'string', default: '1h' },
        'key-file': { type: 'string' },
        alg: { type: 'string' },
        force: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
      },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    const sub = values.sub?.trim();
    if (sub === undefined || sub === '') throw new UsageError('--sub is required');
    const ttlS = Math.round(parseDurationS(values.ttl, '--ttl'));
    if (ttlS < 1) throw new UsageError('--ttl must be at least 1s');
    const subscribe = patterns(values.subscribe, '--subscribe');
    const publish = patterns(values.publish, '--publish');
    if (subscribe.length === 0 && publish.length === 0 && !values.admin) {
      throw new UsageError('grant something: --subscribe, --publish or --admin');
    }
    const config = HeraldConfig.fromProcessEnv();
    if (config.isProduction && !values.force) {
      throw new CliError(
        'NODE_ENV=production: refusing to mint a token with the production key; pass --force if you mean it',
      );
    }
    const { key, alg } = signingKey(config, values['key-file'], values.alg);
    const grants = {
      ...(subscribe.length > 0 ? { subscribe } : {}),
      ...(publish.length > 0 ? { publish } : {}),
      ...(values.admin ? { admin: true } : {}),
    };
    const now = Math.floor(Date.now() / 1000);
    let jwt = new SignJWT({ [config.JWT_PERMISSIONS_CLAIM]: grants })
      .setProtectedHeader({ alg, typ: 'JWT' })
      .setSubject(sub)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlS);
    if (config.JWT_ISSUER !== undefined) jwt = jwt.setIssuer(config.JWT_ISSUER);
    if (config.JWT_AUDIENCE !== undefined) jwt = jwt.setAudience(config.JWT_AUDIENCE);
    const token = await jwt.sign(key);
    const expiresAt = (now + ttlS) * 1000;
    if (values.json) {
      ctx.out.line(
        JSON.stringify({
          token,
          expiresAt,
          claims: { sub, [config.JWT_PERMISSIONS_CLAIM]: grants },
        }),
      );
    } else {
      ctx.out.line(token);
      if (ctx.err.tty) {
        ctx.err.line(
          ctx.err.paint(
            'dim',
            `${alg} token for ${sub}, expires ${new Date(expiresAt).toISOString()}`,
          ),
        );
      }
    }
    return 0;
  },
};
