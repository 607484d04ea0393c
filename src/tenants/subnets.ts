// Small subnets for tenant networks, carved from a dedicated pool so that 30 (or 2000) tenants do not exhaust the
// engine's default address pools (~31 bridges). Pure IPv4 arithmetic; the engine's existing networks are the input.

export const DEFAULT_POOL = '10.222.0.0/16';
/** /27: 29 addresses after network, broadcast and gateway — rng, hasher, webui, Redis and up to 25 workers. */
export const TENANT_PREFIX = 27;

export interface Cidr {
  base: number;
  prefix: number;
}

export function parseCidr(text: string): Cidr {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const prefix = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || prefix > 32) throw new Error(`not an IPv4 CIDR: ${JSON.stringify(text)}`);
  const ip = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  return { base: ip - (ip % size), prefix };
}

export function formatCidr({ base, prefix }: Cidr): string {
  return `${[24, 16, 8, 0].map((s) => Math.floor(base / 2 ** s) % 256).join('.')}/${prefix}`;
}

const size = (c: Cidr) => 2 ** (32 - c.prefix);
export const overlaps = (a: Cidr, b: Cidr) => a.base < b.base + size(b) && b.base < a.base + size(a);

/** Usable addresses of a subnet for containers (network, broadcast and the gateway excluded). */
export const containerCapacity = (prefix = TENANT_PREFIX) => 2 ** (32 - prefix) - 3;

/**
 * The first `count` subnets of `prefix` in `pool` that overlap none of `taken` (IPv4 CIDRs; others are ignored),
 * so a caller racing another `add` can try the next one when the engine says the first was just taken.
 */
export function freeSubnets(pool: string, taken: readonly string[], count = 1, prefix = TENANT_PREFIX): string[] {
  const p = parseCidr(pool);
  if (prefix < p.prefix) throw new Error(`the subnet pool ${pool} is smaller than one /${prefix}`);
  const used = taken.flatMap((t) => {
    try {
      return [parseCidr(t)];
    } catch {
      return [];
    }
  });
  const out: string[] = [];
  const step = 2 ** (32 - prefix);
  for (let base = p.base; base < p.base + size(p) && out.length < count; base += step) {
    const candidate = { base, prefix };
    if (!used.some((u) => overlaps(u, candidate))) out.push(formatCidr(candidate));
  }
  return out;
}
