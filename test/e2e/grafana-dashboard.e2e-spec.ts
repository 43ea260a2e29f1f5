import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type Gateway } from '../support/gateway';
import { openStream, publish } from '../support/sse-client';

const DASHBOARD = resolve(__dirname, '../../deploy/grafana/herald.json');

interface Target {
  refId: string;
  expr: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  templating: { list: { name: string; type: string; query: unknown }[] };
  panels: Panel[];
}

/** PromQL words that are not metric names: aggregations, functions, keywords. */
const KEYWORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'bool',
  'and',
  'or',
  'unless',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression reads: identifiers left after removing strings, label
 * matchers (`{...}`), range and subquery selectors (`[...]`), grouping clauses (`by (...)`,
 * `on (...)`, ...), Grafana variables, durations, numbers, keywords and function calls (`name(`).
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\{[^}]*\}|\$\w+/g, ' ')
    .replace(/\b\d+(?:ms|[smhdwy])\b/g, ' ')
    .replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, ' ');
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\()?)/g)) {
    const word = m[0];
    if (m[1] !== undefined || KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names];
}

/** Every metric name a Prometheus text exposition offers (histogram/summary sample suffixes too). */
function exposed(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type;
      names.add(name);
      if (kind === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(name + s);
      if (kind === 'summary') for (const s of ['_sum', '_count']) names.add(name + s);
      continue;
    }
    const sample = /^([A-Za-z_:][A-Za-z0-9_:]*)[{ ]/.exec(line);
    if (sample) names.add(sample[1]);
  }
  return names;
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

describe('Grafana dashboard (deploy/grafana/herald.json)', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  const panels = allPanels(dashboard.panels);
  const targets = panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p, target: t })));
  let gw: Gateway;
  let metricsText: string;

  beforeAll(async () => {
    gw = await startTestGateway({ INSTANCE_ID: 'grafana-1' });
    // Some traffic, so that labelled series exist too (names come from # TYPE lines anyway).
    const s = await openStream(gw.url, '/events?topic=g/a');
    await publish(gw.url, { topic: 'g/a', data: 1 });
    await s.waitForEvents(1);
    await s.close();
    metricsText = await (await fetch(`${gw.url}/metrics`)).text();
  });
  afterAll(async () => {
    await gw?.app.close();
  });

  it('should find metric names and skip functions, labels, keywords and variables', () => {
    expect(
      metricNames(
        'histogram_quantile(0.99, sum by (le) (rate(herald_x_bucket{instance_id=~"$instance",a="b(c)"}[$__rate_interval])))' +
          ' / on (instance_id) group_left max by (instance_id) (up offset 5m) and bool 1e3 * ${var}',
      ).sort(),
    ).toEqual(['herald_x_bucket', 'up']);
    expect(metricNames('sum(rate(herald_nope_total[5m]))')).toEqual(['herald_nope_total']);
  });

  it('should be a dashboard Grafana imports: schemaVersion, uid, a datasource variable', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{1,40}$/);
    expect(dashboard.title).toBe('Herald');
    const ds = dashboard.templating.list.find((v) => v.type === 'datasource');
    expect(ds).toMatchObject({ name: 'datasource', query: 'prometheus' });
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) {
      expect(p.gridPos.w, p.title).toBeGreaterThan(0);
      expect(p.gridPos.x + p.gridPos.w, p.title).toBeLessThanOrEqual(24);
      if (p.type === 'row') continue;
      expect(p.datasource, p.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
    }
    expect(targets.length).toBeGreaterThan(10);
  });

  it('should query only metrics a running gateway exposes on /metrics', () => {
    const available = exposed(metricsText);
    expect(available.has('herald_delivery_latency_seconds_bucket')).toBe(true);
    const unknown: string[] = [];
    for (const { panel, target } of targets) {
      const names = metricNames(target.expr);
      expect(names.length, `${panel.title} ${target.refId}`).toBeGreaterThan(0);
      for (const name of names) {
        if (!available.has(name)) unknown.push(`${panel.title}: ${name}`);
      }
    }
    const variables = JSON.stringify(dashboard.templating.list);
    for (const m of variables.matchAll(/label_values\((\w+),/g)) {
      if (!available.has(m[1])) unknown.push(`variable: ${m[1]}`);
    }
    expect(unknown).toEqual([]);
  });

  it('should chart what the console charts, plus event-loop delay and Redis health', () => {
    const used = new Set(targets.flatMap(({ target }) => metricNames(target.expr)));
    for (const name of [
      'herald_connections',
      'herald_events_published_total',
      'herald_events_delivered_total',
      'herald_delivery_latency_seconds_bucket',
      'herald_shed_total',
      'herald_slow_consumer_disconnects_total',
      'nodejs_eventloop_lag_p99_seconds',
      'herald_broker_up',
      'herald_broker_errors_total',
    ]) {
      expect(used.has(name), name).toBe(true);
    }
    const perInstance = targets.filter(({ target }) => /by \(instance_id\)/.test(target.expr));
    expect(perInstance.map(({ panel }) => panel.title)).toEqual(
      expect.arrayContaining(['Open streams per instance', 'Event-loop delay p99 per instance']),
    );
  });
});
