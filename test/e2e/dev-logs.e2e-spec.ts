import { afterEach, describe, expect, it } from 'vitest';
import { spawnGateway, type SpawnedGateway } from '../support/spawn-gateway';

/** Lines Nest logs while mapping routes (RoutesResolver / RouterExplorer). */
const ROUTE_MAPPING = /Mapped \{|RoutesResolver|RouterExplorer/;

describe('log format by NODE_ENV', () => {
  const gateways: SpawnedGateway[] = [];
  afterEach(async () => {
    for (const g of gateways.splice(0)) {
      g.kill('SIGTERM');
      await g.exited;
    }
  });
  const start = async (env: Record<string, string>) => {
    // LOG_FORMAT '' counts as unset, so its default applies.
    const g = await spawnGateway({ LOG_FORMAT: '', LOG_LEVEL: 'info', ...env }, 25_000);
    gateways.push(g);
    await fetch(`${g.url}/health/live`);
    return g;
  };
  const lines = (g: SpawnedGateway) =>
    g
      .output()
      .split('\n')
      .filter((l) => l.trim() !== '');

  it('should print pretty lines without route mapping at info when NODE_ENV=development', async () => {
    const g = await start({ NODE_ENV: 'development' });
    const out = lines(g);
    expect(out.find((l) => /listening on http/.test(l))).toMatch(
      /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: \[Herald\] listening on http:\/\//,
    );
    expect(out.filter((l) => l.startsWith('{'))).toEqual([]);
    expect(out.filter((l) => ROUTE_MAPPING.test(l))).toEqual([]);
  });

  it('should log route mapping at debug, not drop it', async () => {
    const g = await start({ NODE_ENV: 'development', LOG_LEVEL: 'debug' });
    expect(
      lines(g).filter((l) => /DEBUG: \[RouterExplorer\] Mapped \{\/events, GET\}/.test(l)),
    ).toHaveLength(1);
  });

  it('should print JSON lines when NODE_ENV=production', async () => {
    const g = await start({ NODE_ENV: 'production' });
    const out = lines(g);
    const parsed = out.map(
      (l) => JSON.parse(l) as { level: string; msg: string; context?: string },
    );
    expect(parsed.find((p) => p.msg.startsWith('listening on'))).toMatchObject({
      level: 'info',
      context: 'Herald',
    });
    expect(parsed.filter((p) => p.context === 'RouterExplorer')).toEqual([]);
  });
});
