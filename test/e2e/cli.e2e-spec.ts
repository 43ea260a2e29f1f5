import { existsSync } from 'node:fs';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, spawnCli, type RunningCli } from '../support/cli';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream } from '../support/sse-client';
import { bearer, claims, hs256, TEST_JWT_SECRET } from '../support/tokens';
import { waitFor } from '../support/wait';

interface Listed {
  id: string;
  sub: string | null;
}

describe('herald CLI', () => {
  let gw: Gateway;
  const running: RunningCli[] = [];
  const keyEnv = { JWT_SECRET: TEST_JWT_SECRET, NODE_ENV: 'test' };
  const admin = hs256(claims({ admin: true }, { sub: 'ops' }));

  beforeAll(async () => {
    expect(existsSync(CLI), `${CLI} missing: run npm run build first`).toBe(true);
    gw = await startTestGateway({
      ANONYMOUS_TOPICS: '',
      RETRY_MS: '1500',
      HEARTBEAT_MS: '400',
      CORS_ORIGINS: 'http://app.example',
    });
  });
  afterAll(async () => {
    for (const r of running) r.stop('SIGKILL');
    await gw.app.close();
  });

  const tail = (args: string[], env: Record<string, string> = {}) => {
    const r = spawnCli(['tail', ...args, '--json', '--url', gw.url], env);
    running.push(r);
    return r;
  };
  const lines = (r: RunningCli) =>
    r
      .stdout()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id: string; event: string; data: unknown });
  const connections = async (): Promise<Listed[]> =>
    (
      (await (await fetch(`${gw.url}/admin/connections`, { headers: bearer(admin) })).json()) as {
        connections: Listed[];
      }
    ).connections;

  it('should mint a token with the grants claim the gateway verifies, then tail and publish with it', async () => {
    const minted = await runCli(
      [
        'token',
        '--sub',
        'alice',
        '--subscribe',
        'orders/*',
        '--publish',
        'orders/**',
        '--ttl',
        '1h',
      ],
      keyEnv,
    );
    expect(minted.stderr).toBe('');
    expect(minted.code).toBe(0);
    const token = minted.stdout.trim();
    const payload = decodeJwt(token);
    expect(payload).toMatchObject({
      sub: 'alice',
      herald: { subscribe: ['orders/*'], publish: ['orders/**'] },
    });
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(3600);

    // The gateway enforces exactly those grants.
    const outside = await openStream(gw.url, '/events?topic=news', { headers: bearer(token) });
    expect(outside.status).toBe(403);
    await outside.close();

    const tailer = tail(['orders/*', '--token', token]);
    await waitFor(
      async () => (await connections()).some((c) => c.sub === 'alice'),
      'tail open',
      10_000,
      50,
    );
    const published = await runCli([
      'publish',
      'orders/42',
      '{"status":"shipped"}',
      '--type',
      'order.updated',
      '--url',
      gw.url,
      '--token',
      token,
    ]);
    expect(published.stderr).toBe('');
    expect(published.code).toBe(0);
    const id = published.stdout.trim();
    expect(id).toMatch(/^[A-Za-z0-9._~:-]+$/);
    await waitFor(() => lines(tailer).length === 1, 'tail prints the event', 10_000, 20);
    expect(lines(tailer)[0]).toEqual({
      id,
      event: 'order.updated',
      data: { status: 'shipped' },
      receivedAt: expect.any(Number) as number,
    });
    tailer.stop();
    expect((await tailer.exited).code).toBe(0);
  });

  it('should exit 1 with the error body when a publish is refused', async () => {
    const token = hs256(claims({ publish: ['orders/**'] }, { sub: 'bob' }));
    const refused = await runCli(['publish', 'news/1', '1', '--url', gw.url, '--token', token]);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain('403');
    expect(refused.stderr).toContain('"message":"not permitted to publish to \\"news/1\\""');
    const notJson = await runCli(['publish', 'orders/1', 'not json', '--url', gw.url]);
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toMatch(/<json> is not JSON/);
  });

  it('should resume with Last-Event-ID after the stream is dropped, without loss or duplicates', async () => {
    const token = hs256(claims({ subscribe: ['feed/**'], publish: ['feed/**'] }, { sub: 'carol' }));
    const tailer = tail(['feed/**', '--token', token]);
    await waitFor(
      async () => (await connections()).some((c) => c.sub === 'carol'),
      'tail open',
      10_000,
      50,
    );
    const pub = (n: number) =>
      runCli(['publish', 'feed/a', JSON.stringify({ n }), '--url', gw.url, '--token', token]);
    expect((await pub(1)).code).toBe(0);
    await waitFor(() => lines(tailer).length === 1, 'first event', 10_000, 20);
    // Drop the stream server-side; publish while the CLI waits out retry: (1.5 s) to reconnect.
    const conn = (await connections()).find((c) => c.sub === 'carol');
    const kicked = await fetch(`${gw.url}/admin/connections/${conn?.id}`, {
      method: 'DELETE',
      headers: bearer(admin),
    });
    expect(kicked.status).toBe(204);
    expect((await pub(2)).code).toBe(0);
    expect((await pub(3)).code).toBe(0);
    await waitFor(() => lines(tailer).length >= 3, 'events published during the gap', 15_000, 20);
    expect(lines(tailer).map((l) => l.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    expect(tailer.stderr()).toMatch(/reconnecting in 1\.5 s, resuming after /);
    tailer.stop();
  });

  it('should start with the newest retained event with --since latest, then go live', async () => {
    const token = hs256(
      claims({ subscribe: ['quotes/**'], publish: ['quotes/**'] }, { sub: 'dan' }),
    );
    const pub = async (topic: string, n: number) =>
      expect(
        (await runCli(['publish', topic, JSON.stringify({ n }), '--url', gw.url, '--token', token]))
          .code,
      ).toBe(0);
    await pub('quotes/eur', 1);
    await pub('quotes/eur', 2);
    await pub('quotes/usd', 3);
    const tailer = tail(['quotes/*', '--since', 'latest', '--token', token]);
    await waitFor(() => lines(tailer).length >= 2, 'the latest events', 10_000, 20);
    expect(lines(tailer).map((l) => l.data)).toEqual([{ n: 2 }, { n: 3 }]);
    await pub('quotes/eur', 4);
    await waitFor(() => lines(tailer).length >= 3, 'the live event', 10_000, 20);
    expect(lines(tailer).map((l) => l.data)).toEqual([{ n: 2 }, { n: 3 }, { n: 4 }]);
    tailer.stop();
    const bad = await runCli(['tail', 'quotes/*', '--since', 'yesterday', '--url', gw.url]);
    expect(bad.code).toBe(2);
  });

  it('should refuse to mint with NODE_ENV=production unless --force', async () => {
    const args = ['token', '--sub', 'ops', '--admin'];
    const refused = await runCli(args, { ...keyEnv, NODE_ENV: 'production' });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/production.*--force/);
    const forced = await runCli([...args, '--force'], { ...keyEnv, NODE_ENV: 'production' });
    expect(forced.code).toBe(0);
    expect(decodeJwt(forced.stdout.trim())).toMatchObject({ sub: 'ops', herald: { admin: true } });
    const noKey = await runCli(args, { NODE_ENV: 'test' });
    expect(noKey.code).toBe(1);
    expect(noKey.stderr).toMatch(/no signing key: set JWT_SECRET/);
  });

  it('should find nothing wrong when the doctor checks the gateway directly', async () => {
    const token = hs256(claims({ subscribe: ['herald-doctor'] }, { sub: 'doc' }));
    const run = await runCli([
      'doctor',
      gw.url,
      '--token',
      token,
      '--origin',
      'http://app.example',
      '--idle-ms',
      '2000',
      '--json',
    ]);
    const report = JSON.parse(run.stdout) as { findings: { id: string; severity: string }[] };
    const severity = Object.fromEntries(report.findings.map((f) => [f.id, f.severity]));
    expect(severity).toMatchObject({
      status: 'ok',
      'first-bytes': 'ok',
      retry: 'ok',
      heartbeats: 'ok',
      'idle-cut': 'ok',
      compression: 'ok',
      cors: 'ok',
      'cors-preflight': 'ok',
    });
    expect(report.findings.filter((f) => f.severity === 'error' || f.severity === 'warn')).toEqual(
      [],
    );
    expect(run.code).toBe(0);
    // A refusal is an error finding with the reason, and a non-zero exit.
    const denied = await runCli(['doctor', gw.url, '--idle-ms', '1000']);
    expect(denied.code).toBe(1);
    expect(denied.stdout).toMatch(/ERROR the stream request answered 401/);
    expect(denied.stdout).toMatch(/pass --token/);
  });

  it('should print help per command, without colours when stdout is not a TTY', async () => {
    const commands = ['token', 'publish', 'tail', 'doctor'];
    const helps = await Promise.all(commands.map((c) => runCli([c, '--help'])));
    helps.forEach((help, i) => {
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: herald ${commands[i]}`);
      expect(help.stdout).not.toContain('\x1b[');
    });
    const unknown = await runCli(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
  });
});
