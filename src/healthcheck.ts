// The image HEALTHCHECK, with node alone (no curl in the image): GET /healthz on this container's own port.
const port = process.env.HEALTHCHECK_PORT || process.env.METRICS_PORT || process.env.PORT || '80';
try {
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
