/**
 * Crash tests that prove the interruption. For every named fault point (src/util/fault.ts) a child process opens a
 * store holding committed data and performs one write with RANKWISE_FAULT=<point>; the child must die by SIGKILL (so
 * the write really stopped at that point, not before or after it). The test then reopens the store and checks that
 * it holds exactly the state before the write or exactly the state after it (the one listed for the point), that the
 * same write run again from there reaches the same state as an uninterrupted one, and that leftovers of the crashed
 * write are ignored by open() and gone after the next compaction (token index) or close (SQLite WAL files).
 *
 * The "after" state is computed by running the same write, without a fault, in this process on a copy of the store.
 */
import assert from 'node:assert/strict';
import { cp, readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { SqliteCacheStore } from '../src/cache/sqlite-store.js';
import { TOKEN_INDEX_LOCK, TokenIndex } from '../src/rank/late-interaction/token-index.js';
import { SQLITE_CACHE_FAULT_POINTS, TOKEN_INDEX_FAULT_POINTS } from '../src/util/fault.js';
import { SeededRandom } from '../src/models/random.js';
import { assertInterrupted, operationModule, runChild, runInProcess, src } from './helpers/crash-child.js';
import { scratchDir } from './helpers/fixtures.js';

// ---------------------------------------------------------------------------------------------------------------
// SQLite cache store

const Database = createRequire(import.meta.url)('better-sqlite3') as new (path: string, options?: { readonly?: boolean }) => {
  prepare(sql: string): { all(): unknown[]; get(): unknown };
  pragma(sql: string, options?: { simple: boolean }): unknown;
  close(): void;
};

const DIM = 16;
function sqliteVector(seed: number): Float32Array {
  const rng = new SeededRandom(seed);
  return Float32Array.from({ length: DIM }, () => rng.normal());
}

/** Every row of every table, sqlite_sequence included (ids must never be reused), and an integrity check. */
function dumpSqlite(path: string): unknown {
  const db = new Database(path);
  try {
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
    return {
      entries: db.prepare('SELECT * FROM entries ORDER BY id').all(),
      counters: db.prepare('SELECT * FROM counters ORDER BY name').all(),
      meta: db.prepare('SELECT * FROM meta ORDER BY name').all(),
      sequence: db.prepare('SELECT * FROM sqlite_sequence ORDER BY name').all(),
    };
  } finally {
    db.close();
  }
}

/** Three committed entries (one with a TTL), counters and meta; closed, so the WAL is checkpointed away. */
async function sqliteBaseline(path: string): Promise<void> {
  const store = await SqliteCacheStore.open(path);
  await store.setMeta({ encoder: 'fixture', dimension: DIM });
  await store.put(
    [
      { key: 'k1', query: 'q1', vector: sqliteVector(1), value: { answer: 1 }, expiresAt: null },
      { key: 'k2', query: 'q2', vector: sqliteVector(2), value: { answer: 2 }, expiresAt: null },
    ],
    1000,
  );
  await store.put([{ key: 'k3', query: 'q3', vector: sqliteVector(3), value: { answer: 3 }, expiresAt: 1500 }], 1100);
  await store.touch(1, 1200);
  await store.addCounters({ stores: 3, hits: 1 });
  await store.close();
}

const sqliteOperations: Record<string, string> = {
  // Two large entries (3 MB each: more than SQLite's page cache, so pages spill into the WAL before the commit).
  'put-batch': `const rng = (seed) => Float32Array.from({ length: ${DIM} }, (_, i) => Math.sin(seed * 100 + i));
    await store.put([4, 5].map((n) => ({ key: 'k' + n, query: 'q' + n, vector: rng(n), value: { answer: n, filler: 'x'.repeat(3_000_000) }, expiresAt: null })), 2000);`,
  'put-replace': `await store.put([{ key: 'k1', query: 'q1 again', vector: Float32Array.from({ length: ${DIM} }, (_, i) => i), value: { answer: 'new' }, expiresAt: null }], 2000);`,
  'remove-key': `await store.removeKey('k2');`,
  clear: `await store.clear();`,
  'purge-expired': `await store.purgeExpired(2000);`,
  evict: `await store.evictLeastRecentlyUsed(1);`,
  'set-meta': `await store.setMeta({ encoder: 'another', dimension: 8 });`,
  counters: `await store.addCounters({ hits: 2, misses: 3, stores: 4 });`,
};

function sqliteModule(body: string): string {
  return `import { SqliteCacheStore } from ${src('cache/sqlite-store.ts')};
export async function run(path) {
  const store = await SqliteCacheStore.open(path);
  ${body}
  await store.close();
}
`;
}

interface SqliteCase {
  point: keyof typeof SQLITE_CACHE_FAULT_POINTS;
  operation: keyof typeof sqliteOperations;
}

const sqliteCases: SqliteCase[] = [
  { point: 'sqlite-cache:put-after-insert', operation: 'put-batch' },
  { point: 'sqlite-cache:put-after-commit', operation: 'put-batch' },
  { point: 'sqlite-cache:put-after-delete', operation: 'put-replace' },
  { point: 'sqlite-cache:put-after-insert', operation: 'put-replace' },
  { point: 'sqlite-cache:put-after-commit', operation: 'put-replace' },
  { point: 'sqlite-cache:remove-after-delete', operation: 'remove-key' },
  { point: 'sqlite-cache:remove-after-delete', operation: 'clear' },
  { point: 'sqlite-cache:remove-after-delete', operation: 'purge-expired' },
  { point: 'sqlite-cache:remove-after-delete', operation: 'evict' },
  { point: 'sqlite-cache:meta-after-encoder', operation: 'set-meta' },
  { point: 'sqlite-cache:counters-after-first', operation: 'counters' },
];

describe('crash points: SQLite cache store', { timeout: 45_000 }, () => {
  it('every SQLite fault point has a case', () => {
    assert.deepEqual(new Set(sqliteCases.map((c) => c.point)), new Set(Object.keys(SQLITE_CACHE_FAULT_POINTS)));
  });

  it('without a fault the writer finishes and leaves the "after" state', async () => {
    const dir = await scratchDir();
    await sqliteBaseline(join(dir, 'crashed.db'));
    await cp(join(dir, 'crashed.db'), join(dir, 'reference.db'));
    const operation = await operationModule('sqlite-control', sqliteModule(sqliteOperations['put-replace']));
    const result = await runChild(operation, join(dir, 'crashed.db'), 'no-such-point');
    assert.deepEqual([result.code, result.signal, result.stdout], [0, null, 'done\n'], result.stderr);
    await runInProcess(operation, join(dir, 'reference.db'));
    assert.deepEqual(dumpSqlite(join(dir, 'crashed.db')), dumpSqlite(join(dir, 'reference.db')));
  });

  for (const { point, operation: name } of sqliteCases) {
    const expected = SQLITE_CACHE_FAULT_POINTS[point];
    it(`${point} during ${name}: the writer dies there, the file holds the ${expected} state`, async () => {
      const dir = await scratchDir();
      const crashed = join(dir, 'crashed.db');
      const reference = join(dir, 'reference.db');
      await sqliteBaseline(crashed);
      assert.deepEqual(await readdir(dir), ['crashed.db'], 'the baseline is checkpointed into the one file');
      await cp(crashed, reference);
      const before = dumpSqlite(reference);
      const operation = await operationModule(`sqlite-${name}`, sqliteModule(sqliteOperations[name]));

      assertInterrupted(await runChild(operation, crashed, point), point);
      await runInProcess(operation, reference);
      const after = dumpSqlite(reference);
      assert.notDeepEqual(after, before, 'the write changes something');

      // What the crash left: the WAL (and its index) of the killed connection, which reopening recovers.
      const left = (await readdir(dir)).filter((n) => n.startsWith('crashed.db'));
      assert.ok(left.includes('crashed.db-wal'), `a WAL file is left by the killed writer: ${left.join(', ')}`);
      assert.deepEqual(dumpSqlite(crashed), expected === 'before' ? before : after, `after a crash at ${point}: the ${expected} state`);
      if (expected === 'before') {
        // The same write from the recovered file ends where an uninterrupted one does (ids are not burnt).
        await runInProcess(operation, crashed);
        assert.deepEqual(dumpSqlite(crashed), after);
      }
      const store = await SqliteCacheStore.open(crashed);
      assert.equal((await store.entriesAfter(0, 100)).length, (dumpSqlite(reference) as { entries: unknown[] }).entries.length);
      await store.close();
      assert.deepEqual((await readdir(dir)).filter((n) => n.startsWith('crashed.db')), ['crashed.db'], 'the last close removes the WAL files');
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// Token index

const TDIM = 8;

function tokenSource(): string {
  return `import { TokenIndex } from ${src('rank/late-interaction/token-index.ts')};
import { SeededRandom } from ${src('models/random.ts')};
export function docs(prefix, n, seed) {
  const rng = new SeededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const count = 2 + ((i * 7 + seed) % 5);
    const vectors = Float32Array.from({ length: count * ${TDIM} }, () => rng.normal());
    return { id: prefix + i, text: prefix + i + ' text', tokens: { vectors, count, dimension: ${TDIM} } };
  });
}
export async function withIndex(dir, write) {
  const index = await TokenIndex.open(dir);
  await write(index);
  await index.close();
}
`;
}

const tokenOperations: Record<string, string> = {
  // New documents plus a new copy of a0 (tombstones the old one in the same manifest).
  add: `await index.add([...docs('c', 5, 30), ...docs('a', 1, 31)]);`,
  delete: `await index.delete(['a1', 'b2']);`,
  compact: `await index.compact();`,
  train: `await index.trainCentroids({ count: 4, seed: 2, kernel: 'js' });`,
};

function tokenModule(body: string): string {
  return `${tokenSource()}
export async function run(dir) {
  await withIndex(dir, async (index) => {
    ${body}
  });
}
`;
}

/** Two segments, a tombstone, and with `trained` centroids and codes for every segment. */
async function tokenBaseline(dir: string, trained: boolean): Promise<void> {
  const helpers = (await import(pathToFileURL(await operationModule('token-helpers', tokenSource())).href)) as {
    docs(prefix: string, n: number, seed: number): Array<{ id: string; text: string; tokens: { vectors: Float32Array; count: number; dimension: number } }>;
  };
  const index = await TokenIndex.create(dir, { dimension: TDIM, encoding: 'float16' });
  await index.add(helpers.docs('a', 5, 10));
  await index.add(helpers.docs('b', 5, 20));
  await index.delete(['b4']);
  if (trained) await index.trainCentroids({ count: 3, seed: 1, kernel: 'js' });
  await index.close();
}

interface IndexState {
  manifest: string;
  documents: Array<{ id: string; text: string | undefined; tokens: number[] }>;
  segments: number;
  centroids: number;
}

/** Everything a reader sees, and the manifest text itself. */
async function indexState(dir: string): Promise<IndexState> {
  const index = await TokenIndex.open(dir);
  try {
    const documents = index
      .ids()
      .sort()
      .map((id) => ({ id, text: index.text(id), tokens: Array.from(index.tokens(id)!.vectors) }));
    // With centroids the candidate step must work: it reads every live segment's codes.
    if (index.centroidCount > 0) await index.search({ vectors: new Float32Array(TDIM).fill(1), count: 1, dimension: TDIM }, { candidates: { probe: 1 }, kernel: 'js' });
    return { manifest: await readFile(join(dir, 'manifest.json'), 'utf8'), documents, segments: index.segmentCount, centroids: index.centroidCount };
  } finally {
    await index.close();
  }
}

/** Files in the folder that the manifest does not name. */
async function unreferenced(dir: string): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
    segments: Array<{ file: string; codes: string | null }>;
    centroids: { file: string } | null;
  };
  // The lock of the killed writer stays behind, stale; the next writer takes it over (test/store-locks.test.ts).
  const named = new Set(['manifest.json', TOKEN_INDEX_LOCK, ...manifest.segments.flatMap((s) => [s.file, ...(s.codes ? [s.codes] : [])]), ...(manifest.centroids ? [manifest.centroids.file] : [])]);
  return (await readdir(dir)).filter((n) => !named.has(n)).sort();
}

interface TokenCase {
  point: keyof typeof TOKEN_INDEX_FAULT_POINTS;
  operation: keyof typeof tokenOperations;
  trained: boolean;
  /**
   * What the crash must leave beside the manifest's files, the proof of how far the write got: each pattern matches
   * at least one stray file and every stray file matches a pattern; `count` when it matters how many.
   */
  leftover: RegExp[];
  count?: number;
}

// Generations: the baseline is create (0), add a (1: seg-000001), add b (2: seg-000002), delete b4 (3), and when
// trained, trainCentroids (4: centroids-000004, seg-00000[12].c4.codes). The write under test takes the next one.
const TMP = /^\.manifest\.json\.\d+\.[0-9a-f]+\.tmp$/;
const tokenCases: TokenCase[] = [
  { point: 'token-index:after-segment', operation: 'add', trained: false, leftover: [/^seg-000004\.bin$/] },
  { point: 'token-index:before-manifest', operation: 'add', trained: false, leftover: [/^seg-000004\.bin$/, TMP] },
  { point: 'token-index:after-manifest', operation: 'add', trained: false, leftover: [] },
  { point: 'token-index:after-codes', operation: 'add', trained: true, leftover: [/^seg-000005\.bin$/, /^seg-000005\.c5\.codes$/] },
  { point: 'token-index:before-manifest', operation: 'delete', trained: false, leftover: [TMP] },
  { point: 'token-index:after-manifest', operation: 'delete', trained: false, leftover: [] },
  { point: 'token-index:after-segment', operation: 'compact', trained: false, leftover: [/^seg-000004\.bin$/] },
  { point: 'token-index:after-codes', operation: 'compact', trained: true, leftover: [/^seg-000005\.bin$/, /^seg-000005\.c5\.codes$/] },
  { point: 'token-index:before-manifest', operation: 'compact', trained: false, leftover: [/^seg-000004\.bin$/, TMP] },
  // The new manifest is in place; the superseded segments stay on disk until cleanup (or the next compaction).
  { point: 'token-index:after-manifest', operation: 'compact', trained: false, leftover: [/^seg-00000[12]\.bin$/], count: 2 },
  { point: 'token-index:during-cleanup', operation: 'compact', trained: false, leftover: [/^seg-00000[12]\.bin$/], count: 1 },
  { point: 'token-index:after-centroids', operation: 'train', trained: false, leftover: [/^centroids-000004\.bin$/] },
  { point: 'token-index:after-codes', operation: 'train', trained: false, leftover: [/^centroids-000004\.bin$/, /^seg-000001\.c4\.codes$/], count: 2 },
  { point: 'token-index:before-manifest', operation: 'train', trained: false, leftover: [/^centroids-000004\.bin$/, /^seg-00000[12]\.c4\.codes$/, TMP], count: 4 },
  // Retraining: the previous generation's centroids and codes become unreferenced.
  { point: 'token-index:after-manifest', operation: 'train', trained: true, leftover: [/^centroids-000004\.bin$/, /^seg-00000[12]\.c4\.codes$/], count: 3 },
  { point: 'token-index:during-cleanup', operation: 'train', trained: true, leftover: [/^(centroids-000004\.bin|seg-00000[12]\.c4\.codes)$/], count: 2 },
];

describe('crash points: token index', { timeout: 75_000 }, () => {
  it('every token-index fault point has a case', () => {
    assert.deepEqual(new Set(tokenCases.map((c) => c.point)), new Set(Object.keys(TOKEN_INDEX_FAULT_POINTS)));
  });

  it('without a fault the writer finishes and leaves the "after" state', async () => {
    const root = await scratchDir();
    await tokenBaseline(join(root, 'crashed'), true);
    await cp(join(root, 'crashed'), join(root, 'reference'), { recursive: true });
    const operation = await operationModule('token-control', tokenModule(tokenOperations.add));
    const result = await runChild(operation, join(root, 'crashed'), 'no-such-point');
    assert.deepEqual([result.code, result.signal, result.stdout], [0, null, 'done\n'], result.stderr);
    await runInProcess(operation, join(root, 'reference'));
    assert.deepEqual(await indexState(join(root, 'crashed')), await indexState(join(root, 'reference')));
  });

  for (const { point, operation: name, trained, leftover, count } of tokenCases) {
    const expected = TOKEN_INDEX_FAULT_POINTS[point];
    it(`${point} during ${name}${trained ? ' (with centroids)' : ''}: the writer dies there, the index holds the ${expected} state`, async () => {
      const root = await scratchDir();
      const crashed = join(root, 'crashed');
      const reference = join(root, 'reference');
      await tokenBaseline(crashed, trained);
      assert.deepEqual(await unreferenced(crashed), [], 'the baseline has no stray files');
      await cp(crashed, reference, { recursive: true });
      const before = await indexState(reference);
      const operation = await operationModule(`token-${name}`, tokenModule(tokenOperations[name]));

      assertInterrupted(await runChild(operation, crashed, point), point);
      await runInProcess(operation, reference);
      const after = await indexState(reference);
      assert.notDeepEqual(after.manifest, before.manifest, 'the write changes the manifest');

      const stray = await unreferenced(crashed);
      const found = `the crash at ${point} leaves [${leftover.join(', ')}], found [${stray.join(', ')}]`;
      assert.ok(stray.every((n) => leftover.some((p) => p.test(n))), found);
      assert.ok(leftover.every((p) => stray.some((n) => p.test(n))), found);
      if (count !== undefined) assert.equal(stray.length, count, found);
      // open() ignores the leftovers: exactly the expected state.
      assert.deepEqual(await indexState(crashed), expected === 'before' ? before : after, `after a crash at ${point}: the ${expected} state`);
      if (expected === 'before') {
        // The same write again, over the leftovers, ends exactly where an uninterrupted one does.
        await runInProcess(operation, crashed);
        assert.deepEqual(await indexState(crashed), after);
      }
      // The next compaction removes whatever the crash left; then both folders hold the same files.
      for (const dir of [crashed, reference]) {
        const index = await TokenIndex.open(dir);
        await index.compact();
        await index.close();
      }
      assert.deepEqual(await unreferenced(crashed), []);
      assert.deepEqual((await readdir(crashed)).sort(), (await readdir(reference)).sort());
      assert.deepEqual(await indexState(crashed), await indexState(reference));
    });
  }
});
