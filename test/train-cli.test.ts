import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { rankwise } from './helpers/cli.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';
import { syntheticCases, syntheticPairs } from './helpers/synthetic-task.js';

const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
let work: string;
let ce: string;
let bi: string;
before(async () => {
  work = await scratchDir();
  ce = await fixtureModel({ kind: 'cross-encoder', seed: 1 });
  bi = await fixtureModel({ kind: 'bi-encoder', seed: 2 });
  await writeFile(join(work, 'bce.jsonl'), jsonl(syntheticPairs(24, 1, 4)));
  await writeFile(join(work, 'cases.jsonl'), jsonl(syntheticCases(8, 9, 4).map((c, i) => ({ ...c, split: i < 4 ? 'seen' : 'unseen' }))));
  await writeFile(join(work, 'pairs.jsonl'), jsonl(syntheticPairs(12, 2, 4).map(({ query, document }) => ({ query, document }))));
  await writeFile(join(work, 'mnrl.jsonl'), jsonl(syntheticCases(16, 3).map((c) => ({ query: c.query, positive: c.relevant }))));
});

test('train cross-encoder writes a model folder that rerank loads, and reports the evaluation before and after', { timeout: 300_000 }, async () => {
  const out = join(work, 'ce-out');
  const res = await rankwise('train', 'cross-encoder', '--base', ce, '--train', join(work, 'bce.jsonl'), '--loss', 'bce', '--out', out, '--eval', join(work, 'cases.jsonl'), '--epochs', '2', '--batch-size', '8', '--lr', '5e-4', '--max-length', '32', '--json');
  assert.equal(res.code, 0, res.stderr);
  assert.equal(res.stderr, '', 'no progress output under --json');
  const result = JSON.parse(res.stdout);
  assert.equal(result.steps, 12);
  assert.equal(result.loss, 'bce');
  assert.ok(result.first_loss > 0 && Number.isFinite(result.final_loss));
  assert.equal(result.before.seen.total, 4);
  assert.equal(result.after.unseen.total, 4);
  assert.deepEqual((await readdir(join(out, 'onnx'))).sort(), ['model.onnx', 'model_quantized.onnx']);
  const ranked = await rankwise('rerank', '--model', out, '--query', 'apple house', '--doc', 'apple water', '--doc', 'tiger house', '--json');
  assert.equal(ranked.code, 0, ranked.stderr);
  assert.equal(JSON.parse(ranked.stdout).results.length, 2);
  const text = await rankwise('train', 'cross-encoder', '--base', ce, '--train', join(work, 'bce.jsonl'), '--out', join(work, 'ce-out-2'), '--eval', join(work, 'cases.jsonl'), '--max-length', '32');
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /trained cross-encoder .* with bce: 3 steps/);
  assert.match(text.stdout, /accuracy/i);
});

test('train bi-encoder with multiple-negatives ranking, and distil a cross-encoder into a bi-encoder', { timeout: 300_000 }, async () => {
  const mnrl = await rankwise('train', 'bi-encoder', '--base', bi, '--train', join(work, 'mnrl.jsonl'), '--loss', 'mnrl', '--out', join(work, 'bi-out'), '--batch-size', '8', '--max-length', '32', '--json');
  assert.equal(mnrl.code, 0, mnrl.stderr);
  assert.equal(JSON.parse(mnrl.stdout).steps, 2);
  const distilled = await rankwise('distill', '--teacher', ce, '--student', bi, '--train', join(work, 'pairs.jsonl'), '--out', join(work, 'student'), '--eval', join(work, 'cases.jsonl'), '--batch-size', '8', '--max-length', '32', '--json');
  assert.equal(distilled.code, 0, distilled.stderr);
  const result = JSON.parse(distilled.stdout);
  assert.equal(result.loss, 'cosine');
  assert.ok('comparison' in result);
  const files = await readdir(join(work, 'student'));
  assert.ok(files.includes('modules.json') && files.includes('1_Pooling'), files.join(','));
});

test('malformed training data is reported with its line, and nothing is written', { timeout: 300_000 }, async () => {
  const bad = join(work, 'bad.jsonl');
  await writeFile(bad, jsonl([{ query: 'a', document: 'b', label: 1 }]) + '{"query":"a","document":"b","label":"yes"}\n');
  const out = join(work, 'never');
  const res = await rankwise('train', 'cross-encoder', '--base', ce, '--train', bad, '--out', out);
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /bad\.jsonl:2: field "label" must be a number in \[0, 1\]/);
  assert.equal(res.stderr.trim().split('\n').length, 1);
  await assert.rejects(readdir(out));
  const wrongLoss = await rankwise('train', 'bi-encoder', '--base', bi, '--train', bad, '--loss', 'bce', '--out', out);
  assert.notEqual(wrongLoss.code, 0);
  assert.match(wrongLoss.stderr, /--loss expects one of cosine, mnrl/);
});
