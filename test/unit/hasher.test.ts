import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { createHasher } from '../../src/hasher/app.js';
import type { HttpService } from '../../src/platform/http-service.js';
import { get, metric } from '../helpers/net.js';
import { silentLogger, testConfig } from '../helpers/quiet.js';

async function start(env: Record<string, string> = {}): Promise<{ svc: HttpService; url: string; port: number }> {
  const svc = await createHasher({ config: testConfig(env), logger: silentLogger(), replica: 'hasher-test' });
  const port = await svc.listen(0, '127.0.0.1');
  return { svc, url: `http://127.0.0.1:${port}`, port };
}

const post = (url: string, body: BodyInit | null, headers: Record<string, string> = {}) => get(url, { method: 'POST', body, headers });

// FIPS 180-2 vectors and the contract check's own.
const VECTORS: [string, string][] = [
  ['', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
  ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
  ['abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq', '248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1'],
  ['hello dockercoins', '255593c5ccb1d97cad5a15bb56e9436a732d8f06a0c5a60df8639200fb278ea5'],
];

describe('hasher', () => {
  let svc: HttpService;
  let url: string;
  let port: number;
  before(async () => ({ svc, url, port } = await start({ HASHER_DELAY_MS: '0', HASHER_MAX_BYTES: '1000' })));
  after(() => svc.close(0, 500));

  it('GET / is the banner', async () => {
    assert.equal(await (await get(`${url}/`)).text(), 'HASHER running on test-host\n');
  });

  for (const [input, hex] of VECTORS) {
    it(`SHA-256(${JSON.stringify(input.slice(0, 12))}) is exactly 64 hex digits, text/plain`, async () => {
      const res = await post(`${url}/`, input, { 'content-type': 'application/octet-stream' });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type')!, /^text\/plain/);
      assert.equal(await res.text(), hex);
    });
  }

  it('hashes the raw bytes whatever the content type (or none)', async () => {
    const bytes = Buffer.from([0, 255, 1, 254, 10, 13]);
    const expected = (await (await post(`${url}/`, bytes, { 'content-type': 'application/octet-stream' })).text());
    for (const type of ['application/json', 'text/plain; charset=latin1', 'application/x-www-form-urlencoded', 'image/png']) {
      assert.equal(await (await post(`${url}/`, bytes, { 'content-type': type })).text(), expected, type);
    }
    const noType = await new Promise<string>((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers: { 'content-length': bytes.length } }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c)).on('end', () => resolve(body));
      });
      req.on('error', reject);
      req.end(bytes);
    });
    assert.equal(noType, expected);
  });

  it('a body over HASHER_MAX_BYTES is 413, declared or chunked', async () => {
    const res = await post(`${url}/`, Buffer.alloc(1001), { 'content-type': 'application/octet-stream' });
    assert.equal(res.status, 413);
    assert.match(await res.text(), /HASHER_MAX_BYTES \(1000 bytes\)/);
    const chunked = await new Promise<number>((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', method: 'POST', path: '/', headers: { 'transfer-encoding': 'chunked', 'content-type': 'application/octet-stream' } }, (r) => {
        r.resume();
        resolve(r.statusCode!);
      });
      req.on('error', reject);
      for (let i = 0; i < 20; i++) req.write(Buffer.alloc(100));
      req.end();
    });
    assert.equal(chunked, 413);
    assert.equal((await post(`${url}/`, Buffer.alloc(1000), { 'content-type': 'application/octet-stream' })).status, 200);
  });

  it('wrong method is 405; metrics count hashes and bytes', async () => {
    assert.equal((await get(`${url}/`, { method: 'PUT', body: 'x' })).status, 405);
    assert.ok((await metric(`${url}/metrics`, 'dockercoins_hasher_hashes_total')) >= 5);
    assert.ok((await metric(`${url}/metrics`, 'dockercoins_hasher_bytes_total')) > 0);
  });
});

describe('hasher concurrency', () => {
  it('50 parallel requests finish in well under 50 delays (the original: < 1 s)', async () => {
    const { svc, url } = await start({ HASHER_DELAY_MS: '100' });
    try {
      const t0 = performance.now();
      const all = await Promise.all(Array.from({ length: 50 }, (_, i) => post(`${url}/`, String(i)).then((r) => r.status)));
      const ms = performance.now() - t0;
      assert.ok(all.every((s) => s === 200));
      assert.ok(ms < 1500, `50 parallel took ${ms.toFixed(0)} ms`);
    } finally {
      await svc.close(0, 500);
    }
  });
});
