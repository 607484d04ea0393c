// The variables a kubelet injects into every pod for every Service of its namespace (unless the pod says
// `enableServiceLinks: false`), in the kubelet's own format (pkg/kubelet/envvars): for Service `rng` at 10.96.0.12
// port 80 named http: RNG_SERVICE_HOST, RNG_SERVICE_PORT, RNG_SERVICE_PORT_HTTP, RNG_PORT=tcp://…, RNG_PORT_80_TCP*.

export interface ServicePortLink {
  port: number;
  name?: string;
  protocol?: string;
}

/** The Service link variables of one Service (name as in metadata.name, clusterIP as the API server gave it). */
export function serviceLinkEnv(name: string, clusterIP: string, ports: ServicePortLink[]): Record<string, string> {
  if (ports.length === 0 || clusterIP === 'None' || clusterIP === '') return {};
  const prefix = name.toUpperCase().replace(/-/g, '_');
  const env: Record<string, string> = { [`${prefix}_SERVICE_HOST`]: clusterIP, [`${prefix}_SERVICE_PORT`]: String(ports[0]!.port) };
  for (const p of ports) {
    if (p.name) env[`${prefix}_SERVICE_PORT_${p.name.toUpperCase().replace(/-/g, '_')}`] = String(p.port);
  }
  const first = ports[0]!;
  env[`${prefix}_PORT`] = `${(first.protocol ?? 'TCP').toLowerCase()}://${clusterIP}:${first.port}`;
  for (const p of ports) {
    const proto = (p.protocol ?? 'TCP').toLowerCase();
    const base = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
    env[base] = `${proto}://${clusterIP}:${p.port}`;
    env[`${base}_PROTO`] = proto;
    env[`${base}_PORT`] = String(p.port);
    env[`${base}_ADDR`] = clusterIP;
  }
  return env;
}
