import { configSchema, type HeraldConfigValues } from './config.schema';

/** Thrown at boot when the environment is invalid; the message names every bad variable. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigValidationError';
  }
}

/** Environment as read from the process or handed in by a test. */
export type Environment = Readonly<Record<string, string | undefined>>;

// Declaration merging gives the class every typed key of the schema.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface HeraldConfig extends Readonly<HeraldConfigValues> {}

/** Typed, validated configuration; inject it as `constructor(private readonly config: HeraldConfig)`. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class HeraldConfig {
  constructor(values: HeraldConfigValues) {
    Object.assign(this, values);
    Object.freeze(this);
  }

  /**
   * Validates `env` against the schema; empty strings count as unset.
   * @throws ConfigValidationError naming every invalid variable at once.
   */
  static from(env: Environment): HeraldConfig {
    const input: Record<string, string> = {};
    for (const key of Object.keys(configSchema.shape)) {
      const value = env[key];
      if (value !== undefined && value !== '') input[key] = value;
    }
    const parsed = configSchema.safeParse(input);
    if (!parsed.success) {
      throw new ConfigValidationError(
        parsed.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`),
      );
    }
    const problems = crossFieldProblems(parsed.data);
    if (problems.length > 0) throw new ConfigValidationError(problems);
    return new HeraldConfig(parsed.data);
  }

  /** Validates the process environment (the only place Herald reads it). */
  static fromProcessEnv(): HeraldConfig {
    return HeraldConfig.from(process.env);
  }

  /** True when NODE_ENV is `production`. */
  get isProduction(): boolean {
    return this.NODE_ENV === 'production';
  }
}

function crossFieldProblems(c: HeraldConfigValues): string[] {
  const problems: string[] = [];
  if ((c.TLS_CERT_FILE === undefined) !== (c.TLS_KEY_FILE === undefined)) {
    problems.push('TLS_CERT_FILE, TLS_KEY_FILE: set both or neither');
  }
  return problems;
}
