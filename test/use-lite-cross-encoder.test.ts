/**
 * USE Lite as the backbone of a cross-encoder, end to end on the real pretrained weights: the pair tokenizer's layout
 * and budget, the trainer (BCE) on the libtorch engine, the exported ONNX folder against the engine's own logits,
 * and the folder loading through the same CrossEncoder / loadRanker path as a BERT cross-encoder.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { builtInUseLiteFolder } from '../src/models/use-lite/builtin.js';
import { UseLitePairTokenizer, USE_LITE_PAIR_MARKERS } from '../src/models/use-lite/pair-tokenizer.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { loadRanker } from '../src/rank/load-ranker.js';
import { BinaryCrossEntropyLoss } from '../src/train/losses/index.js';
import { TorchBert } from '../src/train/engine.js';
import { loadTrainableModel } from '../src/train/trainable-model.js';
import { train } from '../src/train/trainer.js';
import { resolveTrainingConfig } from '../src/train/training-config.js';
import { scratchDir } from './helpers/fixtures.js';

const { clsId: CLS, sepId: SEP } = USE_LITE_PAIR_MARKERS;

const PAIRS: Array<{ query: string; document: string; label: number }> = [
  { query: 'how do vaccines work', document: 'Vaccines train the immune system to recognise a pathogen before an infection.', label: 1 },
  { query: 'how do vaccines work', document: 'A sourdough loaf needs flour, water, salt and a lively starter.', label: 0 },
  { query: 'boiling point of water', document: 'At sea level, pure water boils at one hundred degrees Celsius.', label: 1 },
  { query: 'boiling point of water', document: 'The point guard dribbled past two defenders and scored.', label: 0 },
  { query: 'who wrote hamlet', document: 'Hamlet is a tragedy that William Shakespeare wrote around 1600.', label: 1 },
  { query: 'who wrote hamlet', document: 'A hamlet is a small settlement, smaller than a village.', label: 0 },
  { query: 'symptoms of dehydration', document: 'Thirst, dark urine, dizziness and a dry mouth are early signs of dehydration.', label: 1 },
  { query: 'symptoms of dehydration', document: 'Dehydrated vegetables keep for months in an airtight jar.', label: 0 },
];

test('use-lite pair tokenizer: <s> query </s> document </s>, types 0|1, only the document cut, 128 positions at most', { timeout: 300_000 }, async () => {
  const tokenizer = await UseLitePairTokenizer.load(join(await builtInUseLiteFolder(), 'tokenizer.json'));
  const q = tokenizer.tokenIds('how do vaccines work');
  const d = tokenizer.tokenIds('Vaccines train the immune system.');
  const pair = tokenizer.encodePair('how do vaccines work', 'Vaccines train the immune system.', { maxLength: 128 });
  assert.deepEqual(pair.inputIds, [CLS, ...q, SEP, ...d, SEP]);
  assert.deepEqual(pair.tokenTypeIds, [...Array(q.length + 2).fill(0), ...Array(d.length + 1).fill(1)]);
  assert.ok(pair.attentionMask.every((m) => m === 1));

  const long = 'The tide comes in twice a day along this stretch of coast. '.repeat(40);
  const cut = tokenizer.encodePair('how do tides work', long, { maxLength: 512 });
  assert.equal(cut.inputIds.length, 128, 'capped at the graph positions even when more is asked');
  const queryIds = tokenizer.tokenIds('how do tides work');
  assert.deepEqual(cut.inputIds.slice(1, 1 + queryIds.length), queryIds, 'the query is kept whole');
  assert.deepEqual(cut.inputIds.slice(queryIds.length + 2, -1), tokenizer.tokenIds(long).slice(0, 128 - 3 - queryIds.length));

  const windows = tokenizer.encodePairWindows('how do tides work', long, { maxLength: 64, overlap: 16 });
  assert.ok(windows.length > 1 && windows.every((w) => w.inputIds.length <= 64));
  assert.deepEqual(windows[0].inputIds, tokenizer.encodePair('how do tides work', long, { maxLength: 64 }).inputIds);

  const single = tokenizer.encodeSingle('how do vaccines work', { maxLength: 128 });
  assert.deepEqual(single.inputIds, q, 'a single text is read as the sentence encoder reads it: no markers');
  assert.throws(() => tokenizer.encodePair('a', 'b', { maxLength: 3 }), /maxLength: expected an integer >= 4/);
});

test('use-lite cross-encoder: BCE training separates relevant from distractor, and the exported ONNX matches the engine', { timeout: 300_000 }, async () => {
  const out = join(await scratchDir(), 'use-lite-ce');
  const model = await loadTrainableModel('use-lite', 'cross-encoder', 7);
  assert.equal(model.head, 'sequence-classification');
  assert.deepEqual(model.weights.get('embeddings.token_type_embeddings.weight')!.shape, [2, 256]);
  const loss = new BinaryCrossEntropyLoss();
  const config = resolveTrainingConfig({ outputDir: out, epochs: 12, batchSize: 8, learningRate: 1e-3, warmupRatio: 0, maxLength: 64, seed: 3, threads: 2 });
  const result = await train(PAIRS, { model, loss, config, showProgress: false });
  assert.ok(result.losses.at(-1)! < result.losses[0] * 0.5, `loss fell: ${result.losses[0]} -> ${result.losses.at(-1)}`);

  const saved = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
  assert.equal(saved.model_type, 'use-lite');
  assert.deepEqual(saved.architectures, ['UseLiteForSequenceClassification']);

  const onnx = await CrossEncoder.load(out, { threads: 2 });
  const pairs = PAIRS.map((p) => [p.query, p.document] as const);
  const logits = await onnx.predict(pairs, { activation: 'none', maxLength: 64 });
  for (let i = 0; i < PAIRS.length; i += 2) assert.ok(logits[i] > logits[i + 1], `pair ${i / 2}: relevant above distractor`);

  // The same weights on the engine, read back from the exported safetensors, give the same logits.
  const exported = await loadTrainableModel(out, 'cross-encoder', 0);
  const engine = TorchBert.create({ config: exported.config, head: 'sequence-classification', weights: exported.weights, seed: 0, threads: 2 });
  const batch = exported.tokenizer.pad(pairs.map(([q, d]) => exported.tokenizer.encodePair(q, d, { maxLength: 64 })));
  const reference = await engine.forward(batch);
  engine.dispose();
  for (let i = 0; i < pairs.length; i++) assert.ok(Math.abs(reference[i] - logits[i]) < 1e-4, `pair ${i}: engine ${reference[i]} vs onnx ${logits[i]}`);

  const int8 = await CrossEncoder.load(out, { threads: 2, dtype: 'int8' });
  const quantized = await int8.predict(pairs, { activation: 'none', maxLength: 64 });
  for (let i = 0; i < pairs.length; i++) assert.ok(Math.abs(quantized[i] - logits[i]) < 0.1 * (1 + Math.abs(logits[i])), `int8 pair ${i}: ${quantized[i]} vs ${logits[i]}`);

  const ranker = await loadRanker(out, { threads: 2 });
  const ranked = await ranker.rank('who wrote hamlet', [PAIRS[5].document, PAIRS[4].document]);
  assert.equal(ranked.results[0].index, 1, 'loadRanker serves the folder as a cross-encoder');
  for (const m of [onnx, int8, ranker]) await m.dispose?.();
});

test('use-lite: a cross-encoder folder turns back into a bi-encoder without its pair-only tensors', { timeout: 300_000 }, async () => {
  const model = await loadTrainableModel('use-lite', 'cross-encoder', 1);
  const dir = join(await scratchDir(), 'ce');
  const config = resolveTrainingConfig({ outputDir: dir, epochs: 1, batchSize: 8, maxLength: 32, threads: 2 });
  await train(PAIRS.slice(0, 8), { model, loss: new BinaryCrossEntropyLoss(), config, showProgress: false });
  const back = await loadTrainableModel(dir, 'bi-encoder', 1);
  assert.equal(back.head, 'none');
  for (const key of ['embeddings.token_type_embeddings.weight', 'classifier.weight', 'classifier.bias']) assert.ok(!back.weights.has(key), key);
});
