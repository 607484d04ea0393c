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
import { RELEASES } from '../../src/images/build.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const WORKFLOW = `${root}.github/workflows/release.yml`;
const validator = `${root}node_modules/.bin/action-validator`;
const validate = (file: string) => spawnSync(validator, [file], { encoding: 'utf8' });

type Step = { id?: string; uses?: string; run?: string; with?: Record<string, string>; env?: Record<string, string> };
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
    assert.deepEqual(wf.on.push.tags, ['v0.1', 'v0.2', 'v[0-9]+.[0-9]+.[0-9]+'], 'the lesson tags and vX.Y.Z releases, nothing else');
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
    assert.match(values, /^ {2}registry: ghcr\.io\/dockercoins\/dockercoins$/m);
    assert.ok(push.run!.includes('s#^  registry: ghcr.io/dockercoins/dockercoins\\$#'), 'the sed rewrites the registry line as it is written');
    assert.match(values, /^ {2}tag: v0\.1$/m);
  });

  // The step's shell, run for each tag as GitHub would run it: the lesson tags get exactly src/images/build.ts's build
  // arguments (v0.2: the 1 s worker sleep — before, only VERSION was passed and a published v0.2 lacked it).
  it('builds the lesson tags v0.1 and v0.2 with the build arguments of src/images/build.ts, releases as vX.Y.Z', () => {
    const wf = parse(readFileSync(WORKFLOW, 'utf8')) as Workflow;
    const step = wf.jobs.images!.steps.find((s) => s.run?.includes('WORKER_DELAY_DEFAULT_MS'));
    assert.ok(step, 'a step derives the build arguments from the tag');
    const build = wf.jobs.images!.steps.find((s) => s.uses?.startsWith('docker/build-push-action'))!;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JavaScript template
    assert.equal(build.with?.['build-args'], '${{ steps.args.outputs.args }}');
    const run = (tag: string) => {
      const out = join(mkdtempSync(join(tmpdir(), 'dc-wf-')), 'out');
      writeFileSync(out, '');
      const r = spawnSync('bash', ['-euo', 'pipefail', '-c', step!.run!], { env: { PATH: process.env.PATH, TAG: tag, GITHUB_OUTPUT: out }, encoding: 'utf8' });
      const args = Object.fromEntries(
        readFileSync(out, 'utf8')
          .split('\n')
          .filter((l) => l.includes('=') && !l.startsWith('args<<'))
          .map((l) => l.split('=', 2) as [string, string]),
      );
      return { status: r.status, args };
    };
    for (const [tag, want] of Object.entries(RELEASES)) {
      const { status, args } = run(tag);
      assert.equal(status, 0, tag);
      assert.deepEqual(args, { VERSION: tag, WORKER_DELAY_DEFAULT_MS: want.WORKER_DELAY_DEFAULT_MS ?? '' }, tag);
    }
    assert.deepEqual(run('v1.4.2').args, { VERSION: 'v1.4.2', WORKER_DELAY_DEFAULT_MS: '' }, 'a release: the defaults');
    assert.notEqual(run('v0.3').status, 0, 'v0.3 never exists');
    assert.notEqual(run('latest').status, 0);
    assert.match(String((wf.jobs.chart as { if?: string }).if), /v0\.1.*v0\.2/, 'the lesson tags push no chart');
  });

  it('publishes exactly the default image names of the manifests and the chart (owner dockercoins)', () => {
    const wf = parse(readFileSync(WORKFLOW, 'utf8')) as Workflow;
    const name = wf.jobs.images!.steps.find((s) => s.id === 'name' || s.run?.includes('image=ghcr.io'))!;
    const published = (service: string) =>
      name
        .run!.replace(/.*image=/, '')
        .replace(/" >>.*/s, '')
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, not a JavaScript template
        .replace('${GITHUB_REPOSITORY_OWNER,,}', 'dockercoins')
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a JavaScript template
        .replace('${{ matrix.service }}', service);
    const kustomization = parse(readFileSync(`${root}deploy/kubernetes/kustomization.yaml`, 'utf8')) as { images: { name: string; newTag: string }[] };
    const values = parse(readFileSync(`${root}deploy/helm/dockercoins/values.yaml`, 'utf8')) as { image: { registry: string; tag: string } };
    for (const service of ['rng', 'hasher', 'worker', 'webui']) {
      const want = published(service);
      assert.equal(want, `ghcr.io/dockercoins/dockercoins/${service}`);
      assert.ok(
        kustomization.images.some((i) => i.name === want && i.newTag === 'v0.1'),
        `kustomization images: ${want}`,
      );
      assert.equal(`${values.image.registry}/${service}`, want);
      const manifest = readFileSync(`${root}deploy/kubernetes/${service}.yaml`, 'utf8');
      assert.ok(manifest.includes(`image: ${want}:v0.1`), `${service}.yaml names ${want}:v0.1`);
    }
    assert.equal(values.image.tag, 'v0.1');
  });
});
