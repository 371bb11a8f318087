/**
 * Crash tests for the LanceDB index, as test/crash-points.test.ts does for the SQLite cache and the token index: for
 * every named point in LANCEDB_INDEX_FAULT_POINTS (src/util/fault.ts) a child process performs one write on an index
 * with RANKWISE_FAULT=<point> and must die there by SIGKILL; the index reopened afterwards must hold exactly the state
 * before the write or exactly the state after it (rows, BM25 scores, manifest), with text search answering (not
 * silently empty) and no temporary manifest left, and the same write run again must reach the "after" state.
 *
 * The "after" state is computed by running the same write, without a fault, in this process on a copy of the index.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import * as lancedb from '@lancedb/lancedb';
import { LanceDbRetriever, readLanceManifest } from '../src/retrieve/lancedb.js';
import { lanceTextPendingPath, temporaryManifests } from '../src/retrieve/lance-manifest.js';
import type { IndexedDocument } from '../src/retrieve/retriever.js';
import { FAULT_ENV, LANCEDB_INDEX_FAULT_POINTS } from '../src/util/fault.js';
import { ROOT } from './helpers/cli.js';
import { assertInterrupted, operationModule, runChild, runInProcess, src } from './helpers/crash-child.js';
import { scratchDir } from './helpers/fixtures.js';
import { exists } from '../src/util/fs.js';

const DOCS: IndexedDocument[] = [
  { id: 'heron', text: 'heron heron pond' },
  { id: 'pond-1', text: 'pond water' },
  { id: 'pond-2', text: 'pond weed', metadata: { tier: 'gold' } },
  { id: 'meadow', text: 'meadow grass sways' },
  { id: 'forest', text: 'forest canopy shade' },
  { id: 'lake', text: 'lake heron reeds' },
];
const QUERIES = ['heron', 'pond', 'meadow forest', 'lake reeds', 'duck'];

const operations: Record<string, string> = {
  create: ``,
  'add-first': `await index.add(${JSON.stringify(DOCS)});`,
  // New rows, and new text for an existing id (an upsert must replace it, not add a copy).
  upsert: `await index.add([{ id: 'duck', text: 'duck pond reeds' }, { id: 'heron', text: 'grey heron by the lake' }]);`,
  delete: `await index.delete(['pond-1', 'forest', 'no-such-id']);`,
};

function lanceModule(body: string): string {
  return `import { LanceDbRetriever } from ${src('retrieve/lancedb.ts')};
export async function run(dir) {
  const index = await LanceDbRetriever.open(dir);
  ${body}
  await index.close();
}
`;
}

type Baseline = 'none' | 'empty' | 'documents';

async function lanceBaseline(dir: string, baseline: Baseline): Promise<void> {
  await mkdir(dir, { recursive: true });
  if (baseline === 'none') return;
  const index = await LanceDbRetriever.open(dir);
  if (baseline === 'documents') await index.add(DOCS);
  await index.close();
}

interface IndexState {
  index: boolean;
  manifest?: unknown;
  count?: number;
  rows?: unknown[];
  search?: Record<string, Array<[string, string]>>;
}

/**
 * What a reader sees, the way `rankwise index stats/search` see it: no index without a manifest; otherwise the
 * manifest (less its creation time, which differs between the copies of the "create" cases), every row, and the
 * text hits (ids and BM25 scores to 5 digits) of a few queries. Opening repairs what a crash left.
 */
async function lanceState(dir: string, withCreatedAt: boolean): Promise<IndexState> {
  const manifest = await readLanceManifest(dir);
  if (!manifest) return { index: false };
  const index = await LanceDbRetriever.open(dir);
  try {
    const search: Record<string, Array<[string, string]>> = {};
    for (const query of QUERIES) {
      // Equal scores come in no fixed order: sorted by id among themselves.
      const hits = (await index.search(query, { mode: 'text', k: 20 })).map((hit): [string, string] => [hit.id, hit.score.toFixed(5)]);
      search[query] = hits.sort((a, b) => Number(b[1]) - Number(a[1]) || a[0].localeCompare(b[0]));
    }
    const db = await lancedb.connect(dir);
    const table = await db.openTable('documents');
    const rows = (await table.query().select(['id', 'text', 'metadata']).toArray())
      .map((row) => ({ id: String(row.id), text: String(row.text), metadata: row.metadata ?? null }))
      .sort((a, b) => a.id.localeCompare(b.id));
    table.close();
    db.close();
    const { createdAt, ...rest } = manifest;
    return { index: true, manifest: withCreatedAt ? manifest : rest, count: await index.count(), rows, search };
  } finally {
    await index.close();
  }
}

