/**
 * USE Lite on the libtorch engine must be the same function as the ONNX graph written from its weights: forward vs
 * UseLiteOnnxEncoder on the package weights, training with the cosine loss, and the graph rebuilt from state().
 */
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { PaddedBatch } from '../src/models/tokenizer/index.js';
import type { TensorMap } from '../src/models/tensors.js';
import { UseLiteOnnxEncoder } from '../src/models/use-lite/encoder.js';
import { buildUseLiteOnnx, USE_LITE_CONFIG } from '../src/models/use-lite/graph.js';
import { loadPackageWeights, useLitePackageDir } from '../src/models/use-lite/tfjs-weights.js';
import { UseLiteTokenizer, type UseLiteVocabulary } from '../src/models/use-lite/tokenizer.js';
import { TorchBert } from '../src/train/engine.js';
import { scratchDir } from './helpers/fixtures.js';

const SENTENCES = [
  'how does photosynthesis work',
  'Photosynthesis converts light into chemical energy in plants',
  'The stock market fell today',
  '',
  '10:30 :)',
  'HELLO',
  'Zürich, Genève and Basel are Swiss cities; 東京 is in Japan 😀',
  'A considerably longer sentence about the migration patterns of arctic terns, which fly from pole to pole each year.',
  // Well past 128 tokens: the engine must drop the tail exactly as the graph does.
  'The quick brown fox jumps over the lazy dog. '.repeat(30),
];
const PAIRS: Array<[string, string, number]> = [
  ['how do vaccines work', 'Vaccines train the immune system to recognise a pathogen.', 1],
  ['how do vaccines work', 'A recipe for sourdough bread needs flour, water and salt.', 0],
  ['boiling point of water', 'At sea level water boils at 100 degrees Celsius.', 1],
  ['boiling point of water', 'Mount Everest is the highest mountain above sea level.', 0],
  ['who wrote hamlet', 'Hamlet is a tragedy written by William Shakespeare.', 1],
  ['who wrote hamlet', 'The python is a large snake found in Africa and Asia.', 0],
];
const TOLERANCE = 1e-4;

let dir: string;
let weights: TensorMap;
let tokenizer: UseLiteTokenizer;
const closers: Array<() => unknown> = [];

/** A model folder UseLiteOnnxEncoder loads: config, tokenizer and the fp32 graph written from `tensors`. */
async function onnxFolder(name: string, tensors: TensorMap): Promise<UseLiteOnnxEncoder> {
  const folder = join(dir, name);
  await mkdir(join(folder, 'onnx'), { recursive: true });
  await writeFile(join(folder, 'config.json'), JSON.stringify(USE_LITE_CONFIG));
  await writeFile(join(folder, 'tokenizer.json'), JSON.stringify(tokenizer.toJSON()));
  await writeFile(join(folder, 'onnx', 'model.onnx'), buildUseLiteOnnx(tensors, 'fp32'));
  const encoder = await UseLiteOnnxEncoder.load(folder, { threads: 2 });
  closers.push(() => encoder.dispose());
  return encoder;
}

/** Right-padded with id 0 (masked out); ids are not clipped here, the engine clips them itself. */
function batchOf(texts: readonly string[]): PaddedBatch {
  const ids = texts.map((t) => tokenizer.encode(t));
  const T = Math.max(1, ...ids.map((r) => r.length));
  const inputIds = new BigInt64Array(texts.length * T);
  const attentionMask = new BigInt64Array(texts.length * T);
  ids.forEach((row, b) => row.forEach((id, t) => {
    inputIds[b * T + t] = BigInt(id);
    attentionMask[b * T + t] = 1n;
  }));
  return { inputIds, attentionMask, tokenTypeIds: new BigInt64Array(texts.length * T), batchSize: texts.length, sequenceLength: T };
}

function create(tensors: TensorMap): TorchBert {
  const model = TorchBert.create({ config: USE_LITE_CONFIG, head: 'none', weights: tensors, seed: 5, threads: 2 });
  closers.push(() => model.dispose());
  return model;
}

