/**
 * The embedded default store: one SQLite file in WAL mode. Every change is one transaction, so a process killed in
 * the middle of a write leaves the entry wholly there or wholly absent; WAL lets several processes read while one
 * writes. `:memory:` gives a throwaway cache (the simulation uses it). The `faultPoint` calls between the steps of a
 * write let test/crash-points.test.ts kill a writer exactly there (see src/util/fault.ts).
 */
import { existsSync } from 'node:fs';
import { faultPoint } from '../util/fault.js';
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
import { InputError, RankwiseError, StoreError, requireOptional } from '../errors.js';

interface EntryRow {
  id: number;
  key: string;
  query: string;
  vector: Buffer;
  value: string;
  created_at: number;
  expires_at: number | null;
}

/** The part of better-sqlite3's API used here (the package ships no types, and @types is not a dependency). */
interface Statement<P extends unknown[] | object, R> {
  run(...params: P extends unknown[] ? P : [P]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: P extends unknown[] ? P : [P]): R | undefined;
  all(...params: P extends unknown[] ? P : [P]): R[];
}
interface Transaction<T> {
  (): T;
  /** BEGIN IMMEDIATE: takes the write lock first, so a read-then-write cannot race another process. */
  immediate(): T;
}
interface SqliteDatabase {
  readonly open: boolean;
  prepare<P extends unknown[] | object = [], R = unknown>(sql: string): Statement<P, R>;
  pragma(sql: string): unknown;
  exec(sql: string): void;
  transaction<T>(fn: () => T): Transaction<T>;
  close(): void;
}
type DatabaseConstructor = new (path: string, options?: { fileMustExist?: boolean }) => SqliteDatabase;
const Database = () => requireOptional<DatabaseConstructor>('better-sqlite3', 'The SQLite cache store');

/** Milliseconds a write waits for another connection's write transaction before failing (SQLite's busy_timeout). */
const BUSY_TIMEOUT_MS = 5000;

export interface SqliteOpenOptions {
  /** Refuse a path where no file exists instead of creating an empty cache there (for readers such as `cache stats`). */
  mustExist?: boolean;
}

/** SQLite's error for a file, rewritten to name the file and say what is wrong with it. */
function fileError(path: string, error: unknown): Error {
  if (error instanceof RankwiseError) return error; // a missing optional package says so itself
  const code = (error as { code?: string }).code ?? '';
  const message = (error as Error).message;
  if (code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED') {
    return new StoreError(`${path}: locked by another writer for more than ${BUSY_TIMEOUT_MS} ms (${message}); retry when it has finished`, { cause: error });
  }
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT' || code.startsWith('SQLITE_CORRUPT_')) {
    return new StoreError(`${path}: not a usable SQLite cache file, it is corrupt or not SQLite (${message}); delete it to start an empty cache`, { cause: error });
  }
  return new StoreError(`${path}: ${message}`, { cause: error });
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  id INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: ids are never reused, so replicas can tail by id
  key TEXT NOT NULL UNIQUE,
  query TEXT NOT NULL,
  vector BLOB NOT NULL,
  value TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_used_at INTEGER NOT NULL,
  expires_at INTEGER
);
CREATE INDEX IF NOT EXISTS entries_last_used ON entries(last_used_at);
CREATE INDEX IF NOT EXISTS entries_expires ON entries(expires_at) WHERE expires_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

