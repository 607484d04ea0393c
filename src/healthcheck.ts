// The image HEALTHCHECK, with node alone (no curl in the image): GET /healthz on this container's own port.
import { loadConfig } from './config.js';

let port = 80;
try {
  port = loadConfig(process.env, 'healthcheck').healthcheckPort;
} catch {
  process.exit(1);
}
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