/** Asserts the tolerance per text; returns the worst max-abs difference and cosine, for the test's diagnostics. */
function compare(label: string, engine: Float32Array, reference: Float32Array[]): string {
  const H = USE_LITE_CONFIG.hidden_size;
  let worstDiff = 0;
  let worstCos = 1;
  assert.equal(engine.length, reference.length * H, `${label}: one ${H}-d vector per text`);
  reference.forEach((ref, i) => {
    const v = engine.subarray(i * H, (i + 1) * H);
    let diff = 0;
    let dot = 0;
    let nv = 0;
    let nr = 0;
    for (let k = 0; k < H; k++) {
      diff = Math.max(diff, Math.abs(v[k] - ref[k]));
      dot += v[k] * ref[k];
      nv += v[k] * v[k];
      nr += ref[k] * ref[k];
    }
    const cos = dot / Math.sqrt(nv * nr);
    assert.ok(diff <= TOLERANCE, `${label}: text ${i} differs from onnxruntime by ${diff}`);
    assert.ok(cos >= 0.99999, `${label}: text ${i} has cosine ${cos} to onnxruntime`);
    worstDiff = Math.max(worstDiff, diff);
    worstCos = Math.min(worstCos, cos);
  });
  return `${label}: max |diff| ${worstDiff.toExponential(2)}, min cosine ${worstCos.toFixed(8)}`;
}

before(async () => {
  dir = await scratchDir();
  weights = await loadPackageWeights();
  const vocabulary = JSON.parse(await readFile(join(useLitePackageDir(), 'vocab.json'), 'utf8')) as UseLiteVocabulary;
  tokenizer = UseLiteTokenizer.fromVocabulary(vocabulary, { maxTokens: USE_LITE_CONFIG.max_position_embeddings });
});
after(async () => {
  for (const close of closers) await close();
});

test('use-lite: forward equals the ONNX sentence_embedding, long and empty texts included', { timeout: 300_000 }, async (t) => {
  const model = create(weights);
  const onnx = await onnxFolder('original', weights);
  assert.ok(tokenizer.encode(SENTENCES[SENTENCES.length - 1]).length > USE_LITE_CONFIG.max_position_embeddings);
  t.diagnostic(compare('package weights', await model.forward(batchOf(SENTENCES)), await onnx.encode(SENTENCES)));

  const state = model.state();
  assert.deepEqual([...state.keys()], [...weights.keys()], 'state() keeps the names and order it was given');
  for (const [name, t] of weights) assert.deepEqual(state.get(name)!.data, t.data, `${name} round-trips exactly`);
  const hidden = await model.hiddenStates(batchOf(SENTENCES));
  assert.equal(hidden.length, SENTENCES.length * USE_LITE_CONFIG.max_position_embeddings * USE_LITE_CONFIG.hidden_size, 'tokens clipped to 128');
});

test('use-lite: cosine-loss training lowers the loss, and the ONNX graph from state() matches the trained engine', { timeout: 300_000 }, async (t) => {
  const model = create(weights);
  const request = {
    loss: 'cosine' as const,
    a: batchOf(PAIRS.map(([q]) => q)),
    b: batchOf(PAIRS.map(([, d]) => d)),
    targets: Float32Array.from(PAIRS, ([, , y]) => y),
  };
  assert.throws(() => TorchBert.create({ config: USE_LITE_CONFIG, head: 'sequence-classification', weights, seed: 1 }),
    /missing tensor "embeddings.token_type_embeddings.weight"/);
  await assert.rejects(model.trainStep({ loss: 'mse', batch: request.a, targets: request.targets }), /cross-encoder/);

  const initial = (await model.lossAndGradients(request, [])).loss;
  model.configureOptimizer({ lr: 2e-4, weightDecay: 0.01, warmupSteps: 0, totalSteps: 8, maxGradNorm: 1 });
  for (let i = 0; i < 8; i++) await model.trainStep(request);
  const trainedLoss = (await model.lossAndGradients(request, [])).loss;
  assert.ok(trainedLoss < 0.5 * initial, `cosine loss went from ${initial} to ${trainedLoss}`);
  t.diagnostic(`cosine loss ${initial.toFixed(5)} -> ${trainedLoss.toFixed(5)} in 8 steps`);

  const state = model.state();
  assert.deepEqual(state.get('embeddings.timing_inv_timescales')!.data, weights.get('embeddings.timing_inv_timescales')!.data,
    'the timing constants are not trained');
  const texts = [...SENTENCES, ...PAIRS.map(([, d]) => d)];
  const trained = await model.forward(batchOf(texts));
  const onnx = await onnxFolder('trained', state);
  t.diagnostic(compare('after training', trained, await onnx.encode(texts)));
});

