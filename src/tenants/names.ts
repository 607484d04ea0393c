// Tenant and class names, and every engine name derived from them (containers, networks, the volume): one place,
// so provisioning, the list, the class page and the tests agree. Checked before anything reaches the engine.
import { UsageError } from '../usage.js';

/** 1–40 of a-z 0-9 -, a letter first, not ending with '-' (CONTRACT.md "Tenants"). */
const TENANT = /^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])?$/;
/** Redis's own user, which holds the admin password: never a tenant. */
const RESERVED = new Set(['default']);
/** A class id prefixes every name the engine sees: short, so `<class>-<tenant>-worker-12` stays readable. */
const CLASS = /^[a-z](?:[a-z0-9-]{0,18}[a-z0-9])?$/;

export const DEFAULT_CLASS = 'dockercoins';
export const SERVICES = ['rng', 'hasher', 'webui', 'worker'] as const;
export type TenantService = (typeof SERVICES)[number];

/** The labels every object we create carries. */
export const LABEL = {
  class: 'dockercoins.class',
  tenant: 'dockercoins.tenant',
  service: 'dockercoins.service',
  role: 'dockercoins.role',
  publicHost: 'dockercoins.public-host',
  /** On a tenant's network: its REDIS_URL (user and password), so a repeated `add` and a Compose tenant get the same. */
  redisUrl: 'dockercoins.redis-url',
} as const;

export function checkTenantName(name: string): string {
  if (RESERVED.has(name)) throw new UsageError(`tenant name ${JSON.stringify(name)} is reserved (Redis's own user)`);
  if (!TENANT.test(name))
    throw new UsageError(`bad tenant name ${JSON.stringify(name)}: 1–40 of a-z, 0-9 and '-', starting with a letter and not ending with '-'`);
  return name;
}

export function checkClassId(id: string): string {
  if (!CLASS.test(id)) throw new UsageError(`bad class id ${JSON.stringify(id)}: 1–20 of a-z, 0-9 and '-', starting with a letter and not ending with '-'`);
  return id;
}

/** Engine names of one class: `dockercoins-redis`, `dockercoins-acme-rng`, `dockercoins-acme-worker-2`, … */
export function namesOf(classId: string) {
  return {
    redis: `${classId}-redis`,
    redisVolume: `${classId}-redis-data`,
    network: (tenant: string) => `${classId}-${tenant}`,
    container: (tenant: string, service: Exclude<TenantService, 'worker'>) => `${classId}-${tenant}-${service}`,
    worker: (tenant: string, index: number) => `${classId}-${tenant}-worker-${index}`,
  };
}
