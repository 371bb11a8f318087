import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { fixtureModel } from './helpers/fixtures.js';

const QUERY = 'how do cross-encoders score a query and a document together';
const DOCS = [
  'A cross-encoder reads the query and the document in one pass.',
  'Bi-encoders embed each text on its own.',
  'The weather in the mountains changes quickly in spring, and hikers should carry layers, water and a map.',
  '',
  'Reranking',
  'Late interaction keeps one vector per token and sums the best matches of every query token over the document tokens.',
  'café naïve 東京 🙂',
];

let dir: string;
let model: CrossEncoder;
before(async () => {
  dir = await fixtureModel({ kind: 'cross-encoder', seed: 3 });
  model = await CrossEncoder.load(dir, { threads: 1 });
});

test('batched, length-sorted prediction returns each pair the score it gets alone, in input order', { timeout: 120_000 }, async () => {
  const pairs = DOCS.map((d) => [QUERY, d] as const);
  const batched = await model.predict(pairs, { batchSize: 3 });
  assert.equal(batched.length, DOCS.length);
  for (let i = 0; i < pairs.length; i++) {
    const [alone] = await model.predict([pairs[i]], { batchSize: 1 });
    assert.ok(Math.abs(alone - batched[i]) < 1e-5, `pair ${i}: ${alone} alone vs ${batched[i]} batched`);
  }
  assert.ok(new Set(Array.from(batched, (s) => s.toFixed(6))).size > 3, 'different documents get different scores');
});

test('sigmoid is the default for a one-logit model and is applied to the raw logit', { timeout: 120_000 }, async () => {
  const pairs = DOCS.map((d) => [QUERY, d] as const);
  const logits = await model.predict(pairs, { activation: 'none' });
  const probabilities = await model.predict(pairs);
  assert.equal(model.defaultActivation, 'sigmoid');
  logits.forEach((x, i) => assert.ok(Math.abs(1 / (1 + Math.exp(-x)) - probabilities[i]) < 1e-6));
});

test('rank orders by score, keeps original indices, and honours topK and returnDocuments', { timeout: 120_000 }, async () => {
  const scores = await model.predict(DOCS.map((d) => [QUERY, d] as const));
  const ranked = await model.rank(QUERY, DOCS);
  assert.equal(ranked.results.length, DOCS.length);
  ranked.results.forEach((r, i) => {
    assert.equal(r.rank, i + 1);
    assert.deepEqual(r.document, { id: String(r.index), text: DOCS[r.index] });
    assert.ok(Math.abs(r.score - scores[r.index]) < 1e-6);
    if (i > 0) assert.ok(ranked.results[i - 1].score >= r.score);
  });
  assert.deepEqual(new Set(ranked.results.map((r) => r.index)), new Set(DOCS.keys()));
  const top = await model.rank(QUERY, DOCS, { topK: 2, returnDocuments: false });
  assert.deepEqual(top.results.map((r) => r.index), ranked.results.slice(0, 2).map((r) => r.index));
  assert.deepEqual(top.results[0].document, { id: String(top.results[0].index) }, 'ids without texts');
});

test('chunked long documents keep the best window score; short documents score as with truncation', { timeout: 120_000 }, async () => {
  const long = Array.from({ length: 150 }, (_, i) => `sentence ${i} talks about topic number ${i % 7}.`).join(' ');
  const opts = { maxLength: 48, overlap: 12 };
  const windows = model.tokenizer.encodePairWindows(QUERY, long, opts);
  assert.ok(windows.length > 5, `${windows.length} windows`);
  const windowScores = await model.scoreEncoded(windows, { maxLength: 48 });
  const [chunked] = await model.predict([[QUERY, long]], { ...opts, longDocuments: 'chunk' });
  const [truncated] = await model.predict([[QUERY, long]], { maxLength: 48 });
  assert.ok(Math.abs(chunked - Math.max(...windowScores)) < 1e-6);
  assert.ok(Math.abs(truncated - windowScores[0]) < 1e-5, 'the first window is the truncated pair');
  const short = [[QUERY, DOCS[0]]] as const;
  const [a] = await model.predict(short, { ...opts, longDocuments: 'chunk' });
  const [b] = await model.predict(short, { maxLength: 48 });
  assert.ok(Math.abs(a - b) < 1e-6);
});

test('int8 follows fp32 closely', { timeout: 120_000 }, async () => {
  const int8 = await CrossEncoder.load(dir, { dtype: 'int8', threads: 1 });
  assert.match(int8.folder?.onnxPath ?? '', /model_quantized\.onnx$/);
  const pairs = DOCS.map((d) => [QUERY, d] as const);
  const a = await model.predict(pairs, { activation: 'none' });
  const b = await int8.predict(pairs, { activation: 'none' });
  const maxDiff = Math.max(...Array.from(a, (x, i) => Math.abs(x - b[i])));
  assert.ok(maxDiff < 0.05 * Math.max(...Array.from(a, Math.abs)) + 1e-3, `max |fp32 - int8| = ${maxDiff}`);
  await int8.dispose();
});

test('bad input gets an error that names the field', { timeout: 120_000 }, async () => {
  await assert.rejects(model.rank('  ', DOCS), /query: expected a non-empty string/);
  await assert.rejects(model.rank(QUERY, [1 as unknown as string]), /documents\[0\]: expected a string/);
  await assert.rejects(model.rank(QUERY, DOCS, { topK: 0 }), /topK: expected a positive integer/);
  await assert.rejects(model.predict([[QUERY, 'x']], { maxLength: 3 }), /maxLength: expected an integer from 4/);
  await assert.rejects(model.predict([[QUERY, 'x']], { maxLength: 10_000 }), /maxLength/);
  const encoder = await fixtureModel({ kind: 'bi-encoder', seed: 3 });
  await assert.rejects(CrossEncoder.load(encoder), /needs a \*ForSequenceClassification model/);
});