test('use-lite: float64 gradients match central finite differences (mnrl loss)', { timeout: 300_000 }, async () => {
  const model = TorchBert.create({ config: USE_LITE_CONFIG, head: 'none', weights, seed: 5, threads: 2, dtype: 'float64' });
  closers.push(() => model.dispose());
  const request = {
    loss: 'mnrl' as const,
    anchors: batchOf(PAIRS.filter((_, i) => i % 2 === 0).map(([q]) => q)),
    positives: batchOf(PAIRS.filter((_, i) => i % 2 === 0).map(([, d]) => d)),
    scale: 20,
  };
  // One tensor per kind of op: the embedding table (a token of the first anchor), layer 0's widening residual,
  // attention, the FFN, the LayerNorms and the tanh pooler.
  const firstToken = tokenizer.encode(PAIRS[0][0])[0];
  const probes: Array<[string, number]> = [
    ['embeddings.word_embeddings.weight', firstToken * USE_LITE_CONFIG.embedding_size + 3],
    ['encoder.layer.0.residual_projection.weight', 1000],
    ['encoder.layer.0.attention.qkv.weight', 5],
    ['encoder.layer.0.attention.norm.weight', 7],
    ['encoder.layer.1.attention.qkv.weight', 512 * 600 + 9],
    ['encoder.layer.1.ffn.dense1.bias', 11],
    ['encoder.layer.1.ffn.norm.bias', 13],
    ['pooler.dense.weight', 2000],
  ];
  const names = [...new Set(probes.map(([n]) => n))];
  const { gradients } = await model.lossAndGradients(request, names);
  const h = 1e-6;
  for (const [name, index] of probes) {
    const base = Float64Array.from(weights.get(name)!.data);
    const at = async (delta: number) => {
      const values = Float64Array.from(base);
      values[index] += delta;
      model.setParameter(name, values);
      return (await model.lossAndGradients(request, [])).loss;
    };
    const numeric = ((await at(h)) - (await at(-h))) / (2 * h);
    model.setParameter(name, base);
    const analytic = gradients.get(name)![index];
    assert.ok(Math.abs(numeric - analytic) <= 1e-6 + 1e-4 * Math.abs(analytic), `${name}[${index}]: autograd ${analytic}, finite difference ${numeric}`);
    assert.ok(Math.abs(analytic) > 1e-9, `${name}[${index}]: the probe must carry a gradient`);
  }
});

/** The package weights plus a segment embedding and a classifier head; all seeded, so failures reproduce. */
function crossWeights(labels: number, classifier: (row: number, col: number) => number, segments: (i: number) => number): TensorMap {
  const H = USE_LITE_CONFIG.hidden_size;
  const E = USE_LITE_CONFIG.embedding_size;
  const out: TensorMap = new Map(weights);
  out.set('embeddings.token_type_embeddings.weight', { shape: [2, E], data: Float32Array.from({ length: 2 * E }, (_, i) => segments(i)) });
  out.set('classifier.weight', { shape: [labels, H], data: Float32Array.from({ length: labels * H }, (_, i) => classifier(Math.floor(i / H), i % H)) });
  out.set('classifier.bias', { shape: [labels], data: new Float32Array(labels) });
  return out;
}

function pairBatch(pairs: ReadonlyArray<readonly [string, string, number]>): PaddedBatch {
  // Query then document in one sequence, segment 1 for the document; no separator token (USE Lite has none).
  const rows = pairs.map(([q, d]) => {
    const a = tokenizer.encode(q);
    return { ids: [...a, ...tokenizer.encode(d)], split: a.length };
  });
  const T = Math.max(...rows.map((r) => r.ids.length));
  const batch: PaddedBatch = {
    inputIds: new BigInt64Array(rows.length * T),
    attentionMask: new BigInt64Array(rows.length * T),
    tokenTypeIds: new BigInt64Array(rows.length * T),
    batchSize: rows.length,
    sequenceLength: T,
  };
  rows.forEach((r, b) => r.ids.forEach((id, t) => {
    batch.inputIds[b * T + t] = BigInt(id);
    batch.attentionMask[b * T + t] = 1n;
    batch.tokenTypeIds[b * T + t] = t >= r.split ? 1n : 0n;
  }));
  return batch;
}

