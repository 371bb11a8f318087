/**
 * A store several server replicas share. Redis here has no vector search (no RediSearch), so Redis holds the entries,
 * vectors included, and every replica keeps its own HNSW index in step by tailing an insertion log: a sorted set
 * scored by entry id. Ids come from INCR inside the same Lua script that adds the entry to the log, and scripts run
 * one at a time, so once a reader sees id N every smaller id is already committed: tailing "ids after my cursor"
 * never skips an entry. Removals (TTL, LRU eviction, invalidation) need no log: a replica checks its nearest
 * candidates against Redis before answering and drops the ones that are gone.
 */
import {
  COUNTER_NAMES,
  bytesToVector,
  emptyCounters,
  serializeValue,
  vectorToBytes,
  type CacheCounters,
  type CacheStore,
  type NewEntry,
  type StoreMeta,
  type StoredEntry,
} from './store.js';
import { BackendUnavailableError, requireOptional } from '../errors.js';

/** Adds one entry (replacing the entry under the same key) and returns its id. KEYS: seq log lru exp keys. */
const PUT_SCRIPT = `
local old = redis.call('HGET', KEYS[5], ARGV[2])
if old then
  redis.call('DEL', ARGV[1] .. old)
  redis.call('ZREM', KEYS[2], old)
  redis.call('ZREM', KEYS[3], old)
  redis.call('ZREM', KEYS[4], old)
end
local id = redis.call('INCR', KEYS[1])
redis.call('HSET', ARGV[1] .. id, 'key', ARGV[2], 'query', ARGV[3], 'vector', ARGV[4], 'value', ARGV[5], 'created', ARGV[6], 'expires', ARGV[7])
redis.call('HSET', KEYS[5], ARGV[2], id)
redis.call('ZADD', KEYS[2], id, id)
redis.call('ZADD', KEYS[3], ARGV[6], id)
if ARGV[7] ~= '' then redis.call('ZADD', KEYS[4], ARGV[7], id) end
return id
`;

/** Removes entries by id; returns the ids that existed. KEYS: log lru exp keys. */
const REMOVE_SCRIPT = `
local removed = {}
for i = 2, #ARGV do
  local id = ARGV[i]
  if redis.call('ZREM', KEYS[1], id) == 1 then
    local key = redis.call('HGET', ARGV[1] .. id, 'key')
    if key and redis.call('HGET', KEYS[4], key) == id then redis.call('HDEL', KEYS[4], key) end
    redis.call('DEL', ARGV[1] .. id)
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
    removed[#removed + 1] = id
  end
end
return removed
`;

/** Ids per script call or pipeline, so that one call never blocks Redis for long. */
const CHUNK = 500;

function newClient(url: string, state: { connected: boolean }) {
  return requireOptional<typeof import('redis')>('redis', 'The Redis cache store').createClient({
    url,
    // While Redis is away a command fails at once instead of waiting in a queue, so a search is answered without the
    // cache (see SearchService) rather than held until the request times out.
    disableOfflineQueue: true,
    socket: {
      // A server that was never reached fails the connect at once; one that goes away later is retried with backoff.
      reconnectStrategy: (retries: number, cause: Error) => (state.connected ? Math.min(50 * 2 ** retries, 2000) : cause),
    },
  });
}
type Client = ReturnType<typeof newClient>;

export interface RedisStoreOptions {
  /** Key prefix; replicas that share a cache use the same one (default 'rankwise:cache'). */
  prefix?: string;
}

export class RedisCacheStore implements CacheStore {
  readonly kind = 'redis';
  private readonly keys: { seq: string; log: string; lru: string; exp: string; byKey: string; counters: string; meta: string; entry: string };

  private constructor(
    private readonly client: Client,
    prefix: string,
  ) {
    this.keys = {
      seq: `${prefix}:seq`,
      log: `${prefix}:log`,
      lru: `${prefix}:lru`,
      exp: `${prefix}:exp`,
      byKey: `${prefix}:keys`,
      counters: `${prefix}:counters`,
      meta: `${prefix}:meta`,
      entry: `${prefix}:e:`,
    };
  }

  /** Connects to `url` (redis://host:port/db). */
  static async connect(url: string, options: RedisStoreOptions = {}): Promise<RedisCacheStore> {
    const state = { connected: false };
    const client = newClient(url, state);
    // Without a listener an 'error' event would crash the process; failures still reach callers as rejected commands.
    client.on('error', () => undefined);
    try {
      await client.connect();
      state.connected = true;
    } catch (error) {
      if (client.isOpen) client.destroy();
      throw new BackendUnavailableError(`redis ${url}: cannot connect (${(error as Error).message})`);
    }
    return new RedisCacheStore(client, options.prefix ?? 'rankwise:cache');
  }

  async meta(): Promise<StoreMeta | null> {
    const meta = await this.client.hGetAll(this.keys.meta);
    return meta.encoder !== undefined && meta.dimension !== undefined ? { encoder: meta.encoder, dimension: Number(meta.dimension) } : null;
  }

  async setMeta(meta: StoreMeta): Promise<void> {
    await this.client.hSet(this.keys.meta, { encoder: meta.encoder, dimension: String(meta.dimension) });
  }

