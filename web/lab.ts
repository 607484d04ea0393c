// The lab on the dashboard: −/+ and a number for workers, rng and hasher, toggles for rng's concurrency and the
// faults, and the lesson's steps. It reads GET /api/lab every second and changes the system with POST /api/lab
// (same origin; with ADMIN_TOKEN set on the server, the token the user typed goes as a bearer token).
import type { LabChange, LabState, LessonView } from '../src/telemetry.js';
import { renderAutomation, wireAutomation } from './automation.js';

const POLL_MS = 1000;
const TOKEN_KEY = 'dockercoins-lab-token';
const FAULTS = {
  'slow-hasher': { service: 'hasher', on: { latencyMs: 500 }, off: { latencyMs: 0 }, active: (s: LabState) => (s.faults?.hasher.latencyMs ?? 0) > 0 },
  'flaky-rng': { service: 'rng', on: { errorRate: 0.3 }, off: { errorRate: 0 }, active: (s: LabState) => (s.faults?.rng.errorRate ?? 0) > 0 },
  'rng-unready': { service: 'rng', on: { unready: true }, off: { unready: false }, active: (s: LabState) => s.faults?.rng.unready === true },
} as const;
type FaultName = keyof typeof FAULTS;

const el = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;
let state: LabState | undefined;
/** Changes go one after the other; a click while one is on its way is queued, not lost. */
let queue: Promise<void> = Promise.resolve();
/** The scale asked for last, so that quick clicks add up (+ + makes two more). */
const asked: Partial<LabState['scale']> = {};

function isLabState(x: unknown): x is LabState {
  return typeof x === 'object' && x !== null && 'scale' in x && 'lessons' in x && Array.isArray((x as { lessons: unknown }).lessons);
}

function say(text: string): void {
  el('lab-message').textContent = text;
}

function send(change: LabChange): void {
  queue = queue.then(() => post(change));
}

async function post(change: LabChange): Promise<void> {
  say('applying…');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    const res = await fetch('api/lab', { method: 'POST', headers, body: JSON.stringify(change) });
    const text = await res.text();
    if (res.status === 401) {
      el('lab-token').hidden = false;
      say(text);
      return;
    }
    if (!res.ok) return say(text);
    const next: unknown = JSON.parse(text);
    if (isLabState(next)) render(next);
    say(`applied: ${describe(change)}`);
  } catch (err) {
    say(`the lab did not answer: ${(err as Error).message}`);
  } finally {
    for (const k of Object.keys(change)) delete asked[k as keyof typeof asked];
  }
}

/** A call to the lab's automation routes; the answer's text, or null after saying what went wrong. */
async function request(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<string | null> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['content-type'] = 'application/json';
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    if (res.status === 401) el('lab-token').hidden = false;
    if (!res.ok) {
      say(text);
      return null;
    }
    return text;
  } catch (err) {
    say(`the lab did not answer: ${(err as Error).message}`);
    return null;
  }
}

function describe(change: LabChange): string {
  return Object.entries(change)
    .map(([k, v]) => (typeof v === 'object' ? `${k} ${JSON.stringify(v)}` : `${k} = ${v}`))
    .join(', ');
}

function renderLesson(l: LessonView, current: boolean): HTMLLIElement {
  const li = document.createElement('li');
  li.className = l.done ? 'done' : current ? 'current' : '';
  const mark = document.createElement('span');
  mark.className = 'mark';
  mark.textContent = l.done ? '✓' : '○';
  mark.setAttribute('aria-label', l.done ? 'done' : 'not yet');
  const title = document.createElement('strong');
  title.textContent = l.title;
  const goal = document.createElement('span');
  goal.className = 'goal';
  goal.textContent = l.done ? '' : l.holding > 0 ? `holding ${l.holding.toFixed(1)} of 5 s — ${l.goal}` : l.goal;
  li.append(mark, title, goal);
  if (l.why && (l.done || current)) {
    const why = document.createElement('p');
    why.className = 'why';
    why.textContent = l.why;
    li.append(why);
  }
  li.dataset.lesson = l.id;
  return li;
}

function render(s: LabState): void {
  state = s;
  el('lab').hidden = false;
  el('lessons').hidden = false;
  el('lab-controls').hidden = !s.controllable;
  el('lab-watch').hidden = s.controllable;
  for (const kind of ['worker', 'rng', 'hasher'] as const) {
    const input = el<HTMLInputElement>(`${kind}-count`);
    if (document.activeElement !== input && asked[kind] === undefined) input.value = String(s.scale[kind]);
    input.min = String(s.limits[kind].min);
    input.max = String(s.limits[kind].max);
  }
  const unlimited = s.settings?.rngConcurrency === 0;
  const concurrency = el('concurrency');
  concurrency.setAttribute('aria-pressed', String(unlimited));
  concurrency.textContent = unlimited ? 'rng serves everyone at once' : 'rng serves one request at a time';
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.fault')) {
    const fault = FAULTS[button.dataset.fault as FaultName];
    button.setAttribute('aria-pressed', String(fault.active(s)));
  }
  renderAutomation(s.automation, s.controllable);
  const firstOpen = s.lessons.findIndex((l) => !l.done);
  el('lesson-list').replaceChildren(...s.lessons.map((l, i) => renderLesson(l, i === firstOpen)));
}

async function poll(): Promise<void> {
  try {
    const res = await fetch('api/lab', { cache: 'no-store' });
    if (res.status === 404) return; // no lab here: the panels stay hidden
    const next: unknown = await res.json();
    if (isLabState(next)) render(next);
  } catch {
    // the webui is unreachable: the dashboard's banner says so
  }
  setTimeout(poll, POLL_MS);
}

function wire(): void {
  for (const scaler of document.querySelectorAll<HTMLElement>('.scaler')) {
    const kind = scaler.dataset.kind as 'worker' | 'rng' | 'hasher';
    const input = scaler.querySelector('input')!;
    for (const button of scaler.querySelectorAll<HTMLButtonElement>('button.step')) {
      button.addEventListener('click', () => {
        if (!state) return;
        const { min, max } = state.limits[kind];
        const from = asked[kind] ?? state.scale[kind];
        const next = Math.min(max, Math.max(min, from + Number(button.dataset.step)));
        if (next === from) return;
        asked[kind] = next;
        input.value = String(next);
        send({ [kind]: next });
      });
    }
    input.addEventListener('change', () => {
      const n = Number(input.value);
      if (state && Number.isInteger(n) && n !== state.scale[kind]) send({ [kind]: n });
    });
  }
  el('concurrency').addEventListener('click', () => {
    if (state?.settings) send({ rngConcurrency: state.settings.rngConcurrency === 0 ? 1 : 0 });
  });
  for (const button of document.querySelectorAll<HTMLButtonElement>('button.fault')) {
    button.addEventListener('click', () => {
      if (!state) return;
      const fault = FAULTS[button.dataset.fault as FaultName];
      send({ faults: { [fault.service]: fault.active(state) ? fault.off : fault.on } });
    });
  }
  wireAutomation(request, say);
  el<HTMLFormElement>('lab-token').addEventListener('submit', (e) => {
    e.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, el<HTMLInputElement>('token-input').value);
    el('lab-token').hidden = true;
    say('token kept for this tab; try again');
  });
}

let started = false;

export function startLab(): void {
  if (started) return;
  started = true;
  wire();
  void poll();
}
