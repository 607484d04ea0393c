// Tracing with real processes around a real Redis, exporting to a test OTLP/HTTP receiver (test/helpers/otlp.ts)
// that reads what the SDK sends, protobuf or JSON: the trees, the sampler, SIGTERM, a sick collector, and off.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { get, metric, waitFor } from '../helpers/net.js';
import { OtlpReceiver, type ReceivedSpan } from '../helpers/otlp.js';
import { type Proc, startService, startWorker, stopAll } from '../helpers/proc.js';
import { measureUnitRate } from '../helpers/rate.js';
import { TestRedis } from '../helpers/redis.js';

const FAST = { RNG_DELAY_MS: '5', HASHER_DELAY_MS: '5', WORKER_DELAY_MS: '5', RNG_CONCURRENCY: '0', FLUSH_INTERVAL_MS: '200', RETRY_MAX_MS: '500' };
const SERVER = 2;
const CLIENT = 3;

/** Tracing to `receiver`, exported every 200 ms; `kase` tags the spans of one test (a resource attribute). */
const traced = (receiver: OtlpReceiver, kase: string, extra: Record<string, string> = {}) => ({
  OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
  OTEL_BSP_SCHEDULE_DELAY: '200',
  OTEL_RESOURCE_ATTRIBUTES: `test.case=${kase}`,
  ...extra,
});

const ofCase = (spans: ReceivedSpan[], kase: string) => spans.filter((s) => s.resource['test.case'] === kase);
const ms = (s: ReceivedSpan) => s.endMs - s.startMs;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function byTrace(spans: ReceivedSpan[]): Map<string, ReceivedSpan[]> {
  const traces = new Map<string, ReceivedSpan[]>();
  for (const s of spans) traces.set(s.traceId, [...(traces.get(s.traceId) ?? []), s]);
  return traces;
}

function finalCounts(p: Proc): { done: number } {
  const m = /stopped: (\d+) units done/.exec(p.output);
  assert.ok(m, `no final line in: ${p.output.slice(-400)}`);
  return { done: Number(m[1]) };
}

