// The workshop replay's pure parts: every step file is valid (each `exec` says why in `adjusted`), the checks judge
// what was observed (a number out of bounds is ✗), the line format, and docs/workshop.md is what the files generate.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { workshopDoc } from '../../src/workshop/doc.js';
import { commandFor, loadChapters, workshopDir } from '../../src/workshop/runner.js';
import { ChapterError, formatLine, judgeText, judgeValue, readValue, validateChapter } from '../../src/workshop/steps.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

describe('workshop step files', () => {
  const chapters = loadChapters(workshopDir());

  it('three chapters (Compose, Swarm, debugging), numbered in order, each with its cleanup', () => {
    assert.deepEqual(
      chapters.map((c) => c.chapter),
      [1, 2, 3],
    );
    for (const c of chapters) assert.ok(c.cleanup.length > 0, `chapter ${c.chapter} removes what it makes`);
  });

  it('the seed commands are there verbatim', () => {
    const runs = chapters.flatMap((c) => c.steps.map((s) => s.run));
    for (const cmd of [
      'docker-compose up',
      'docker-compose up -d',
      'docker-compose ps',
      'docker-compose logs --tail 10 --follow',
      'docker-compose scale worker=2',
      'docker-compose up -d --scale worker=10',
      'httping -c 3 localhost:8001',
      'httping -c 3 localhost:8002',
      'docker-compose down',
      'for SERVICE in hasher rng webui worker; do docker build -t $REGISTRY/$SERVICE:$TAG ./$SERVICE; docker push $REGISTRY/$SERVICE:$TAG; done',
      'docker network create --driver overlay dockercoins',
      'docker service create --network dockercoins --name redis redis',
      'for SERVICE in hasher rng webui worker; do docker service create --network dockercoins --detach=true --name $SERVICE $REGISTRY/$SERVICE:$TAG; done',
      'docker service update webui --publish-add 8000:80',
      'CID=$(docker ps -q --filter label=com.docker.swarm.service.name=debug)',
      'drill rng',
      'drill tasks.rng',
      'curl rng',
      'docker service update dockercoins_worker --replicas 0',
      'ab -c 1 -n 50 http://rng/10',
      'ab -c 50 -n 50 http://rng/10',
      'curl http://rng/10 >/tmp/random',
      'ab -c 1 -n 50 -T application/octet-stream -p /tmp/random http://hasher/',
      'ab -c 50 -n 50 -T application/octet-stream -p /tmp/random http://hasher/',
    ])
      assert.ok(runs.includes(cmd), `missing: ${cmd}`);
  });

  it('a step typed in a container runs there with docker exec, quoted for sh', () => {
    assert.equal(commandFor({ slide: 's', run: "echo 'a' b", expect: 'e', inside: '$CID' }), `docker exec -i $CID sh -c 'echo '\\''a'\\'' b'`);
  });

  it('refuses a stand-in command without its reason, an unknown key, a bad regex', () => {
    const base = { chapter: 9, title: 't', source: 's', steps: [{ slide: 's', run: 'r', expect: 'e' }] };
    assert.ok(validateChapter('x.yml', base));
    const bad: [object, RegExp][] = [
      [{ ...base, steps: [{ slide: 's', run: 'r', expect: 'e', exec: 'other' }] }, /x\.yml step 1: `exec` .* `adjusted`/],
      [{ ...base, steps: [{ slide: 's', run: 'r', expect: 'e', chek: [] }] }, /unknown key "chek"/],
      [{ ...base, steps: [{ slide: 's', run: 'r', expect: 'e', check: [{ match: '(' }] }] }, /step 1 check 1 match: Invalid regular expression/],
      [{ ...base, steps: [{ slide: 's', run: 'r', expect: 'e', check: [{ value: { min: 1 } }] }] }, /exactly one of from, count/],
    ];
    for (const [data, message] of bad)
      assert.throws(
        () => validateChapter('x.yml', data),
        (e: Error) => e instanceof ChapterError && message.test(e.message),
      );
  });

  it('docs/workshop.md is what `npm run docs:workshop` generates from the step files', () => {
    assert.equal(readFileSync(`${ROOT}docs/workshop.md`, 'utf8'), workshopDoc(chapters), 'run npm run docs:workshop');
  });
});

describe('workshop checks', () => {
  const httping = 'round-trip min/avg/max = 690.1/712.4/730.0 ms\n';
  it('a number from the output within bounds holds, out of bounds is ✗, and is saved for ratios', () => {
    const saved: Record<string, number> = {};
    const v = { from: 'round-trip min/avg/max = [\\d.]+/([\\d.]+)/', min: 300, unit: 'ms', save: 'rng' };
    assert.deepEqual(judgeValue(v, readValue(v, httping), saved), { ok: true, measured: '712 ms', expected: '≥ 300 ms' });
    assert.equal(saved.rng, 712.4);
    // rng's `/` immediate again (RNG_CONCURRENCY=0 or the old contract): the httping step turns ✗.
    assert.equal(judgeValue(v, readValue(v, 'round-trip min/avg/max = 0.9/1.2/1.6 ms'), saved).ok, false);
    saved.hasher = 1.5;
    assert.equal(judgeValue({ ratio: ['rng', 'hasher'], min: 20 }, 712.4 / 1.5, saved).ok, true);
    assert.equal(judgeValue({ from: 'x(\\d)', min: 1 }, readValue({ from: 'x(\\d)' }, 'nothing'), saved).measured, 'not measurable');
  });

  it('counts lines, compares with a saved number', () => {
    const drill = 'tasks.rng.\t600\tIN\tA\t10.0.1.5\ntasks.rng.\t600\tIN\tA\t10.0.1.6\n';
    const saved = { rng_tasks: 2 };
    const v = { count: '^tasks\\.rng\\.\\s+\\d+\\s+IN\\s+A\\s', equals: 'rng_tasks' };
    assert.equal(judgeValue(v, readValue(v, drill), saved).ok, true);
    assert.equal(judgeValue(v, readValue(v, drill), { rng_tasks: 5 }).ok, false);
  });

  it('match, absent and exit', () => {
    const seen = { output: 'wt_worker_1   Exit 0\nwt_rng_1   Exit 137\n', exit: 0, interrupted: false, timedOut: false };
    assert.deepEqual(
      judgeText({ match: 'worker_1 .* Exit 0', absent: 'Exit 137', exit: 0 }, seen).map((r) => r.ok),
      [true, false, true],
    );
  });

  it('one line per step: mark, id, command, measured, expected, and the notes', () => {
    const line = formatLine({
      id: '1.9',
      ok: false,
      command: 'httping -c 3 localhost:8001',
      measured: '1.2 ms',
      expected: 'rng slower; ≥ 300 ms',
      adjusted: 'why',
      seconds: 3,
    });
    assert.equal(line, '✗ 1.9   httping -c 3 localhost:8001  │ measured: 1.2 ms │ expected: rng slower; ≥ 300 ms  │ adjusted: why');
  });
});
