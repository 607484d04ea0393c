// The lab's automation panel: start/stop a load shape (the schedule ahead listed, the next change marked) and the
// HPA-on-latency autoscaler (its decisions listed with their reasons, newest first). lab.ts polls the state and
// hands it here; requests go through lab.ts's `request` (same origin, the admin token when one was typed).
import type { AutomationView } from '../src/telemetry.js';
import { setAnnotations } from './annotations.js';

export type Request = (method: 'POST' | 'DELETE', path: string, body?: unknown) => Promise<string | null>;

const el = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
const value = (id: string) => el<HTMLInputElement>(id).value.trim();
const clock = (unix: number) => new Date(unix * 1000).toLocaleTimeString();

export function renderAutomation(a: AutomationView | undefined, controllable: boolean): void {
  el('automation').hidden = !a || !controllable;
  if (!a) return;
  setAnnotations(a.annotations);
  const now = Date.now() / 1000;
  const l = a.load;
  if (l) {
    const elapsed = Math.min(l.duration, Math.max(0, now - l.startedAt));
    el('load-status').textContent = l.running
      ? `${l.shape}${l.shape === 'spike' ? ` seed ${l.seed}` : ''}: ${elapsed.toFixed(0)} of ${l.duration} s${l.speed !== 1 ? ` (${l.speed}× time)` : ''}`
      : `${l.shape}: over`;
    el('load-ahead').replaceChildren(
      ...l.changes.map((c, i) => {
        const li = document.createElement('li');
        li.textContent = `${c.at} s → ${c.workers} worker(s)`;
        li.className = i < l.next ? 'held' : i === l.next && l.running ? 'next' : '';
        if (i < l.next) li.style.opacity = '0.5';
        return li;
      }),
    );
  } else el('load-status').textContent = 'no shape running';
  const s = a.autoscale;
  if (s) {
    el('as-status').textContent = `${s.running ? 'running' : 'stopped'} · latency of ${s.path} over ${s.windowSeconds / s.speed} s: ${
      s.metric === null ? 'no probe yet' : `${(s.metric * 1000).toFixed(0)} ms`
    } · target ${(s.target * 1000).toFixed(0)} ms · rng ${s.minReplicas}–${s.maxReplicas}`;
    el('as-decisions').replaceChildren(
      ...[...s.decisions].reverse().map((d) => {
        const li = document.createElement('li');
        li.className = d.desired === d.current ? 'held' : 'scaled';
        li.textContent = `${clock(d.at)} — ${(d.metric * 1000).toFixed(0)} ms: ${d.reason}`;
        return li;
      }),
    );
  } else el('as-status').textContent = 'autoscaler off';
}

export function wireAutomation(request: Request, say: (text: string) => void): void {
  const num = (id: string) => (value(id) === '' ? undefined : Number(value(id)));
  el<HTMLFormElement>('load-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const body: Record<string, unknown> = {
      shape: value('load-shape'),
      min: num('load-min'),
      max: num('load-max'),
      steps: num('load-steps'),
      seed: num('load-seed'),
      speed: num('load-speed'),
    };
    if (value('load-period')) body.period = value('load-period');
    void request('POST', 'api/lab/load', JSON.parse(JSON.stringify(body))).then((ok) => ok !== null && say(`load ${body.shape} started`));
  });
  el('load-stop').addEventListener('click', () => void request('DELETE', 'api/lab/load').then((ok) => ok !== null && say('load stopped')));
  el<HTMLFormElement>('autoscale-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const target = num('as-target');
    const body = {
      target: target === undefined ? undefined : target / 1000,
      minReplicas: num('as-min'),
      maxReplicas: num('as-max'),
      behavior: value('as-behavior'),
      speed: num('as-speed'),
    };
    void request('POST', 'api/lab/autoscale', JSON.parse(JSON.stringify(body))).then((ok) => ok !== null && say('autoscaler started'));
  });
  el('as-stop').addEventListener('click', () => void request('DELETE', 'api/lab/autoscale').then((ok) => ok !== null && say('autoscaler stopped')));
}
