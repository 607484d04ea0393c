// The one table of configuration: every environment variable, once — name, default, parser, one-line doc.
// Nothing else reads process.env. Each service gets its typed section; a bad value throws ConfigError naming the
// variable, which entry points turn into exit code 2. Defaults reproduce the original DockerCoins exactly.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname as osHostname } from 'node:os';
import { FAULT_LATENCY_LIMIT, type FaultSettings } from './telemetry.js';

export type { FaultSettings };

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
export type SigtermMode = 'graceful' | 'ignore';

// ---- parsers: (raw text, variable name) → value, or ConfigError naming the variable -------------------------

type Parse<T> = (raw: string, name: string) => T;

export const integer =
  (min = 0, max = Number.MAX_SAFE_INTEGER): Parse<number> =>
  (raw, name) => {
    if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number >= ${min}, got ${JSON.stringify(raw)}`);
    const value = Number(raw);
    if (value < min || value > max) throw new ConfigError(name, `expected a number between ${min} and ${max}, got ${raw}`);
    return value;
  };

export const fraction: Parse<number> = (raw, name) => {
  const value = Number(raw);
  if (!/^(0|1|0?\.\d+|1\.0+)$/.test(raw) || !(value >= 0 && value <= 1)) {
    throw new ConfigError(name, `expected a fraction between 0 and 1, got ${JSON.stringify(raw)}`);
  }
  return value;
};

export const bool: Parse<boolean> = (raw, name) => {
  const v = raw.toLowerCase();
  if (['1', 'true', 'yes', 'on', 'y'].includes(v)) return true;
  if (['0', 'false', 'no', 'off', 'n'].includes(v)) return false;
  throw new ConfigError(name, `expected on/off (true/false, 1/0), got ${JSON.stringify(raw)}`);
};

const oneOf =
  <T extends string>(allowed: readonly T[]): Parse<T> =>
  (raw, name) => {
    const value = raw.toLowerCase();
    if (!(allowed as readonly string[]).includes(value)) {
      throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
    }
    return value as T;
  };

const urlList =
  (protocols: string[]): Parse<string[]> =>
  (raw, name) => {
    const urls = raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
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
  };

const oneUrl =
  (protocols: string[]): Parse<string> =>
  (raw, name) => {
    const [first, ...more] = urlList(protocols)(raw, name);
    if (more.length > 0) throw new ConfigError(name, 'expected one URL, got a list');
    return first!;
  };

const pattern =
  (re: RegExp, what: string): Parse<string> =>
  (raw, name) => {
    if (!re.test(raw)) throw new ConfigError(name, `expected ${what}, got ${JSON.stringify(raw)}`);
    return raw;
  };

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$/;
const listenAddress: Parse<string> = (raw, name) => {
  if (isIP(raw) || HOSTNAME_RE.test(raw)) return raw;
  throw new ConfigError(name, `expected an IP address or a host name, got ${JSON.stringify(raw)}`);
};

/** A secret: 8 to 256 visible ASCII characters, no spaces. */
const token: Parse<string> = (raw, name) => {
  if (!/^[\x21-\x7e]{8,256}$/.test(raw)) throw new ConfigError(name, 'expected 8 to 256 visible characters without spaces (the value is not shown)');
  return raw;
};

const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
const SAMPLERS = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;
export type Sampler = (typeof SAMPLERS)[number];

const otlpUrl: Parse<string> = (raw, name) => oneUrl(['http:', 'https:'])(raw, name);

/** `key=value,key2=value2`, values percent-decoded (the OpenTelemetry variables' list format). */
const keyValues: Parse<Record<string, string>> = (raw, name) => {
  const out: Record<string, string> = {};
  for (const item of raw.split(',')) {
    if (item.trim() === '') continue;
    const eq = item.indexOf('=');
    const key = item.slice(0, eq).trim();
    if (eq <= 0 || key === '') throw new ConfigError(name, `expected key=value pairs separated by commas, got ${JSON.stringify(item.slice(0, 40))}`);
    try {
      out[key] = decodeURIComponent(item.slice(eq + 1).trim());
    } catch {
      throw new ConfigError(name, `${key}: not a valid percent-encoded value`);
    }
  }
  return out;
};

/** The original turned on debug logs with DEBUG=y (anything starting with y, 1, t or on); anything else is off. */
const debugFlag: Parse<boolean> = (raw) => /^(y|1|t|on)/i.test(raw);

// ---- the table ---------------------------------------------------------------------------------------------

export interface Variable<T> {
  readonly default: T;
  readonly parse: Parse<T>;
  readonly doc: string;
  /** The default as the README shows it (markdown). */
  readonly shown: string;
  /** A value the parser must refuse (tried by the tests); null for free text that cannot be wrong. */
  readonly garbage: string | null;
}

function v<T>(fallback: T, parse: Parse<T>, doc: string, garbage: string | null, shown?: string): Variable<T> {
  const text = shown ?? `\`${Array.isArray(fallback) ? fallback.join(',') : String(fallback)}\``;
  return { default: fallback, parse, doc, shown: text, garbage };
}

