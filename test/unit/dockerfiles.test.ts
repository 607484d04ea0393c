// ./<service>/Dockerfile (the workshop's build loop, run from the repository root) adds to the common image exactly
// what the root Dockerfile's stage for that service adds: one definition of each image, kept equal here.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVICES = ['hasher', 'rng', 'webui', 'worker'];

/** The instructions after the stage's FROM, up to the next FROM (comments and blank lines dropped). */
function stageBody(text: string, from: RegExp): string[] {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => from.test(l));
  assert.ok(start >= 0, `no line matching ${from}`);
  const body: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (/^FROM\s/i.test(line)) break;
    if (line.trim() && !line.startsWith('#')) body.push(line.trim());
  }
  return body;
}

describe('the per-service Dockerfiles of the build loop', () => {
  const root = readFileSync(`${ROOT}Dockerfile`, 'utf8');
  for (const service of SERVICES) {
    it(`./${service}/Dockerfile is FROM dockercoins/base plus the root Dockerfile's ${service} stage, line for line`, () => {
      const own = readFileSync(`${ROOT}${service}/Dockerfile`, 'utf8');
      assert.match(own, /^ARG BASE=dockercoins\/base:latest$/m);
      assert.deepEqual(stageBody(own, /^FROM \$\{BASE\}$/), stageBody(root, new RegExp(`^FROM runtime AS ${service}$`)));
      assert.match(stageBody(own, /^FROM \$\{BASE\}$/).at(-1) ?? '', new RegExp(`^CMD \\[.*"dist/cli.js", "${service}"\\]$`));
    });
  }
  it('the common image is the root Dockerfile runtime stage, with the healthcheck and the user', () => {
    const runtime = stageBody(root, /^FROM \$\{NODE_IMAGE\} AS runtime$/);
    assert.ok(runtime.some((l) => l.startsWith('HEALTHCHECK ')));
    assert.ok(runtime.includes('USER node'));
  });
});
