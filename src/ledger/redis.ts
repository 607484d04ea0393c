// The Redis ledger (ioredis). Keys as the original: `hashes`, `wallet`; with a namespace every key is prefixed
// `<ns>:`. Our additions (`flushseq:<worker>`, `coins:recent`, `workers`, `worker:<id>`) are small and expire.
// Every command has a timeout and fails at once while disconnected: callers retry, nothing waits forever.
import { Redis } from 'ioredis';
import { keyPrefix, type Config } from '../config.js';
import { safeUrl, type Logger } from '../platform/logger.js';
import type { Coin, FlushBatch, Ledger, Totals, WorkerStats } from './ledger.js';

const RECENT = 50;
const FLUSH_SEQ_TTL_S = 3600;

// INCRBY only if this (worker, seq) is newer than the last one applied: a flush retried after an ambiguous
// failure (reply lost, timeout) is never counted twice.
const FLUSH_LUA = `
local last = tonumber(redis.call('GET', KEYS[2]) or '-1')
if tonumber(ARGV[2]) <= last then return 0 end
redis.call('INCRBY', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2], 'EX', ARGV[3])
return 1`;

const COIN_LUA = `
local fresh = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if fresh == 1 then
  redis.call('LPUSH', KEYS[2], ARGV[1] .. ' ' .. ARGV[3])
  redis.call('LTRIM', KEYS[2], 0, ${RECENT - 1})
end
return fresh`;

interface Scripts {
  dcFlush(hashesKey: string, seqKey: string, units: number, seq: number, ttl: number): Promise<number>;
  dcCoin(walletKey: string, recentKey: string, hex: string, bytes: Buffer, at: number): Promise<number>;
}

export interface RedisLedgerOptions {
  url: string;
  namespace: string;
  timeoutMs: number;
  logger: Logger;
}

export class RedisLedger implements Ledger {
  static fromConfig(config: Pick<Config, 'redisUrl' | 'namespace' | 'redisTimeoutMs'>, logger: Logger): RedisLedger {
    return new RedisLedger({ url: config.redisUrl, namespace: config.namespace, timeoutMs: config.redisTimeoutMs, logger });
  }

  readonly kind = 'redis' as const;
  readonly where: string;
  private readonly client: Redis & Scripts;
  private lastProblem = '';

  constructor(opts: RedisLedgerOptions) {
    this.where = safeUrl(opts.url) + (opts.namespace ? ` (namespace ${opts.namespace})` : '');
    const client = new Redis(opts.url, {
      keyPrefix: keyPrefix(opts.namespace),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: opts.timeoutMs,
      connectTimeout: opts.timeoutMs,
      retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    });
    client.defineCommand('dcFlush', { numberOfKeys: 2, lua: FLUSH_LUA });
    client.defineCommand('dcCoin', { numberOfKeys: 2, lua: COIN_LUA });
    this.client = client as Redis & Scripts;
    const log = opts.logger;
    client.on('ready', () => {
      log.info(`ledger: connected to Redis at ${this.where}`);
      this.lastProblem = '';
    });
    client.on('error', (err: Error) => {
      const problem = err.message.replace(opts.url, safeUrl(opts.url));
      if (problem !== this.lastProblem) log.warn(`ledger: Redis at ${this.where}: ${problem} (retrying)`);
      this.lastProblem = problem;
    });
  }

  async addHashes({ worker, seq, units }: FlushBatch): Promise<void> {
    await this.client.dcFlush('hashes', `flushseq:${worker}`, units, seq, FLUSH_SEQ_TTL_S);
  }

  async addCoin(hex: string, bytes: Buffer): Promise<boolean> {
    return (await this.client.dcCoin('wallet', 'coins:recent', hex, bytes, Date.now())) === 1;
  }

  async totals(): Promise<Totals> {
    const results = await this.client.pipeline().get('hashes').hlen('wallet').exec();
    if (!results) throw new Error('Redis pipeline returned nothing');
    for (const [err] of results) if (err) throw err;
    const hashes = Number(results[0]![1] ?? 0);
    return { hashes: Number.isSafeInteger(hashes) ? hashes : 0, coins: Number(results[1]![1]) };
  }

  async recentCoins(limit: number): Promise<Coin[]> {
    const rows = await this.client.lrange('coins:recent', 0, limit - 1);
    return rows.map((row) => {
      const [hex = '', at = '0'] = row.split(' ');
      return { hex, at: Number(at) || 0 };
    });
  }

  async publishStats(stats: WorkerStats, ttlMs: number): Promise<void> {
    const expires = Date.now() + ttlMs;
    await this.client
      .multi()
      .set(`worker:${stats.worker}`, JSON.stringify(stats), 'PX', ttlMs)
      .zadd('workers', expires, stats.worker)
      .zremrangebyscore('workers', '-inf', Date.now())
      .exec();
  }

  async workerStats(): Promise<WorkerStats[]> {
    const ids = await this.client.zrangebyscore('workers', Date.now(), '+inf');
    if (ids.length === 0) return [];
    const rows = await this.client.mget(ids.map((id) => `worker:${id}`));
    return rows.flatMap((row) => {
      if (!row) return [];
      try {
        return [JSON.parse(row) as WorkerStats];
      } catch {
        return [];
      }
    });
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async close(): Promise<void> {
    try {
      await Promise.race([this.client.quit(), new Promise((resolve) => setTimeout(resolve, 300))]);
    } catch {
      // already gone
    }
    this.client.disconnect();
  }
}
