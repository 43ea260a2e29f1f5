import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { startTestGateway, type Gateway } from '../support/gateway';

const DEPLOY = resolve(__dirname, '../../deploy');

type Doc = Record<string, unknown> & { kind?: string; metadata?: { name?: string } };

/** Every YAML document under deploy/, parsed (throws on a syntax error). */
function loadManifests(): { file: string; doc: Doc }[] {
  const out: { file: string; doc: Doc }[] = [];
  for (const sub of readdirSync(DEPLOY, { withFileTypes: true })) {
    if (!sub.isDirectory()) continue;
    for (const name of readdirSync(join(DEPLOY, sub.name))) {
      if (!/\.ya?ml$/.test(name)) continue;
      const file = join(sub.name, name);
      for (const parsed of parseAllDocuments(readFileSync(join(DEPLOY, file), 'utf8'))) {
        if (parsed.errors.length > 0) throw new Error(`${file}: ${parsed.errors[0].message}`);
        out.push({ file, doc: parsed.toJS() as Doc });
      }
    }
  }
  return out;
}

interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { sleep?: { seconds: number } } };
  ports: { name: string; containerPort: number }[];
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  containers: Container[];
}

describe('deploy/ manifests and alert rules', () => {
  const manifests = loadManifests();
  const byKind = (kind: string) => manifests.filter((m) => m.doc.kind === kind);
  let gw: Gateway;
  beforeAll(async () => {
    gw = await startTestGateway();
  });
  afterAll(async () => {
    await gw.app.close();
  });

  it('should parse every manifest as YAML with a kind', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(8);
    for (const { file, doc } of manifests) expect(doc.kind, file).toEqual(expect.any(String));
  });

  it('should probe live and ready paths that answer 200 on a running gateway', async () => {
    const deployments = byKind('Deployment');
    expect(deployments.length).toBeGreaterThanOrEqual(2);
    const config = byKind('ConfigMap')[0].doc.data as Record<string, string>;
    const graceS = Number(config.SHUTDOWN_GRACE_MS) / 1000;
    for (const { file, doc } of deployments) {
      const pod = (doc.spec as { template: { spec: PodSpec } }).template.spec;
      const [container] = pod.containers;
      expect(container.livenessProbe?.httpGet.path, file).toBe('/health/live');
      expect(container.readinessProbe?.httpGet.path, file).toBe('/health/ready');
      const port = container.ports.find((p) => p.name === container.readinessProbe?.httpGet.port);
      expect(port?.containerPort, file).toBe(Number(config.PORT));
      const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
      expect(preStop, file).toBeGreaterThan(0);
      expect(pod.terminationGracePeriodSeconds, file).toBeGreaterThan(graceS + preStop);
      for (const probe of [
        container.livenessProbe,
        container.readinessProbe,
        container.startupProbe,
      ]) {
        if (!probe) continue;
        expect((await fetch(`${gw.url}${probe.httpGet.path}`)).status, file).toBe(200);
      }
    }
  });

  it('should alert on the required conditions using only metrics Herald exports', async () => {
    const [rules] = byKind('PrometheusRule');
    const groups = (rules.doc.spec as { groups: { rules: { alert: string; expr: string }[] }[] })
      .groups;
    const alerts = new Map(groups.flatMap((g) => g.rules).map((r) => [r.alert, r.expr]));
    for (const name of [
      'HeraldDeliveryLatencyHigh',
      'HeraldErrorRateHigh',
      'HeraldHeapHigh',
      'HeraldConnectionsNearLimit',
      'HeraldSlowConsumerSpike',
      'HeraldShedSpike',
      'HeraldBrokerDown',
    ]) {
      expect(alerts.has(name), name).toBe(true);
    }
    expect(alerts.get('HeraldDeliveryLatencyHigh')).toMatch(/0\.99[\s\S]*> 0\.8/);
    expect(alerts.get('HeraldErrorRateHigh')).toMatch(/> 0\.01/);
    expect(alerts.get('HeraldHeapHigh')).toMatch(/> 0\.75/);
    // Declared metrics (labelled counters have no sample until first use, but are declared).
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    const exported = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    for (const [alert, expr] of alerts) {
      for (const metric of expr.match(/\b(?:herald|nodejs|process)_[a-z0-9_]+/g) ?? []) {
        expect(
          exported.has(metric.replace(/_(bucket|sum|count)$/, '')),
          `${alert}: ${metric}`,
        ).toBe(true);
      }
    }
  });
});
