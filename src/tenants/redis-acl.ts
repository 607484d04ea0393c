// The shared Redis's side of tenancy: one ACL user per tenant, allowed its own keys (`NAME:*`) and exactly the
// commands our services send — nothing that enumerates keys (KEYS, SCAN: ACL key patterns do not filter SCAN),
// nothing administrative. The admin (`default`) password lives only in the Redis container's environment.

/**
 * What worker, webui and `doctor` send, found in src/ledger/redis.ts (its two Lua scripts included: a script's
 * redis.call is checked against the caller's ACL too) and in ioredis's connection handshake:
 * INFO is its ready check (INFO is in @dangerous, hence allowed by name). Its CLIENT SETINFO (the library tag) is
 * left out: ioredis ignores its failure, and Redis 7.0 does not know the subcommand (an ACL naming it is refused).
 */
export const TENANT_COMMANDS = [
  // connection: ioredis's handshake and ready check, PING of `/readyz` and doctor, QUIT on close
  'ping',
  'info',
  'quit',
  // ledger: flush and coin scripts (EVALSHA, EVAL when the script cache is empty) and the commands inside them
  'evalsha',
  'eval',
  'get',
  'set',
  'incr',
  'incrby',
  'hset',
  'hlen',
  'hdel',
  'lpush',
  'rpop',
  'ltrim',
  'llen',
  'lrange',
  // stats board: MULTI SET ZADD ZREMRANGEBYSCORE EXEC, ZRANGEBYSCORE then MGET
  'multi',
  'exec',
  'discard',
  'zadd',
  'zremrangebyscore',
  'zrangebyscore',
  'mget',
  // doctor's scratch key
  'del',
] as const;

/** The ACL SETUSER arguments (after the user name) for a tenant: its password, its keys, no channels, its commands. */
export function tenantAclRule(tenant: string, password: string): string[] {
  if (!/^[a-z][a-z0-9-]*$/.test(tenant)) throw new Error(`tenant name not checked: ${JSON.stringify(tenant)}`);
  if (!/^[A-Za-z0-9]{16,}$/.test(password)) throw new Error('a tenant password is 16 or more letters and digits');
  return ['reset', 'on', `>${password}`, `~${tenant}:*`, 'resetchannels', '-@all', ...TENANT_COMMANDS.map((c) => `+${c}`)];
}

/** Deletes every key of a tenant in one server-side loop (SCAN + UNLINK): nothing of another prefix is touched. */
export const UNLINK_PREFIX_LUA = `
local cursor, n = '0', 0
repeat
  local r = redis.call('SCAN', cursor, 'MATCH', ARGV[1], 'COUNT', 1000)
  cursor = r[1]
  for _, k in ipairs(r[2]) do redis.call('UNLINK', k); n = n + 1 end
until cursor == '0'
return n`;

/** The MATCH pattern of a tenant's keys (tenant names hold no glob characters; checked above). */
export const tenantKeyPattern = (tenant: string) => `${tenant}:*`;

/**
 * The shared Redis's start: the ACL file on its volume (so tenants' users survive a restart), created on first
 * start with the `default` user's password hash from REDIS_PASSWORD — the password is never on a command line.
 */
export const REDIS_START = `set -e
f=/data/users.acl
if [ ! -s "$f" ]; then
  h=$(printf %s "$REDIS_PASSWORD" | sha256sum | cut -d' ' -f1)
  echo "user default on #$h ~* &* +@all" > "$f"
fi
exec docker-entrypoint.sh redis-server --appendonly yes --aclfile "$f"`;

/** The shared Redis URL a tenant's containers get. */
export const tenantRedisUrl = (tenant: string, password: string) => `redis://${tenant}:${password}@redis:6379`;
