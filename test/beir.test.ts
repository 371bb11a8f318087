import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { readBeirCollection, readBeirQrels } from '../src/eval/beir-collection.js';
import { beirMetrics, evaluateBeir, formatTrecRun, trecOrder } from '../src/eval/beir.js';
import { loadRanker } from '../src/rank/load-ranker.js';
import { scratchDir } from './helpers/fixtures.js';
import { ok, rankwise } from './helpers/cli.js';

const close = (actual: number, expected: number, eps = 1e-9) => assert.ok(Math.abs(actual - expected) < eps, `expected ${expected}, got ${actual}`);

describe('BEIR metrics as pytrec_eval computes them', { timeout: 30_000 }, () => {
  // Judged: d1 grade 2, d2 grade 1, d3 grade 0 (judged not relevant), d4 grade 1 (never retrieved).
  const judged = new Map([
    ['d1', 2],
    ['d2', 1],
    ['d3', 0],
    ['d4', 1],
  ]);
  // d1 and d2 tie at 0.5: trec_eval breaks ties by document id, descending, so d2 comes before d1.
  const run = [
    { id: 'd1', score: 0.5 },
    { id: 'd3', score: 0.9 },
    { id: 'd5', score: 0.1 },
    { id: 'd2', score: 0.5 },
  ];

  test('ties are ordered by descending document id', () => {
    assert.deepEqual(trecOrder(run).map((s) => s.id), ['d3', 'd2', 'd1', 'd5']);
  });

  test('nDCG@10 with linear gains, MRR@10, MAP@100 and recall@100 equal the hand computation', () => {
    const m = beirMetrics(run, judged);
    // Ranking d3 (0), d2 (1), d1 (2), d5 (0). DCG = 1/log2(3) + 2/log2(4) = 0.6309298 + 1 = 1.6309298.
    // Ideal over every judged document: grades 2, 1, 1 -> 2/1 + 1/log2(3) + 1/log2(4) = 3.1309298.
    close(m['ndcg@10'], (1 / Math.log2(3) + 1) / (2 + 1 / Math.log2(3) + 0.5));
    close(m['ndcg@10'], 0.5209, 1e-4);
    // First relevant at position 2.
    close(m['mrr@10'], 0.5);
    // Relevant: d1, d2, d4 (3). Precision at each hit: 1/2 (d2), 2/3 (d1); d4 never found counts 0.
    close(m['map@100'], (1 / 2 + 2 / 3) / 3);
    close(m['recall@100'], 2 / 3);
  });

  test('a query whose relevant documents were not retrieved scores 0 everywhere', () => {
    const m = beirMetrics([{ id: 'x', score: 1 }], new Map([['y', 1]]));
    assert.deepEqual(Object.values(m), [0, 0, 0, 0]);
  });

  test('MAP@100 ignores hits below rank 100 but still divides by every relevant document', () => {
    const long = Array.from({ length: 120 }, (_, i) => ({ id: `n${String(i).padStart(3, '0')}`, score: 1000 - i }));
    long[0] = { id: 'r1', score: 2000 };
    long[110] = { id: 'r2', score: 1 };
    const m = beirMetrics(long, new Map([['r1', 1], ['r2', 1]]));
    close(m['map@100'], 1 / 2);
    close(m['recall@100'], 1 / 2);
  });

  test('negative grades count as not relevant', () => {
    const m = beirMetrics([{ id: 'a', score: 2 }, { id: 'b', score: 1 }], new Map([['a', -1], ['b', 1]]));
    close(m['mrr@10'], 0.5);
  });
});

