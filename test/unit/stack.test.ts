// The Swarm stack file keeps the workshop's settings: a pure read of stacks/dockercoins.yml, no engine needed (the
// deployment itself is in test/docker/containers.test.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url);

it('the stack keeps the workshop settings: rng global, 10 workers, hasher rolls back on failure', () => {
  const s = parse(readFileSync(new URL('stacks/dockercoins.yml', root), 'utf8')) as {
    services: Record<string, { deploy: Record<string, unknown> }>;
  };
  assert.equal(s.services.rng!.deploy.mode, 'global');
  assert.equal(s.services.worker!.deploy.replicas, 10);
  assert.deepEqual(s.services.hasher!.deploy.update_config, {
    parallelism: 1,
    delay: '5s',
    monitor: '5s',
    failure_action: 'rollback',
    max_failure_ratio: 0.5,
  });
});