const ms = (max = 600_000) => integer(0, max);
/** The longest delay Node's timers keep (2^31−1 ms, ~24.8 days): a longer one fires after 1 ms. */
export const TIMER_MAX_MS = 2 ** 31 - 1;
const timeout = () => integer(1, TIMER_MAX_MS);

export const VARIABLES = {
  PORT: v(80, integer(0, 65_535), 'listen port of rng, hasher, webui (0 = any free port, logged)', 'eighty'),
  HOST: v('::', listenAddress, 'listen address (`::` = all, dual stack; falls back to `0.0.0.0` without IPv6)', 'not a host!'),
  HOSTNAME: v(
    osHostname(),
    pattern(HOSTNAME_RE, 'a host name'),
    'the name in banners and `x-served-by` (set by Docker and Kubernetes)',
    'bad name!',
    'the host name',
  ),
  REDIS_URL: v(
    'redis://redis:6379',
    oneUrl(['redis:', 'rediss:']),
    'Redis for worker and webui; `redis://:password@host:port/db` and `rediss://` (TLS) work',
    'http://x',
  ),
  REDIS_TIMEOUT_MS: v(2000, timeout(), 'timeout of one Redis command and of a connection attempt', '-1'),
  DOCKERCOINS_NAMESPACE: v(
    '',
    pattern(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, "letters, digits, '.', '_' or '-' (max 63)"),
    'tenant key prefix: `acme` → `acme:hashes`, `acme:wallet`',
    'a b',
    'empty',
  ),
  RNG_URL: v(['http://rng'], urlList(['http:']), 'where the worker finds rng; a comma-separated list is allowed', 'ftp://rng'),
  HASHER_URL: v(['http://hasher'], urlList(['http:']), 'where the worker finds hasher; a comma-separated list is allowed', 'hasher'),
  WEBUI_URL: v('', oneUrl(['http:', 'https:']), '`dockercoins doctor` also checks the webui there (e.g. `http://webui`)', 'webui', 'unset'),
  RNG_DELAY_MS: v(100, ms(), "rng's deliberate sleep per request", '0.5'),
  HASHER_DELAY_MS: v(100, ms(), "hasher's deliberate sleep per request", 'slow'),
  WORKER_DELAY_MS: v(builtWorkerDelay(), ms(), "the worker's sleep before each unit (the v0.2 image: 1 s)", '-100', '`100`'),
  RNG_CONCURRENCY: v(1, integer(0, 1_000_000), 'requests rng serves at once (0 = unlimited)', 'one'),
  RNG_QUEUE_LIMIT: v(10_000, integer(0, 1_000_000), "requests allowed to wait in rng's queue before it answers 503 (0 = unlimited)", 'x'),
  HASHER_CONCURRENCY: v(0, integer(0, 1_000_000), 'requests hasher serves at once (0 = unlimited)', '1.5'),
  RNG_BYTES: v(32, integer(1, 1 << 30), 'bytes the worker asks for (at most `RNG_MAX_BYTES`)', '0'),
  RNG_MAX_BYTES: v(1_048_576, integer(0, 1 << 30), 'largest `GET /<n>` rng serves (else 413)', '1MB'),
  HASHER_MAX_BYTES: v(1_048_576, integer(0, 1 << 30), 'largest body hasher hashes (else 413)', '-1'),
  WORKER_CONCURRENCY: v(1, integer(1, 1024), 'work loops in one worker process (each counts, flushes and publishes on its own)', '0'),
  FLUSH_INTERVAL_MS: v(1000, integer(1, 3_600_000), 'how often the worker adds to `hashes`', '0'),
  HTTP_TIMEOUT_MS: v(30_000, timeout(), "the worker's timeout for one rng or hasher call", '0'),
  RETRY_MAX_MS: v(5000, timeout(), "cap of the worker's exponential back-off (200 ms, 400 ms, … with jitter)", 'soon'),
  METRICS_PORT: v(0, integer(0, 65_535), "the worker's admin listener: `/healthz`, `/readyz`, `/metrics` (0 = off)", '99999', '`0` (off)'),
  DRAIN_MS: v(5000, ms(), 'on SIGTERM, how long a service keeps serving with readiness failing', '5s', '`5000` (`0` under `npm start`)'),
  SHUTDOWN_TIMEOUT_MS: v(8000, integer(1, 600_000), 'hard deadline from SIGTERM to exit', '0'),
  SIGTERM_MODE: v<SigtermMode>(
    'graceful',
    oneOf(['graceful', 'ignore'] as const),
    '`ignore`: a service (rng, hasher, webui, worker) ignores SIGTERM and says so, as the original did — the rollout lesson (SIGINT still stops it)',
    'never',
  ),
  WALLET_MAX: v(
    0,
    integer(0, 100_000_000),
    'keep only the newest N coins in `wallet` (0 = all, the original); `/json` `coins` still counts every coin found',
    '-1',
    '`0` (`10000` under `--turbo`)',
  ),
  COIN_DIFFICULTY: v(1, integer(1, 64), 'leading zero hex digits that make a hash a coin (1 = the original: 1 in 16)', '0'),
  LIVENESS_MODE: v<LivenessMode>(
    'cheap',
    oneOf(['cheap', 'naive'] as const),
    "`naive`: rng's `/healthz` waits in rng's queue, the trap the workshop slides show",
    'smart',
  ),
  ADMIN_ROUTES: v(true, bool, '`off` removes `/admin/faults`', 'maybe', '`on`'),
  ADMIN_TOKEN: v(
    '',
    token,
    'when set, every admin call (`/admin/*`, `POST /api/lab`) needs `Authorization: Bearer <token>`; unset: loopback clients only',
    'short',
    'unset',
  ),
  LAB_TOKEN: v('', token, 'another name for `ADMIN_TOKEN` (the lab was first to have one)', 'has space', 'unset'),
  LAB: v(
    false,
    bool,
    "`on`: a standalone webui serves the lab's `/api/lab` (read-only: it cannot scale what an orchestrator runs); `dockercoins up` always does",
    'sometimes',
    '`off`',
  ),
  FAULT_LATENCY_MS: v(0, ms(FAULT_LATENCY_LIMIT.max), 'fault injection at start: latency added to every request', 'lots'),
  FAULT_ERROR_RATE: v(0, fraction, 'fault injection at start: share of requests answered 500', '2'),
  FAULT_HANG_RATE: v(0, fraction, 'fault injection at start: share of requests never answered', '-0.1'),
  FAULT_UNREADY: v(false, bool, 'fault injection at start: readiness fails', 'sometimes', '`off`'),
  LOG_LEVEL: v<LogLevel>('info', oneOf(LOG_LEVELS), '`trace` … `fatal`, `silent`', 'loud'),
  DEBUG: v(false, debugFlag, '`DEBUG=y` means `LOG_LEVEL=debug` when `LOG_LEVEL` is unset, as in the original', null, 'empty'),
  ACCESS_LOG: v(true, bool, 'one log line per request (`off` under `--turbo` unless set: at 15,000 requests/s the log would be the work)', 'loud', '`on`'),
  LOG_FORMAT: v<LogFormat>(
    'pretty',
    oneOf(['pretty', 'json'] as const),
    '`pretty`: one line per event prefixed with the service; `json`: pino JSON lines',
    'xml',
  ),
  WEBUI_PORT: v(8000, integer(0, 65_535), 'webui port under `npm start` / `dockercoins up` (0 = any free port)', 'http'),
  RNG_PORT: v(8001, integer(0, 65_535), 'first rng port under `npm start` / `dockercoins up`', '-2'),
  HASHER_PORT: v(8002, integer(0, 65_535), 'first hasher port under `npm start` / `dockercoins up`', '65536'),
  TURBO_THREADS: v(0, integer(0, 8), 'threads the work loops share under `dockercoins up --turbo` (0 = by cores: cores − 2, 1 to 4)', '9'),
  DOCKERCOINS_VERSION: v(
    '',
    pattern(/^[\w.+-]{0,64}$/, 'a version tag'),
    'the version shown in `x-dockercoins-version` (the image sets it from its tag; else package.json)',
    'v 1',
    'package.json',
  ),
  HEALTHCHECK_PORT: v(0, integer(0, 65_535), "port the image's HEALTHCHECK probes (0 = `METRICS_PORT`, else `PORT`)", 'port', '`0`'),
  // Tracing: the OpenTelemetry SDK's own variables, with the specification's meaning. Off unless an endpoint is set.
  OTEL_SDK_DISABLED: v(false, bool, '`true` turns tracing off whatever else is set', 'perhaps', '`false`'),
  OTEL_EXPORTER_OTLP_ENDPOINT: v(
    '',
    otlpUrl,
    'OTLP/HTTP collector base URL; traces go to `<it>/v1/traces` (tracing is off without an endpoint)',
    'collector:4318',
    'unset',
  ),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: v('', otlpUrl, 'the traces URL itself, used as given (wins over the base URL)', 'ftp://x', 'unset'),
  OTEL_EXPORTER_OTLP_PROTOCOL: v<OtlpProtocol>('http/protobuf', oneOf(OTLP_PROTOCOLS), '`http/protobuf` or `http/json` (gRPC is not offered)', 'grpc'),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: v<OtlpProtocol | ''>('', oneOf(['', ...OTLP_PROTOCOLS]), 'the same, for traces only (wins)', 'thrift', 'unset'),
  OTEL_EXPORTER_OTLP_HEADERS: v<Record<string, string>>(
    {},
    keyValues,
    'headers for the collector: `key=value,key2=value2` (values percent-encoded)',
    'novalue',
    'none',
  ),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: v<Record<string, string>>({}, keyValues, 'the same, for traces only (added to them)', '=x', 'none'),
  OTEL_EXPORTER_OTLP_TIMEOUT: v(10_000, integer(1, 600_000), 'ms an export may take', 'soon'),
  OTEL_SERVICE_NAME: v(
    '',
    pattern(/^[\x21-\x7e][\x20-\x7e]{0,127}$/, 'a service name'),
    "a standalone service's `service.name` (default: rng, hasher, worker or webui)",
    'a\tb',
    'the service',
  ),
  OTEL_RESOURCE_ATTRIBUTES: v<Record<string, string>>(
    {},
    keyValues,
    'more resource attributes: `key=value,…` (e.g. `deployment.environment=workshop`)',
    'k',
    'none',
  ),
  OTEL_TRACES_SAMPLER: v<Sampler>('parentbased_always_on', oneOf(SAMPLERS), SAMPLERS.map((s) => `\`${s}\``).join(', '), 'sometimes'),
  OTEL_TRACES_SAMPLER_ARG: v(1, fraction, 'the ratio of `traceidratio` samplers, 0 to 1', '2', '`1`'),
  OTEL_BSP_SCHEDULE_DELAY: v(5000, integer(0, 600_000), 'ms between two exports of finished spans', 'later'),
  OTEL_BSP_EXPORT_TIMEOUT: v(30_000, integer(1, 600_000), 'ms an export batch may take', '0'),
  OTEL_BSP_MAX_QUEUE_SIZE: v(
    2048,
    integer(1, 1_000_000),
    'spans waiting for export at most; more are dropped and counted (`dockercoins_tracing_spans_total{outcome="dropped"}`)',
    '0',
  ),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: v(512, integer(1, 1_000_000), 'spans per export at most', 'all'),
  TRACING_UI_URL: v('', otlpUrl, 'a trace viewer (Jaeger: `http://localhost:16686`): the dashboard links to the slowest recent units there', 'jaeger', 'unset'),
} as const satisfies Record<string, Variable<unknown>>;

