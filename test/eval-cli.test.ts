import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { evaluatePairwise, type PairwiseCase } from '../src/eval/pairwise.js';
import { evaluateReranking, type RerankQuery } from '../src/eval/rerank-evaluator.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { ok, rankwise } from './helpers/cli.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';

const CASES: PairwiseCase[] = [
  { query: 'what does a cross-encoder do', relevant: 'It reads query and document together.', distractor: 'Encoders convert signals.', split: 'seen', topic: 'ml' },
  { query: 'what does a cross-encoder do', relevant: 'Encoders convert signals.', distractor: 'It reads query and document together.', split: 'seen' },
  { query: 'how long do cats sleep', relevant: 'Cats sleep sixteen hours a day.', distractor: 'Sleep hygiene helps insomnia.', split: 'unseen', topic: 'pets' },
  { query: 'how long do cats sleep', relevant: 'Sleep hygiene helps insomnia.', distractor: 'Cats sleep sixteen hours a day.', split: 'unseen' },
  { query: 'why is the sky blue', relevant: 'Air scatters blue light most.', distractor: 'Blue whales are huge.' },
];

const QUERIES: RerankQuery[] = [
  { query: 'what is a reranker', documents: ['Rerankers sort candidates.', 'Cats sleep a lot.', 'A cross-encoder scores pairs.', 'Bread needs yeast.'], relevant: [0, 2] },
  { query: 'how do vaccines work', documents: ['Vaccines teach immunity.', 'Vials stay cold.', 'Antibodies remember.'], relevance: { '0': 2, '2': 1 } },
];

let ce: string;
let other: string;
let work: string;
let casesFile: string;
let queriesFile: string;
before(async () => {
  ce = await fixtureModel({ kind: 'cross-encoder', seed: 2 });
  other = await fixtureModel({ kind: 'cross-encoder', seed: 9 });
  work = await scratchDir();
  casesFile = join(work, 'cases.jsonl');
  // A blank line in the middle, as hand-edited files have.
  await writeFile(casesFile, CASES.slice(0, 2).map((c) => JSON.stringify(c)).join('\n') + '\n\n' + CASES.slice(2).map((c) => JSON.stringify(c)).join('\n') + '\n');
  queriesFile = join(work, 'queries.jsonl');
  await writeFile(queriesFile, QUERIES.map((q) => JSON.stringify(q)).join('\n') + '\n');
});

test('eval pairwise --json gives the same scores as the library and counts splits from the file', { timeout: 300_000 }, async () => {
  const out = await rankwise('eval', 'pairwise', '--model', ce, '--cases', casesFile, '--json');
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stderr, '', 'no progress bar or other noise under --json');
  const json = JSON.parse(out.stdout);
  const model = await CrossEncoder.load(ce);
  const expected = await evaluatePairwise(model, CASES);
  await model.dispose();

  assert.equal(json.cases.length, CASES.length);
  json.cases.forEach((c: Record<string, unknown>, i: number) => {
    const e = expected.cases[i];
    assert.deepEqual(Object.keys(c), ['query', 'split', 'topic', 'relevant_score', 'distractor_score', 'gap', 'passed']);
    assert.equal(c.query, CASES[i].query);
    assert.equal(c.split, CASES[i].split ?? null);
    assert.equal(c.topic, CASES[i].topic ?? null);
    assert.ok(Math.abs((c.relevant_score as number) - e.relevantScore) < 1e-6);
    assert.ok(Math.abs((c.distractor_score as number) - e.distractorScore) < 1e-6);
    assert.equal(c.gap, (c.relevant_score as number) - (c.distractor_score as number));
    assert.equal(c.passed, (c.gap as number) > 0);
  });
  // Cases 0/1 and 2/3 are the same pair both ways round, so exactly one of each passes.
  assert.deepEqual(json.seen, { passed: 1, total: 2 });
  assert.deepEqual(json.unseen, { passed: 1, total: 2 });
  const passed = json.cases.filter((c: { passed: boolean }) => c.passed).length;
  assert.equal(json.passed, passed);
  assert.equal(json.total, 5);
  assert.equal(json.accuracy, passed / 5);
  const gaps = json.cases.map((c: { gap: number }) => c.gap) as number[];
  assert.ok(Math.abs(json.avg_gap - gaps.reduce((a, b) => a + b, 0) / 5) < 1e-12);
});

