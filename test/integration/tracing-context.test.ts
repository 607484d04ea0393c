// Tracing in this process with a real OTLP/HTTP receiver: rng and hasher give their server spans' children and
// attributes through req.span, and neither their spans nor the batch processor's exports register a context manager
// (no AsyncLocalStorage entered: no async hook on every promise; src/platform/tracing.ts, IMPLICIT_CONTEXT). The
// webui's kit does register one: its ticks find their span across awaits.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { context, ROOT_CONTEXT, TraceFlags, trace } from '@opentelemetry/api';
import { createHasher } from '../../src/hasher/app.js';
import type { HttpService } from '../../src/platform/http-service.js';
import { startTracing, type TracerKit } from '../../src/platform/tracing.js';
import { createRng } from '../../src/rng/app.js';
import { waitFor } from '../helpers/net.js';
import { OtlpReceiver } from '../helpers/otlp.js';
import { serviceBase, testConfig } from '../helpers/quiet.js';

describe('tracing without an active context', () => {
  const receiver = new OtlpReceiver();
  const kits: TracerKit[] = [];
  const services: HttpService[] = [];
  before(() => receiver.start());
  after(async () => {
    for (const s of services) await s.close(0, 500);
    for (const k of kits) await k.shutdown(1000);
    await receiver.stop();
  });

  const config = () =>
    testConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '50', RNG_CONCURRENCY: '1', RNG_DELAY_MS: '1', HASHER_DELAY_MS: '1' });
  const kit = async (service: string) => {
    const k = await startTracing(config().tracing, service, `${service}-test`, 'test');
    assert.ok(k, 'tracing on');
    kits.push(k);
    return k;
  };
  const remote = (traceId: string) => trace.wrapSpanContext({ traceId, spanId: randomBytes(8).toString('hex'), traceFlags: TraceFlags.SAMPLED });
  /** The span active inside context.with(span), read after an await: undefined without a context manager. */
  const activeAcrossAwait = (span: ReturnType<typeof remote>) =>
    context.with(trace.setSpan(ROOT_CONTEXT, span), async () => {
      await sleep(1);
      return trace.getActiveSpan();
    });

  it('rng and hasher: the queue span and the attributes reach the request’s span, and no context manager is set, exports included', async () => {
    const [rngKit, hasherKit] = [await kit('rng'), await kit('hasher')];
    assert.equal(rngKit.implicit || hasherKit.implicit, false);
    const rng = await createRng({ ...serviceBase(config(), 'rng-test'), tracing: rngKit }, config().rng);
    const hasher = await createHasher({ ...serviceBase(config(), 'hasher-test'), tracing: hasherKit }, config().hasher);
    services.push(rng, hasher);

    const traceId = randomBytes(16).toString('hex');
    const caller = remote(traceId);
    const traceparent = `00-${traceId}-${caller.spanContext().spanId}-01`;
    assert.equal((await rng.app.inject({ url: '/32', headers: { traceparent } })).statusCode, 200);
    const hashed = await hasher.app.inject({
      method: 'POST',
      url: '/',
      headers: { traceparent, 'content-type': 'application/octet-stream' },
      payload: randomBytes(32),
    });
    assert.equal(hashed.statusCode, 200);

    const spans = await waitFor('the three spans exported', async () => {
      const of = receiver.spans.filter((s) => s.traceId === traceId);
      return ['GET /:n', 'rng queue', 'POST /'].every((n) => of.some((s) => s.name === n)) ? of : undefined;
    });
    const one = (name: string) => spans.find((s) => s.name === name)!;
    const [rngServer, queue, hasherServer] = [one('GET /:n'), one('rng queue'), one('POST /')];
    assert.equal(rngServer.parentSpanId, caller.spanContext().spanId, 'rng continues the caller');
    assert.equal(queue.parentSpanId, rngServer.spanId, 'the queue span is a child of the request’s');
    assert.equal(rngServer.attributes['dockercoins.rng.bytes'], 32);
    assert.equal(typeof rngServer.attributes['dockercoins.rng.queue_wait_ms'], 'number');
    assert.equal(hasherServer.parentSpanId, caller.spanContext().spanId);
    assert.equal(hasherServer.attributes['dockercoins.hasher.bytes'], 32);

    // The batch processor exported inside context.with(): still nothing is ever active in this thread.
    assert.equal(await activeAcrossAwait(remote(traceId)), undefined);
  });

  it('the webui’s kit sets the context manager: a span made active is found after an await', async () => {
    const webuiKit = await kit('webui');
    assert.equal(webuiKit.implicit, true);
    const span = remote(randomBytes(16).toString('hex'));
    assert.equal(await activeAcrossAwait(span), span);
  });
});