export type VariableName = keyof typeof VARIABLES;
type Values = { -readonly [K in VariableName]: (typeof VARIABLES)[K]['default'] };

/** The commands of the CLI, as far as the configuration is concerned. */
export type Command = 'up' | 'scale' | 'rng' | 'hasher' | 'worker' | 'webui' | 'doctor' | 'healthcheck';

/**
 * Variables only some commands use; the others never read them. `RNG_PORT`, `HASHER_PORT` and `WEBUI_PORT` are also
 * the names Kubernetes gives the Service links of Services rng, hasher and webui (`RNG_PORT=tcp://10.96.0.12:80`):
 * a standalone service must not even look at them.
 */
const ONLY_FOR: Partial<Record<VariableName, readonly Command[]>> = {
  WEBUI_PORT: ['up', 'scale'],
  RNG_PORT: ['up'],
  HASHER_PORT: ['up'],
  TURBO_THREADS: ['up'],
};

/** A Kubernetes Service link (`tcp://10.96.0.12:80`) in a `*PORT` variable: an address, not a port setting. */
const SERVICE_LINK_RE = /^(tcp|udp|sctp):\/\//i;

/**
 * Reads the variables of the table `command` uses (all of them without a command); a value that is empty or only
 * spaces means the default, and so does a Kubernetes Service link in a port variable.
 */
