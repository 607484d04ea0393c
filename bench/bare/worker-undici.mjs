import { Pool } from 'undici';
const [rngPort, hasherPort, loops, secs, variant] = process.argv.slice(2);
const rng = new Pool(`http://127.0.0.1:${rngPort}`, { connections: 64, keepAliveTimeout: 4000 });
const hasher = new Pool(`http://127.0.0.1:${hasherPort}`, { connections: 64, keepAliveTimeout: 4000 });
let units = 0;
const ac = new AbortController();
const opt = (o) => {
  if (variant?.includes('s')) o.signal = ac.signal;
  if (variant?.includes('t')) { o.headersTimeout = 30000; o.bodyTimeout = 30000; }
  if (variant?.includes('h')) o.headers = { ...(o.headers ?? {}), host: '127.0.0.1:1' };
  return o;
};
async function loop() { for (;;) { const r = await rng.request(opt({ method: 'GET', path: '/32' })); const b = Buffer.from(await r.body.arrayBuffer()); const h = await hasher.request(opt({ method: 'POST', path: '/', body: b, headers: { 'content-type': 'application/octet-stream' } })); Buffer.from(await h.body.arrayBuffer()); units++; } }
for (let i = 0; i < Number(loops); i++) loop();
setTimeout(() => { const t0 = Date.now(), u0 = units; setTimeout(() => { console.log(((units - u0) / ((Date.now() - t0) / 1000)).toFixed(0), 'units/s'); process.exit(0); }, Number(secs) * 1000); }, 1500);
