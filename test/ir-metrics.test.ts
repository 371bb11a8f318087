import assert from 'node:assert/strict';
import { test } from 'node:test';
import { averagePrecision, meanAveragePrecision, mrrAtK, ndcgAtK, precisionAtK, recallAtK } from '../src/eval/ir-metrics.js';
import { evaluateReranking, metricsByName, parseRerankQuery, type RerankQuery } from '../src/eval/rerank-evaluator.js';
import { formatRerankReport } from '../src/present/rerank-report.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { fixtureModel } from './helpers/fixtures.js';

const close = (actual: number, expected: number, eps = 1e-12) =>
  assert.ok(Math.abs(actual - expected) < eps, `expected ${expected}, got ${actual}`);

// One query used throughout. Ranking d1..d5. Judged: d1 grade 0 (judged not relevant), d2 grade 2, d4 grade 1, and d9
// grade 3, which the ranking never returns. Relevant (grade > 0): d2, d4, d9, so R = 3.
const RANKING = ['d1', 'd2', 'd3', 'd4', 'd5'];
const LABELS = new Map([
  ['d1', 0],
  ['d2', 2],
  ['d4', 1],
  ['d9', 3],
]);

test('nDCG@k: graded gains 2^rel - 1, log2 discount, ideal from every judged document', { timeout: 20_000 }, () => {
  // DCG@5: d2 at position 2 gains 2^2 - 1 = 3, discounted by log2(3): 3 / 1.5849625 = 1.8927893;
  //        d4 at position 4 gains 2^1 - 1 = 1, discounted by log2(5): 1 / 2.3219281 = 0.4306766. DCG = 2.3234659.
  // Ideal: grades 3, 2, 1, 0 -> gains 7, 3, 1, 0: 7/log2(2) + 3/log2(3) + 1/log2(4) = 7 + 1.8927893 + 0.5 = 9.3927893.
  // nDCG@5 = 2.3234659 / 9.3927893 = 0.24736697.
  close(ndcgAtK(RANKING, LABELS, 5), (3 / Math.log2(3) + 1 / Math.log2(5)) / (7 + 3 / Math.log2(3) + 0.5));
  close(ndcgAtK(RANKING, LABELS, 5), 0.24736697, 1e-8);
  // k = 2: DCG = 1.8927893, ideal = 7 + 1.8927893 = 8.8927893 -> 0.21284540.
  close(ndcgAtK(RANKING, LABELS, 2), 0.21284540, 1e-8);
  // k = 1: d1 has grade 0, so DCG = 0.
  assert.equal(ndcgAtK(RANKING, LABELS, 1), 0);
  // k beyond the ranking: nothing more is gained, but the ideal now holds all three relevant documents, as at k = 5.
  close(ndcgAtK(RANKING, LABELS, 20), ndcgAtK(RANKING, LABELS, 5));
});

test('nDCG: the ideal order scores 1, and a swap of two grades costs exactly what the formula says', { timeout: 20_000 }, () => {
  const labels = new Map([
    ['a', 3],
    ['b', 2],
    ['c', 0],
  ]);
  assert.equal(ndcgAtK(['a', 'b', 'c'], labels, 3), 1);
  // b before a: 3/1 + 7/log2(3) = 3 + 4.4165084 = 7.4165084; ideal 7 + 3/log2(3) = 8.8927893 -> 0.83399...
  close(ndcgAtK(['b', 'a', 'c'], labels, 3), (3 + 7 / Math.log2(3)) / (7 + 3 / Math.log2(3)));
  close(ndcgAtK(['b', 'a', 'c'], labels, 3), 0.83399, 1e-5);
});

test('MRR@k: reciprocal rank of the first relevant document inside the cut-off', { timeout: 20_000 }, () => {
  // First relevant is d2 at position 2: 1/2. With k = 1 only d1 (grade 0) is looked at: 0.
  assert.equal(mrrAtK(RANKING, LABELS, 5), 0.5);
  assert.equal(mrrAtK(RANKING, LABELS, 2), 0.5);
  assert.equal(mrrAtK(RANKING, LABELS, 1), 0);
  assert.equal(mrrAtK(['d4', 'd1'], LABELS, 10), 1);
});

test('average precision: precision at each hit, over all relevant documents including unretrieved ones', { timeout: 20_000 }, () => {
  // Hits at position 2 (precision 1/2) and position 4 (precision 2/4); d9 is never found and adds 0. R = 3:
  // AP = (0.5 + 0.5) / 3 = 1/3.
  close(averagePrecision(RANKING, LABELS), 1 / 3);
  // Relevant first: hits at 1 and 2 -> (1/1 + 2/2) / 2 = 1.
  const binary = new Map([
    ['x', 1],
    ['y', 1],
  ]);
  assert.equal(averagePrecision(['x', 'y', 'z'], binary), 1);
  // Hits at 2 and 3: (1/2 + 2/3) / 2 = 7/12.
  close(averagePrecision(['z', 'x', 'y'], binary), 7 / 12);
  // MAP is the mean over queries: (1/3 + 7/12) / 2 = 11/24.
  close(
    meanAveragePrecision([
      { ranking: RANKING, relevance: LABELS },
      { ranking: ['z', 'x', 'y'], relevance: binary },
    ]),
    11 / 24,
  );
  assert.ok(Number.isNaN(meanAveragePrecision([])));
});

