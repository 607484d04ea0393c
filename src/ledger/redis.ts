// The Redis ledger (ioredis). Keys as the original: `hashes`, `wallet`; with a namespace every key is prefixed
// `<ns>:`. Our additions are bounded in size (flushseq:<worker> and worker:<id> expire; see docs/internals.md).
// Every command has a timeout and fails at once while disconnected: callers retry, nothing waits forever.
import { Redis } from 'ioredis';
import { keyPrefix, type LedgerSettings } from '../config.js';
import { Deadline } from '../platform/deadline.js';
import { type Logger, safeUrl } from '../platform/logger.js';
import { redisSpan, type Tracer } from '../platform/tracing.js';
import { isWorkerStats, type WorkerStats } from '../telemetry.js';
import type { Accounting, Coin, FlushBatch, Ledger, StatsBoard, Totals } from './ledger.js';

const RECENT = 50;
const FLUSH_SEQ_TTL_S = 3600;
/** How long close() waits for QUIT when no deadline is given. */
const QUIT_WAIT_MS = 300;

// INCRBY only if this (worker, seq) is newer than the last one applied: a flush retried after an ambiguous
// failure (reply lost, timeout) is never counted twice.
const FLUSH_LUA = `
local last = tonumber(redis.call('GET', KEYS[2]) or '-1')
if tonumber(ARGV[2]) <= last then return 0 end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1`;

// A new coin: counted in \`coins:found\` (every coin ever found, exactly once: a retried save finds it in the wallet),
// listed in \`coins:recent\`; with WALLET_MAX (ARGV[4] > 0) the wallet keeps the newest N, oldest out first.
const COIN_LUA = `
local fresh = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if fresh == 1 then
  redis.call('INCR', KEYS[3])
  redis.call('LPUSH', KEYS[2], ARGV[1] .. ' ' .. ARGV[3])
  redis.call('LTRIM', KEYS[2], 0, ${RECENT - 1})
  local max = tonumber(ARGV[4])
  if max > 0 then
    redis.call('LPUSH', KEYS[4], ARGV[1])
    while redis.call('LLEN', KEYS[4]) > max do
      redis.call('HDEL', KEYS[1], redis.call('RPOP', KEYS[4]))
    end
  end
end
return fresh`;

type Client = Redis & {
  dcFlush(hashesKey: string, seqKey: string, units: number, seq: number, ttl: number): Promise<number>;
  dcCoin(walletKey: string, recentKey: string, foundKey: string, orderKey: string, hex: string, bytes: Buffer, at: number, walletMax: number): Promise<number>;
};

/** Tracing on: every command (or pipeline) is a client span, child of the unit, request or tick it serves. */
type Traced = <T>(operation: string, fn: () => Promise<T>) => Promise<T>;

class RedisAccounting implements Accounting {
  constructor(
    private readonly client: Client,
    private readonly span: Traced,
    private readonly walletMax: number,
  ) {}

  async addHashes({ worker, seq, units }: FlushBatch): Promise<void> {
    await this.span('EVALSHA flush', () => this.client.dcFlush('hashes', `flushseq:${worker}`, units, seq, FLUSH_SEQ_TTL_S));
  }

  async addCoin(hex: string, bytes: Buffer): Promise<boolean> {
    return (
      (await this.span('EVALSHA coin', () =>
        this.client.dcCoin('wallet', 'coins:recent', 'coins:found', 'wallet:order', hex, bytes, Date.now(), this.walletMax),
      )) === 1
    );
  }

  async totals(): Promise<Totals> {
    const results = await this.span('GET HLEN GET', () => this.client.pipeline().get('hashes').hlen('wallet').get('coins:found').exec());
    if (!results) throw new Error('Redis pipeline returned nothing');
    for (const [err] of results) if (err) throw err;
    const count = (i: number) => {
      const n = Number(results[i]?.[1] ?? 0);
      return Number.isSafeInteger(n) ? n : 0;
    };
    // The wallet's size, as the original, or every coin found when the wallet keeps only the newest (WALLET_MAX);
    // the larger is right either way (an original worker sharing this Redis adds to the wallet only).
    return { hashes: count(0), coins: Math.max(count(1), count(2)) };
  }

  async recentCoins(limit: number): Promise<Coin[]> {
    const rows = await this.span('LRANGE', () => this.client.lrange('coins:recent', 0, limit - 1));
    return rows.map((row) => {
      const [hex = '', at = '0'] = row.split(' ');
      return { hex, at: Number(at) || 0 };
    });
  }
}

class RedisStatsBoard implements StatsBoard {
  constructor(
    private readonly client: Client,
    private readonly span: Traced,
  ) {}

  async publish(stats: WorkerStats, ttlMs: number): Promise<void> {
    const expires = Date.now() + ttlMs;
    await this.span('MULTI SET ZADD', () =>
      this.client
        .multi()
        .set(`worker:${stats.worker}`, JSON.stringify(stats), 'PX', ttlMs)
        .zadd('workers', expires, stats.worker)
        .zremrangebyscore('workers', '-inf', Date.now())
        .exec(),
    );
  }

  async read(): Promise<WorkerStats[]> {
    const ids = await this.span('ZRANGEBYSCORE', () => this.client.zrangebyscore('workers', Date.now(), '+inf'));
    if (ids.length === 0) return [];
    const rows = await this.span('MGET', () => this.client.mget(ids.map((id) => `worker:${id}`)));
    return rows.flatMap((row) => {
      if (!row) return [];
      try {
        const stats: unknown = JSON.parse(row);
        return isWorkerStats(stats) ? [stats] : [];
      } catch {
        return [];
      }
    });
  }
}

export function redisLedger(settings: LedgerSettings, logger: Logger, tracer?: Tracer): Ledger {
  const where = safeUrl(settings.url) + (settings.namespace ? ` (namespace ${settings.namespace})` : '');
  const redis = new Redis(settings.url, {
    keyPrefix: keyPrefix(settings.namespace),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: settings.timeoutMs,
    connectTimeout: settings.timeoutMs,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
  });
  redis.defineCommand('dcFlush', { numberOfKeys: 2, lua: FLUSH_LUA });
  redis.defineCommand('dcCoin', { numberOfKeys: 4, lua: COIN_LUA });
  const client = redis as Client;
  const server = { host: client.options.host ?? 'redis', port: client.options.port ?? 6379 };
  const span: Traced = (operation, fn) => redisSpan(tracer, operation, server, fn);
  let lastProblem = '';
  client.on('ready', () => {
    logger.info(`ledger: connected to Redis at ${where}`);
    lastProblem = '';
  });
  client.on('error', (err: Error) => {
    const problem = err.message.replace(settings.url, safeUrl(settings.url));
    if (problem !== lastProblem) logger.warn(`ledger: Redis at ${where}: ${problem} (retrying)`);
    lastProblem = problem;
  });
  return {
    kind: 'redis',
    where,
    accounts: new RedisAccounting(client, span, settings.walletMax),
    board: new RedisStatsBoard(client, span),
    ping: async () => void (await client.ping()),
    async close(deadline = Deadline.in(QUIT_WAIT_MS)) {
      // QUIT lets Redis answer what is in flight first; a Redis that does not answer by the deadline is dropped.
      await deadline.within(client.quit().catch(() => undefined));
      client.disconnect();
    },
  };
}
