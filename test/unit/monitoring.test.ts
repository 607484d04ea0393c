// The monitoring kit is checked against the metrics the services really expose: every query's metric exists,
// every label it groups by is on that metric.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { parse } from 'yaml';
import { createHasher } from '../../src/hasher/app.js';
import { memoryLedger } from '../../src/ledger/memory.js';
import type { HttpService } from '../../src/platform/http-service.js';
import { renderMetrics } from '../../src/platform/metrics.js';
import { createRng } from '../../src/rng/app.js';
import { createWebui } from '../../src/webui/app.js';
import { WorkerGroup } from '../../src/worker/group.js';
import { InjectTransport } from '../helpers/inject.js';
import { waitFor } from '../helpers/net.js';
import { serviceBase, silentLogger, testConfig } from '../helpers/quiet.js';

const root = new URL('../../', import.meta.url);
const read = (p: string) => readFileSync(new URL(p, root), 'utf8');

describe('monitoring kit', () => {
  const services: HttpService[] = [];
  let workers: WorkerGroup;
  let exposition = '';

  before(async () => {
    const config = testConfig({ RNG_DELAY_MS: '0', HASHER_DELAY_MS: '0', WORKER_DELAY_MS: '0', FLUSH_INTERVAL_MS: '100' });
    const ledger = memoryLedger();
    const rng = await createRng(serviceBase(config, 'rng'), config.rng);
    const hasher = await createHasher(serviceBase(config, 'hasher'), config.hasher);
    const webui = await createWebui(serviceBase(config, 'webui'), { ledger });
    services.push(rng, hasher, webui);
    const apps = new Map<string, FastifyInstance>([
      ['http://10.0.0.1:80', rng.app],
      ['http://10.0.0.2:80', hasher.app],
    ]);
    workers = new WorkerGroup({
      settings: { ...config.worker, rngUrls: ['http://10.0.0.1'], hasherUrls: ['http://10.0.0.2'] },
      server: config.server,
      ledger,
      replica: 'worker',
      logger: () => silentLogger(),
      adminLogger: silentLogger(),
      transport: () => new InjectTransport(apps),
    });
    await workers.start(1);
    await waitFor('work', async () => workers.totals().flushed > 20);
    for (const s of services) exposition += `${(await s.app.inject('/metrics')).body}\n`;
    exposition += await renderMetrics(workers.registry);
  });
  after(async () => {
    await workers.stop();
    await Promise.all(services.map((s) => s.close(0, 300)));
  });

  it('prometheus.yml scrapes every service by its name, the worker on its admin port', () => {
    const cfg = parse(read('deploy/monitoring/prometheus.yml')) as {
      scrape_configs: { job_name: string; dns_sd_configs: { names: string[]; port: number }[] }[];
    };
    const jobs = Object.fromEntries(cfg.scrape_configs.map((j) => [j.job_name, j.dns_sd_configs[0]!]));
    assert.deepEqual(Object.keys(jobs).sort(), ['hasher', 'rng', 'webui', 'worker']);
    assert.equal(jobs.worker!.port, 9100);
    assert.equal(jobs.rng!.port, 80);
  });

  it('every Grafana query names metrics and labels that exist', () => {
    const dash = JSON.parse(read('deploy/monitoring/grafana/dashboards/dockercoins.json')) as { panels: { title: string; targets: { expr: string }[] }[] };
    assert.ok(dash.panels.length >= 8);
    const typed = new Set([...exposition.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]!));
    const samples = exposition.split('\n').filter((l) => l && !l.startsWith('#'));
    // A panel that reads a recording rule is checked through the rule's expression.
    const rules = parse(read('deploy/monitoring/rules/dockercoins.rules.yml')) as { groups: { rules: { record?: string; expr: string }[] }[] };
    const recorded = new Map(rules.groups.flatMap((g) => g.rules.filter((r) => r.record).map((r) => [r.record!, r.expr] as const)));
    for (const panel of dash.panels) {
      for (const target of panel.targets) {
        const expr = target.expr.replace(/\b[a-z_]+:[a-z0-9_:]+/g, (name) => {
          const e = recorded.get(name);
          assert.ok(e, `${panel.title}: ${name} is no recording rule of the kit`);
          return e;
        });
        const names = [...expr.matchAll(/\b((?:dockercoins|process|nodejs)_[a-z0-9_]+)/g)].map((m) => m[1]!);
        assert.ok(names.length > 0, `${panel.title}: no metric`);
        for (const name of names) {
          const base = name.replace(/_(bucket|sum|count)$/, '');
          assert.ok(typed.has(base) || typed.has(name), `${panel.title}: ${name} is not exposed`);
          const grouped =
            /by \(([^)]*)\)/
              .exec(expr)?.[1]
              ?.split(',')
              .map((s) => s.trim()) ?? [];
          // job and instance are added by Prometheus at scrape time, namespace by its Kubernetes discovery.
          for (const label of grouped.filter((l) => l !== 'job' && l !== 'instance' && l !== 'namespace')) {
            assert.ok(
              samples.some((l) => l.startsWith(name) && l.includes(`${label}="`)),
              `${panel.title}: ${name} has no label ${label}`,
            );
          }
        }
      }
    }
  });

  it('per tenant (Kubernetes namespace): a namespace variable, every panel filtered by it, every recording rule keeps the label', () => {
    const dash = JSON.parse(read('deploy/monitoring/grafana/dashboards/dockercoins.json')) as {
      templating: { list: { name: string; query: { query: string }; includeAll: boolean; allValue: string }[] };
      panels: { title: string; targets: { expr: string; legendFormat: string }[] }[];
    };
    const v = dash.templating.list.find((x) => x.name === 'namespace');
    assert.ok(v, 'a namespace variable');
    assert.match(v.query.query, /^label_values\(dockercoins_[a-z_]+, namespace\)$/);
    assert.equal(v.includeAll, true);
    assert.equal(v.allValue, '.*', 'All also matches series without the label (Compose)');
    for (const p of dash.panels)
      for (const t of p.targets) {
        const selectors = [...t.expr.matchAll(/\b(?:[a-z_]+:[a-z0-9_:]+|(?:dockercoins|process)_[a-z0-9_]+)(\{[^}]*\})?/g)];
        assert.ok(selectors.length > 0, p.title);
        for (const m of selectors) assert.equal(m[1], '{namespace=~"$namespace"}', `${p.title}: ${m[0]} filtered by the variable`);
        assert.match(t.legendFormat, /\{\{namespace\}\}/, `${p.title}: the tenant in the legend`);
      }
    const rules = parse(read('deploy/monitoring/rules/dockercoins.rules.yml')) as { groups: { rules: { record?: string; alert?: string; expr: string }[] }[] };
    for (const r of rules.groups.flatMap((g) => g.rules)) {
      if (r.record) assert.match(r.expr, /^(histogram_quantile\(0\.95, )?(sum|count|avg) by \(namespace\b/, `${r.record} keeps namespace`);
      if (/ and on \(/.test(r.expr)) assert.match(r.expr, / and on \((namespace\b)/, `${r.alert}: matched per namespace`);
    }
  });

  it('Grafana provisioning points at the dashboards folder and the Prometheus datasource uid the panels use', () => {
    const ds = parse(read('deploy/monitoring/grafana/provisioning/datasources/prometheus.yml')) as { datasources: { uid: string }[] };
    assert.equal(ds.datasources[0]!.uid, 'prometheus');
    const prov = parse(read('deploy/monitoring/grafana/provisioning/dashboards/dockercoins.yml')) as { providers: { options: { path: string } }[] };
    assert.equal(prov.providers[0]!.options.path, '/var/lib/grafana/dashboards');
  });
});
