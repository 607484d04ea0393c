// The ceiling for the pipeline: the same unit of work as a DockerCoins worker (GET 32 random bytes, POST them for
// their SHA-256 hex), with node:http keep-alive and nothing else, in LOOPS concurrent loops.
// Usage: node worker.cjs RNG_PORT HASHER_PORT LOOPS WARMUP_S SECONDS — prints "rate <units/s>".
const http = require('node:http');
const [rngPort, hasherPort, loops, warmup, seconds] = process.argv.slice(2).map(Number);
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
let units = 0;
const call = (options, body) =>
  new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', agent, ...options }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve(Buffer.concat(chunks)));
    });
    req.on('error', reject);
    req.end(body);
  });
async function loop() {
  for (;;) {
    const bytes = await call({ port: rngPort, path: '/32' });
    await call({ port: hasherPort, path: '/', method: 'POST', headers: { 'content-type': 'application/octet-stream', 'content-length': bytes.length } }, bytes);
    units++;
  }
}
for (let i = 0; i < loops; i++) loop();
setTimeout(() => {
  const [t0, u0] = [performance.now(), units];
  setTimeout(() => {
    console.log(`rate ${((units - u0) / ((performance.now() - t0) / 1000)).toFixed(1)}`);
    process.exit(0);
  }, seconds * 1000);
}, warmup * 1000);