  async entriesAfter(afterId: number, limit: number): Promise<StoredEntry[]> {
    const ids = await this.client.zRangeByScore(this.keys.log, `(${afterId}`, '+inf', { LIMIT: { offset: 0, count: limit } });
    return [...(await this.get(ids.map(Number), -Infinity)).values()];
  }

  async get(ids: readonly number[], now: number): Promise<Map<number, StoredEntry>> {
    const found = new Map<number, StoredEntry>();
    for (let start = 0; start < ids.length; start += CHUNK) {
      const chunk = ids.slice(start, start + CHUNK);
      const pipeline = this.client.multi();
      for (const id of chunk) pipeline.hGetAll(this.keys.entry + id);
      const replies = (await pipeline.execAsPipeline()) as unknown as Array<Record<string, string>>;
      replies.forEach((fields, i) => {
        const entry = parseEntry(chunk[i], fields);
        if (entry && (entry.expiresAt === null || entry.expiresAt > now)) found.set(entry.id, entry);
      });
    }
    return found;
  }

  async put(entries: readonly NewEntry[], now: number): Promise<StoredEntry[]> {
    const stored: StoredEntry[] = [];
    for (const entry of entries) {
      const value = serializeValue(entry.value);
      // base64 keeps every reply a plain string (2.7 KB for a 512-d vector).
      const vector = vectorToBytes(entry.vector).toString('base64');
      const id = await this.client.eval(PUT_SCRIPT, {
        keys: [this.keys.seq, this.keys.log, this.keys.lru, this.keys.exp, this.keys.byKey],
        arguments: [this.keys.entry, entry.key, entry.query, vector, value, String(now), entry.expiresAt === null ? '' : String(entry.expiresAt)],
      });
      stored.push({ id: Number(id), key: entry.key, query: entry.query, vector: entry.vector, value: entry.value, createdAt: now, expiresAt: entry.expiresAt });
    }
    return stored;
  }

  async touch(id: number, now: number): Promise<void> {
    // XX: never resurrects an entry another replica removed meanwhile.
    await this.client.zAdd(this.keys.lru, { score: now, value: String(id) }, { condition: 'XX' });
  }

  async removeKey(key: string): Promise<number[]> {
    const id = await this.client.hGet(this.keys.byKey, key);
    return id === null || id === undefined ? [] : this.remove([Number(id)]);
  }

  async clear(): Promise<number> {
    let removed = 0;
    for (;;) {
      const ids = await this.client.zRange(this.keys.log, 0, CHUNK - 1);
      if (ids.length === 0) return removed;
      removed += (await this.remove(ids.map(Number))).length;
    }
  }

  async purgeExpired(now: number): Promise<number[]> {
    const ids = await this.client.zRangeByScore(this.keys.exp, '-inf', now);
    return this.remove(ids.map(Number));
  }

  async evictLeastRecentlyUsed(maxEntries: number): Promise<number[]> {
    const excess = (await this.client.zCard(this.keys.log)) - maxEntries;
    if (excess <= 0) return [];
    const ids = await this.client.zRange(this.keys.lru, 0, excess - 1);
    return this.remove(ids.map(Number));
  }

  async count(now: number): Promise<number> {
    const [all, expired] = await Promise.all([this.client.zCard(this.keys.log), this.client.zCount(this.keys.exp, '-inf', now)]);
    return all - expired;
  }

  async addCounters(delta: Partial<CacheCounters>): Promise<void> {
    const changes = COUNTER_NAMES.filter((name) => delta[name]);
    if (changes.length === 0) return;
    const pipeline = this.client.multi();
    for (const name of changes) pipeline.hIncrBy(this.keys.counters, name, delta[name]!);
    await pipeline.exec();
  }

  async counters(): Promise<CacheCounters> {
    const stored = await this.client.hGetAll(this.keys.counters);
    const counters = emptyCounters();
    for (const name of COUNTER_NAMES) if (stored[name] !== undefined) counters[name] = Number(stored[name]);
    return counters;
  }

  async close(): Promise<void> {
    if (this.client.isOpen) await this.client.close();
  }

  private async remove(ids: readonly number[]): Promise<number[]> {
    const removed: number[] = [];
    for (let start = 0; start < ids.length; start += CHUNK) {
      const reply = (await this.client.eval(REMOVE_SCRIPT, {
        keys: [this.keys.log, this.keys.lru, this.keys.exp, this.keys.byKey],
        arguments: [this.keys.entry, ...ids.slice(start, start + CHUNK).map(String)],
      })) as string[];
      removed.push(...reply.map(Number));
    }
    return removed;
  }
}

function parseEntry(id: number, fields: Record<string, string>): StoredEntry | null {
  // An empty reply: the entry was removed between the id lookup and the read.
  if (fields.query === undefined) return null;
  return {
    id,
    key: fields.key,
    query: fields.query,
    vector: bytesToVector(Buffer.from(fields.vector, 'base64')),
    value: JSON.parse(fields.value),
    createdAt: Number(fields.created),
    expiresAt: fields.expires === '' ? null : Number(fields.expires),
  };
}
