import assert from 'node:assert/strict';
import { copyFile, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { PairTokenizer } from '../src/models/tokenizer/index.js';
import { ok, rankwise, ROOT, run } from './helpers/cli.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';

const DOCS = ['Cross-encoders read both texts together.', 'Cats sleep most of the day.', 'BM25 is a lexical ranking function.', 'Rerankers sort candidates.'];
let ce: string;
let work: string;
before(async () => {
  ce = await fixtureModel({ kind: 'cross-encoder', seed: 2 });
  work = await scratchDir();
  await writeFile(join(work, 'docs.txt'), DOCS.join('\n') + '\n\n');
  await writeFile(join(work, 'docs.jsonl'), DOCS.map((text, i) => JSON.stringify({ id: `d${i}`, text })).join('\n'));
});

test('fixture-model writes a complete folder and will not overwrite one without --force', { timeout: 300_000 }, async () => {
  const out = join(work, 'made');
  assert.match(await ok('fixture-model', '--out', out, '--kind', 'bi-encoder', '--layers', '1', '--hidden', '32', '--heads', '2', '--intermediate', '64', '--seed', '4'), /wrote .*bi-encoder, 1 layers, hidden 32/);
  const again = await rankwise('fixture-model', '--out', out, '--kind', 'bi-encoder');
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /exists and is not empty/);
  await ok('fixture-model', '--out', out, '--kind', 'cross-encoder', '--force');
  const bad = await rankwise('fixture-model', '--out', join(work, 'x'), '--kind', 'llm');
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--kind expects one of cross-encoder, bi-encoder/);
});

test('rerank --json prints results sorted by score, the same from .txt, .jsonl and --doc', { timeout: 300_000 }, async () => {
  const fromTxt = JSON.parse(await ok('rerank', '--model', ce, '--query', 'what is a reranker', '--docs', join(work, 'docs.txt'), '--json'));
  const fromJsonl = JSON.parse(await ok('rerank', '--model', ce, '--query', 'what is a reranker', '--docs', join(work, 'docs.jsonl'), '--json'));
  const fromArgs = JSON.parse(await ok('rerank', '--model', ce, '--query', 'what is a reranker', ...DOCS.flatMap((d) => ['--doc', d]), '--json'));
  assert.deepEqual(fromTxt, fromJsonl);
  assert.deepEqual(fromTxt, fromArgs);
  const results = fromTxt.results as Array<{ index: number; score: number; document: string }>;
  assert.equal(results.length, DOCS.length);
  results.forEach((r, i) => {
    assert.equal(r.document, DOCS[r.index]);
    if (i > 0) assert.ok(results[i - 1].score >= r.score);
  });
  const top = JSON.parse(await ok('rerank', '--model', ce, '--query', 'what is a reranker', '--docs', join(work, 'docs.txt'), '--top-k', '2', '--json'));
  assert.deepEqual(top.results, results.slice(0, 2));
});

test('rerank prints the article\'s table without --json', { timeout: 300_000 }, async () => {
  const text = await ok('rerank', '--model', ce, '--query', 'what is a reranker', '--docs', join(work, 'docs.txt'), '--dtype', 'int8');
  const rows = text.split('\n').filter((l) => l.startsWith('#'));
  assert.equal(rows.length, DOCS.length);
  rows.forEach((row, i) => assert.match(row, new RegExp(`^#${i + 1} \\(score \\d\\.\\d{4}\\) \\[was #[0-3]\\] \\S`)));
});

test('tokenize --json gives exactly the pair encoding, and --pairs one line per pair', { timeout: 300_000 }, async () => {
  const tokenizer = await PairTokenizer.fromFolder(ce);
  const expected = tokenizer.encodePair('Is it safe?', 'Yes, it is perfectly safe to use. '.repeat(20), { maxLength: 32 });
  const single = JSON.parse(await ok('tokenize', '--model', ce, '--query', 'Is it safe?', '--doc', 'Yes, it is perfectly safe to use. '.repeat(20), '--max-length', '32', '--json'));
  assert.deepEqual(single, { input_ids: expected.inputIds, token_type_ids: expected.tokenTypeIds, attention_mask: expected.attentionMask });
  assert.equal(single.input_ids.length, 32);
  const pairsFile = join(work, 'pairs.jsonl');
  await writeFile(pairsFile, [{ query: 'a', doc: 'b' }, { query: 'héllo wörld', doc: '' }].map((p) => JSON.stringify(p)).join('\n'));
  const lines = (await ok('tokenize', '--model', ce, '--pairs', pairsFile, '--json')).trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(lines.length, 2);
  assert.deepEqual(lines[1].input_ids, tokenizer.encodePair('héllo wörld', '', { maxLength: 512 }).inputIds);
});

test('compare times each model and reports how far their rankings agree', { timeout: 300_000 }, async () => {
  const other = await fixtureModel({ kind: 'cross-encoder', seed: 9 });
  const result = JSON.parse(await ok('compare', '--models', `${ce},${other},${ce}`, '--query', 'what is a reranker', '--docs', join(work, 'docs.txt'), '--repeats', '1', '--json'));
  assert.equal(result.models.length, 3);
  for (const m of result.models) {
    assert.ok(m.ms > 0 && m.docsPerSecond > 0);
    assert.deepEqual([...m.order].sort(), [0, 1, 2, 3]);
  }
  assert.equal(result.agreement.length, 3);
  const same = result.agreement.find((a: { a: string; b: string }) => a.a === ce && a.b === ce);
  assert.equal(same.kendallTau, 1, 'a model agrees with itself');
  assert.equal(same.topOverlap['3'], 1);
  const table = await ok('compare', '--models', `${ce},${other}`, '--query', 'q', '--docs', join(work, 'docs.txt'), '--repeats', '1');
  assert.match(table, /kendall tau/);
});

