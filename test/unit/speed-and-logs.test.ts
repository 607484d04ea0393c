import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatPretty, safeUrl } from '../../src/platform/logger.js';
import { slope } from '../../src/webui/speed.js';

describe('speed', () => {
  it('reads a steady 3.33/s from a 1 Hz staircase without 4-4-4-0 jitter', () => {
    // Flushes of 3,3,4 every second (3.33/s), sampled every 0.5 s at an offset, like the webui does.
    const flushes = [3, 3, 4];
    const samples: [number, number][] = [];
    for (let t = 0.3; t < 10; t += 0.5) {
      let count = 0;
      for (let s = 1; s <= Math.floor(t); s++) count += flushes[(s - 1) % 3]!;
      samples.push([t, count]);
    }
    const naive = samples.slice(1).map((p, i) => (p[1] - samples[i]![1]) / 0.5);
    assert.ok(naive.includes(0) && naive.includes(8), 'two-reading differences alias to 0 and 8');
    const s = slope(samples)!;
    assert.ok(Math.abs(s - 3.33) / 3.33 < 0.05, `fit ${s}`);
  });

  it('needs at least three points', () => {
    assert.equal(
      slope([
        [0, 0],
        [1, 1],
      ]),
      null,
    );
  });
});

describe('logs', () => {
  it('pretty lines are prefixed with the service name', () => {
    const line = formatPretty(JSON.stringify({ level: 30, time: Date.UTC(2026, 0, 1, 12, 0, 0), svc: 'rng.2', msg: 'GET /32 200 101.0ms' }));
    assert.match(line, /^rng\.2\s+\| 12:00:00\.000 INFO {2}GET \/32 200 101\.0ms\n$/);
  });

  it('never prints a Redis password', () => {
    assert.equal(safeUrl('redis://:s3cret@redis:6379/0'), 'redis://:***@redis:6379/0');
    assert.equal(safeUrl('rediss://user:pw@host:6380'), 'rediss://user:***@host:6380');
    assert.equal(safeUrl('redis://redis:6379'), 'redis://redis:6379');
  });
});
