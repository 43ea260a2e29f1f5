import type { DynamicModule, NestApplicationOptions } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Test, type TestingModuleBuilder } from '@nestjs/testing';

/** Parsed Prometheus text: `name{labels}` (labels sorted, as exposed) -> value. */
export type Samples = Map<string, number>;

/** `GET /metrics`, parsed. */
export async function scrape(base: string, token?: string): Promise<Samples> {
  const res = await fetch(`${base}/metrics`, {
    headers: token === undefined ? {} : { Authorization: `Bearer ${token}` },
  });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parseSamples(await res.text());
}

/** Parses Prometheus text exposition (comments skipped). */
export function parseSamples(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    samples.set(line.slice(0, cut), Number(line.slice(cut + 1)));
  }
  return samples;
}

/**
 * The sum of every sample of `name` whose labels include all of `labels` (0 when none).
 * Labels are matched as `key="value"` substrings.
 */
export function value(samples: Samples, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const [key, v] of samples) {
    const brace = key.indexOf('{');
    const metric = brace === -1 ? key : key.slice(0, brace);
    if (metric !== name) continue;
    if (Object.entries(labels).every(([k, l]) => key.includes(`${k}="${l}"`))) sum += v;
  }
  return sum;
}

/** A pino destination that keeps every line. */
export class LogCapture {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  get text(): string {
    return this.lines.join('');
  }
  /** Parsed JSON lines. */
  records(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

/**
 * A `GatewayOptions.create` that builds the app through a Nest testing module, so a test can
 * override providers (e.g. the Broker or HeraldTracing) for that gateway only.
 */
export function createWith(
  override: (builder: TestingModuleBuilder) => TestingModuleBuilder,
): (module: DynamicModule, options: NestApplicationOptions) => Promise<NestExpressApplication> {
  return async (module, options) => {
    const ref = await override(Test.createTestingModule({ imports: [module] })).compile();
    return ref.createNestApplication<NestExpressApplication>(options);
  };
}
