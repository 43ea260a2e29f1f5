import { afterEach, describe, expect, it } from 'vitest';
import { useRedisGatewayPair } from '../support/gateway-pair';
import { bearer, claims, hs256 } from '../support/tokens';
import { waitFor } from '../support/wait';

const CAP = 3;

/**
 * MAX_CONNECTIONS_PER_IP holds cluster-wide (CONTRACT section 6): two gateway processes on one
 * Redis, and anonymous streams (the ones the per-IP cap counts, README "Limits") all from
 * 127.0.0.1.
 */
describe('Cluster-wide per-IP cap (two instances, Redis)', () => {
  const gws = useRedisGatewayPair(
    'per-ip',
    { ANONYMOUS_TOPICS: 'ip/**', MAX_CONNECTIONS_PER_IP: String(CAP), RETRY_MS: '200' },
    { ids: ['ip-a', 'ip-b'] },
  );
  const streams = gws.streams;
  const admin = bearer(hs256(claims({ admin: true }, { sub: 'ops' })));
  afterEach(async () => {
    await gws.closeStreams();
    // Start the next test from an empty cluster: no stream listed on either instance, and a
    // moment for the last leases' release to reach Redis.
    await waitFor(
      async () => {
        const res = await fetch(`${gws.a.url}/admin/connections`, { headers: admin });
        const body = (await res.json()) as { connections: unknown[] };
        return res.status === 200 && body.connections.length === 0;
      },
      'no stream left on either instance',
      10_000,
      50,
    );
    await new Promise((r) => setTimeout(r, 300));
  });
  /** Opens an anonymous stream; resolves with the shed reason, or undefined when open. */
  const attempt = async (base: string): Promise<string | undefined> => {
    const s = await gws.open(base, '/events?topic=ip/x');
    expect(s.status).toBe(200);
    await waitFor(() => s.raw.includes('\n\n'), 'first frame', 10_000);
    // A shed stream sends herald.shed right after the retry frame and closes.
    await new Promise((r) => setTimeout(r, 300));
    const shed = s.events.find((e) => e.event === 'herald.shed');
    return shed ? (JSON.parse(shed.data) as { reason: string }).reason : undefined;
  };
  const openCount = () => streams.filter((s) => !s.ended).length;

  it('should refuse the stream over MAX_CONNECTIONS_PER_IP on either instance and admit one again after a close', async () => {
    expect([await attempt(gws.a.url), await attempt(gws.b.url), await attempt(gws.a.url)]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(await attempt(gws.b.url)).toBe('capacity');
    expect(await attempt(gws.a.url)).toBe('capacity');
    expect(openCount()).toBe(CAP);

    // Closing a stream on A frees a slot that B may give out.
    const held = streams.find((s) => !s.ended)!;
    await held.close();
    await waitFor(
      async () => (await attempt(gws.b.url)) === undefined,
      'a slot freed on A',
      10_000,
      50,
    );
    expect(await attempt(gws.a.url)).toBe('capacity');
    expect(openCount()).toBe(CAP);
  });

  it('should admit exactly the cap under 60 parallel attempts spread over both instances', async () => {
    const reasons = await Promise.all(
      Array.from({ length: 60 }, (_, i) => attempt(i % 2 === 0 ? gws.a.url : gws.b.url)),
    );
    expect(reasons.filter((r) => r === undefined)).toHaveLength(CAP);
    expect(reasons.filter((r) => r === 'capacity')).toHaveLength(60 - CAP);
    expect(openCount()).toBe(CAP);
  });
});
