import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { ConfigError, keyPrefix, loadConfig } from '../../src/config.js';
import { CLI, cleanEnv } from '../helpers/proc.js';

describe('config', () => {
  it('defaults reproduce the original', () => {
    const c = loadConfig({});
    assert.equal(c.port, 80);
    assert.equal(c.host, '::');
    assert.equal(c.redisUrl, 'redis://redis:6379');
    assert.deepEqual(c.rngUrls, ['http://rng']);
    assert.deepEqual(c.hasherUrls, ['http://hasher']);
    assert.equal(c.rngDelayMs, 100);
    assert.equal(c.hasherDelayMs, 100);
    assert.equal(c.workerDelayMs, 100);
    assert.equal(c.rngConcurrency, 1);
    assert.equal(c.hasherConcurrency, 0);
    assert.equal(c.rngBytes, 32);
    assert.equal(c.rngMaxBytes, 1048576);
    assert.equal(c.hasherMaxBytes, 1048576);
    assert.equal(c.flushIntervalMs, 1000);
    assert.equal(c.namespace, '');
    assert.equal(c.logLevel, 'info');
  });

  it('reads lists, namespaces and DEBUG like the original', () => {
    const c = loadConfig({ RNG_URL: 'http://a:8001, http://b:8001/', DOCKERCOINS_NAMESPACE: 'acme', DEBUG: 'y' });
    assert.deepEqual(c.rngUrls, ['http://a:8001', 'http://b:8001']);
    assert.equal(c.namespace, 'acme');
    assert.equal(keyPrefix(c.namespace), 'acme:');
    assert.equal(keyPrefix(''), '');
    assert.equal(c.logLevel, 'debug');
    assert.equal(loadConfig({ DEBUG: 'y', LOG_LEVEL: 'warn' }).logLevel, 'warn');
  });

  const bad: [string, string][] = [
    ['PORT', 'eighty'],
    ['PORT', '70000'],
    ['RNG_DELAY_MS', '-5'],
    ['RNG_DELAY_MS', '1.5'],
    ['HASHER_DELAY_MS', 'fast'],
    ['WORKER_DELAY_MS', ''.padEnd(3, 'x')],
    ['RNG_CONCURRENCY', '-1'],
    ['HASHER_CONCURRENCY', 'many'],
    ['RNG_BYTES', '0'],
    ['RNG_MAX_BYTES', '1e6'],
    ['HASHER_MAX_BYTES', '0x10'],
    ['FLUSH_INTERVAL_MS', '0'],
    ['LOG_LEVEL', 'loud'],
    ['LOG_FORMAT', 'xml'],
    ['REDIS_URL', 'http://redis:6379'],
    ['REDIS_URL', 'not a url'],
    ['RNG_URL', 'ftp://rng'],
    ['HASHER_URL', 'http://hasher,::'],
    ['DOCKERCOINS_NAMESPACE', 'a b'],
    ['FAULT_ERROR_RATE', '2'],
    ['ADMIN_ROUTES', 'maybe'],
  ];
  for (const [name, value] of bad) {
    it(`rejects ${name}=${JSON.stringify(value)} naming the variable`, () => {
      assert.throws(() => loadConfig({ [name]: value }), (err: unknown) => err instanceof ConfigError && err.variable === name && err.message.startsWith(`${name}:`));
    });
  }

  for (const service of ['rng', 'hasher', 'worker', 'webui', 'up']) {
    it(`${service} exits 2 with the variable's name on a bad value`, () => {
      const r = spawnSync(process.execPath, [CLI, service], { env: cleanEnv({ RNG_DELAY_MS: 'slow' }), encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /RNG_DELAY_MS/);
    });
  }

  it('up exits 2 on a bad option and on a bad port variable', () => {
    let r = spawnSync(process.execPath, [CLI, 'up', '--scale', 'worker=lots'], { env: cleanEnv(), encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--scale/);
    r = spawnSync(process.execPath, [CLI, 'up'], { env: cleanEnv({ WEBUI_PORT: 'x' }), encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /WEBUI_PORT/);
  });
});