test('use-lite cross-encoder: shares the bi-encoder, trains with bce, and its new tensors get exact gradients', { timeout: 300_000 }, async () => {
  const H = USE_LITE_CONFIG.hidden_size;
  const config = { ...USE_LITE_CONFIG, type_vocab_size: 2, num_labels: 1 };
  // Zero segments and an identity classifier: the logits are the tanh-pooled vector, whose L2 norm is the bi-encoder.
  const identity = TorchBert.create({
    config: { ...config, num_labels: H }, head: 'sequence-classification', weights: crossWeights(H, (r, c) => (r === c ? 1 : 0), () => 0), seed: 3, threads: 2,
  });
  closers.push(() => identity.dispose());
  const texts = PAIRS.map(([, d]) => d);
  const logits = await identity.forward(pairBatch(PAIRS.map(([, d]) => ['', d, 0] as const)));
  const normalised = new Float32Array(logits.length);
  for (let b = 0; b < texts.length; b++) {
    const row = logits.subarray(b * H, (b + 1) * H);
    const norm = Math.hypot(...row);
    for (let k = 0; k < H; k++) normalised[b * H + k] = row[k] / norm;
  }
  const bi = create(weights);
  const expected = await bi.forward(batchOf(texts));
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff = Math.max(diff, Math.abs(expected[i] - normalised[i]));
  assert.ok(diff <= 1e-5, `identity-head cross-encoder vs bi-encoder: ${diff}`);

  let seed = 17;
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  const tensors = crossWeights(1, () => random() * 0.2, () => random() * 0.02);
  const batch = pairBatch(PAIRS);
  const labels = Float32Array.from(PAIRS, ([, , y]) => y);
  const request = { loss: 'bce' as const, batch, labels };

  const exact = TorchBert.create({ config, head: 'sequence-classification', weights: tensors, seed: 3, threads: 2, dtype: 'float64' });
  closers.push(() => exact.dispose());
  const probes: Array<[string, number]> = [
    ['embeddings.token_type_embeddings.weight', 256 + 4],
    ['embeddings.token_type_embeddings.weight', 4],
    ['classifier.weight', 100],
    ['classifier.bias', 0],
    ['encoder.layer.1.ffn.dense2.weight', 777],
  ];
  const { gradients } = await exact.lossAndGradients(request, [...new Set(probes.map(([n]) => n))]);
  // Small: a segment row feeds every document token, and at 1e-5 some FFN ReLU already crosses its kink.
  const h = 1e-6;
  for (const [name, index] of probes) {
    const base = Float64Array.from(tensors.get(name)!.data);
    const at = async (delta: number) => {
      const values = Float64Array.from(base);
      values[index] += delta;
      exact.setParameter(name, values);
      return (await exact.lossAndGradients(request, [])).loss;
    };
    const numeric = ((await at(h)) - (await at(-h))) / (2 * h);
    exact.setParameter(name, base);
    const analytic = gradients.get(name)![index];
    assert.ok(Math.abs(numeric - analytic) <= 1e-6 + 1e-4 * Math.abs(analytic), `${name}[${index}]: autograd ${analytic}, finite difference ${numeric}`);
    assert.ok(Math.abs(analytic) > 1e-9, `${name}[${index}]: the probe must carry a gradient`);
  }

  const model = TorchBert.create({ config, head: 'sequence-classification', weights: tensors, seed: 3, threads: 2 });
  closers.push(() => model.dispose());
  const initial = (await model.lossAndGradients(request, [])).loss;
  model.configureOptimizer({ lr: 5e-4, weightDecay: 0.01, warmupSteps: 0, totalSteps: 8, maxGradNorm: 1 });
  for (let i = 0; i < 8; i++) await model.trainStep(request);
  const trained = (await model.lossAndGradients(request, [])).loss;
  assert.ok(trained < 0.5 * initial, `bce went from ${initial} to ${trained}`);
  assert.deepEqual([...model.state().keys()], [...tensors.keys()]);
  assert.notDeepEqual(model.state().get('embeddings.token_type_embeddings.weight')!.data, tensors.get('embeddings.token_type_embeddings.weight')!.data);
});