test('bad input exits non-zero with one line naming the problem', { timeout: 300_000 }, async () => {
  const cases: Array<[string[], RegExp]> = [
    [['rerank', '--model', ce, '--query', 'q', '--docs', join(work, 'missing.txt')], /--docs .*missing\.txt: no such file/],
    [['rerank', '--model', join(work, 'nope'), '--query', 'q', '--doc', 'd'], /model ".*nope": no such folder/],
    [['rerank', '--model', ce, '--query', '   ', '--doc', 'd'], /--query: expected a non-empty query/],
    [['rerank', '--model', ce, '--query', 'q'], /give documents with --docs FILE or --doc TEXT/],
    [['rerank', '--model', ce, '--query', 'q', '--doc', 'd', '--top-k', 'many'], /--top-k expects a positive integer/],
  ];
  const malformed = join(work, 'bad.jsonl');
  await writeFile(malformed, '{"text":"fine"}\n{"text": oops}\n');
  cases.push([['rerank', '--model', ce, '--query', 'q', '--docs', malformed], /bad\.jsonl:2: not valid JSON/]);
  const noText = join(work, 'notext.jsonl');
  await writeFile(noText, '{"id":"a","body":"x"}\n');
  cases.push([['rerank', '--model', ce, '--query', 'q', '--docs', noText], /notext\.jsonl:1: field "text" must be a string/]);
  for (const [args, message] of cases) {
    const out = await rankwise(...args);
    assert.notEqual(out.code, 0, args.join(' '));
    assert.match(out.stderr, message);
    assert.equal(out.stderr.trim().split('\n').length, 1, `one line: ${out.stderr}`);
  }
});

test('the packaged launcher runs the CLI from source in a checkout without dist/', { timeout: 300_000 }, async () => {
  // bin/rankwise.js runs dist/ whenever it exists, stale or not; here it runs from a checkout-shaped folder with no
  // dist/, so what answers is the current source (test/cli-commands.test.ts tests the dist/ path after a fresh build).
  const checkout = await scratchDir();
  await mkdir(join(checkout, 'bin'));
  await copyFile(join(ROOT, 'bin/rankwise.js'), join(checkout, 'bin/rankwise.js'));
  await copyFile(join(ROOT, 'package.json'), join(checkout, 'package.json'));
  for (const dir of ['src', 'node_modules', 'datasets']) await symlink(join(ROOT, dir), join(checkout, dir));
  const { stdout } = await run(process.execPath, [join(checkout, 'bin/rankwise.js'), '--help'], { cwd: checkout });
  assert.equal(stdout, (await rankwise('--help')).stdout, 'the launcher answers exactly as the source does');
  assert.match(stdout, /^ {2}rerank /m);
  assert.match(stdout, /^ {2}fixture-model /m);
  const rerank = JSON.parse((await run(process.execPath, [join(checkout, 'bin/rankwise.js'), 'rerank', '--model', ce, '--query', 'q', '--doc', 'a', '--doc', 'b', '--json'], { cwd: checkout })).stdout);
  assert.equal(rerank.results.length, 2);
});

test('the quick start (no command): two-stage search over our documents, BM25 then the built-in reranker, which improves on BM25', { timeout: 300_000 }, async () => {
  const text = await ok();
  // The in-memory BM25 keeps only documents that share a word with the query: 19 of the 20 asked for.
  assert.match(text, /^bm25 +19 +/m, 'the first stage keeps the 19 documents that match');
  assert.match(text, /^cross-encoder +5 +/m, 'the reranker keeps 5');
  const final = text.split('\n').filter((l) => /^#\d \(score 0\.\d{4}\) /.test(l));
  assert.equal(final.length, 5);
  const json = JSON.parse(await ok('demo', '--json'));
  assert.deepEqual(json.stages.map((s: { name: string }) => s.name), ['bm25', 'cross-encoder']);
  assert.equal(json.stages[0].kept.length, 19);
  assert.deepEqual(json.final, json.stages[1].kept.map((c: { id: string }) => c.id));
  // Both stages see the relevant documents: the first stage recalls them, the second keeps some in its top 5.
  assert.ok(json.stages[0].tiers.high >= 4, `first stage recall: ${json.stages[0].tiers.high} of 5`);
  assert.ok(json.relevantInFinal >= 4, `relevant in the final 5: ${json.relevantInFinal}`);
  assert.ok(json.relevantInFinal > json.relevantInFirstStageTop, `reranked ${json.relevantInFinal} vs BM25's own top 5 ${json.relevantInFirstStageTop}`);
  assert.match(text, /4 of the 5 relevant documents in the final top 5 \(the first stage's own top 5: 3\)/);
  const scores = json.stages[1].kept.map((c: { score: number }) => c.score);
  assert.deepEqual(scores, [...scores].sort((a: number, b: number) => b - a), 'best first');
});

test('convert use-lite writes a folder that rerank loads; the built-in use-lite ranks the same way', { timeout: 300_000 }, async () => {
  const out = join(work, 'use-lite');
  assert.match(await ok('convert', 'use-lite', '--out', out), /wrote .*use-lite/);
  const fromFolder = JSON.parse(await ok('rerank', '--model', out, '--query', 'what is a reranker', '--docs', join(work, 'docs.txt'), '--json'));
  const builtIn = JSON.parse(await ok('rerank', '--model', 'use-lite', '--query', 'what is a reranker', '--docs', join(work, 'docs.txt'), '--json'));
  assert.deepEqual(fromFolder, builtIn);
  const again = await rankwise('convert', 'use-lite', '--out', out);
  assert.notEqual(again.code, 0);
  assert.match(again.stderr, /already exists/);
});
