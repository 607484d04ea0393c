// The configuration table: defaults as the original, every variable refused with garbage (naming itself), and the
// README and the tests' environment scrub kept equal to the table.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ConfigError, configurationTable, keyPrefix, loadConfig, VARIABLES, type Variable } from '../../src/config.js';
import { cleanEnv } from '../helpers/proc.js';

describe('config', () => {
  it('defaults reproduce the original', () => {
    const c = loadConfig({});
    assert.equal(c.server.port, 80);
    assert.equal(c.server.host, '::');
    assert.equal(c.ledger.url, 'redis://redis:6379');
    assert.deepEqual(c.worker.rngUrls, ['http://rng']);
    assert.deepEqual(c.worker.hasherUrls, ['http://hasher']);
    assert.equal(c.rng.delayMs, 100);
    assert.equal(c.hasher.delayMs, 100);
    assert.equal(c.worker.delayMs, 100);
    assert.equal(c.rng.concurrency, 1);
    assert.equal(c.hasher.concurrency, 0);
    assert.equal(c.worker.rngBytes, 32);
    assert.equal(c.rng.maxBytes, 1048576);
    assert.equal(c.hasher.maxBytes, 1048576);
    assert.equal(c.worker.flushIntervalMs, 1000);
    assert.equal(c.ledger.namespace, '');
    assert.equal(c.log.level, 'info');
    assert.deepEqual({ ...c.up }, { webuiPort: 8000, rngPort: 8001, hasherPort: 8002, turboThreads: 0 });
    assert.equal(c.given.size, 0);
  });

  it('reads lists, namespaces and DEBUG like the original', () => {
    const c = loadConfig({ RNG_URL: 'http://a:8001, http://b:8001/', DOCKERCOINS_NAMESPACE: 'acme', DEBUG: 'y' });
    assert.deepEqual(c.worker.rngUrls, ['http://a:8001', 'http://b:8001']);
    assert.equal(c.ledger.namespace, 'acme');
    assert.equal(keyPrefix(c.ledger.namespace), 'acme:');
    assert.equal(keyPrefix(''), '');
    assert.equal(c.log.level, 'debug');
    assert.equal(loadConfig({ DEBUG: 'y', LOG_LEVEL: 'warn' }).log.level, 'warn');
    assert.equal(loadConfig({ DEBUG: 'express:*' }).log.level, 'info', "another tool's DEBUG is not ours");
    assert.deepEqual([...loadConfig({ DRAIN_MS: '0', RNG_URL: ' ' }).given], ['DRAIN_MS'], 'empty means unset');
  });

  const entries = Object.entries(VARIABLES) as [string, Variable<unknown>][];
  for (const [name, variable] of entries.filter(([, v]) => v.garbage !== null)) {
    it(`rejects ${name}=${JSON.stringify(variable.garbage)} naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [name]: variable.garbage! }),
        (err: unknown) => err instanceof ConfigError && err.variable === name && err.message.startsWith(`${name}:`),
      );
    });
  }

  it('only free-text variables have no garbage to try', () => {
    assert.deepEqual(
      entries.filter(([, v]) => v.garbage === null).map(([n]) => n),
      ['DEBUG'],
    );
  });

  const more: [string, string][] = [
    ['PORT', '70000'],
    ['RNG_DELAY_MS', '1.5'],
    ['REDIS_URL', 'not a url'],
    ['REDIS_URL', 'redis://a,redis://b'],
    ['HASHER_URL', 'http://hasher,::'],
    ['RNG_BYTES', '2000000'],
    // Above 2^31−1 ms Node's timers fire after 1 ms: a timeout that long would be none at all.
    ['REDIS_TIMEOUT_MS', '2147483648'],
    ['HTTP_TIMEOUT_MS', '2147483648'],
    ['RETRY_MAX_MS', '9999999999'],
  ];
  for (const [name, value] of more) {
    it(`rejects ${name}=${JSON.stringify(value)} too`, () => {
      assert.throws(
        () => loadConfig({ [name]: value }),
        (err: unknown) => err instanceof ConfigError && err.variable === name,
      );
    });
  }

  it('the longest timer Node keeps (2^31−1 ms) is still accepted', () => {
    const c = loadConfig({ REDIS_TIMEOUT_MS: '2147483647', HTTP_TIMEOUT_MS: '2147483647', RETRY_MAX_MS: '2147483647' });
    assert.deepEqual([c.ledger.timeoutMs, c.worker.httpTimeoutMs, c.worker.retryMaxMs], [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1]);
  });

  it("the README's configuration table is the table", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(configurationTable()), 'README.md must contain configurationTable() verbatim: run `npm run docs:config` and paste it');
  });

  it("the tests' environment scrub removes every variable of the table", () => {
    const dirty = Object.fromEntries(Object.keys(VARIABLES).map((n) => [n, 'x']));
    const before = { ...process.env };
    Object.assign(process.env, dirty);
    try {
      const env = cleanEnv();
      assert.deepEqual(
        Object.keys(VARIABLES).filter((n) => n in env),
        [],
      );
    } finally {
      for (const n of Object.keys(VARIABLES)) if (!(n in before)) delete process.env[n];
      Object.assign(process.env, before);
    }
  });
});