test('recall@k and precision@k', { timeout: 20_000 }, () => {
  // Relevant in the top 5: d2, d4 -> recall 2/3, precision 2/5. Top 2: d2 -> 1/3 and 1/2. Top 1: none.
  close(recallAtK(RANKING, LABELS, 5), 2 / 3);
  close(recallAtK(RANKING, LABELS, 2), 1 / 3);
  assert.equal(recallAtK(RANKING, LABELS, 1), 0);
  assert.equal(precisionAtK(RANKING, LABELS, 5), 2 / 5);
  assert.equal(precisionAtK(RANKING, LABELS, 2), 1 / 2);
  // The ranking has 5 documents but precision@10 still divides by 10: 2/10.
  assert.equal(precisionAtK(RANKING, LABELS, 10), 0.2);
});

test('no relevant document: every metric is 0 (documented convention), whatever the ranking', { timeout: 20_000 }, () => {
  const none = new Map([
    ['d1', 0],
    ['d2', 0],
  ]);
  for (const labels of [none, new Map<string, number>()]) {
    assert.equal(ndcgAtK(RANKING, labels, 5), 0);
    assert.equal(mrrAtK(RANKING, labels, 5), 0);
    assert.equal(averagePrecision(RANKING, labels), 0);
    assert.equal(recallAtK(RANKING, labels, 5), 0);
    assert.equal(precisionAtK(RANKING, labels, 5), 0);
  }
  // An empty ranking with relevant documents finds nothing.
  assert.equal(ndcgAtK([], LABELS, 5), 0);
  assert.equal(averagePrecision([], LABELS), 0);
});

test('bad input is an error: k, repeated ids, negative or non-finite grades', { timeout: 20_000 }, () => {
  assert.throws(() => ndcgAtK(RANKING, LABELS, 0), /ndcgAtK: k must be a positive integer, got 0/);
  assert.throws(() => recallAtK(RANKING, LABELS, 1.5), /recallAtK: k must be a positive integer/);
  // A repeated relevant id would otherwise count twice: recall 2/1.
  assert.throws(() => recallAtK(['d2', 'd2'], new Map([['d2', 1]]), 2), /repeats an id/);
  assert.throws(() => averagePrecision(['a'], new Map([['a', -1]])), /grade of a must be a finite number >= 0, got -1/);
  assert.throws(() => mrrAtK(['a'], new Map([['a', NaN]]), 1), /grade of a/);
});

const QUERIES: RerankQuery[] = [
  {
    query: 'what is a reranker',
    documents: ['Rerankers sort candidates.', 'Cats sleep a lot.', 'A cross-encoder scores query and document together.', 'Bread needs yeast.', 'BM25 is lexical.'],
    relevant: [0, 2],
  },
  {
    query: 'how do vaccines work',
    documents: ['Vaccines teach the immune system.', 'Vials stay cold.', 'Antibodies remember antigens.', 'Marathon training.'],
    relevance: { '0': 2, '2': 1, '1': 0 },
  },
  // No relevant document: ranked and listed, but left out of the means.
  { query: 'unanswerable', documents: ['One.', 'Two.'], relevant: [] },
];

