// dockercoins doctor as users run it (the built CLI, a real process) against real services and a real Redis:
// every hop passes on a healthy system; each kind of broken hop is named, with its hint, and exits 1.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Proc, startService, startWorker, stopAll } from '../helpers/proc.js';
import { TestRedis } from '../helpers/redis.js';

async function doctor(env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const p = new Proc(['doctor'], env);
  const code = await p.exited;
  return { code, out: p.output };
}

describe('dockercoins doctor', () => {
  const procs: Proc[] = [];
  const redis = new TestRedis();
  const locked = new TestRedis();
  let rng: string;
  let hasher: string;
  let webui: string;
  let silent: Server;
  let silentUrl: string;
  before(async () => {
    await Promise.all([redis.start(), locked.start(['--requirepass', 's3cret'])]);
    const env = { REDIS_URL: redis.url };
    const started = await Promise.all([startService('rng', env), startService('hasher', env), startService('webui', env)]);
    procs.push(...started.map((s) => s.p));
    [rng, hasher, webui] = started.map((s) => s.url) as [string, string, string];
    // Accepts connections, never answers: an overloaded or hung service.
    silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
  });
  after(async () => {
    await stopAll(procs);
    await Promise.all([redis.close(), locked.close()]);
    silent.close();
  });

  const healthy = () => ({ RNG_URL: rng, HASHER_URL: hasher, REDIS_URL: redis.url, WEBUI_URL: webui });

  it('a healthy system: every hop ✓, exit 0', async () => {
    const { code, out } = await doctor({ ...healthy(), RNG_URL: rng.replace('127.0.0.1', 'localhost') });
    assert.equal(code, 0, out);
    for (const hop of [
      /✓ rng +dns .*localhost → /,
      /✓ rng +tcp /,
      /✓ rng +banner .*RNG running on/,
      /✓ rng +GET \/32 .*32 random bytes/,
      /✓ hasher +POST \/ .*SHA-256/,
    ]) {
      assert.match(out, hop);
    }
    assert.match(out, /✓ redis +PING .*PONG/);
    assert.match(out, /✓ redis +write\/read .*doctor:[0-9a-f]+ written, read back, deleted/);
    assert.match(out, /✓ webui +GET \/json .*hashes/);
    assert.match(out, /all \d+ hops work/);
    assert.doesNotMatch(out, /✗/);
  });

  it('rng behind a long queue (10 workers, 500 ms each: ~5 s wait): the banner and GET /32 get their wait, exit 0', async () => {
    const slow = await startService('rng', { RNG_DELAY_MS: '500' });
    const w = await startWorker({ REDIS_URL: redis.url, RNG_URL: slow.url, HASHER_URL: hasher, WORKER_CONCURRENCY: '10' });
    try {
      const { code, out } = await doctor({ ...healthy(), RNG_URL: slow.url });
      assert.equal(code, 0, out);
      const ms = (step: string) => Number(new RegExp(`✓ rng +${step} +(\\d+) ms`).exec(out)?.[1]);
      assert.ok(ms('banner') > 3000, `the banner waited behind the workers' requests, longer than a plain hop may (${ms('banner')} ms):\n${out}`);
      assert.ok(ms('GET /32') > 3000, `so did GET /32 (${ms('GET /32')} ms)`);
    } finally {
      await stopAll([w.p, slow.p]);
    }
  });

  const broken: [string, Record<string, string>, RegExp, RegExp][] = [
    ['an unknown name', { RNG_URL: 'http://rng.invalid' }, /✗ rng +dns .*ENOTFOUND/, /the name rng\.invalid is unknown here/],
    ['a port nobody listens on', { HASHER_URL: 'http://127.0.0.1:1' }, /✗ hasher +tcp .*ECONNREFUSED/, /nothing listens on 127\.0\.0\.1:1: a wrong port/],
    ['another service on that port', { HASHER_URL: '' }, /✗ hasher +banner .*RNG running on/, /is not hasher: a wrong port\?/],
    ['a service that never answers', { HASHER_URL: '' }, /✗ hasher +banner .*no answer within 3000 ms/, /did not answer: overloaded/],
    ['a Redis that wants a password', { REDIS_URL: '' }, /✗ redis +PING .*NOAUTH/, /Redis wants a password/],
    ['a webui that is not one', { WEBUI_URL: '' }, /✗ webui +GET \/json .*answered 404/, /really webui\?/],
  ];
  for (const [what, change, line, hint] of broken) {
    it(`names the broken hop: ${what}`, async () => {
      const fill: Record<string, string> = {
        'another service on that port': rng,
        'a service that never answers': silentUrl,
        'a Redis that wants a password': locked.url,
        'a webui that is not one': hasher,
      };
      const env = Object.fromEntries(Object.entries(change).map(([k, v]) => [k, v || fill[what]!]));
      const { code, out } = await doctor({ ...healthy(), ...env });
      assert.equal(code, 1, out);
      assert.match(out, line);
      assert.match(out, hint);
      assert.match(out, /\d+ of \d+ hops failed: /);
    });
  }
});
