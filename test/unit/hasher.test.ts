// hasher in this process through inject(): known SHA-256 vectors, any content type, the body limit, concurrency.
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createHasher } from '../../src/hasher/app.js';
import type { HttpService } from '../../src/platform/http-service.js';
import { metricOf } from '../helpers/inject.js';
import { waitFor } from '../helpers/net.js';
import { serviceBase, testConfig } from '../helpers/quiet.js';

async function start(env: Record<string, string> = {}): Promise<HttpService> {
  const config = testConfig(env);
  return createHasher(serviceBase(config, 'hasher-test'), config.hasher);
}

const OCTETS = { 'content-type': 'application/octet-stream' };

// FIPS 180-2 vectors and the contract check's own.
const VECTORS: [string, string][] = [
  ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ['hello dockercoins', '255593c5ccb1d97cad5a15bb56e9436a732d8f06a0c5a60df8639200fb278ea5'],
];

describe('hasher', () => {
  let svc: HttpService;
  const post = (payload: string | Buffer | Readable, headers: Record<string, string> = OCTETS) =>
    svc.app.inject({ method: 'POST', url: '/', payload, headers });
  before(async () => {
    svc = await start({ HASHER_DELAY_MS: '0', HASHER_MAX_BYTES: '1000' });
  });
  after(() => svc.close(0, 500));

  it('GET / is the banner', async () => {
    assert.equal((await svc.app.inject('/')).body, 'HASHER running on test-host\n');
  });

  for (const [input, hex] of VECTORS) {
    it(`SHA-256(${JSON.stringify(input.slice(0, 12))}) is exactly 64 hex digits, text/plain`, async () => {
      const res = await post(input);
      assert.equal(res.statusCode, 200);
      assert.match(res.headers['content-type'] as string, /^text\/plain/);
      assert.equal(res.body, hex);
    });
  }

  it('hashes the raw bytes whatever the content type (or none)', async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 10, 13]);
    const expected = (await post(bytes)).body;
    for (const type of ['application/json', 'text/plain; charset=latin1', 'application/x-www-form-urlencoded', 'image/png']) {
      assert.equal((await post(bytes, { 'content-type': type })).body, expected, type);
    }
    assert.equal((await post(bytes, {})).body, expected, 'no content type');
  });

  it('a body over HASHER_MAX_BYTES is 413, declared or streamed', async () => {
    const res = await post(Buffer.alloc(1001));
    assert.equal(res.statusCode, 413);
    assert.match(res.body, /HASHER_MAX_BYTES \(1000 bytes\)/);
    const chunks = Array.from({ length: 20 }, () => Buffer.alloc(100));
    assert.equal((await post(Readable.from(chunks), { ...OCTETS, 'transfer-encoding': 'chunked' })).statusCode, 413);
    assert.equal((await post(Buffer.alloc(1000))).statusCode, 200);
  });

  it('wrong method is 405; metrics count hashes and bytes', async () => {
    assert.equal((await svc.app.inject({ method: 'PUT', url: '/', payload: 'x', headers: { 'content-type': 'text/plain' } })).statusCode, 405);
    assert.ok((await metricOf(svc.app, 'dockercoins_hasher_hashes_total')) >= 5);
    assert.ok((await metricOf(svc.app, 'dockercoins_hasher_bytes_total')) > 0);
  });
});

describe('hasher concurrency', () => {
  it('serves parallel requests at once (the original: 50 in under a second)', async () => {
    const svc = await start({ HASHER_DELAY_MS: '300' });
    try {
      const all = Promise.all(Array.from({ length: 50 }, (_, i) => svc.app.inject({ method: 'POST', url: '/', payload: String(i), headers: OCTETS })));
      await waitFor('50 inside at once', async () => (await metricOf(svc.app, 'dockercoins_hasher_in_flight')) === 50, 5000, 5);
      assert.equal(await metricOf(svc.app, 'dockercoins_hasher_queue_depth'), 0);
      assert.ok((await all).every((r) => r.statusCode === 200));
    } finally {
      await svc.close(0, 500);
    }
  });

  it('HASHER_CONCURRENCY=2 serialises beyond two', async () => {
    const svc = await start({ HASHER_DELAY_MS: '200', HASHER_CONCURRENCY: '2' });
    try {
      const all = Promise.all(Array.from({ length: 5 }, (_, i) => svc.app.inject({ method: 'POST', url: '/', payload: String(i), headers: OCTETS })));
      await waitFor(
        '2 inside, 3 waiting',
        async () => (await metricOf(svc.app, 'dockercoins_hasher_in_flight')) === 2 && (await metricOf(svc.app, 'dockercoins_hasher_queue_depth')) === 3,
        5000,
        5,
      );
      await all;
    } finally {
      await svc.close(0, 500);
    }
  });
});