export function readVariables(env: Env, command?: Command): { values: Values; given: ReadonlySet<VariableName> } {
  const values = {} as Record<string, unknown>;
  const given = new Set<VariableName>();
  for (const [name, variable] of Object.entries(VARIABLES) as [VariableName, Variable<unknown>][]) {
    const users = ONLY_FOR[name];
    const read = command === undefined || users === undefined || users.includes(command);
    let raw = read ? env[name]?.trim() : undefined;
    if (raw !== undefined && name.endsWith('PORT') && SERVICE_LINK_RE.test(raw)) raw = undefined;
    if (raw === undefined || raw === '') {
      values[name] = variable.default;
    } else {
      values[name] = variable.parse(raw, name);
      given.add(name);
    }
  }
  return { values: values as Values, given };
}

// ---- the typed sections each part of the system receives ---------------------------------------------------

export interface LogSettings {
  level: LogLevel;
  format: LogFormat;
  hostname: string;
  /** Tracing is on: lines carry trace_id and span_id. */
  traced: boolean;
}

/** Tracing (OpenTelemetry): `enabled` only with an endpoint and OTEL_SDK_DISABLED unset. */
export interface TracingSettings {
  enabled: boolean;
  url: string;
  protocol: OtlpProtocol;
  headers: Record<string, string>;
  timeoutMs: number;
  /** OTEL_SERVICE_NAME, '' when unset. */
  serviceName: string;
  resource: Record<string, string>;
  sampler: Sampler;
  ratio: number;
  batch: { scheduledDelayMillis: number; exportTimeoutMillis: number; maxQueueSize: number; maxExportBatchSize: number };
  /** A trace viewer the dashboard links to, '' when unset. */
  uiUrl: string;
}

