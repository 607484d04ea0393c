// The monitoring kit on a real Prometheus (Debian's prometheus and promtool): rng, hasher, webui and three workers as
// separate processes on a real Redis at the workshop's pace, scraped with the kit's job names and intervals (static
// targets on loopback instead of DNS, with the namespace and pod labels Kubernetes discovery adds), the kit's rule
// file loaded. Every dashboard query, every recording rule and the autoscalers' queries return data; the alerts are
// quiet on a healthy system and move when a fault is injected or a target dies.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { waitFor } from '../helpers/net.js';
import { type Proc, startService, startWorker, stopAll } from '../helpers/proc.js';
import { Prometheus, skipWithoutPrometheus as skip } from '../helpers/prometheus.js';
import { TestRedis } from '../helpers/redis.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const kit = (p: string) => join(root, 'deploy/monitoring', p);

describe('the monitoring kit on a real Prometheus', { skip }, () => {
  const procs: Proc[] = [];
  const redis = new TestRedis();
  const prom = new Prometheus();
  const targets: Record<string, string[]> = { rng: [], hasher: [], webui: [], worker: [] };
  let hasher = '';
  let workers: { p: Proc; url: string }[] = [];
  const rules = parse(readFileSync(kit('rules/dockercoins.rules.yml'), 'utf8')) as { groups: { rules: { record?: string; alert?: string; expr: string }[] }[] };
  const dashboard = JSON.parse(readFileSync(kit('grafana/dashboards/dockercoins.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };

  before(async () => {
    await redis.start();
    const rng = await startService('rng', {});
    const h = await startService('hasher', {});
    hasher = h.url;
    const webui = await startService('webui', { REDIS_URL: redis.url });
    procs.push(rng.p, h.p, webui.p);
    workers = await Promise.all([1, 2, 3].map(() => startWorker({ REDIS_URL: redis.url, RNG_URL: rng.url, HASHER_URL: h.url })));
    procs.push(...workers.map((w) => w.p));
    targets.rng!.push(rng.url);
    targets.hasher!.push(h.url);
    targets.webui!.push(webui.url);
    targets.worker!.push(...workers.map((w) => w.url));

    // The kit's configuration, its DNS discovery replaced by these processes; its rule file where it is.
    const cfg = parse(readFileSync(kit('prometheus.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: { job_name: string; dns_sd_configs?: unknown; static_configs?: unknown }[];
    };
    cfg.rule_files = cfg.rule_files.map((f) => kit(f));
    for (const job of cfg.scrape_configs) {
      delete job.dns_sd_configs;
      job.static_configs = targets[job.job_name]!.map((u, i) => ({
        targets: [new URL(u).host],
        labels: { namespace: 'default', pod: `${job.job_name}-${i}` },
      }));
    }
    await prom.start(stringify(cfg));
  });
  after(async () => {
    await prom.stop();
    await stopAll(procs);
    await redis.close();
  });

  it('promtool: the kit config and rules check, the alerts pass their unit tests, every service exposition lints clean', async () => {
    const check = (args: string[], input?: string) => execFileSync('promtool', args, { cwd: root, input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
    assert.match(check(['check', 'config', kit('prometheus.yml')]), /SUCCESS: 1 rule files found/);
    assert.match(check(['check', 'rules', kit('rules/dockercoins.rules.yml')]), /SUCCESS: 13 rules found/);
    // The alerts' unit tests: each fires when it must and stays silent when it must not.
    assert.match(check(['test', 'rules', kit('rules/dockercoins.rules.test.yml')]), /SUCCESS/);
    for (const [job, urls] of Object.entries(targets)) {
      for (const u of urls) {
        const text = await (await fetch(`${u}/metrics`)).text();
        const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
        assert.equal(res.status, 0, `${job} ${u}: ${res.stdout}${res.stderr}`);
        assert.equal(`${res.stdout}${res.stderr}`.trim(), '', `${job}: promtool has something to say`);
      }
    }
  });

  it('all six targets are up with the kit job names', async () => {
    await waitFor(
      'six targets up',
      async () => {
        const up = await prom.query('up == 1');
        return up.length === 6 ? up : false;
      },
      30_000,
      500,
    );
    const jobs = (await prom.query('count by (job) (up)')).map((s) => `${s.metric.job}=${s.value[1]}`).sort();
    assert.deepEqual(jobs, ['hasher=1', 'rng=1', 'webui=1', 'worker=3']);
  });

  it('every dashboard query and every recording rule returns data', async () => {
    const exprs = [
      // The tenant variable as Grafana sends it with "All" selected (its allValue: no namespace label here, as in Compose).
      ...dashboard.panels.flatMap((p) => p.targets.map((t) => [p.title, t.expr.replaceAll('$namespace', '.*')] as const)),
      ...rules.groups.flatMap((g) => g.rules.filter((r) => r.record).map((r) => [`recorded ${r.record}`, r.record!] as const)),
    ];
    const empty = new Set(exprs.map(([what]) => what));
    await waitFor(
      `data for every query (still empty: ${[...empty].join('; ')})`,
      async () => {
        for (const [what, expr] of exprs) if (empty.has(what) && (await prom.query(expr)).length > 0) empty.delete(what);
        return empty.size === 0;
      },
      60_000,
      2000,
    );
    // The speed once the 30 s window is full of samples: three workers, not one.
    await sleep(Math.max(0, prom.startedAt + 40_000 - Date.now()));
    const speed = Number((await prom.query('dockercoins:hashes_flushed:rate30s'))[0]!.value[1]);
    console.log(`Prometheus sees ${speed.toFixed(2)} hashes/s with 3 workers (the model: 10, rng-bound)`);
    assert.ok(speed > 5, `speed ${speed}: three workers at 3.33 hashes/s each are counted`);
    const phases = (await prom.query('phase:dockercoins_worker_phase_seconds:rate30s')).map((s) => s.metric.phase).sort();
    assert.ok(phases.includes('rng') && phases.includes('hasher'), phases.join());
    const states = await prom.rules();
    assert.equal(states.length, 13);
    assert.deepEqual(
      states.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.lastError}`),
      [],
    );
  });

  it("the autoscalers' queries: prometheus-adapter's rule and KEDA's trigger evaluate on rng's series", async () => {
    const adapter = parse(readFileSync(kit('prometheus-adapter.yaml'), 'utf8')) as {
      rules: { custom: { seriesQuery: string; metricsQuery: string; name: { as: string } }[] };
    };
    const rule = adapter.rules.custom[0]!;
    const hpa = parse(readFileSync(join(root, 'deploy/kubernetes/components/monitoring/hpa-rng.yaml'), 'utf8')) as {
      spec: { metrics: { pods: { metric: { name: string }; target: { averageValue: string } } }[] };
    };
    assert.equal(rule.name.as, hpa.spec.metrics[0]!.pods.metric.name, 'the adapter exposes the metric the HPA reads');
    assert.ok((await prom.query(rule.seriesQuery)).length > 0, rule.seriesQuery);
    // The query the adapter sends for `kubectl get --raw …/pods/*/dockercoins_rng_queue_depth` in namespace default.
    const metricsQuery = rule.metricsQuery
      .replace('<<.Series>>', 'dockercoins_rng_queue_depth')
      .replace('<<.LabelMatchers>>', 'namespace="default",pod=~"rng-0"')
      .replace('<<.GroupBy>>', 'pod');
    const perPod = await prom.query(metricsQuery);
    assert.deepEqual(
      perPod.map((s) => s.metric.pod),
      ['rng-0'],
    );
    const keda = parse(readFileSync(join(root, 'deploy/kubernetes/extras/keda-rng.yaml'), 'utf8')) as {
      spec: { scaleTargetRef: { name: string }; triggers: { type: string; metadata: { query: string; threshold: string } }[] };
    };
    const trigger = keda.spec.triggers[0]!;
    assert.equal(trigger.type, 'prometheus');
    assert.equal(keda.spec.scaleTargetRef.name, 'rng');
    assert.equal(trigger.metadata.threshold, hpa.spec.metrics[0]!.pods.target.averageValue, 'the same target as the HPA');
    const total = await prom.query(trigger.metadata.query);
    assert.equal(total.length, 1, trigger.metadata.query);
    console.log(`rng queue: ${perPod[0]!.value[1]} waiting (adapter), ${total[0]!.value[1]} in total (KEDA) with 3 workers`);
  });

  it('alerts: quiet on a healthy system; a failing hasher makes WorkerErrors and HashesStalled pending, a dead worker TargetDown', async () => {
    const alert = async (name: string) => (await prom.rules()).find((r) => r.name === name)!;
    for (const name of ['DockerCoinsHashesStalled', 'DockerCoinsWorkerErrors', 'DockerCoinsUnitsPending', 'DockerCoinsTargetDown']) {
      assert.equal((await alert(name)).state, 'inactive', name);
    }
    const faults = await fetch(`${hasher}/admin/faults?error_rate=1`, { method: 'POST' });
    assert.equal(faults.status, 200);
    try {
      await waitFor(
        'WorkerErrors pending, cause hasher',
        async () => (await alert('DockerCoinsWorkerErrors')).alerts?.some((a) => a.labels.cause === 'hasher'),
        60_000,
        1000,
      );
      await waitFor('HashesStalled pending', async () => (await alert('DockerCoinsHashesStalled')).state !== 'inactive', 90_000, 1000);
    } finally {
      await fetch(`${hasher}/admin/faults`, { method: 'DELETE' });
    }
    await workers[2]!.p.stop('SIGKILL');
    const down = await waitFor(
      'TargetDown pending for the killed worker',
      async () => (await alert('DockerCoinsTargetDown')).alerts?.find((a) => a.labels.job === 'worker'),
      60_000,
      1000,
    );
    assert.equal(down.labels.instance, new URL(workers[2]!.url).host);
    await waitFor('hashes flow again: HashesStalled inactive', async () => (await alert('DockerCoinsHashesStalled')).state === 'inactive', 90_000, 1000);
  });
});
