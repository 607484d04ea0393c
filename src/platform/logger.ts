// Logging: pino everywhere. LOG_FORMAT=json writes pino's JSON lines; LOG_FORMAT=pretty (default) writes one
// human line per event, prefixed with the service name, like `docker-compose logs` shows the original.
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogFormat, LogLevel, LogSettings } from '../config.js';
import { traceFields } from './tracing.js';

export type { Logger };

const LABELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

let prefixWidth = 6;
/** Align the `service |` prefixes of all services sharing one stdout (the all-in-one `up`). */
export function setPrefixWidth(width: number): void {
  prefixWidth = Math.max(prefixWidth, width);
}

export function getPrefixWidth(): number {
  return prefixWidth;
}

interface LogLine {
  time: number;
  level: number;
  svc?: string;
  msg?: string;
  err?: { message?: string };
  trace_id?: string;
}

export function formatPretty(line: string): string {
  let o: LogLine;
  try {
    o = JSON.parse(line) as LogLine;
  } catch {
    return line.endsWith('\n') ? line : `${line}\n`;
  }
  const err = o.err?.message && !o.msg?.includes(o.err.message) ? `: ${o.err.message}` : '';
  const trace = o.trace_id ? ` trace=${o.trace_id}` : '';
  return prettyLine(o.svc ?? '', o.time, o.level, `${o.msg ?? ''}${err}${trace}`);
}

function prettyLine(svc: string, time: number, level: number, msg: string): string {
  return `${svc.padEnd(prefixWidth)} | ${new Date(time).toISOString().slice(11, 23)} ${(LABELS[level] ?? String(level)).padEnd(5)} ${msg}\n`;
}

/** Pretty loggers and where they write, for the access line's shortcut. */
const pretty = new WeakMap<Logger, { svc: string; out: { write(s: string): unknown } }>();

/**
 * One access line at info. A pretty logger writes it straight to its output, formatted as formatPretty would: no
 * JSON written by pino and read back for one line per request (rng with its access log on goes 20 % faster).
 */
export function logAccess(logger: Logger, line: Record<string, unknown> & { trace_id?: string }, msg: string): void {
  const p = pretty.get(logger);
  if (p) p.out.write(prettyLine(p.svc, Date.now(), 30, line.trace_id ? `${msg} trace=${line.trace_id}` : msg));
  else logger.info(line, msg);
}

function prettyStream(out: { write(s: string): unknown }): DestinationStream {
  return { write: (line: string) => void out.write(formatPretty(line)) };
}

let stdout: { write(line: string): boolean; flush(): void } | undefined;
/**
 * Standard output for every logger of this process (or thread): lines are gathered and written a few kilobytes at
 * a time — one system call for dozens of access lines under load — at most every 100 ms; a line after a quiet 100 ms
 * is written at the end of the event-loop turn that made it (no wake-up of its own: at the workshop's pace every
 * line comes alone), and whatever is left is written when the process exits, so the last lines are never lost. Writes are synchronous and
 * at most 4 KB, line aligned: a pipe takes each whole, so lines from several threads never interleave.
 * The gathering is ours, not sonic-boom's: its periodicFlush wakes the process ten times a second even with nothing
 * to write, and each of its flushes is an fsync (on a log file, ~5 ms each: most of what rng cost at the workshop's pace).
 */
function stdoutDestination(): NonNullable<typeof stdout> {
  if (!stdout) {
    const dest = pino.destination({ dest: 1, sync: true, minLength: 0, maxWrite: 4096 });
    let pending = '';
    let timer: NodeJS.Timeout | undefined;
    let immediate: NodeJS.Immediate | undefined;
    let lastWrite = 0;
    const flush = () => {
      clearTimeout(timer);
      clearImmediate(immediate);
      timer = immediate = undefined;
      if (!pending) return;
      const lines = pending;
      pending = '';
      lastWrite = performance.now();
      dest.write(lines);
    };
    stdout = {
      write(line: string): boolean {
        pending += line;
        if (pending.length >= 2048) flush();
        else if (!timer && !immediate) {
          const wait = lastWrite + 100 - performance.now();
          if (wait > 0) timer = setTimeout(flush, wait).unref();
          else immediate = setImmediate(flush).unref();
        }
        return true;
      },
      flush,
    };
    process.once('exit', flush);
  }
  return stdout;
}

/** Writes out what the loggers hold (before a process.exit that 'exit' handlers would also cover). */
export function flushLogs(): void {
  stdout?.flush();
}

export function createLogger(opts: {
  service: string;
  level: LogLevel;
  format: LogFormat;
  hostname: string;
  traced?: boolean;
  out?: NodeJS.WritableStream;
}): Logger {
  const out = opts.out ?? stdoutDestination();
  const stream = opts.format === 'pretty' ? prettyStream(out) : (out as DestinationStream);
  const logger = pino(
    {
      level: opts.level,
      base: { svc: opts.service, host: opts.hostname },
      // Secrets never reach a log line, whatever a caller passes.
      redact: { paths: ['password', '*.password', 'redisUrl', '*.redisUrl', 'headers.authorization'], censor: '[redacted]' },
      ...(opts.format === 'json' ? { formatters: { level: (label: string) => ({ level: label }) } } : {}),
      // With tracing on, a line written inside a unit of work, a request or a tick says which trace it belongs to.
      ...(opts.traced ? { mixin: traceFields } : {}),
    },
    stream,
  );
  if (opts.format === 'pretty') pretty.set(logger, { svc: opts.service, out });
  return logger;
}

/** A service's logger as the environment configures it. */
export function serviceLogger(log: LogSettings, service: string): Logger {
  return createLogger({ service, level: log.level, format: log.format, hostname: log.hostname, traced: log.traced });
}

/** A URL fit for a log line: credentials replaced. */
export function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    if (u.username && u.password === '') u.username = '***';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '(invalid URL)';
  }
}