test('eval pairwise prints the per-case table and the accuracy summary; --baseline adds what changed', { timeout: 300_000 }, async () => {
  const text = await ok('eval', 'pairwise', '--model', ce, '--cases', casesFile, '--dtype', 'int8', '--threads', '1');
  const rows = text.split('\n').filter((l) => /^\d+ /.test(l));
  assert.equal(rows.length, 5);
  assert.match(rows[0], /^1 {2}seen {4}(PASS|FAIL) {4}0\.\d{4} {4}0\.\d{4} .* what does a cross-encoder do$/);
  assert.match(rows[4], /^5 {2}- /);
  assert.match(text, /\nAccuracy: \d\/5 \(\d+\.\d%\)\n {2}seen: {3}1\/2 \(50\.0%\)\n {2}unseen: 1\/2 \(50\.0%\)\nAverage gap \(relevant - distractor\): \S+\n$/);

  const json = JSON.parse(await ok('eval', 'pairwise', '--model', ce, '--baseline', other, '--cases', casesFile, '--json'));
  assert.equal(json.before.model, other);
  assert.equal(json.after.model, ce);
  const fixed = json.before.cases.flatMap((c: { passed: boolean }, i: number) => (!c.passed && json.after.cases[i].passed ? [i] : []));
  const broken = json.before.cases.flatMap((c: { passed: boolean }, i: number) => (c.passed && !json.after.cases[i].passed ? [i] : []));
  assert.deepEqual(
    json.fixed.map((c: { index: number }) => c.index),
    fixed,
  );
  assert.deepEqual(
    json.broken.map((c: { index: number }) => c.index),
    broken,
  );
  assert.equal(json.accuracy_change, json.after.accuracy - json.before.accuracy);

  const report = await ok('eval', 'pairwise', '--model', ce, '--baseline', other, '--cases', casesFile);
  assert.match(report, new RegExp(`Before: ${other}\\nAfter: {2}${ce}\\n`));
  assert.match(report, new RegExp(`Fixed \\(${fixed.length}\\): failed before, pass after`));
  assert.match(report, new RegExp(`Broken \\(${broken.length}\\): passed before, fail after`));
});

test('eval rerank --json gives the library\'s metrics under the printed names; the text report is a metric table', { timeout: 300_000 }, async () => {
  const out = await rankwise('eval', 'rerank', '--model', ce, '--queries', queriesFile, '--k', '3', '--recall-at', '1,2', '--json');
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stderr, '');
  const json = JSON.parse(out.stdout);
  const model = await CrossEncoder.load(ce);
  const expected = await evaluateReranking(model, QUERIES, { k: 3, recallAt: [1, 2] });
  await model.dispose();
  assert.deepEqual(Object.keys(json), ['model', 'queries', 'evaluated', 'skipped', 'ndcg@3', 'mrr@3', 'map', 'recall@1', 'recall@2', 'per_query']);
  assert.equal(json['ndcg@3'], expected.ndcg);
  assert.equal(json['mrr@3'], expected.mrr);
  assert.equal(json.map, expected.map);
  assert.equal(json['recall@2'], expected.recall[2]);
  assert.deepEqual(
    json.per_query.map((q: { ranking: number[] }) => q.ranking),
    expected.perQuery.map((q) => q.ranking),
  );
  assert.deepEqual(json.per_query[1], {
    query: 'how do vaccines work',
    documents: 3,
    relevant_count: 2,
    ranking: expected.perQuery[1].ranking,
    'ndcg@3': expected.perQuery[1].ndcg,
    'mrr@3': expected.perQuery[1].mrr,
    ap: expected.perQuery[1].ap,
    'recall@1': expected.perQuery[1].recall[1],
    'recall@2': expected.perQuery[1].recall[2],
  });

  const text = await ok('eval', 'rerank', '--model', ce, '--queries', queriesFile);
  const metrics = Object.fromEntries(
    text
      .split('\n')
      .map((l) => /^(\S+) +(\d\.\d{4})$/.exec(l))
      .filter((m) => m !== null)
      .map((m) => [m[1], Number(m[2])]),
  );
  // Defaults: k = 10, recall at 1, 5 and 10.
  assert.deepEqual(Object.keys(metrics), ['ndcg@10', 'mrr@10', 'map', 'recall@1', 'recall@5', 'recall@10']);
  // Every query has at most 4 documents, so recall@5 finds every relevant one.
  assert.equal(metrics['recall@5'], 1);
  assert.equal(metrics.map, Number(expected.map.toFixed(4)));
});