/** What every HTTP service shares: where it listens, how it stops, its admin routes. */
export interface ServerSettings {
  /** Shown in x-dockercoins-version. */
  version: string;
  port: number;
  host: string;
  hostname: string;
  drainMs: number;
  shutdownTimeoutMs: number;
  /** `ignore`: SIGTERM does nothing (the original's flaw, for the rollout lesson). */
  sigtermMode: SigtermMode;
  adminRoutes: boolean;
  /** One info line per request. */
  accessLog: boolean;
  /** '' = none: admin calls from loopback clients only. */
  adminToken: string;
  faults: FaultSettings;
}

export interface RngSettings {
  delayMs: number;
  concurrency: number;
  queueLimit: number;
  maxBytes: number;
  liveness: LivenessMode;
}

export interface HasherSettings {
  delayMs: number;
  concurrency: number;
  maxBytes: number;
}

export interface WorkerSettings {
  rngUrls: string[];
  hasherUrls: string[];
  delayMs: number;
  loops: number;
  rngBytes: number;
  /** Leading '0' hex digits that make a hash a coin. */
  coinDifficulty: number;
  flushIntervalMs: number;
  httpTimeoutMs: number;
  retryMaxMs: number;
  /** Used to bound the loop's liveness: a unit can legitimately wait this long on Redis. */
  redisTimeoutMs: number;
  metricsPort: number;
  hostname: string;
}

