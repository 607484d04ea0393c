// `dockercoins httplat` on a real rng process, scraped by a real Prometheus (Debian's package) with the labels the
// prometheus-community chart gives a Service's endpoints (namespace, service): the httplat recording rules, the
// slide's adapter rule (its metricsQuery as the adapter expands it for services/httplat) and the KEDA trigger's query
// all evaluate, near rng's 100 ms when idle and far above it when ten clients queue on rng.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { get, waitFor } from '../helpers/net.js';
import { Proc, startService, stopAll } from '../helpers/proc.js';
import { Prometheus, skipWithoutPrometheus as skip } from '../helpers/prometheus.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const rules = join(root, 'deploy/monitoring/rules/httplat.rules.yml');
const component = (f: string) => join(root, 'deploy/kubernetes/components/autoscaling', f);
const LABELS = 'namespace="customscaling",service="httplat"';

describe('httplat on a real Prometheus: the recording rules, the adapter rule and the KEDA query', { skip }, () => {
  const procs: Proc[] = [];
  const prom = new Prometheus();
  let rng = '';
  let metrics = '';
  const values: Record<string, number> = {};

  before(async () => {
    const r = await startService('rng', {});
    procs.push(r.p);
    rng = r.url;
    // Probing /1 goes through rng's queue and its 100 ms delay (rng's `/` joins the same queue once it waits its turn).
    const h = new Proc(['httplat', `${rng}/1`, '--port', '0']);
    procs.push(h);
    const port = (await h.waitOutput(/metrics on :(\d+)\/metrics/))[1]!;
    metrics = `http://127.0.0.1:${port}/metrics`;
    await prom.start(
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [rules],
        scrape_configs: [
          { job_name: 'httplat', static_configs: [{ targets: [`127.0.0.1:${port}`], labels: { namespace: 'customscaling', service: 'httplat' } }] },
        ],
      }),
    );
  });
  after(async () => {
    await prom.stop();
    await stopAll(procs);
  });

  it('serves the httplat histogram, promtool-clean; /healthz answers; the rules check and pass their unit tests', async () => {
    await waitFor('a first probe', async () => /httplat_latency_seconds_count [1-9]/.test(await (await get(metrics)).text()), 10_000, 200);
    const text = await (await get(metrics)).text();
    assert.match(text, /# TYPE httplat_latency_seconds histogram/);
    assert.match(text, /httplat_latency_seconds_bucket\{le="0.25"\}/);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(`${lint.stdout}${lint.stderr}`.trim(), '');
    assert.equal((await get(metrics.replace('/metrics', '/healthz'))).status, 200);
    assert.match(execFileSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' }), /SUCCESS: 3 rules found/);
    assert.match(execFileSync('promtool', ['test', 'rules', rules.replace('.yml', '.test.yml')], { encoding: 'utf8' }), /SUCCESS/);
  });

  it('idle rng: the adapter rule, the recording rules and the KEDA query give its 100 ms', async () => {
    const adapter = parse(readFileSync(component('prometheus-adapter-httplat.yaml'), 'utf8')).rules.custom[0] as { seriesQuery: string; metricsQuery: string };
    const keda = parse(readFileSync(component('keda-rng-httplat.yaml'), 'utf8')).spec.triggers[0].metadata.query as string;
    assert.ok(await waitFor('the series the adapter discovers', async () => (await prom.query(adapter.seriesQuery)).length > 0, 30_000, 500));
    // What prometheus-adapter sends for `kubectl get --raw …/namespaces/customscaling/services/httplat/httplat_latency_seconds`.
    const adapterQuery = adapter.metricsQuery.trim().replaceAll('<<.LabelMatchers>>', LABELS);
    const queries = { adapter: adapterQuery, keda, mean2m: 'service:httplat_latency_seconds:mean2m', mean30s: 'service:httplat_latency_seconds:mean30s' };
    for (const [what, q] of Object.entries(queries)) {
      const result = await waitFor(
        `${what}: ${q}`,
        async () => {
          const r = await prom.query(q);
          return r.length === 1 && Number.isFinite(Number(r[0]!.value[1])) ? r : false;
        },
        30_000,
        500,
      );
      values[`idle ${what}`] = Number(result[0]!.value[1]);
    }
    console.log(`idle rng, probing /1: ${JSON.stringify(values)}`);
    for (const [what, v] of Object.entries(values)) assert.ok(v >= 0.1 && v < 0.3, `${what} = ${v}: rng's 100 ms and little else`);
    assert.ok(Math.abs(values['idle adapter']! - values['idle keda']!) < 0.01, 'KEDA and the adapter read the same latency');
  });

  it('ten clients queue on rng: the 30 s mean climbs far above the 0.1 s target, the adapter (2 m) follows', async () => {
    const stop = new AbortController();
    const client = async () => {
      while (!stop.signal.aborted)
        await fetch(`${rng}/32`, { signal: stop.signal })
          .then((r) => r.arrayBuffer())
          .catch(() => undefined);
    };
    const clients = Array.from({ length: 10 }, client);
    try {
      const mean30s = await waitFor(
        'mean30s above 0.5 s',
        async () => {
          const v = Number((await prom.query('service:httplat_latency_seconds:mean30s'))[0]?.value[1]);
          return v > 0.5 ? v : false;
        },
        60_000,
        1000,
      );
      const adapter = Number(
        (await prom.query(`rate(httplat_latency_seconds_sum{${LABELS}}[2m])/rate(httplat_latency_seconds_count{${LABELS}}[2m])`))[0]!.value[1],
      );
      console.log(`10 clients on one rng: mean30s ${mean30s.toFixed(3)} s, adapter (2m) ${adapter.toFixed(3)} s`);
      assert.ok(adapter > values['idle adapter']!, `the 2 m mean moves up too: ${adapter}`);
    } finally {
      stop.abort();
      await Promise.all(clients);
    }
  });
});
