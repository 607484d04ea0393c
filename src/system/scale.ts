// `dockercoins scale worker=10 rng=3 [--url http://127.0.0.1:8000]`: the lab's API from a terminal. Any lab setting
// goes as name=value (rngConcurrency=0, workerDelayMs=1000); ADMIN_TOKEN, when set, is sent as the bearer token.
import type { Config } from '../config.js';
import { LAB_LIMITS, type LabState } from '../telemetry.js';
import { UsageError } from '../usage.js';

const TIMEOUT_MS = 10_000;

export function parseScaleArgs(argv: string[], config: Config): { url: string; change: Record<string, number> } {
  let url = `http://127.0.0.1:${config.up.webuiPort}`;
  const change: Record<string, number> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--url' || arg.startsWith('--url=')) {
      const value = arg === '--url' ? argv[++i] : arg.slice(6);
      if (!value) throw new UsageError('--url needs a value');
      try {
        url = new URL(value).toString().replace(/\/+$/, '');
      } catch {
        throw new UsageError(`--url: not a URL: ${JSON.stringify(value)}`);
      }
      continue;
    }
    const m = /^([A-Za-z]+)=(\d{1,6})$/.exec(arg);
    if (!m || !(m[1]! in LAB_LIMITS))
      throw new UsageError(`expected name=number with a name among ${Object.keys(LAB_LIMITS).join(', ')}; got ${JSON.stringify(arg)}`);
    change[m[1]!] = Number(m[2]);
  }
  if (Object.keys(change).length === 0) throw new UsageError('nothing to change: say e.g. worker=10 rng=3');
  return { url, change };
}

export async function scale(argv: string[], config: Config): Promise<void> {
  const { url, change } = parseScaleArgs(argv, config);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (config.server.adminToken) headers.authorization = `Bearer ${config.server.adminToken}`;
  let res: Response;
  try {
    res = await fetch(`${url}/api/lab`, { method: 'POST', headers, body: JSON.stringify(change), signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    console.error(`dockercoins scale: cannot reach the lab at ${url} (${(err as Error).message}); is \`dockercoins up\` running there?`);
    process.exit(1);
  }
  const text = await res.text();
  if (!res.ok) {
    console.error(`dockercoins scale: ${res.status} from ${url}/api/lab: ${text.trim()}`);
    process.exit(1);
  }
  const state = JSON.parse(text) as LabState;
  const { scale: n, settings: s } = state;
  console.log(
    `worker=${n.worker} rng=${n.rng} hasher=${n.hasher}` +
      (s ? ` · rng concurrency ${s.rngConcurrency || 'unlimited'} · delays ${s.workerDelayMs}/${s.rngDelayMs}/${s.hasherDelayMs} ms` : ''),
  );
}
