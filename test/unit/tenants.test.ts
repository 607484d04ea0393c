// Tenants without an engine: names (what CONTRACT.md allows and refuses), engine names derived from them, subnet
// allocation from the dedicated pool (overlaps avoided), the ACL rule a tenant's Redis user gets, option parsing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { probeHostFor } from '../../src/class/serve.js';
import { integerOption, parseOptions, tenantCommand } from '../../src/tenants/cli.js';
import { checkClassId, checkTenantName, namesOf } from '../../src/tenants/names.js';
import { imagesFor } from '../../src/tenants/provision.js';
import { REDIS_START, TENANT_COMMANDS, tenantAclRule, tenantRedisUrl } from '../../src/tenants/redis-acl.js';
import { containerCapacity, formatCidr, freeSubnets, overlaps, parseCidr } from '../../src/tenants/subnets.js';
import { UsageError } from '../../src/usage.js';

describe('tenant names', () => {
  it('accepts 1–40 of a-z 0-9 -, a letter first, not ending with -', () => {
    for (const ok of ['a', 'acme', 'student-07', 'x1', `a${'b'.repeat(39)}`]) assert.equal(checkTenantName(ok), ok);
  });
  it('refuses default (Redis’s own user), other shapes, with a UsageError (exit 2) naming the rule', () => {
    assert.throws(
      () => checkTenantName('default'),
      (e: Error) => e instanceof UsageError && /reserved/.test(e.message),
    );
    for (const bad of ['', 'Acme', '1abc', '-a', 'a-', 'a_b', 'a.b', 'a b', 'a:b', 'a*', `a${'b'.repeat(40)}`, 'é'])
      assert.throws(
        () => checkTenantName(bad),
        (e: Error) => e instanceof UsageError && /1–40/.test(e.message),
        bad,
      );
  });
  it('class ids are shorter and checked the same way', () => {
    assert.equal(checkClassId('t22x'), 't22x');
    assert.throws(() => checkClassId('T22'), UsageError);
    assert.throws(() => checkClassId('a'.repeat(21)), UsageError);
  });
  it('derives every engine name from the class and the tenant', () => {
    const n = namesOf('dockercoins');
    assert.equal(n.redis, 'dockercoins-redis');
    assert.equal(n.redisVolume, 'dockercoins-redis-data');
    assert.equal(n.network('acme'), 'dockercoins-acme');
    assert.equal(n.container('acme', 'webui'), 'dockercoins-acme-webui');
    assert.equal(n.worker('acme', 3), 'dockercoins-acme-worker-3');
  });
  it('images as compose.yml names them: REGISTRY/<svc>:TAG, dockercoins and latest by default', () => {
    assert.equal(imagesFor().worker, 'dockercoins/worker:latest');
    assert.equal(imagesFor('reg:5000/me', 'v0.2').rng, 'reg:5000/me/rng:v0.2');
  });
});

describe('tenant subnets', () => {
  it('parses and formats CIDRs, normalising the base', () => {
    assert.deepEqual(parseCidr('10.222.3.7/27'), parseCidr('10.222.3.0/27'));
    assert.equal(formatCidr(parseCidr('10.222.3.7/27')), '10.222.3.0/27');
    assert.throws(() => parseCidr('10.0.0.0'));
    assert.throws(() => parseCidr('300.0.0.0/8'));
  });
  it('finds overlaps both ways', () => {
    assert.ok(overlaps(parseCidr('10.222.0.0/16'), parseCidr('10.222.5.32/27')));
    assert.ok(overlaps(parseCidr('10.222.5.32/27'), parseCidr('10.0.0.0/8')));
    assert.ok(!overlaps(parseCidr('10.222.0.0/27'), parseCidr('10.222.0.32/27')));
  });
  it('gives the first free /27s of the pool, skipping every taken range (a /24 taken removes 8)', () => {
    assert.deepEqual(freeSubnets('10.222.0.0/16', [], 2), ['10.222.0.0/27', '10.222.0.32/27']);
    assert.deepEqual(freeSubnets('10.222.0.0/16', ['10.222.0.0/27', '10.222.0.64/27', 'fd00::/64', 'junk'], 2), ['10.222.0.32/27', '10.222.0.96/27']);
    assert.deepEqual(freeSubnets('10.222.0.0/16', ['10.222.0.0/24'], 1), ['10.222.1.0/27']);
    assert.deepEqual(freeSubnets('10.222.0.0/26', ['10.222.0.0/27', '10.222.0.32/27'], 1), []);
    assert.equal(freeSubnets('10.222.0.0/16', [], 5000).length, 2048);
  });
  it('a /27 holds rng, hasher, webui, Redis and 25 workers', () => assert.equal(containerCapacity(), 29));
});

