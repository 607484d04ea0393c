// One typed schema for the environment. Defaults reproduce the original DockerCoins exactly.
// A bad value throws ConfigError naming the variable; entry points turn it into exit code 2.
import { hostname as osHostname } from 'node:os';

export type Env = Record<string, string | undefined>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
    this.name = 'ConfigError';
  }
}

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'pretty' | 'json';
export type LivenessMode = 'cheap' | 'naive';

export interface Config {
  port: number;
  host: string;
  redisUrl: string;
  rngUrls: string[];
  hasherUrls: string[];
  rngDelayMs: number;
  hasherDelayMs: number;
  workerDelayMs: number;
  workerConcurrency: number;
  rngConcurrency: number;
  hasherConcurrency: number;
  rngQueueLimit: number;
  rngBytes: number;
  rngMaxBytes: number;
  hasherMaxBytes: number;
  flushIntervalMs: number;
  namespace: string;
  logLevel: LogLevel;
  logFormat: LogFormat;
  httpTimeoutMs: number;
  redisTimeoutMs: number;
  retryMaxMs: number;
  metricsPort: number;
  drainMs: number;
  shutdownTimeoutMs: number;
  livenessMode: LivenessMode;
  adminRoutes: boolean;
  faults: FaultSettings;
  hostname: string;
}

export interface FaultSettings {
  latencyMs: number;
  errorRate: number;
  hangRate: number;
  unready: boolean;
}

export function integer(env: Env, name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const text = raw.trim();
  if (!/^\d+$/.test(text)) throw new ConfigError(name, `expected a whole number >= ${min}, got ${JSON.stringify(raw)}`);
  const value = Number(text);
  if (value < min || value > max) throw new ConfigError(name, `expected a number between ${min} and ${max}, got ${text}`);
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim().toLowerCase();
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return value as T;
}

function urlList(env: Env, name: string, fallback: string, protocols: string[]): string[] {
  const raw = env[name];
  const text = raw === undefined || raw.trim() === '' ? fallback : raw;
  const urls = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (urls.length === 0) throw new ConfigError(name, 'expected at least one URL');
  return urls.map((u) => {
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      throw new ConfigError(name, `not a URL: ${JSON.stringify(u)}`);
    }
    if (!protocols.includes(parsed.protocol)) {
      throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL, got ${JSON.stringify(parsed.protocol)}`);
    }
    return u.replace(/\/+$/, '');
  });
}

export function fraction(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const text = raw.trim();
  const value = Number(text);
  if (!/^(0|1|0?\.\d+|1\.0+)$/.test(text) || !(value >= 0 && value <= 1)) {
    throw new ConfigError(name, `expected a fraction between 0 and 1, got ${JSON.stringify(raw)}`);
  }
  return value;
}

export function bool(raw: string | undefined, name: string, fallback: boolean): boolean {
  if (raw === undefined || raw.trim() === '') return fallback;
  const v = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on', 'y'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', 'n'].includes(v)) return false;
  throw new ConfigError(name, `expected on/off (true/false, 1/0), got ${JSON.stringify(raw)}`);
}

function logLevel(env: Env): LogLevel {
  const debug = env.DEBUG?.trim().toLowerCase();
  const level = oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info');
  // The original turned on debug logs with DEBUG=y (or anything starting with y/1/t).
  if (debug && /^(y|1|t|on)/.test(debug) && (env.LOG_LEVEL === undefined || env.LOG_LEVEL === '')) return 'debug';
  return level;
}

function namespace(env: Env): string {
  const raw = (env.DOCKERCOINS_NAMESPACE ?? '').trim();
  if (raw === '') return '';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(raw)) {
    throw new ConfigError('DOCKERCOINS_NAMESPACE', `expected letters, digits, '.', '_' or '-' (max 63), got ${JSON.stringify(raw)}`);
  }
  return raw;
}

export function loadConfig(env: Env = process.env): Config {
  const rngMaxBytes = integer(env, 'RNG_MAX_BYTES', 1_048_576, 0, 1 << 30);
  return {
    port: integer(env, 'PORT', 80, 0, 65_535),
    host: env.HOST?.trim() || '::',
    redisUrl: urlList(env, 'REDIS_URL', 'redis://redis:6379', ['redis:', 'rediss:'])[0]!,
    rngUrls: urlList(env, 'RNG_URL', 'http://rng', ['http:']),
    hasherUrls: urlList(env, 'HASHER_URL', 'http://hasher', ['http:']),
    rngDelayMs: integer(env, 'RNG_DELAY_MS', 100, 0, 600_000),
    hasherDelayMs: integer(env, 'HASHER_DELAY_MS', 100, 0, 600_000),
    workerDelayMs: integer(env, 'WORKER_DELAY_MS', 100, 0, 600_000),
    workerConcurrency: integer(env, 'WORKER_CONCURRENCY', 1, 1, 1024),
    rngConcurrency: integer(env, 'RNG_CONCURRENCY', 1),
    hasherConcurrency: integer(env, 'HASHER_CONCURRENCY', 0),
    rngQueueLimit: integer(env, 'RNG_QUEUE_LIMIT', 10_000),
    rngBytes: integer(env, 'RNG_BYTES', 32, 1, rngMaxBytes),
    rngMaxBytes,
    hasherMaxBytes: integer(env, 'HASHER_MAX_BYTES', 1_048_576, 0, 1 << 30),
    flushIntervalMs: integer(env, 'FLUSH_INTERVAL_MS', 1000, 1, 3_600_000),
    namespace: namespace(env),
    logLevel: logLevel(env),
    logFormat: oneOf(env, 'LOG_FORMAT', ['pretty', 'json'] as const, 'pretty'),
    httpTimeoutMs: integer(env, 'HTTP_TIMEOUT_MS', 30_000, 1),
    redisTimeoutMs: integer(env, 'REDIS_TIMEOUT_MS', 2000, 1),
    retryMaxMs: integer(env, 'RETRY_MAX_MS', 5000, 1),
    metricsPort: integer(env, 'METRICS_PORT', 0, 0, 65_535),
    drainMs: integer(env, 'DRAIN_MS', 5000, 0, 600_000),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 8000, 1, 600_000),
    livenessMode: oneOf(env, 'LIVENESS_MODE', ['cheap', 'naive'] as const, 'cheap'),
    adminRoutes: bool(env.ADMIN_ROUTES, 'ADMIN_ROUTES', true),
    faults: {
      latencyMs: integer(env, 'FAULT_LATENCY_MS', 0, 0, 600_000),
      errorRate: fraction(env.FAULT_ERROR_RATE, 'FAULT_ERROR_RATE', 0),
      hangRate: fraction(env.FAULT_HANG_RATE, 'FAULT_HANG_RATE', 0),
      unready: bool(env.FAULT_UNREADY, 'FAULT_UNREADY', false),
    },
    hostname: env.HOSTNAME?.trim() || osHostname(),
  };
}


/** Key prefix for a tenant: '' or 'acme:'. */
export function keyPrefix(namespace: string): string {
  return namespace ? `${namespace}:` : '';
}
