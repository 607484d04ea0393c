// Integration tier (it spawns the validator). The release workflow cannot run here (no GitHub runner): it is validated against the workflow schema by
// @action-validator/cli — which is shown to reject a broken copy — and read for what the README promises of it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WORKFLOW = `${root}.github/workflows/release.yml`;
const validator = `${root}node_modules/.bin/action-validator`;
const validate = (file: string) => spawnSync(validator, [file], { encoding: 'utf8' });

type Step = { uses?: string; run?: string; with?: Record<string, string>; env?: Record<string, string> };
type Workflow = {
  on: { push: { tags: string[] } };
  jobs: Record<string, { permissions: Record<string, string>; steps: Step[]; needs?: string; strategy?: { matrix: { service: string[] } } }>;
};

describe('release workflow', () => {
  it('is a valid GitHub workflow (schema), and the validator does reject a broken one', () => {
    const ok = validate(WORKFLOW);
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const broken = join(mkdtempSync(join(tmpdir(), 'dc-wf-')), 'release.yml');
    writeFileSync(broken, readFileSync(WORKFLOW, 'utf8').replace('runs-on: ubuntu-latest', 'runs_on: ubuntu-latest'));
    const bad = validate(broken);
    assert.equal(bad.status, 1);
    assert.match(bad.stdout + bad.stderr, /Additional property 'runs_on' is not allowed/);
  });

  it('on a version tag: four images for amd64 and arm64 on GHCR with SBOM and provenance, signed keylessly; the chart as OCI', () => {
    const wf = parse(readFileSync(WORKFLOW, 'utf8')) as Workflow;
    assert.deepEqual(wf.on.push.tags, ['v*']);
    const images = wf.jobs.images!;
    assert.deepEqual(images.strategy?.matrix.service, ['rng', 'hasher', 'worker', 'webui']);
    assert.equal(images.permissions['id-token'], 'write', 'OIDC for keyless signing');
    assert.equal(images.permissions.packages, 'write');
    const build = images.steps.find((s) => s.uses?.startsWith('docker/build-push-action'))!;
    assert.equal(build.with?.platforms, 'linux/amd64,linux/arm64');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JavaScript template
    assert.equal(build.with?.target, '${{ matrix.service }}', 'one Dockerfile target per service');
    assert.equal(String(build.with?.sbom), 'true');
    assert.match(String(build.with?.provenance), /mode=max/);
    assert.ok(images.steps.some((s) => s.uses?.startsWith('docker/login-action') && s.with?.registry === 'ghcr.io'));
    assert.ok(images.steps.some((s) => s.uses?.startsWith('sigstore/cosign-installer')));
    const sign = images.steps.find((s) => s.run?.includes('cosign sign'))!;
    assert.match(sign.run!, /--yes "\$\{IMAGE\}@\$\{DIGEST\}"/, 'signs the pushed digest, not a tag');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JavaScript template
    assert.equal(sign.env?.DIGEST, '${{ steps.build.outputs.digest }}');
    const chart = wf.jobs.chart!;
    assert.equal(chart.needs, 'images');
    const push = chart.steps.find((s) => s.run?.includes('helm push'))!;
    assert.match(push.run!, /helm push "dockercoins-\$\{TAG#v\}\.tgz" "oci:\/\/ghcr\.io\/\$\{owner\}\/charts"/);
    assert.match(push.run!, /--password-stdin/, 'the token never on a command line');
    // The values the sed rewrites exist as written, so the published chart points at the published images.
    const values = readFileSync(`${root}deploy/helm/dockercoins/values.yaml`, 'utf8');
    assert.match(values, /^ {2}registry: dockercoins$/m);
    assert.match(values, /^ {2}tag: v0\.1$/m);
  });
});
