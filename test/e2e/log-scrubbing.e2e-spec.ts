import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream } from '../support/sse-client';
import { LogCapture } from '../support/telemetry';
import { TEST_JWT_SECRET, b64, claims } from '../support/tokens';
import { waitFor } from '../support/wait';

/**
 * A valid HS256 token that does not look like a JWT to a pattern: its header JSON has spaces, so
 * it starts `eyAi`, not `eyJ`. Only scrubbing by the parameter's name can keep it out of logs.
 */
function spacedToken(sub: string): string {
  const header = Buffer.from('{ "alg": "HS256", "typ": "JWT" }').toString('base64url');
  const input = `${header}.${b64(claims({ subscribe: ['secure/**'] }, { sub }))}`;
  return `${input}.${createHmac('sha256', TEST_JWT_SECRET).update(input).digest('base64url')}`;
}

/** Every character of `text` as `%HH`. */
const percentEncoded = (text: string) =>
  [...text].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');

/** The `request completed` line whose URL starts with `prefix`. */
const accessLine = (logs: LogCapture, prefix: string) =>
  logs.records().find((l) => l.msg === 'request completed' && String(l.url).startsWith(prefix));

describe('Query tokens in logs (one decoded view)', () => {
  const logs = new LogCapture();
  let gw: Gateway;
  const token = spacedToken('query-secret-7c1d');
  const [, payload, signature] = token.split('.');

  beforeAll(async () => {
    gw = await startTestGateway(
      { LOG_LEVEL: 'trace', ANONYMOUS_TOPICS: '' },
      { logDestination: logs },
    );
  });
  afterAll(async () => {
    await gw.app.close();
  });

  /** Every spelling whose decoded name is `access_token`: each opens a stream. */
  const accepted = [
    `access_token=${token}`,
    `access_%74oken=${token}`,
    `%61ccess_token=${token}`,
    `access%5Ftoken=${token}`,
    `access_token=${percentEncoded(token)}`,
    `%61ccess_%74oken=${percentEncoded(token)}`,
  ];
  /** Spellings that decode to another name: no token, so 401 (no anonymous topics here). */
  const refused = [
    `ACCESS_TOKEN=${token}`,
    `access_token%00=${token}`,
    `access_token+=${token}`,
    `access+token=${token}`,
    `access_%2574oken=${token}`,
    `access_%252574oken=${percentEncoded(token)}`,
  ];

  it('should open a stream for every encoding of access_token and log none of the tokens', async () => {
    for (const [i, pair] of accepted.entries()) {
      const s = await openStream(gw.url, `/events?topic=secure/${i}&${pair}`);
      expect(s.status, pair).toBe(200);
      await s.close();
    }
    for (const [i, pair] of refused.entries()) {
      const res = await fetch(`${gw.url}/events?topic=secure/r${i}&${pair}`, {
        headers: { Accept: 'text/event-stream' },
      });
      expect(res.status, pair).toBe(401);
      const body = await res.text();
      expect(body).not.toContain(payload);
      expect(body).not.toContain(signature);
    }
    // Error bodies of other refusals (bad topic, unknown route) carry no token either.
    for (const path of [
      `/events?topic=bad%20topic&access_%74oken=${token}`,
      `/nowhere?%61ccess_token=${token}`,
      `/nowhere?access_%2574oken=${token}`,
    ]) {
      const res = await fetch(`${gw.url}${path}`);
      expect(res.status).toBeGreaterThanOrEqual(400);
      const body = await res.text();
      expect(body).not.toContain(payload);
      expect(body).not.toContain(signature);
    }

    await waitFor(
      () => logs.records().filter((l) => l.msg === 'stream closed').length === accepted.length,
      'a stream closed line per accepted stream',
    );
    const opened = logs.records().filter((l) => l.msg === 'stream opened');
    expect(opened.map((l) => l.sub)).toEqual(accepted.map(() => 'query-secret-7c1d'));
    const text = logs.text;
    expect(text).not.toContain(payload);
    expect(text).not.toContain(signature);
    expect(text).not.toContain(percentEncoded(signature).slice(0, 60));
    // Accepted spellings are stripped from the logged URL; refused ones are redacted in place.
    expect(accessLine(logs, '/events?topic=secure/1')?.url).toBe('/events?topic=secure/1');
    expect(accessLine(logs, '/events?topic=secure/r4')?.url).toBe(
      '/events?topic=secure/r4&access_%2574oken=[REDACTED]',
    );
  });
});

/** `unit` repeated to exactly `length` characters. */
const fill = (unit: string, length: number) =>
  unit.repeat(Math.ceil(length / unit.length)).slice(0, length);

describe('Scrubbing cost of hostile request lines', () => {
  const logs = new LogCapture();
  let gw: Gateway;
  const jwt = `${b64({ alg: 'HS256' })}.${b64({ sub: 'path-secret-4e2f' })}.c2lnbmF0dXJl`;
  // About 15 KB (request line plus headers must stay under the 16 KiB limit).
  const LENGTH = 15_000;
  const hostile = `/${fill('eyJ', 12_000)}/${jwt}/${fill('eyJ.', LENGTH - 12_003 - jwt.length)}`;
  const control = `/${fill('a', hostile.length - 1)}`;

  beforeAll(async () => {
    gw = await startTestGateway({ LOG_LEVEL: 'info' }, { logDestination: logs });
  });
  afterAll(async () => {
    await gw.app.close();
  });

  /** Scrubber steps and process CPU time (µs) of one request, once its access line is out. */
  const cost = async (path: string) => {
    const lines = logs.lines.length;
    const steps = gw.logger.scrubber.steps;
    const cpu = process.cpuUsage();
    const res = await fetch(`${gw.url}${path}`);
    await res.text();
    await waitFor(
      () => logs.lines.slice(lines).some((l) => l.includes('"request completed"')),
      'access line',
    );
    const used = process.cpuUsage(cpu);
    return {
      status: res.status,
      steps: gw.logger.scrubber.steps - steps,
      cpu: used.user + used.system,
    };
  };

  it('should scrub a 15 KB path of eyJ in about the work of a same-length path of a', async () => {
    expect(hostile.length).toBe(control.length);
    expect(hostile.length).toBeGreaterThanOrEqual(LENGTH);
    await cost(control); // warm-up
    await cost(hostile);
    const totals = { hostile: { steps: 0, cpu: 0 }, control: { steps: 0, cpu: 0 } };
    for (let round = 0; round < 10; round++) {
      for (const [name, path] of [
        ['hostile', hostile],
        ['control', control],
      ] as const) {
        const c = await cost(path);
        expect(c.status).toBe(404);
        totals[name].steps += c.steps;
        totals[name].cpu += c.cpu;
      }
    }
    // Both lines are scrubbed (access log and logger formatter): linear, so a few steps per
    // character, and about what the control costs (a backtracking scrub is quadratic: ~100x).
    expect(totals.control.steps).toBeGreaterThanOrEqual(10 * 2 * control.length);
    expect(totals.hostile.steps).toBeLessThanOrEqual(2 * totals.control.steps);
    expect(totals.hostile.cpu).toBeLessThanOrEqual(3 * totals.control.cpu);

    const line = accessLine(logs, '/eyJ');
    expect(line).toBeDefined();
    expect(logs.text).not.toContain(jwt);
    expect(logs.text).not.toContain(jwt.split('.')[1]);
    expect(String(line?.url)).toContain(`/[REDACTED]`);
    expect(String(line?.url).startsWith(`/${fill('eyJ', 12_000)}/`)).toBe(true);
  });
});