interface LanceCase {
  point: keyof typeof LANCEDB_INDEX_FAULT_POINTS;
  operation: keyof typeof operations;
  baseline: Baseline;
  /** What the crash leaves, proof of how far the write got, checked before reopening. */
  left: 'table-without-manifest' | 'temporary-manifest' | 'text-update-owed' | 'nothing';
}

const lanceCases: LanceCase[] = [
  { point: 'lancedb:after-create-table', operation: 'create', baseline: 'none', left: 'table-without-manifest' },
  { point: 'lancedb:before-manifest', operation: 'create', baseline: 'none', left: 'temporary-manifest' },
  { point: 'lancedb:after-manifest', operation: 'create', baseline: 'none', left: 'nothing' },
  { point: 'lancedb:after-rows', operation: 'add-first', baseline: 'empty', left: 'text-update-owed' },
  { point: 'lancedb:after-text-index', operation: 'add-first', baseline: 'empty', left: 'nothing' },
  { point: 'lancedb:after-rows', operation: 'upsert', baseline: 'documents', left: 'text-update-owed' },
  { point: 'lancedb:after-text-index', operation: 'upsert', baseline: 'documents', left: 'nothing' },
  { point: 'lancedb:after-delete', operation: 'delete', baseline: 'documents', left: 'text-update-owed' },
  { point: 'lancedb:after-text-index', operation: 'delete', baseline: 'documents', left: 'nothing' },
];

/** Coverage of the BM25 index, read straight from LanceDB (before any rankwise open() could repair it). */
async function textIndexCoverage(dir: string): Promise<{ rows: number; indexed: number; unindexed: number; hasIndex: boolean }> {
  const db = await lancedb.connect(dir);
  const table = await db.openTable('documents');
  try {
    const rows = await table.countRows();
    const index = (await table.listIndices()).find((i) => i.columns.includes('text'));
    const stats = index ? await table.indexStats(index.name) : undefined;
    return { rows, indexed: stats?.numIndexedRows ?? 0, unindexed: stats?.numUnindexedRows ?? 0, hasIndex: index !== undefined };
  } finally {
    table.close();
    db.close();
  }
}

async function assertLeftover(dir: string, left: LanceCase['left'], point: string): Promise<void> {
  const names = await readdir(dir);
  const temporary = await temporaryManifests(dir);
  if (left === 'temporary-manifest') assert.equal(temporary.length, 1, `a crash at ${point} leaves the temporary manifest: ${names.join(', ')}`);
  else assert.deepEqual(temporary, [], `no temporary manifest after a crash at ${point}`);
  if (left === 'table-without-manifest' || left === 'temporary-manifest') {
    assert.ok(names.includes('documents.lance') && !names.includes('documents.rankwise.json'), `a table and no manifest: ${names.join(', ')}`);
  }
  // The marker that a BM25 update is owed: there from before the commit until the index covers it.
  assert.equal(names.includes('documents.rankwise.text-pending'), left === 'text-update-owed', `the text-pending marker after a crash at ${point}: ${names.join(', ')}`);
  if (left === 'text-update-owed' && point === 'lancedb:after-rows') {
    const coverage = await textIndexCoverage(dir);
    assert.ok(!coverage.hasIndex || coverage.unindexed > 0 || coverage.indexed !== coverage.rows, `the BM25 index is behind the rows: ${JSON.stringify(coverage)}`);
  }
}

