import { expect } from 'vitest';
import type { GatewayPair } from './gateway-pair';
import { publish } from './sse-client';
import { bearer, claims, hs256 } from './tokens';
import { sleep, waitFor } from './wait';

/*
 * Checks that every multi-instance topology (one Redis, Redis Cluster) must pass the same way,
 * written once and called from each suite's own `it`.
 */

/** A token for `sub` with subscribe on every topic. */
const subscriber = (sub: string) => hs256(claims({ subscribe: ['**'] }, { sub }));

/**
 * An Idempotency-Key retried on B after a publish on A answers the first publish, a different
 * body under the same key is refused with 422, and a subscriber on B sees the event once.
 */
export async function checkIdempotencyAcrossInstances(
  pair: GatewayPair,
  /** Which event an id names (REDIS_PARTITIONS > 1: delivered ids are stream positions). */
  identity: (id: string) => string = (id) => id,
): Promise<void> {
  const s = await pair.open(pair.b.url, '/events?topic=idem/1');
  await sleep(200);
  const body = { topic: 'idem/1', data: { n: 1 } };
  const first = await publish(pair.a.url, body, { 'Idempotency-Key': 'retry-1' });
  const again = await publish(pair.b.url, body, { 'Idempotency-Key': 'retry-1' });
  expect(first.status).toBe(202);
  expect(again).toMatchObject({ status: 202, body: first.body });
  const other = await publish(pair.b.url, { ...body, data: 2 }, { 'Idempotency-Key': 'retry-1' });
  expect(other.status).toBe(422);
  await s.waitForEvents(1);
  await sleep(300);
  expect(s.events.map((e) => identity(e.id as string))).toEqual([
    identity(first.body.id as string),
  ]);
}

/**
 * Streams of alice (on A and B) and bob (on B) on `c/x`: A's `/admin/connections` lists them
 * with the instance ids `ids` ([A, B]); bob's is closed through A; revoking alice through B closes
 * both of hers, and her old token then gets 204 on A. `admin` is an admin token.
 */
export async function checkListCloseRevokeAcrossInstances(
  pair: GatewayPair,
  ids: readonly [string, string],
  admin: string,
): Promise<void> {
  const openAs = (base: string, sub: string) =>
    pair.open(base, '/events?topic=c/x', bearer(subscriber(sub)));
  const onA = await openAs(pair.a.url, 'alice');
  const onB = await openAs(pair.b.url, 'alice');
  const bobOnB = await openAs(pair.b.url, 'bob');
  const list = async () => {
    const res = await fetch(`${pair.a.url}/admin/connections`, { headers: bearer(admin) });
    expect(res.status).toBe(200);
    return (
      (await res.json()) as {
        connections: { id: string; sub: string | null; instance: string }[];
      }
    ).connections;
  };
  await waitFor(async () => (await list()).filter((c) => c.sub).length >= 3, 'listed', 10_000);
  const listed = await list();
  expect(new Set(listed.map((c) => c.instance))).toEqual(new Set(ids));
  const bobs = listed.filter((c) => c.sub === 'bob');
  expect(bobs).toHaveLength(1);
  expect(bobs[0].instance).toBe(ids[1]);

  // Close bob's stream on B through A.
  const closed = await fetch(`${pair.a.url}/admin/connections/${bobs[0].id}`, {
    method: 'DELETE',
    headers: bearer(admin),
  });
  expect(closed.status).toBe(204);
  await bobOnB.waitForEnd();

  // Revoke alice through B: her streams on both instances close; her old token gets 204 on A.
  const old = subscriber('alice');
  const revoked = await fetch(`${pair.b.url}/admin/revocations`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...bearer(admin) },
    body: JSON.stringify({ sub: 'alice' }),
  });
  expect(revoked.status).toBe(200);
  expect(await revoked.json()).toMatchObject({ sub: 'alice', closed: 2 });
  await onA.waitForEnd();
  await onB.waitForEnd();
  const again = await fetch(`${pair.a.url}/events?topic=c/x`, {
    headers: { Accept: 'text/event-stream', ...bearer(old) },
  });
  expect(again.status).toBe(204);
}