function toEntry(row: EntryRow): StoredEntry {
  return {
    id: row.id,
    key: row.key,
    query: row.query,
    vector: bytesToVector(row.vector),
    value: JSON.parse(row.value),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

const LIVE = '(expires_at IS NULL OR expires_at > @now)';

export class SqliteCacheStore implements CacheStore {
  readonly kind = 'sqlite';
  private readonly db: SqliteDatabase;
  private readonly statements;

  private constructor(readonly path: string, db: SqliteDatabase) {
    this.db = db;
    this.statements = {
      after: db.prepare<{ after: number; limit: number }, EntryRow>(
        'SELECT id, key, query, vector, value, created_at, expires_at FROM entries WHERE id > @after ORDER BY id LIMIT @limit',
      ),
      byId: db.prepare<{ id: number; now: number }, EntryRow>(`SELECT id, key, query, vector, value, created_at, expires_at FROM entries WHERE id = @id AND ${LIVE}`),
      idOfKey: db.prepare<[string], { id: number }>('SELECT id FROM entries WHERE key = ?'),
      deleteId: db.prepare<[number]>('DELETE FROM entries WHERE id = ?'),
      insert: db.prepare<[string, string, Buffer, string, number, number, number | null]>(
        'INSERT INTO entries (key, query, vector, value, created_at, last_used_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      touch: db.prepare<[number, number]>('UPDATE entries SET last_used_at = ? WHERE id = ?'),
      expired: db.prepare<[number], { id: number }>('SELECT id FROM entries WHERE expires_at IS NOT NULL AND expires_at <= ?'),
      count: db.prepare<{ now: number }, { n: number }>(`SELECT count(*) AS n FROM entries WHERE ${LIVE}`),
      countAll: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM entries'),
      oldest: db.prepare<[number], { id: number }>('SELECT id FROM entries ORDER BY last_used_at, id LIMIT ?'),
      addCounter: db.prepare<[string, number]>('INSERT INTO counters (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value'),
      counters: db.prepare<[], { name: string; value: number }>('SELECT name, value FROM counters'),
      meta: db.prepare<[], { name: string; value: string }>('SELECT name, value FROM meta'),
      setMeta: db.prepare<[string, string]>('INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value'),
    };
  }

  /**
   * Opens (creating if needed, unless `mustExist`) the cache file at `path`, or an in-memory cache for ':memory:'.
   * A file that is not a SQLite database, or not one with this cache's tables, is an error naming it.
   */
  static async open(path: string, options: SqliteOpenOptions = {}): Promise<SqliteCacheStore> {
    if (options.mustExist && path !== ':memory:' && !existsSync(path)) {
      throw new InputError(`${path}: no such cache file (a cache is created by the server that writes it; check the path)`);
    }
    let db: SqliteDatabase | undefined;
    try {
      db = new (Database())(path, { fileMustExist: options.mustExist ?? false });
      if (path !== ':memory:') {
        db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
        db.pragma('journal_mode = WAL');
        // NORMAL in WAL mode: a committed transaction survives a process crash; only an OS crash can lose the last ones.
        db.pragma('synchronous = NORMAL');
      }
      db.exec(SCHEMA);
      return new SqliteCacheStore(path, db);
    } catch (error) {
      if (db?.open) db.close();
      throw fileError(path, error);
    }
  }

  async meta(): Promise<StoreMeta | null> {
    const rows = new Map(this.statements.meta.all().map((r) => [r.name, r.value]));
    const encoder = rows.get('encoder');
    const dimension = rows.get('dimension');
    return encoder !== undefined && dimension !== undefined ? { encoder, dimension: Number(dimension) } : null;
  }

  async setMeta(meta: StoreMeta): Promise<void> {
    this.named(() => this.db.transaction(() => {
      this.statements.setMeta.run('encoder', meta.encoder);
      faultPoint('sqlite-cache:meta-after-encoder');
      this.statements.setMeta.run('dimension', String(meta.dimension));
    })());
  }

  async entriesAfter(afterId: number, limit: number): Promise<StoredEntry[]> {
    return this.statements.after.all({ after: afterId, limit }).map(toEntry);
  }

  async get(ids: readonly number[], now: number): Promise<Map<number, StoredEntry>> {
    const found = new Map<number, StoredEntry>();
    for (const id of ids) {
      const row = this.statements.byId.get({ id, now });
      if (row) found.set(id, toEntry(row));
    }
    return found;
  }

  async put(entries: readonly NewEntry[], now: number): Promise<StoredEntry[]> {
    const rows = entries.map((e) => ({ entry: e, value: serializeValue(e.value), vector: vectorToBytes(e.vector) }));
    const insertAll = this.db.transaction(() =>
      rows.map(({ entry, value, vector }) => {
        const old = this.statements.idOfKey.get(entry.key);
        if (old) {
          this.statements.deleteId.run(old.id);
          faultPoint('sqlite-cache:put-after-delete');
        }
        const id = Number(this.statements.insert.run(entry.key, entry.query, vector, value, now, now, entry.expiresAt).lastInsertRowid);
        faultPoint('sqlite-cache:put-after-insert');
        return { id, key: entry.key, query: entry.query, vector: entry.vector, value: entry.value, createdAt: now, expiresAt: entry.expiresAt };
      }),
    );
    const stored = this.named(() => insertAll.immediate());
    faultPoint('sqlite-cache:put-after-commit');
    return stored;
  }

  async touch(id: number, now: number): Promise<void> {
    this.statements.touch.run(now, id);
  }

  async removeKey(key: string): Promise<number[]> {
    return this.named(() => this.db.transaction(() => {
      const row = this.statements.idOfKey.get(key);
      if (!row) return [];
      this.statements.deleteId.run(row.id);
      faultPoint('sqlite-cache:remove-after-delete');
      return [row.id];
    }).immediate());
  }

  async clear(): Promise<number> {
    return this.named(() => this.db.transaction(() => {
      const n = this.statements.countAll.get()!.n;
      this.db.exec('DELETE FROM entries');
      faultPoint('sqlite-cache:remove-after-delete');
      return n;
    }).immediate());
  }

  async purgeExpired(now: number): Promise<number[]> {
    return this.removeIds(() => this.statements.expired.all(now).map((r) => r.id));
  }

  async evictLeastRecentlyUsed(maxEntries: number): Promise<number[]> {
    return this.removeIds(() => {
      const excess = this.statements.countAll.get()!.n - maxEntries;
      return excess > 0 ? this.statements.oldest.all(excess).map((r) => r.id) : [];
    });
  }

  async count(now: number): Promise<number> {
    return this.statements.count.get({ now })!.n;
  }

  async addCounters(delta: Partial<CacheCounters>): Promise<void> {
    const changes = COUNTER_NAMES.filter((name) => delta[name]);
    if (changes.length === 0) return;
    this.named(() => this.db.transaction(() => {
      changes.forEach((name, i) => {
        this.statements.addCounter.run(name, delta[name]!);
        if (i === 0) faultPoint('sqlite-cache:counters-after-first');
      });
    })());
  }

  async counters(): Promise<CacheCounters> {
    const counters = emptyCounters();
    for (const { name, value } of this.statements.counters.all()) {
      if ((COUNTER_NAMES as readonly string[]).includes(name)) counters[name as keyof CacheCounters] = value;
    }
    return counters;
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  /** Selects and deletes in one transaction, so two processes never both count the same removal. */
  private removeIds(select: () => number[]): number[] {
    return this.named(() => this.db.transaction(() => {
      const ids = select();
      for (const id of ids) this.statements.deleteId.run(id);
      if (ids.length > 0) faultPoint('sqlite-cache:remove-after-delete');
      return ids;
    }).immediate());
  }

  /** Runs a statement, turning SQLite's busy and corruption errors into ones that name the file. */
  private named<T>(run: () => T): T {
    try {
      return run();
    } catch (error) {
      throw fileError(this.path, error);
    }
  }
}