describe('tracing across processes', () => {
  const procs: Proc[] = [];
  const redis = new TestRedis();
  const receiver = new OtlpReceiver();
  const start = async <T extends { p: Proc }>(started: Promise<T>): Promise<T> => {
    const s = await started;
    procs.push(s.p);
    return s;
  };

  before(async () => {
    await redis.start();
    await receiver.start();
  });
  after(async () => {
    await stopAll(procs);
    await receiver.stop();
    await redis.close();
  });

  it('one unit is one trace across worker, rng and hasher, with the right parents (protobuf and JSON)', async () => {
    const kase = 'tree';
    const rng = await start(startService('rng', { ...FAST, RNG_CONCURRENCY: '1', LOG_FORMAT: 'json', ...traced(receiver, kase) }));
    const hasher = await start(startService('hasher', { ...FAST, ...traced(receiver, kase, { OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' }) }));
    const w = await start(
      startWorker({ ...FAST, REDIS_URL: redis.url, RNG_URL: rng.url, HASHER_URL: hasher.url, DOCKERCOINS_NAMESPACE: kase, ...traced(receiver, kase) }),
    );
    const complete = () => {
      const spans = ofCase(receiver.spans, kase);
      return [...byTrace(spans).values()].filter((t) => ['unit', 'GET', 'POST', 'GET /:n', 'rng queue', 'POST /'].every((n) => t.some((s) => s.name === n)));
    };
    await waitFor('complete unit traces', async () => complete().length >= 20, 20_000);
    assert.ok(receiver.contentTypes.has('application/x-protobuf'), [...receiver.contentTypes].join());
    assert.ok(receiver.contentTypes.has('application/json'), [...receiver.contentTypes].join());

    for (const t of complete().slice(0, 20)) {
      const one = (name: string) => {
        const found = t.filter((s) => s.name === name);
        assert.equal(found.length, 1, `one ${name} span in trace ${t[0]!.traceId}: ${t.map((s) => s.name).join(', ')}`);
        return found[0]!;
      };
      const unit = one('unit');
      const [rngCall, hasherCall, rngServer, queue, hasherServer] = ['GET', 'POST', 'GET /:n', 'rng queue', 'POST /'].map(one) as [
        ReceivedSpan,
        ReceivedSpan,
        ReceivedSpan,
        ReceivedSpan,
        ReceivedSpan,
      ];
      assert.equal(unit.parentSpanId, '', 'the unit is the root');
      assert.equal(unit.resource['service.name'], 'worker');
      for (const [child, parent] of [
        [rngCall, unit],
        [hasherCall, unit],
        [rngServer, rngCall],
        [queue, rngServer],
        [hasherServer, hasherCall],
      ] as const) {
        assert.equal(child.parentSpanId, parent.spanId, `${child.name} is a child of ${parent.name}`);
        // A server span ends once its response is written (fastify's onResponse), which may be just after the
        // client read it: the start is within the parent, the end overlaps it.
        assert.ok(
          child.startMs >= parent.startMs - 1 && child.startMs <= parent.endMs && child.endMs >= parent.startMs,
          `${child.name} [${child.startMs}, ${child.endMs}] within ${parent.name} [${parent.startMs}, ${parent.endMs}]`,
        );
      }
      assert.deepEqual([rngCall.kind, hasherCall.kind, rngServer.kind, hasherServer.kind], [CLIENT, CLIENT, SERVER, SERVER]);
      assert.equal(rngCall.attributes['http.request.method'], 'GET');
      assert.equal(rngCall.attributes['url.full'], `${rng.url}/32`);
      assert.equal(rngCall.attributes['http.response.status_code'], 200);
      assert.equal(rngServer.resource['service.name'], 'rng');
      assert.equal(rngServer.attributes['http.route'], '/:n');
      assert.equal(typeof rngServer.attributes['dockercoins.rng.queue_wait_ms'], 'number');
      assert.equal(hasherServer.resource['service.name'], 'hasher');
      assert.equal(hasherServer.attributes['dockercoins.hasher.bytes'], 32);
      assert.ok(hasherServer.resource['service.instance.id'], 'service.instance.id set');
    }
    const instances = new Set(ofCase(receiver.spans, kase).map((s) => `${s.resource['service.name']}/${s.resource['service.instance.id']}`));
    assert.equal(instances.size, 3, [...instances].join());

    // The flush is a trace of its own: how many units it added, and its Redis commands as client spans.
    const flushes = ofCase(receiver.spans, kase).filter((s) => s.name === 'flush' && Number(s.attributes['dockercoins.units']) > 0);
    assert.ok(flushes.length > 0, 'flush spans with a count');
    const redisSpans = ofCase(receiver.spans, kase).filter((s) => s.attributes['db.system.name'] === 'redis' && s.kind === CLIENT);
    assert.ok(
      redisSpans.some((r) => flushes.some((f) => f.spanId === r.parentSpanId)),
      'Redis commands under a flush',
    );

    // Log lines carry the trace: rng's access lines name the traces the receiver got.
    const rngTraces = new Set(
      ofCase(receiver.spans, kase)
        .filter((s) => s.name === 'GET /:n')
        .map((s) => s.traceId),
    );
    const logged = [...rng.p.output.matchAll(/"trace_id":"([0-9a-f]{32})","span_id":"([0-9a-f]{16})"/g)].map((m) => m[1]!);
    assert.ok(logged.length > 0, `trace ids in rng's log: ${rng.p.output.slice(-300)}`);
    assert.ok(
      logged.some((id) => rngTraces.has(id)),
      'a logged trace id is a trace the receiver got',
    );

    // An incoming traceparent from any client (an ingress, a mesh) is honoured.
    const parent = '0af7651916cd43dd8448eb211c80319c';
    const res = await get(`${hasher.url}/`, { method: 'POST', body: 'x', headers: { traceparent: `00-${parent}-b7ad6b7169203331-01` } });
    assert.equal(res.status, 200);
    const joined = await waitFor('the joined span', async () => receiver.spans.find((s) => s.traceId === parent));
    assert.equal(joined.parentSpanId, 'b7ad6b7169203331');
    assert.equal(joined.name, 'POST /');
    await stopAll([w.p, rng.p, hasher.p]);
  });

  it('with ten workers, the time of each unit is spent in rng’s queue — and the trace shows it', async () => {
    const kase = 'ten';
    // The original's delays: rng serves one request at a time, 100 ms each.
    const rng = await start(startService('rng', traced(receiver, kase)));
    const hasher = await start(startService('hasher', traced(receiver, kase)));
    const w = await start(
      startWorker({
        REDIS_URL: redis.url,
        RNG_URL: rng.url,
        HASHER_URL: hasher.url,
        DOCKERCOINS_NAMESPACE: kase,
        WORKER_CONCURRENCY: '10',
        ...traced(receiver, kase),
      }),
    );
    await sleep(3000); // the queue forms
    const from = Date.now();
    const units = await waitFor(
      'units traced after the warm-up',
      async () => {
        const done = ofCase(receiver.spans, kase).filter((s) => s.name === 'unit' && s.startMs > from);
        return done.length >= 30 ? done : undefined;
      },
      30_000,
    );
    const spans = byTrace(ofCase(receiver.spans, kase));
    const shares = units.flatMap((u) => {
      const queue = spans.get(u.traceId)?.find((s) => s.name === 'rng queue');
      return queue ? [ms(queue) / ms(u)] : [];
    });
    assert.ok(shares.length >= 20, `units with their rng queue span: ${shares.length}`);
    const share = mean(shares);
    const rngServer = ofCase(receiver.spans, kase).filter((s) => s.name === 'GET /:n' && s.startMs > from);
    const queueDepths = ofCase(receiver.spans, kase)
      .filter((s) => s.name === 'rng queue' && s.startMs > from)
      .map((s) => Number(s.attributes['dockercoins.rng.queue_depth']));
    console.log(
      `ten workers: rng queue = ${(share * 100).toFixed(0)} % of a unit (mean unit ${mean(units.map(ms)).toFixed(0)} ms, rng server span ${mean(rngServer.map(ms)).toFixed(0)} ms, queue depth seen ${mean(queueDepths).toFixed(1)})`,
    );
    // Ten loops share rng's 100 ms slot: each waits for ~9 others, ~900 ms of a ~1.1 s unit.
    assert.ok(share > 0.5, `the queue wait dominates each unit: ${(share * 100).toFixed(0)} %`);
    await stopAll([w.p, rng.p, hasher.p]);
  });

  it('honours the sampler: a ratio at the root, rng and hasher follow the parent’s decision', async () => {
    const kase = 'ratio';
    const NOW = { ...FAST, RNG_DELAY_MS: '0', HASHER_DELAY_MS: '0', WORKER_DELAY_MS: '0' };
    const rng = await start(startService('rng', { ...NOW, ...traced(receiver, kase) }));
    const hasher = await start(startService('hasher', { ...NOW, ...traced(receiver, kase) }));
    const w = await start(
      startWorker({
        ...NOW,
        REDIS_URL: redis.url,
        RNG_URL: rng.url,
        HASHER_URL: hasher.url,
        DOCKERCOINS_NAMESPACE: kase,
        ...traced(receiver, kase, { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' }),
      }),
    );
    await waitFor('1000 units', async () => (await metric(`${w.url}/metrics`, 'dockercoins_worker_units_total')) >= 1000, 60_000);
    await w.p.stop('SIGTERM');
    const { done } = finalCounts(w.p);
    await sleep(600); // rng and hasher export every 200 ms
    const spans = ofCase(receiver.spans, kase);
    const sampled = spans.filter((s) => s.name === 'unit').length;
    const ratio = sampled / done;
    const rngSpans = spans.filter((s) => s.name === 'GET /:n').length;
    const hasherSpans = spans.filter((s) => s.name === 'POST /').length;
    console.log(`sampler traceidratio 0.25: ${sampled} of ${done} units traced (${ratio.toFixed(3)}); rng spans ${rngSpans}, hasher spans ${hasherSpans}`);
    assert.ok(Math.abs(ratio - 0.25) < 0.06, `sampled ${ratio.toFixed(3)} of the units`);
    // rng and hasher record a span for a sampled parent only (parentbased_always_on, their default).
    assert.ok(Math.abs(rngSpans - sampled) <= 2, `rng spans ${rngSpans} for ${sampled} sampled units`);
    assert.ok(Math.abs(hasherSpans - sampled) <= 2, `hasher spans ${hasherSpans} for ${sampled} sampled units`);
    // Nothing of a unit left out reaches the collector: every span belongs to a sampled unit's or a flush's trace.
    const roots = new Set(spans.filter((s) => s.name === 'unit' || s.name === 'flush').map((s) => s.traceId));
    const orphans = spans.filter((s) => !roots.has(s.traceId)).map((s) => s.name);
    assert.ok(orphans.length <= 4, `spans outside any sampled trace: ${orphans.slice(0, 10).join(', ')}`);
    await stopAll([rng.p, hasher.p]);
  });

  it('SIGTERM exports the spans still waiting, within the shutdown deadline', async () => {
    const kase = 'sigterm';
    const rng = await start(startService('rng', FAST));
    const hasher = await start(startService('hasher', FAST));
    const w = await start(
      startWorker({
        ...FAST,
        WORKER_DELAY_MS: '50',
        REDIS_URL: redis.url,
        RNG_URL: rng.url,
        HASHER_URL: hasher.url,
        DOCKERCOINS_NAMESPACE: kase,
        // Nothing would leave before ten minutes, or 10,000 spans.
        ...traced(receiver, kase, { OTEL_BSP_SCHEDULE_DELAY: '600000', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '10000', OTEL_BSP_MAX_QUEUE_SIZE: '10000' }),
      }),
    );
    await waitFor('units', async () => (await metric(`${w.url}/metrics`, 'dockercoins_worker_units_total')) >= 20);
    assert.equal(ofCase(receiver.spans, kase).length, 0, 'nothing exported yet');
    const { code, ms: took } = await w.p.stop('SIGTERM');
    assert.equal(code, 0);
    const { done } = finalCounts(w.p);
    const spans = ofCase(receiver.spans, kase);
    const units = spans.filter((s) => s.name === 'unit').length;
    const flushed = spans.filter((s) => s.name === 'flush').reduce((n, s) => n + Number(s.attributes['dockercoins.units'] ?? 0), 0);
    console.log(`SIGTERM: ${spans.length} spans exported on the way out (${units} units, ${done} done), exit in ${took} ms`);
    assert.ok(units >= done && units <= done + 1, `unit spans ${units} for ${done} units done (+ the abandoned one)`);
    assert.equal(flushed, done, 'the flush spans add up to every unit, the last flush included');
    assert.doesNotMatch(w.p.output, /tracing: the collector did not take/);
    await stopAll([rng.p, hasher.p]);
  });

  it('a hanging or refusing collector never slows mining: spans are dropped and counted', async () => {
    const hanging = await new OtlpReceiver().start();
    const refusing = await new OtlpReceiver().start();
    hanging.mode = 'hang';
    refusing.mode = 'reset';
    try {
      const rng = await start(startService('rng', FAST));
      const hasher = await start(startService('hasher', FAST));
      const common = { REDIS_URL: redis.url, RNG_URL: rng.url, HASHER_URL: hasher.url, RNG_CONCURRENCY: '0', FLUSH_INTERVAL_MS: '200' };
      const sick = { OTEL_EXPORTER_OTLP_TIMEOUT: '500', OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_BSP_MAX_QUEUE_SIZE: '16', OTEL_BSP_MAX_EXPORT_BATCH_SIZE: '8' };
      // The same loop three times, side by side (the worker's 100 ms pause sets its pace): untraced, and traced to
      // a collector that never answers, and to one that drops every connection.
      const [off, hang, down] = await Promise.all([
        start(startWorker({ ...common, DOCKERCOINS_NAMESPACE: 'off' })),
        start(startWorker({ ...common, DOCKERCOINS_NAMESPACE: 'hang', ...traced(hanging, 'hang', sick) })),
        start(startWorker({ ...common, DOCKERCOINS_NAMESPACE: 'down', ...traced(refusing, 'down', sick) })),
      ]);
      await sleep(2000);
      const [rOff, rHang, rDown] = await Promise.all([off, hang, down].map((w) => measureUnitRate(w.url, 12)));
      console.log(`units/s: tracing off ${rOff!.toFixed(2)}, collector hanging ${rHang!.toFixed(2)}, collector refusing ${rDown!.toFixed(2)}`);
      for (const [name, r] of [
        ['hanging', rHang!],
        ['refusing', rDown!],
      ] as const) {
        // Side by side, the three share the machine equally. A loop that waited for its exports would lose at least
        // half its pace (500 ms export timeout per batch against a 100 ms pause); a busy machine slows all three alike.
        assert.ok(r >= 0.75 * rOff!, `collector ${name}: ${r.toFixed(2)} units/s vs ${rOff!.toFixed(2)} untraced`);
      }
      const outcomes = async (w: { url: string }) =>
        Object.fromEntries(
          await Promise.all(
            ['exported', 'failed', 'dropped'].map(
              async (o) => [o, await metric(`${w.url}/metrics`, 'dockercoins_tracing_spans_total', `outcome="${o}"`)] as const,
            ),
          ),
        );
      // Hanging: one export at a time, each given up after OTEL_EXPORTER_OTLP_TIMEOUT; the queue fills, the rest is dropped.
      const hung = await outcomes(hang);
      assert.ok(hung.failed! > 0 && hung.dropped! > 0 && hung.exported === 0, JSON.stringify(hung));
      // Refusing: each export fails at once, nothing waits long enough to be dropped.
      const refused = await outcomes(down);
      assert.ok(refused.failed! > 0 && refused.exported === 0, JSON.stringify(refused));
      console.log(`spans: collector hanging ${JSON.stringify(hung)}, refusing ${JSON.stringify(refused)}`);
      assert.ok(hanging.requests > 0 && refusing.requests > 0, 'both collectors were tried');
      assert.equal(hanging.spans.length + refusing.spans.length, 0);
      const stops = await Promise.all([hang, down].map((w) => w.p.stop('SIGTERM')));
      assert.deepEqual(
        stops.map((s) => s.code),
        [0, 0],
        'exits cleanly: the export it could not finish is abandoned at the deadline',
      );
      assert.match(hang.p.output, /tracing: the collector did not take the last spans within \d+ ms; they are lost/);
      await stopAll([off.p, rng.p, hasher.p]);
    } finally {
      await hanging.stop();
      await refusing.stop();
    }
  });

  it('off without an endpoint, or with OTEL_SDK_DISABLED: nothing sent, no trace ids, no tracing metric', async () => {
    const silent = await new OtlpReceiver().start();
    try {
      const noEndpoint = { OTEL_SERVICE_NAME: 'x', OTEL_TRACES_SAMPLER: 'always_on', OTEL_BSP_SCHEDULE_DELAY: '100' };
      const disabled = { OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: silent.url, OTEL_BSP_SCHEDULE_DELAY: '100' };
      const rng = await start(startService('rng', { ...FAST, LOG_FORMAT: 'json', ...disabled }));
      const hasher = await start(startService('hasher', { ...FAST, LOG_FORMAT: 'json', ...noEndpoint }));
      const w = await start(
        startWorker({
          ...FAST,
          LOG_FORMAT: 'json',
          REDIS_URL: redis.url,
          RNG_URL: rng.url,
          HASHER_URL: hasher.url,
          DOCKERCOINS_NAMESPACE: 'silent',
          ...disabled,
        }),
      );
      await waitFor('units', async () => (await metric(`${w.url}/metrics`, 'dockercoins_worker_units_total')) >= 100);
      await sleep(500);
      assert.equal(silent.requests, 0, 'nothing sent');
      for (const url of [`${w.url}/metrics`, `${rng.url}/metrics`, `${hasher.url}/metrics`]) {
        assert.doesNotMatch(await (await get(url)).text(), /dockercoins_tracing/, url);
      }
      for (const p of [rng.p, hasher.p, w.p]) assert.doesNotMatch(p.output, /trace_id/);
      assert.match(rng.p.output, /"path":"\/32","status":200/, 'access lines were logged');
      await stopAll([w.p, rng.p, hasher.p]);
    } finally {
      await silent.stop();
    }
  });
});