test('malformed input exits non-zero with one line naming the file, the line and the field', { timeout: 300_000 }, async () => {
  const file = async (name: string, lines: string[]) => {
    const path = join(work, name);
    await writeFile(path, lines.join('\n') + '\n');
    return path;
  };
  const good = JSON.stringify(CASES[0]);
  const cases: Array<[string[], RegExp]> = [
    [['eval', 'pairwise', '--model', ce, '--cases', await file('bad-json.jsonl', [good, '{"query": oops}'])], /bad-json\.jsonl:2: not valid JSON/],
    [['eval', 'pairwise', '--model', ce, '--cases', await file('no-distractor.jsonl', [good, '', '{"query":"q","relevant":"r"}'])], /no-distractor\.jsonl:3: field "distractor" must be a non-empty string/],
    [['eval', 'pairwise', '--model', ce, '--cases', await file('split.jsonl', ['{"query":"q","relevant":"r","distractor":"d","split":"train"}'])], /split\.jsonl:1: field "split" must be "seen" or "unseen", got "train"/],
    [['eval', 'pairwise', '--model', ce, '--cases', await file('array.jsonl', ['["q","r","d"]'])], /array\.jsonl:1: expected a JSON object/],
    [['eval', 'pairwise', '--model', ce, '--cases', await file('empty.jsonl', ['', ''])], /--cases .*empty\.jsonl: no cases in it/],
    [['eval', 'pairwise', '--model', ce, '--cases', join(work, 'missing.jsonl')], /--cases .*missing\.jsonl: no such file/],
    [['eval', 'pairwise', '--model', join(work, 'nope'), '--cases', await file('fine.jsonl', [good])], /model ".*nope": no such folder/],
    [['eval', 'rerank', '--model', ce, '--queries', await file('range.jsonl', [JSON.stringify(QUERIES[0]), '{"query":"q","documents":["a","b"],"relevant":[2]}'])], /range\.jsonl:2: field "relevant\[0\]" must be a document index from 0 to 1, got 2/],
    [['eval', 'rerank', '--model', ce, '--queries', await file('grade.jsonl', ['{"query":"q","documents":["a"],"relevance":{"0":"high"}}'])], /grade\.jsonl:1: field "relevance\.0" must be a number >= 0/],
    [['eval', 'rerank', '--model', ce, '--queries', await file('none.jsonl', ['{"query":"q","documents":["a"],"relevant":[]}'])], /no query has a relevant document/],
    [['eval', 'rerank', '--model', ce, '--queries', queriesFile, '--k', '0'], /--k expects a positive integer, got "0"/],
    [['eval', 'rerank', '--model', ce, '--queries', queriesFile, '--recall-at', '1,,5'], /--recall-at expects comma-separated positive integers, got "1,,5"/],
  ];
  for (const [args, message] of cases) {
    const out = await rankwise(...args);
    assert.notEqual(out.code, 0, args.join(' '));
    assert.match(out.stderr, message);
    assert.equal(out.stderr.trim().split('\n').length, 1, `one line: ${out.stderr}`);
    assert.equal(out.stdout, '');
  }
});