test('evaluateReranking: per-query metrics from the ranker\'s own order, means over queries with a relevant document', { timeout: 20_000 }, async () => {
  const ce = await CrossEncoder.load(await fixtureModel({ kind: 'cross-encoder', seed: 2 }));
  try {
    const progress: number[] = [];
    const result = await evaluateReranking(ce, QUERIES, { k: 3, recallAt: [2, 1], onProgress: (n) => progress.push(n) });
    assert.deepEqual(progress, [1, 2, 3]);
    assert.equal(result.model, ce.name);
    assert.deepEqual([result.k, result.recallAt, result.queries, result.evaluated, result.skipped], [3, [1, 2], 3, 2, 1]);

    const labels = [
      new Map([
        [0, 1],
        [2, 1],
      ]),
      new Map([
        [0, 2],
        [2, 1],
        [1, 0],
      ]),
      new Map<number, number>(),
    ];
    const expected = [];
    const rankings: number[][] = [];
    for (const [i, q] of QUERIES.entries()) {
      const ranking = (await ce.rank(q.query, q.documents)).results.map((r) => r.index);
      rankings.push(ranking);
      assert.deepEqual(result.perQuery[i].ranking, ranking);
      const e = {
        ndcg: ndcgAtK(ranking, labels[i], 3),
        mrr: mrrAtK(ranking, labels[i], 3),
        ap: averagePrecision(ranking, labels[i]),
        recall: { 1: recallAtK(ranking, labels[i], 1), 2: recallAtK(ranking, labels[i], 2) },
      };
      assert.deepEqual({ ndcg: result.perQuery[i].ndcg, mrr: result.perQuery[i].mrr, ap: result.perQuery[i].ap, recall: result.perQuery[i].recall }, e);
      expected.push(e);
    }
    assert.deepEqual(result.perQuery.map((q) => q.relevantCount), [2, 2, 0]);
    // The ranking is the cross-encoder's own order of the two documents, as ranked above.
    assert.deepEqual(result.perQuery[2], { query: 'unanswerable', documents: 2, relevantCount: 0, ranking: rankings[2], ndcg: 0, mrr: 0, ap: 0, recall: { 1: 0, 2: 0 } });
    assert.deepEqual([...rankings[2]].sort(), [0, 1]);
    // Means over the first two queries only.
    close(result.ndcg, (expected[0].ndcg + expected[1].ndcg) / 2);
    close(result.mrr, (expected[0].mrr + expected[1].mrr) / 2);
    close(result.map, (expected[0].ap + expected[1].ap) / 2);
    close(result.recall[2], (expected[0].recall[2] + expected[1].recall[2]) / 2);
    assert.deepEqual(Object.keys(metricsByName(result)), ['ndcg@3', 'mrr@3', 'map', 'recall@1', 'recall@2']);

    const report = formatRerankReport(result);
    assert.match(report, /Queries: 3 \(1 without a relevant document, left out of the means\)/);
    assert.match(report, new RegExp(`\\nndcg@3 +${result.ndcg.toFixed(4)}\\n`));
    assert.match(report, new RegExp(`\\nmap +${result.map.toFixed(4)}\\n`));

    // When every document is relevant, any order is perfect: nDCG, MRR and MAP are 1, and recall@k is k / 4.
    const all = await evaluateReranking(ce, [{ query: 'q', documents: ['a', 'b', 'c', 'd'], relevant: [3, 1, 0, 2] }], { k: 10, recallAt: [1, 3, 10] });
    assert.deepEqual(metricsByName(all), { 'ndcg@10': 1, 'mrr@10': 1, map: 1, 'recall@1': 0.25, 'recall@3': 0.75, 'recall@10': 1 });
  } finally {
    await ce.dispose();
  }
});

test('rerank queries: each malformed field is named; nothing is ranked when no query has a relevant document', { timeout: 20_000 }, async () => {
  const bad: Array<[unknown, RegExp]> = [
    [[], /expected a JSON object/],
    [{ documents: ['a'], relevant: [0] }, /field "query" must be a non-empty string/],
    [{ query: 'q', documents: [], relevant: [] }, /field "documents" must be a non-empty array of strings/],
    [{ query: 'q', documents: ['a', 3], relevant: [0] }, /field "documents\[1\]" must be a string/],
    [{ query: 'q', documents: ['a'] }, /field "relevant" must be an array of document indices \(or give "relevance"\)/],
    [{ query: 'q', documents: ['a', 'b'], relevant: [0, 2] }, /field "relevant\[1\]" must be a document index from 0 to 1, got 2/],
    [{ query: 'q', documents: ['a', 'b'], relevant: [1, 1] }, /lists document 1 twice/],
    [{ query: 'q', documents: ['a'], relevant: [0], relevance: { '0': 1 } }, /either field "relevant" or field "relevance", not both/],
    [{ query: 'q', documents: ['a', 'b'], relevance: { '01': 1 } }, /field "relevance" has key "01": expected a document index from 0 to 1/],
    [{ query: 'q', documents: ['a', 'b'], relevance: { '1': -2 } }, /field "relevance\.1" must be a number >= 0/],
  ];
  for (const [value, message] of bad) assert.throws(() => parseRerankQuery(value), message, JSON.stringify(value));
  assert.deepEqual(parseRerankQuery({ query: 'q', documents: ['a', 'b', 'c'], relevance: { '2': 3, '0': 0 } }).labels, new Map([[0, 0], [2, 3]]));

  // A released cross-encoder fails on first use, so getting these messages shows the checks run before any ranking.
  const ce = await CrossEncoder.load(await fixtureModel({ kind: 'cross-encoder', seed: 2 }));
  await ce.dispose();
  await assert.rejects(evaluateReranking(ce, [QUERIES[2]]), /no query has a relevant document/);
  await assert.rejects(evaluateReranking(ce, [QUERIES[0], { query: 'q', documents: ['a'], relevant: [4] }]), /queries\[1\]: field "relevant\[0\]" must be a document index from 0 to 0, got 4/);
  await assert.rejects(evaluateReranking(ce, QUERIES, { k: 0 }), /k: expected a positive integer, got 0/);
  await assert.rejects(evaluateReranking(ce, QUERIES, { recallAt: [5, -1] }), /recallAt: expected positive integers, got -1/);
  await assert.rejects(evaluateReranking(ce, []), /queries: expected at least one query/);
});
