// The live dashboard: Server-Sent Events from the webui (relative URLs, so it works behind any path prefix),
// drawn with uPlot. The speed arrives computed by the webui over a window; the page only draws it.
import uPlot from 'uplot';
import { HISTORY_S, isHistory, isSnapshot, PHASES, type Snapshot, type UpstreamView } from '../src/telemetry.js';
import { annotationsPlugin } from './annotations.js';
import { startLab } from './lab.js';

const STALE_MS = 4000;

const el = (id: string) => document.getElementById(id)!;
const xs: number[] = [];
const ys: (number | null)[] = [];
let plot: uPlot | undefined;
let lastMessage = 0;
let source: EventSource | undefined;

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function setStatus(state: 'connecting' | 'live' | 'down' | 'ledger', text: string, banner?: string): void {
  const status = el('status');
  status.dataset.state = state;
  status.textContent = text;
  const b = el('banner');
  b.hidden = !banner;
  b.textContent = banner ?? '';
}

function chart(): uPlot {
  const box = el('chart');
  const opts: uPlot.Options = {
    width: box.clientWidth || 600,
    height: Math.max(240, Math.min(420, Math.round(window.innerHeight * 0.35))),
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.15)] } },
    axes: [
      { stroke: '#93a4b5', grid: { stroke: '#26333f' } },
      { stroke: '#93a4b5', grid: { stroke: '#26333f' }, label: 'hashes/s', size: 60 },
    ],
    plugins: [annotationsPlugin()],
    series: [{}, { label: 'speed', stroke: '#2496ed', width: 3, fill: 'rgba(36,150,237,0.15)', value: (_u, v) => (v == null ? '–' : v.toFixed(2)) }],
  };
  const p = new uPlot(opts, [xs, ys], box);
  new ResizeObserver(() => p.setSize({ width: box.clientWidth, height: opts.height })).observe(box);
  return p;
}

function addPoint(t: number, speed: number | null): void {
  xs.push(t);
  ys.push(speed);
  while (xs.length > 0 && xs[0]! < t - HISTORY_S) {
    xs.shift();
    ys.shift();
  }
}

function upstream(name: 'rng' | 'hasher', v: UpstreamView, hot: boolean): void {
  el(`${name}-replicas`).textContent = v.replicas ? String(v.replicas) : '–';
  el(`${name}-latency`).textContent = v.latencyMs == null ? '–' : `${Math.round(v.latencyMs)} ms`;
  el(`${name}-queue`).textContent = v.queue == null ? '–' : String(v.queue);
  el(`${name}-rate`).textContent = v.callsPerSecond ? v.callsPerSecond.toFixed(1) : '–';
  el(`row-${name}`).classList.toggle('hot', hot);
}

function verdict(s: Snapshot): { text: string; hot: 'rng' | 'hasher' | 'ledger' | null } {
  const p = s.workers.phases;
  if (s.workers.count === 0) return { text: 'No worker is reporting. Start one, or scale the worker service up.', hot: null };
  const worst = (['rng', 'hasher', 'ledger'] as const).reduce((a, b) => (p[b] > p[a] ? b : a));
  const share = Math.round(p[worst] * 100);
  if (p[worst] > 0.5) {
    const queue = worst === 'rng' && s.rng.queue ? `, ${s.rng.queue} request(s) waiting in its queue` : '';
    const fix =
      worst === 'rng'
        ? 'Scale rng (or run one per node) to go faster; more workers will not help.'
        : worst === 'hasher'
          ? 'Scale hasher to go faster.'
          : 'Check Redis.';
    return { text: `${worst} is the bottleneck: workers spend ${share}% of their time waiting for it${queue}. ${fix}`, hot: worst };
  }
  return {
    text: `No bottleneck yet: workers wait ${Math.round(p.rng * 100)}% on rng, ${Math.round(p.hasher * 100)}% on hasher. Add workers to go faster.`,
    hot: null,
  };
}