describe('a tenant’s Redis ACL user', () => {
  const rule = tenantAclRule('acme', 'abcdefghijklmnop1234');
  it('resets, then allows only its own keys, no channels, nothing but the listed commands', () => {
    assert.deepEqual(rule.slice(0, 6), ['reset', 'on', '>abcdefghijklmnop1234', '~acme:*', 'resetchannels', '-@all']);
    assert.deepEqual(
      rule.slice(6),
      TENANT_COMMANDS.map((c) => `+${c}`),
    );
    assert.ok(!rule.some((r) => r.startsWith('+@') || r.startsWith('allkeys') || r.startsWith('~*') || r === 'nopass'));
  });
  it('never allows enumerating keys, administration or anything dangerous but INFO (ioredis’s ready check)', () => {
    for (const denied of [
      'keys',
      'scan',
      'config',
      'flushall',
      'flushdb',
      'acl',
      'debug',
      'shutdown',
      'monitor',
      'client',
      'script',
      'function',
      'module',
      'save',
      'bgsave',
      'replicaof',
      'migrate',
      'dump',
      'restore',
      'sort',
      'randomkey',
      'object',
      'subscribe',
      'publish',
    ])
      assert.ok(!(TENANT_COMMANDS as readonly string[]).some((c) => c === denied || c.startsWith(`${denied}|`)), denied);
    assert.ok((TENANT_COMMANDS as readonly string[]).includes('info'));
  });
  it('refuses unchecked names and weak passwords', () => {
    assert.throws(() => tenantAclRule('a*', 'abcdefghijklmnop1234'));
    assert.throws(() => tenantAclRule('acme', 'short'));
    assert.throws(() => tenantAclRule('acme', 'has space and more than 16'));
  });
  it('the tenant URL names its user; the Redis start never puts the admin password on a command line', () => {
    assert.equal(tenantRedisUrl('acme', 'pw0123456789abcdef'), 'redis://acme:pw0123456789abcdef@redis:6379');
    assert.match(REDIS_START, /--aclfile/);
    assert.ok(!/requirepass/.test(REDIS_START));
  });
});

describe('tenant command line', () => {
  it('add --compose / --swarm: not both, and no --workers or --port (the project or stack has those); several names: no --port, --compose or repeat, each name checked: usage errors before any engine call', async () => {
    // DOCKER_HOST names no engine: a usage check that came after the engine call would fail with EngineUnreachable instead.
    const env = { DOCKER_HOST: 'unix:///nonexistent/docker.sock' };
    for (const args of [
      ['add', 'acme', '--compose', '--swarm'],
      ['add', 'acme', '--compose', '--workers', '2'],
      ['add', 'acme', '--swarm', '--port', '9000'],
      ['add', 'acme', 'bravo', '--port', '9000'],
      ['add', 'acme', 'bravo', '--compose'],
      ['add', 'acme', 'acme'],
      ['add', 'acme', 'default'],
    ])
      await assert.rejects(tenantCommand(args, env), (e: Error) => e instanceof UsageError, args.join(' '));
  });
  it('parses valued options, flags and positionals; unknown options are usage errors', () => {
    const { options, positional } = parseOptions(['add', 'acme', '--workers', '3', '--port=9000', '--json'], ['workers', 'port'], ['json']);
    assert.deepEqual(positional, ['add', 'acme']);
    assert.deepEqual(
      [...options],
      [
        ['workers', '3'],
        ['port', '9000'],
        ['json', 'true'],
      ],
    );
    assert.throws(() => parseOptions(['--nope'], [], []), UsageError);
    assert.throws(() => parseOptions(['--workers'], ['workers'], []), UsageError);
  });
  it('integers in range only', () => {
    assert.equal(integerOption(undefined, '--workers', 0, 25, 1), 1);
    assert.equal(integerOption('25', '--workers', 0, 25, 1), 25);
    for (const bad of ['26', '-1', '1.5', 'two', '']) assert.throws(() => integerOption(bad, '--workers', 0, 25, 1), UsageError, bad);
  });
  it('the class page reaches published ports on loopback for a local engine, on the engine’s host otherwise', () => {
    assert.equal(probeHostFor('unix:///var/run/docker.sock'), '127.0.0.1');
    assert.equal(probeHostFor('tcp://10.1.2.3:2375'), '10.1.2.3');
  });
});