export interface LedgerSettings {
  url: string;
  namespace: string;
  timeoutMs: number;
  /** Keep the newest N coins in `wallet`; 0 = all. */
  walletMax: number;
}

/** The all-in-one's ports. */
export interface UpSettings {
  webuiPort: number;
  rngPort: number;
  hasherPort: number;
  /** Threads of work loops under --turbo; 0 = by cores. */
  turboThreads: number;
}

export interface Config {
  server: ServerSettings;
  log: LogSettings;
  rng: RngSettings;
  hasher: HasherSettings;
  worker: WorkerSettings;
  ledger: LedgerSettings;
  up: UpSettings;
  tracing: TracingSettings;
  healthcheckPort: number;
  /** A standalone webui serves /api/lab (read-only). */
  lab: boolean;
  /** WEBUI_URL: where `doctor` checks the webui ('' = not). */
  webuiUrl: string;
  /** Variables the environment set explicitly (some defaults differ under `dockercoins up`). */
  given: ReadonlySet<VariableName>;
}

/** The configuration of `command` (every variable checked without one). */
export function loadConfig(env: Env = process.env, command?: Command): Config {
  const { values: x, given } = readVariables(env, command);
  if (x.ADMIN_TOKEN && x.LAB_TOKEN && x.ADMIN_TOKEN !== x.LAB_TOKEN)
    throw new ConfigError('LAB_TOKEN', 'differs from ADMIN_TOKEN: set one of them (they name the same token)');
  if (x.RNG_BYTES > x.RNG_MAX_BYTES) throw new ConfigError('RNG_BYTES', `expected at most RNG_MAX_BYTES (${x.RNG_MAX_BYTES}), got ${x.RNG_BYTES}`);
  const tracesUrl = x.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (x.OTEL_EXPORTER_OTLP_ENDPOINT ? `${x.OTEL_EXPORTER_OTLP_ENDPOINT}/v1/traces` : '');
  const tracing: TracingSettings = {
    enabled: !x.OTEL_SDK_DISABLED && tracesUrl !== '',
    url: tracesUrl,
    protocol: x.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || x.OTEL_EXPORTER_OTLP_PROTOCOL,
    headers: { ...x.OTEL_EXPORTER_OTLP_HEADERS, ...x.OTEL_EXPORTER_OTLP_TRACES_HEADERS },
    timeoutMs: x.OTEL_EXPORTER_OTLP_TIMEOUT,
    serviceName: x.OTEL_SERVICE_NAME,
    resource: { ...x.OTEL_RESOURCE_ATTRIBUTES },
    sampler: x.OTEL_TRACES_SAMPLER,
    ratio: x.OTEL_TRACES_SAMPLER_ARG,
    batch: {
      scheduledDelayMillis: x.OTEL_BSP_SCHEDULE_DELAY,
      exportTimeoutMillis: x.OTEL_BSP_EXPORT_TIMEOUT,
      maxQueueSize: x.OTEL_BSP_MAX_QUEUE_SIZE,
      maxExportBatchSize: Math.min(x.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, x.OTEL_BSP_MAX_QUEUE_SIZE),
    },
    uiUrl: x.TRACING_UI_URL,
  };
  const logLevel = x.DEBUG && !given.has('LOG_LEVEL') ? 'debug' : x.LOG_LEVEL;
  return {
    server: {
      version: x.DOCKERCOINS_VERSION || packageVersion(),
      port: x.PORT,
      host: x.HOST,
      hostname: x.HOSTNAME,
      drainMs: x.DRAIN_MS,
      shutdownTimeoutMs: x.SHUTDOWN_TIMEOUT_MS,
      sigtermMode: x.SIGTERM_MODE,
      adminRoutes: x.ADMIN_ROUTES,
      accessLog: x.ACCESS_LOG,
      adminToken: x.ADMIN_TOKEN || x.LAB_TOKEN,
      faults: { latencyMs: x.FAULT_LATENCY_MS, errorRate: x.FAULT_ERROR_RATE, hangRate: x.FAULT_HANG_RATE, unready: x.FAULT_UNREADY },
    },
    log: { level: logLevel, format: x.LOG_FORMAT, hostname: x.HOSTNAME, traced: tracing.enabled },
    rng: { delayMs: x.RNG_DELAY_MS, concurrency: x.RNG_CONCURRENCY, queueLimit: x.RNG_QUEUE_LIMIT, maxBytes: x.RNG_MAX_BYTES, liveness: x.LIVENESS_MODE },
    hasher: { delayMs: x.HASHER_DELAY_MS, concurrency: x.HASHER_CONCURRENCY, maxBytes: x.HASHER_MAX_BYTES },
    worker: {
      rngUrls: [...x.RNG_URL],
      hasherUrls: [...x.HASHER_URL],
      delayMs: x.WORKER_DELAY_MS,
      loops: x.WORKER_CONCURRENCY,
      rngBytes: x.RNG_BYTES,
      coinDifficulty: x.COIN_DIFFICULTY,
      flushIntervalMs: x.FLUSH_INTERVAL_MS,
      httpTimeoutMs: x.HTTP_TIMEOUT_MS,
      retryMaxMs: x.RETRY_MAX_MS,
      redisTimeoutMs: x.REDIS_TIMEOUT_MS,
      metricsPort: x.METRICS_PORT,
      hostname: x.HOSTNAME,
    },
    ledger: { url: x.REDIS_URL, namespace: x.DOCKERCOINS_NAMESPACE, timeoutMs: x.REDIS_TIMEOUT_MS, walletMax: x.WALLET_MAX },
    up: { webuiPort: x.WEBUI_PORT, rngPort: x.RNG_PORT, hasherPort: x.HASHER_PORT, turboThreads: x.TURBO_THREADS },
    tracing,
    lab: x.LAB,
    webuiUrl: x.WEBUI_URL,
    healthcheckPort: x.HEALTHCHECK_PORT || x.METRICS_PORT || x.PORT,
    given,
  };
}