async function writeCollection(dir: string, gz: boolean): Promise<void> {
  const corpus = [
    { _id: 'v1', title: 'Vaccines', text: 'A vaccine shows the immune system a harmless piece of a germ so that it learns to fight it.' },
    { _id: 'v2', title: '', text: 'Memory cells keep the immune response ready for years after a vaccination.' },
    { _id: 'r1', title: 'Routers', text: 'Hold the reset button on the back of the router for ten seconds to restore factory settings.' },
    { _id: 'r2', title: '', text: 'A router forwards packets between networks using a routing table.' },
    { _id: 'c1', title: 'Coffee', text: 'Grind the beans just before brewing and use water just off the boil.' },
    { _id: 'c2', title: '', text: 'Espresso is brewed by forcing hot water through finely ground coffee.' },
  ];
  const queries = [
    { _id: 'q1', text: 'how does a vaccine teach the immune system' },
    { _id: 'q2', text: 'restore a router to factory settings' },
    { _id: 'q3', text: 'how to brew coffee' },
    { _id: 'q4', text: 'a query with no relevant document' },
  ];
  const lines = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
  await mkdir(join(dir, 'qrels'), { recursive: true });
  await writeFile(join(dir, gz ? 'corpus.jsonl.gz' : 'corpus.jsonl'), gz ? gzipSync(lines(corpus)) : lines(corpus));
  await writeFile(join(dir, 'queries.jsonl'), lines(queries));
  await writeFile(join(dir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\tv1\t2\nq1\tv2\t1\nq2\tr1\t1\nq3\tc1\t1\nq3\tc2\t1\nq4\tc1\t0\n');
}

describe('BEIR collections and evaluateBeir', { timeout: 120_000 }, () => {
  test('reads corpus (plain or gzipped), queries and qrels; titles go in front of the text', async () => {
    for (const gz of [false, true]) {
      const dir = await scratchDir();
      await writeCollection(dir, gz);
      const c = await readBeirCollection(dir);
      assert.equal(c.corpus.length, 6);
      assert.equal(c.corpus[0].text.startsWith('Vaccines A vaccine'), true);
      assert.equal(c.corpus[0].metadata?.title, 'Vaccines');
      assert.deepEqual(c.queries.map((q) => q.id), ['q1', 'q2', 'q3', 'q4']);
      assert.equal(c.qrels.get('q1')!.get('v1'), 2);
    }
  });

  test('bad folders and files give errors that name the file and what was expected', async () => {
    const dir = await scratchDir();
    await assert.rejects(readBeirCollection(dir), /no qrels\/test\.tsv/);
    await writeCollection(dir, false);
    await assert.rejects(readBeirCollection(dir, { split: 'dev' }), /no qrels\/dev\.tsv/);
    await writeFile(join(dir, 'qrels', 'test.tsv'), 'query-id\tcorpus-id\tscore\nq1\tnope\t1\n');
    await assert.rejects(readBeirCollection(dir), /judges document "nope", which is not in the corpus/);
    await writeFile(join(dir, 'qrels', 'bad.tsv'), 'query-id\tcorpus-id\tscore\nq1\tv1\thigh\n');
    await assert.rejects(readBeirQrels(join(dir, 'qrels', 'bad.tsv')), /bad\.tsv:2: score: expected an integer grade/);
  });

  test('BM25 first stage, a reranker alone and fused: per-query metrics are those of the runs', async () => {
    const dir = await scratchDir();
    await writeCollection(dir, false);
    const collection = await readBeirCollection(dir);
    const ranker = await loadRanker('use-lite');
    try {
      const result = await evaluateBeir(collection, { rerankers: [{ name: 'use-lite', ranker }], depth: 5, keepRuns: true, fuse: { method: 'linear' } });
      assert.equal(result.queries, 3, 'q4 has no relevant document and is left out');
      assert.equal(result.skipped, 1);
      for (const q of result.perQuery) {
        const labels = collection.qrels.get(q.queryId)!;
        assert.deepEqual(q.firstStage, beirMetrics(result.runs!['first-stage'][q.queryId], labels));
        assert.deepEqual(q.rerankers['use-lite'].fused, beirMetrics(result.runs!['use-lite+fused'][q.queryId], labels));
        assert.ok(result.runs!['first-stage'][q.queryId].length <= 5);
      }
      // The means are the means of the per-query values.
      const mean = result.perQuery.reduce((a, q) => a + q.rerankers['use-lite']['ndcg@10'], 0) / 3;
      close(result.rerankers[0].metrics['ndcg@10'], mean);
      // These three queries are easy for both: the reranker must find every relevant document first.
      assert.ok(result.rerankers[0].metrics['mrr@10'] === 1, JSON.stringify(result.rerankers[0].metrics));
      const trec = formatTrecRun(result.runs!['first-stage'], 'bm25');
      assert.match(trec, /^q1 Q0 v1 1 [\d.]+ bm25$/m);
    } finally {
      await ranker.dispose?.();
    }
  });

  test('`rankwise eval beir --json` follows the documented contract and writes a TREC run', async () => {
    const dir = await scratchDir();
    await writeCollection(dir, true);
    const runFile = join(dir, 'run.trec');
    const out = JSON.parse(await ok('eval', 'beir', '--data', dir, '--model', 'use-lite', '--fuse', 'linear', '--run', runFile, '--json'));
    assert.equal(out.queries, 3);
    for (const key of ['name', 'ndcg@10', 'mrr@10', 'map@100', 'recall@100']) assert.ok(key in out.first_stage, key);
    for (const key of ['ndcg@10', 'mrr@10', 'map@100', 'fused']) assert.ok(key in out.rerankers['use-lite'], key);
    assert.ok('ndcg@10' in out.rerankers['use-lite'].fused);
    assert.equal(typeof out.seconds.first_stage, 'number');
    assert.equal(out.per_query.length, 3);
    const lines = (await readFile(runFile, 'utf8')).trim().split('\n');
    assert.match(lines[0], /^q\d Q0 \S+ 1 \S+ rankwise-use-lite\+fused$/);
    const table = await ok('eval', 'beir', '--data', dir);
    assert.match(table, /bm25 \(first stage, top 100\)\s+1\.0000/);
    const bad = await rankwise('eval', 'beir', '--data', dir, '--fuse-weight', '2');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--fuse-weight expects a number from 0 to 1, got "2"/);
  });
});
