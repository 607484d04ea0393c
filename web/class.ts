// The class page's script: polls GET /api/tenants every 2 s and draws one card per tenant (speed, hashes,
// workers, health, its dashboard link); a tenant that needs help is outlined and says why.
interface Row {
  name: string;
  url: string;
  speed: number | null;
  hashes: number;
  workers: number;
  healthy: boolean;
  stuck: boolean;
  problems: string[];
}

const POLL_MS = 2000;
const $ = (id: string) => document.getElementById(id)!;
const fmt = new Intl.NumberFormat('en', { maximumFractionDigits: 0 });

function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls: string, text = ''): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  e.textContent = text;
  return e;
}

function card(t: Row): HTMLElement {
  const c = el('article', `tenant${t.healthy ? '' : ' unhealthy'}`);
  c.dataset.tenant = t.name;
  c.dataset.healthy = String(t.healthy);
  const top = el('div', 'top');
  top.append(el('span', 'name', t.name), el('span', 'health', t.healthy ? 'healthy' : t.stuck ? 'STUCK' : 'NEEDS HELP'));
  const speed = el('div', 'speed', t.speed === null ? '–' : t.speed.toFixed(2));
  speed.append(el('small', '', ' hashes/s'));
  const facts = el('div', 'facts', `${fmt.format(t.hashes)} hashes · ${t.workers} worker${t.workers === 1 ? '' : 's'} · `);
  if (t.url) {
    const a = el('a', '', 'dashboard');
    a.href = t.url;
    a.target = '_blank';
    a.rel = 'noopener';
    facts.append(a);
  } else facts.append('no dashboard');
  c.append(top, speed, facts);
  if (t.problems.length > 0) {
    const ul = el('ul', 'problems');
    for (const p of t.problems.slice(0, 3)) ul.append(el('li', '', p));
    if (t.problems.length > 3) ul.append(el('li', '', `… ${t.problems.length - 3} more`));
    c.append(ul);
  }
  return c;
}

function draw(rows: Row[]): void {
  const grid = $('grid');
  grid.replaceChildren(...rows.map(card));
  $('empty').hidden = rows.length > 0;
  $('count').textContent = String(rows.length);
  const healthy = rows.filter((r) => r.healthy).length;
  $('healthy').textContent = String(healthy);
  $('unhealthy').textContent = String(rows.length - healthy);
  $('total-speed').textContent = rows.reduce((a, r) => a + (r.speed ?? 0), 0).toFixed(1);
}

function isRows(x: unknown): x is Row[] {
  return Array.isArray(x) && x.every((r) => typeof r === 'object' && r !== null && typeof r.name === 'string' && typeof r.healthy === 'boolean');
}

async function poll(): Promise<void> {
  const status = $('status');
  try {
    const res = await fetch('/api/tenants', { cache: 'no-store', signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`/api/tenants answered ${res.status}`);
    const rows: unknown = await res.json();
    if (!isRows(rows)) throw new Error('/api/tenants sent an unexpected shape');
    draw(rows);
    status.dataset.state = 'live';
    status.textContent = `live · ${new Date().toLocaleTimeString()}`;
  } catch (err) {
    status.dataset.state = 'error';
    status.textContent = `cannot read the class: ${(err as Error).message}`;
  }
}

async function start(): Promise<void> {
  try {
    const info = (await (await fetch('/api/class', { cache: 'no-store' })).json()) as { classId?: string };
    if (info.classId && info.classId !== 'dockercoins') $('class-id').textContent = info.classId;
  } catch {
    // the title stays generic
  }
  await poll();
  setInterval(() => void poll(), POLL_MS);
}

void start();
