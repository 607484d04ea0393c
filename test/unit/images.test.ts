// dockercoins images: the options it accepts, and what an installed package builds from — the one Dockerfile without
// its build stage (dist/ as shipped), with every file the workshop's workspace needs listed in package.json "files".
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ImagesUsage, parseImages } from '../../src/images/build.js';
import { prebuiltDockerfile } from '../../src/images/dockerfile.js';
import { isSourceTree, packageRoot } from '../../src/images/package.js';
import { WORKSPACE_FILES } from '../../src/images/workspace.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dockerfile = readFileSync(`${ROOT}Dockerfile`, 'utf8');
const instructions = (text: string) => text.split('\n').filter((l) => l.trim() && !l.startsWith('#'));

describe('the Dockerfile of an installed package', () => {
  const prebuilt = prebuiltDockerfile(dockerfile);
  it('has no build stage and copies dist/ from the context', () => {
    assert.doesNotMatch(prebuilt, /AS build\b/);
    assert.doesNotMatch(prebuilt, /npm ci|--from=build/);
    assert.match(prebuilt, /^COPY dist dist$/m);
  });
  it('keeps every other instruction of the Dockerfile, in order', () => {
    const start = dockerfile.search(/^FROM \S+ AS build$/m);
    const end = dockerfile.indexOf('\nFROM ', start + 1);
    const expected = instructions(dockerfile.slice(0, start) + dockerfile.slice(end)).map((l) =>
      l === 'COPY --from=build /app/dist dist' ? 'COPY dist dist' : l,
    );
    assert.deepEqual(instructions(prebuilt), expected);
    for (const target of ['runtime', 'rng', 'hasher', 'webui', 'worker']) assert.match(prebuilt, new RegExp(`^FROM \\S+ AS ${target}$`, 'm'));
  });
  it('refuses a Dockerfile it does not recognise rather than guessing', () => {
    assert.throws(() => prebuiltDockerfile('FROM node AS runtime\nCOPY . .\n'), /no `FROM … AS build` stage/);
    assert.throws(() => prebuiltDockerfile('FROM node AS build\nRUN true\nFROM node AS runtime\nCOPY . .\n'), /COPY --from=build/);
  });
});

describe('what the package ships', () => {
  const files = (JSON.parse(readFileSync(`${ROOT}package.json`, 'utf8')) as { files: string[] }).files;
  it('every file of the workspace, the Dockerfile, the bundles and the step files', () => {
    for (const f of [...WORKSPACE_FILES, 'Dockerfile', 'dist', 'workshop']) {
      assert.ok(files.includes(f), `package.json "files" lists ${f}`);
      assert.ok(existsSync(`${ROOT}${f}`), `${f} exists`);
    }
  });
  it('this checkout is a source tree (a clone builds from the source)', () => {
    assert.equal(packageRoot(import.meta.url), ROOT.replace(/\/$/, ''));
    assert.equal(isSourceTree(ROOT), true);
    assert.equal(isSourceTree(`${ROOT}dist`), false);
  });
});

describe('dockercoins images options', () => {
  it('the lesson tags, --base and --debug', () => {
    assert.deepEqual(parseImages(['--tag', 'v0.2', '--registry', 'r.example:5000/', '--push']), {
      tag: 'v0.2',
      registry: 'r.example:5000',
      push: true,
    });
    assert.deepEqual(parseImages(['--base']), { tag: 'latest', registry: 'dockercoins', push: false, only: 'base' });
    assert.equal(parseImages(['--debug']).only, 'debug');
  });
  it('refuses what cannot be built, naming why', () => {
    const refused = (args: string[], why: RegExp) =>
      assert.throws(
        () => parseImages(args),
        (e: unknown) => e instanceof ImagesUsage && why.test(e.message),
      );
    refused([], /--tag is required/);
    refused(['--tag', 'v0.3'], /deliberately does not exist/);
    refused(['--tag', 'bad tag'], /not a valid image tag/);
    refused(['--base', '--push'], /not pushed/);
    refused(['--base', '--debug'], /two different builds/);
    refused(['--registry', 'UPPER', '--tag', 'x'], /not a registry/);
    refused(['--frobnicate'], /unknown option/);
  });
});