/** TRACING_UI_URL set: the slowest units of the window, each a link to its trace (Jaeger's /trace/<id>). */
function traces(t: Snapshot['traces']): void {
  el('traces').hidden = t === null;
  if (!t) return;
  const ui = t.ui.replace(/\/+$/, '');
  el('trace-list').replaceChildren(
    ...t.slowest.map((u) => {
      const li = document.createElement('li');
      const a = document.createElement('a');
      a.href = `${ui}/trace/${encodeURIComponent(u.traceId)}`;
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      a.textContent = `${u.ms.toFixed(0)} ms`;
      li.append(a, ` — ${u.worker}, trace ${u.traceId.slice(0, 8)}…`);
      return li;
    }),
  );
  if (t.slowest.length === 0) el('trace-list').replaceChildren(Object.assign(document.createElement('li'), { textContent: 'no traced unit yet' }));
}

function render(s: Snapshot): void {
  lastMessage = Date.now();
  if (s.ledger.ok) setStatus('live', 'live');
  else setStatus('ledger', 'Redis unreachable', `The webui cannot reach its ledger (${s.ledger.where}): ${s.ledger.error ?? 'unknown error'}. Retrying…`);
  el('speed').textContent = s.speed == null ? '–' : s.speed.toFixed(2);
  el('hashes').textContent = fmt(s.hashes);
  el('coins').textContent = fmt(s.coins);
  el('workers').textContent = String(s.workers.count);
  el('window').textContent = `(${s.windowSeconds} s window)`;
  el('window2').textContent = String(s.windowSeconds);

  const phases = el('phases');
  phases.replaceChildren(
    ...PHASES.map((name) => {
      const span = document.createElement('span');
      span.className = name;
      span.style.flexGrow = String(s.workers.phases[name]);
      const pct = Math.round(s.workers.phases[name] * 100);
      span.textContent = pct >= 8 ? `${name} ${pct}%` : '';
      span.title = `${name}: ${pct}%`;
      return span;
    }),
  );
  phases.setAttribute('aria-label', `time split by phase: ${PHASES.map((p) => `${p} ${Math.round(s.workers.phases[p] * 100)}%`).join(', ')}`);
  const v = verdict(s);
  const vEl = el('verdict');
  vEl.textContent = v.text;
  vEl.classList.toggle('bottleneck', v.hot !== null);
  upstream('rng', s.rng, v.hot === 'rng');
  upstream('hasher', s.hasher, v.hot === 'hasher');
  traces(s.traces);

  el('coin-list').replaceChildren(
    ...s.recentCoins.map((c) => {
      const li = document.createElement('li');
      li.textContent = `${c.hex.slice(0, 16)}…${c.at ? `  ${new Date(c.at).toLocaleTimeString()}` : ''}`;
      return li;
    }),
  );
  el('worker-list').replaceChildren(
    ...s.workers.list.map((w) => {
      const li = document.createElement('li');
      li.textContent = `${w.name}: ${w.speed.toFixed(2)} hashes/s${w.errors.length ? ` — ${w.errors[0]}` : ''}`;
      li.classList.toggle('error', w.errors.length > 0);
      return li;
    }),
  );
  addPoint(s.now, s.speed);
  plot?.setData([xs, ys]);
}

function connect(): void {
  source?.close();
  const es = new EventSource('events');
  source = es;
  es.addEventListener('history', (e) => {
    const history: unknown = JSON.parse(e.data);
    if (!isHistory(history)) return;
    xs.length = 0;
    ys.length = 0;
    for (const [t, speed] of history) addPoint(t, speed);
    plot?.setData([xs, ys]);
  });
  es.addEventListener('snapshot', (e) => {
    const snapshot: unknown = JSON.parse(e.data);
    if (!isSnapshot(snapshot)) return;
    render(snapshot);
    // Only a webui that serves the lab gets its panel (a standalone one would answer 404 every second).
    if (snapshot.lab) startLab();
  });
  es.onerror = () => {
    setStatus('down', 'webui unreachable', 'Cannot reach the webui — the dashboard will reconnect by itself.');
    // A refused reconnection (e.g. a 503) closes the EventSource for good: open a new one.
    if (es.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
  };
}

setInterval(() => {
  if (lastMessage && Date.now() - lastMessage > STALE_MS && el('status').dataset.state === 'live') {
    setStatus('down', 'no data', `No update from the webui for ${Math.round((Date.now() - lastMessage) / 1000)} s — reconnecting…`);
    connect();
  }
}, 1000);

plot = chart();
connect();
