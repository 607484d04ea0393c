// A dashboard that stops reading cannot make the webui's memory grow: the SSE writer bounds each client's unsent
// bytes (the stream's own writableLength, which no kernel buffer hides) and drops the client past the bound.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { it } from 'node:test';
import { eventWriter, MAX_UNREAD_BYTES } from '../../src/webui/feed.js';

/** A client socket: `reading` takes each chunk at once; otherwise it takes none (a tab on a sleeping laptop). */
function client(reading: boolean): Writable {
  return new Writable({
    highWaterMark: 16 << 10,
    write(_chunk, _enc, done) {
      if (reading) done();
    },
  });
}

const snapshot = { hashes: 123_456, speed: 3.33, workers: Array.from({ length: 10 }, (_, i) => ({ name: `worker.${i + 1}`, units: i })) };

it('a client that stops reading is closed once its unsent bytes pass the bound; one that reads is not', () => {
  const limit = 64 << 10;
  const stalled = client(false);
  const healthy = client(true);
  const dropped: number[] = [];
  const [toStalled, toHealthy] = [eventWriter(stalled, limit, (n) => dropped.push(n)), eventWriter(healthy, limit, () => assert.fail('dropped a reader'))];
  const size = Buffer.byteLength(`event: snapshot\ndata: ${JSON.stringify(snapshot)}\n\n`);
  // Hours of snapshots, two a second: far more than the bound.
  for (let i = 0; i < 10_000; i++) {
    toStalled('snapshot', snapshot);
    toHealthy('snapshot', snapshot);
  }
  assert.equal(dropped.length, 1, 'dropped once');
  assert.ok(stalled.destroyed, 'the stalled client is closed');
  assert.ok(dropped[0]! > limit && dropped[0]! <= limit + size, `held ${dropped[0]} bytes at most one event past ${limit}`);
  assert.equal(healthy.destroyed, false);
  assert.equal(healthy.writableLength, 0);
});

it('keep-alives count too, and the bound leaves room for the history plus minutes of snapshots', () => {
  const stalled = client(false);
  let dropped = false;
  const send = eventWriter(stalled, 1000, () => (dropped = true));
  for (let i = 0; i < 200; i++) send('', null);
  assert.ok(dropped && stalled.destroyed);
  assert.ok(MAX_UNREAD_BYTES >= 1 << 20, `${MAX_UNREAD_BYTES} bytes`);
});
