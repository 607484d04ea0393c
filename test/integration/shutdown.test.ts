// The one deadline in a real process: SIGTERM gives every component SHUTDOWN_TIMEOUT_MS in all; a component whose
// stop hangs and a request held open are cut there, the later stages still stop in order, and the process exits 0.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../helpers/net.js';
import { cleanEnv } from '../helpers/proc.js';

const FIXTURE = fileURLToPath(new URL('../helpers/stop-fixture.ts', import.meta.url));

async function run(args: string[], deadlineMs: number, holdRequest: boolean) {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, ...args], {
    env: cleanEnv({ SHUTDOWN_TIMEOUT_MS: String(deadlineMs) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const s of [child.stdout, child.stderr]) {
    s.on('data', (d: Buffer) => {
      output += d.toString();
    });
  }
  const exited = once(child, 'exit');
  try {
    const port = await waitFor(
      'the fixture ready',
      async () => {
        if (child.exitCode !== null) throw new Error(`exited: ${output}`);
        return /ready on port (\d+)/.exec(output)?.[1];
      },
      30_000,
    );
    // A request the server holds open: only the deadline's cut of the connections ends it.
    const held = holdRequest
      ? fetch(`http://127.0.0.1:${port}/slow`).then(
          () => 'answered',
          () => 'cut',
        )
      : Promise.resolve('none');
    // The request reaches the server before the signal (its handler waits a minute; nothing logs it before then).
    if (holdRequest) await new Promise((r) => setTimeout(r, 300));
    const t0 = Date.now();
    child.kill('SIGTERM');
    const [code] = await exited;
    return { code: code as number | null, output, ms: Date.now() - t0, held: await held };
  } finally {
    child.kill('SIGKILL');
  }
}

describe('one deadline for a stop', () => {
  it('cuts a component that hangs at the deadline, still stops the rest in order, and exits 0', async () => {
    const r = await run(['--hang'], 1500, true);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /workers: still stopping at the deadline: cut/);
    assert.match(r.output, /webui: still stopping at the deadline: cut/, 'the held request kept the webui past it');
    // Past the deadline the ledger is still asked to stop (it may settle at once, or be cut with the rest).
    assert.match(r.output, /stopped workers → webui → ledger \(cut at the deadline: workers, webui(, ledger)?\)/);
    assert.ok(r.output.indexOf('stopping workers') < r.output.indexOf('stopping ledger'), 'workers first, the ledger last');
    assert.doesNotMatch(r.output, /exiting anyway/, 'the stop itself resolved by the deadline');
    // Not before the deadline: the hung component had all of it (a lower bound only; no upper bound is asserted).
    assert.ok(r.ms >= 1400, `exited after ${r.ms} ms`);
    assert.equal(r.held, 'cut');
  });

  it('without a hang: every stage stops in order, nothing cut, exit 0', async () => {
    const r = await run([], 60_000, false);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, /stopping workers[\s\S]*stopped workers[\s\S]*stopping ledger[\s\S]*stopped ledger/);
    assert.match(r.output, /stopped workers → webui → ledger$/m);
    assert.doesNotMatch(r.output, /cut/);
  });
});