declare const __DOCKERCOINS_PACKAGE_VERSION__: string | undefined;
declare const __DOCKERCOINS_WORKER_DELAY_MS__: number | undefined;

/** The worker's default first sleep: 100 ms, as the original; a release built with another (v0.2: 1 s) says so. */
function builtWorkerDelay(): number {
  return typeof __DOCKERCOINS_WORKER_DELAY_MS__ === 'number' ? __DOCKERCOINS_WORKER_DELAY_MS__ : 100;
}

/** package.json's version (set into the bundle at build time): what x-dockercoins-version says unless DOCKERCOINS_VERSION is set. */
export function packageVersion(): string {
  if (typeof __DOCKERCOINS_PACKAGE_VERSION__ === 'string') return __DOCKERCOINS_PACKAGE_VERSION__;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Key prefix for a tenant: '' or 'acme:'. */
export function keyPrefix(namespace: string): string {
  return namespace ? `${namespace}:` : '';
}

/** The README's configuration table, generated from VARIABLES (a test keeps the README equal to it). */
export function configurationTable(): string {
  const rows = Object.entries(VARIABLES).map(([name, v]) => `| \`${name}\` | ${v.shown} | ${v.doc} |`);
  return ['| variable | default | meaning |', '|---|---|---|', ...rows].join('\n');
}