describe('crash points: LanceDB index', { timeout: 120_000 }, () => {
  it('every LanceDB fault point has a case', () => {
    assert.deepEqual(new Set(lanceCases.map((c) => c.point)), new Set(Object.keys(LANCEDB_INDEX_FAULT_POINTS)));
  });

  for (const { point, operation: name, baseline, left } of lanceCases) {
    const expected = LANCEDB_INDEX_FAULT_POINTS[point];
    it(`${point} during ${name}: the writer dies there, the index holds the ${expected} state`, async () => {
      const root = await scratchDir();
      const crashed = join(root, 'crashed');
      const reference = join(root, 'reference');
      await lanceBaseline(crashed, baseline);
      await cp(crashed, reference, { recursive: true });
      const withCreatedAt = name !== 'create';
      const before = await lanceState(reference, withCreatedAt);
      const operation = await operationModule(`lance-${name}`, lanceModule(operations[name]));

      assertInterrupted(await runChild(operation, crashed, point), point);
      await assertLeftover(crashed, left, point);
      await runInProcess(operation, reference);
      const after = await lanceState(reference, withCreatedAt);
      assert.notDeepEqual(after, before, 'the write changes something');

      const state = await lanceState(crashed, withCreatedAt);
      assert.deepEqual(state, expected === 'before' ? before : after, `after a crash at ${point}: the ${expected} state`);
      if (state.count) assert.ok(Object.values(state.search!).some((hits) => hits.length > 0), 'text search answers');
      assert.equal(await exists(lanceTextPendingPath(crashed)), false, 'open() finished the owed BM25 update');
      const coverage = await textIndexCoverage(crashed);
      if (coverage.rows > 0) assert.deepEqual([coverage.unindexed, coverage.indexed], [0, coverage.rows], 'open() brought the BM25 index up to date');

      // The same write again, from what the crash left, ends exactly where an uninterrupted one does.
      await runInProcess(operation, crashed);
      assert.deepEqual(await lanceState(crashed, withCreatedAt), after);
      assert.deepEqual(await temporaryManifests(crashed), [], 'open() removed the temporary manifest');
    });
  }
});

describe('crash points: rankwise index add, killed', { timeout: 150_000 }, () => {
  const cli = promisify(execFile);
  const rankwise = (fault: string | undefined, ...args: string[]) =>
    cli(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, [FAULT_ENV]: fault ?? '' },
    });

  it('after the first commit, before the BM25 index: stats and text search see every document, add again works', async () => {
    const root = await scratchDir();
    const docs = join(root, 'docs.jsonl');
    await writeFile(docs, DOCS.map((d) => JSON.stringify(d)).join('\n'));
    const index = join(root, 'index');
    await assert.rejects(rankwise('lancedb:after-rows', 'index', 'add', '--index', index, '--docs', docs, '--model', 'none', '--json'), (error: { signal?: string }) => {
      assert.equal(error.signal, 'SIGKILL');
      return true;
    });
    const stats = JSON.parse((await rankwise(undefined, 'index', 'stats', '--index', index, '--json')).stdout) as { documents: number };
    assert.equal(stats.documents, DOCS.length);
    const hits = JSON.parse((await rankwise(undefined, 'index', 'search', '--index', index, '--query', 'heron', '--mode', 'text', '--json')).stdout) as {
      results: Array<{ id: string }>;
    };
    assert.deepEqual(hits.results.map((h) => h.id), ['heron', 'lake']);
  });

  it('after the table, before the manifest: stats says there is no index, and index add creates it', async () => {
    const root = await scratchDir();
    const docs = join(root, 'docs.jsonl');
    await writeFile(docs, DOCS.map((d) => JSON.stringify(d)).join('\n'));
    const index = join(root, 'index');
    await assert.rejects(rankwise('lancedb:after-create-table', 'index', 'add', '--index', index, '--docs', docs, '--model', 'none'), (error: { signal?: string }) => {
      assert.equal(error.signal, 'SIGKILL');
      return true;
    });
    await assert.rejects(rankwise(undefined, 'index', 'stats', '--index', index), (error: { stderr: string }) => /no rankwise index/.test(error.stderr));
    const added = JSON.parse((await rankwise(undefined, 'index', 'add', '--index', index, '--docs', docs, '--model', 'none', '--json')).stdout) as { count: number };
    assert.equal(added.count, DOCS.length);
  });
});
