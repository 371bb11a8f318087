/** The libtorch training engine: repeatability, AdamW and its schedule, clipping, checkpoints, errors, threading. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BertConfig } from '../src/models/config.js';
import type { TensorMap } from '../src/models/tensors.js';
import { engineInfo, TorchBert, type OptimizerOptions, type TrainRequest } from '../src/train/engine.js';
import { CROSS, ENCODER, randomBatch, testWeights, tinyConfig } from './helpers/engine-fixtures.js';
import { scratchDir } from './helpers/fixtures.js';

const models: TorchBert[] = [];
after(() => {
  for (const m of models) m.dispose();
});
let dir: string;
before(async () => {
  dir = await scratchDir();
});

function create(config: BertConfig, weights: TensorMap, over: Partial<Parameters<typeof TorchBert.create>[0]> = {}): TorchBert {
  const model = TorchBert.create({ config, head: CROSS, weights, seed: 3, threads: 2, ...over });
  models.push(model);
  return model;
}

// Big enough that dropout, attention and the optimizer all matter, small enough to take milliseconds per step.
const smallConfig = tinyConfig(CROSS, { vocab_size: 200, hidden_size: 32, num_attention_heads: 4, intermediate_size: 64, max_position_embeddings: 32 });
const smallWeights = testWeights(smallConfig, CROSS, 5);
const batch = randomBatch(1, [12, 7, 16, 9, 3, 14, 11, 5], smallConfig.vocab_size);
const labels = Float32Array.of(1, 0, 1, 0, 0, 1, 1, 0);
const bce: TrainRequest = { loss: 'bce', batch, labels };
const optimizer: OptimizerOptions = { lr: 5e-3, weightDecay: 0.01, warmupSteps: 2, totalSteps: 40, maxGradNorm: 1 };

async function losses(model: TorchBert, steps: number, request: TrainRequest = bce): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < steps; i++) out.push((await model.trainStep(request)).loss);
  return out;
}

test('engineInfo reports the libtorch version and BLAS', { timeout: 300_000 }, () => {
  const info = engineInfo();
  assert.match(info.torchVersion, /^\d+\.\d+/);
  assert.ok(info.threads >= 1);
});

test('same seed, weights and batches give bit-identical losses and weights; another seed draws other dropout masks', { timeout: 300_000 }, async () => {
  const runs = [3, 3, 4].map((seed) => {
    const m = create(smallConfig, smallWeights, { seed });
    m.configureOptimizer(optimizer);
    return m;
  });
  const [a, b, c] = [await losses(runs[0], 4), await losses(runs[1], 4), await losses(runs[2], 4)];
  assert.deepEqual(a, b);
  assert.deepEqual(runs[0].state(), runs[1].state());
  assert.notDeepEqual(a, c, 'dropout is on in training and follows the seed');
  // Eval mode has no dropout: the forward pass does not depend on the seed.
  const fresh = [create(smallConfig, smallWeights, { seed: 1 }), create(smallConfig, smallWeights, { seed: 2 })];
  assert.deepEqual(await fresh[0].forward(batch), await fresh[1].forward(batch));
});

test('training reduces the loss on a small fixed batch', { timeout: 300_000 }, async () => {
  const model = create(smallConfig, smallWeights);
  const before = (await model.lossAndGradients(bce, [])).loss;
  model.configureOptimizer({ ...optimizer, totalSteps: 30 });
  await losses(model, 30);
  const afterTraining = (await model.lossAndGradients(bce, [])).loss;
  assert.ok(afterTraining < 0.5 * before, `eval loss ${before} -> ${afterTraining}`);
});

// Dropout off so that train-mode gradients equal the eval-mode ones that lossAndGradients reports.
const noDropout = { ...smallConfig, hidden_dropout_prob: 0, attention_probs_dropout_prob: 0 };

/** torch.optim.AdamW for one tensor, in plain float64. */
function adamw(p: number[], grads: number[][], lrs: number[], decay: boolean, o: { weightDecay: number; eps: number }): number[] {
  const [b1, b2] = [0.9, 0.999];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  const out = [...p];
  grads.forEach((g, s) => {
    const t = s + 1;
    for (let i = 0; i < out.length; i++) {
      if (decay) out[i] *= 1 - lrs[s] * o.weightDecay;
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const denom = Math.sqrt(v[i]) / Math.sqrt(1 - b2 ** t) + o.eps;
      out[i] -= (lrs[s] / (1 - b1 ** t)) * (m[i] / denom);
    }
  });
  return out;
}

test('AdamW: warm-up then linear decay, and decoupled decay everywhere but biases and LayerNorm weights', { timeout: 300_000 }, async () => {
  const model = create(noDropout, smallWeights, { dtype: 'float64' });
  const options = { lr: 0.01, weightDecay: 0.5, warmupSteps: 2, totalSteps: 6, maxGradNorm: 0, eps: 1e-8 };
  model.configureOptimizer(options);
  const token = Number(batch.inputIds[0]);
  const H = noDropout.hidden_size;
  const checked = [
    { name: 'bert.encoder.layer.0.attention.self.query.weight', decay: true, indices: [0, 7, 100, 1023] },
    { name: 'bert.embeddings.word_embeddings.weight', decay: true, indices: [token * H, token * H + 5] },
    { name: 'classifier.weight', decay: true, indices: [0, 31] },
    { name: 'bert.encoder.layer.0.attention.self.query.bias', decay: false, indices: [0, 9] },
    { name: 'bert.encoder.layer.1.attention.output.LayerNorm.weight', decay: false, indices: [1, 30] },
    { name: 'bert.embeddings.LayerNorm.weight', decay: false, indices: [2] },
  ];
  const { gradients } = await model.lossAndGradients(bce, checked.map((c) => c.name));

  // HF's schedule: step k (0-based) runs at lr * k / warmup during warm-up, then lr * (total - k) / (total - warmup).
  // The first step of a warm-up therefore runs at lr 0 and moves nothing but the Adam moments.
  const first = await model.trainStep(bce);
  assert.deepEqual({ lr: first.lr, step: first.step }, { lr: 0, step: 1 });
  assert.deepEqual(model.state(), new Map([...smallWeights].map(([k, t]) => [k, { shape: t.shape, data: t.data }])));
  const second = await model.trainStep(bce);
  assert.deepEqual({ lr: second.lr, step: second.step }, { lr: 0.005, step: 2 });

  const state = model.state();
  for (const { name, decay, indices } of checked) {
    const p0 = indices.map((i) => smallWeights.get(name)!.data[i]);
    const g = indices.map((i) => gradients.get(name)![i]);
    assert.ok(g.every((x) => Math.abs(x) > 1e-9), `${name}: the checked entries have gradients`);
    // Weights did not move in step 1, so step 2 sees the same gradient.
    const expected = adamw(p0, [g, g], [0, 0.005], decay, options);
    const other = adamw(p0, [g, g], [0, 0.005], !decay, options);
    indices.forEach((idx, k) => {
      const actual = state.get(name)!.data[idx];
      // state() is float32: compare at float32 resolution; the decay term (lr * wd * p) is far larger.
      assert.ok(Math.abs(actual - expected[k]) < 1e-7, `${name}[${idx}]: ${actual} vs AdamW ${expected[k]}`);
      assert.ok(Math.abs(actual - other[k]) > 1e-6, `${name}[${idx}]: decay ${decay ? 'applied' : 'skipped'} is visible`);
    });
  }

  const rest = [];
  for (let i = 0; i < 5; i++) rest.push(await model.trainStep(bce));
  assert.deepEqual(rest.map((r) => r.lr), [0.01, 0.0075, 0.005, 0.0025, 0]);
  assert.deepEqual(rest.map((r) => r.step), [3, 4, 5, 6, 7]);
});

test('gradient clipping: the reported norm is the pre-clip norm, and the update uses the clipped gradient', { timeout: 300_000 }, async () => {
  const names = [...smallWeights.keys()];
  const probe = create(noDropout, smallWeights, { dtype: 'float64' });
  const { gradients } = await probe.lossAndGradients(bce, names);
  let squares = 0;
  for (const g of gradients.values()) for (const x of g) squares += x * x;
  const norm = Math.sqrt(squares);

  // eps = 1 makes Adam's first step depend on the gradient's scale (g / (|g| + 1)), so clipping shows in the weights.
  const options = { lr: 0.01, weightDecay: 0, warmupSteps: 0, totalSteps: 10, eps: 1 };
  const name = 'bert.encoder.layer.1.intermediate.dense.weight';
  const idx = [0, 17, 500, 2047];
  const p0 = idx.map((i) => smallWeights.get(name)!.data[i]);
  const g = idx.map((i) => gradients.get(name)![i]);
  for (const maxGradNorm of [norm / 4, 0, Infinity, 10 * norm]) {
    const model = create(noDropout, smallWeights, { dtype: 'float64' });
    model.configureOptimizer({ ...options, maxGradNorm });
    const result = await model.trainStep(bce);
    assert.ok(Math.abs(result.gradNorm - norm) <= 1e-9 * norm, `reported ${result.gradNorm}, pre-clip norm ${norm}`);
    assert.equal(result.lr, 0.01);
    const clips = maxGradNorm > 0 && Number.isFinite(maxGradNorm) && maxGradNorm < norm;
    const scale = clips ? maxGradNorm / (norm + 1e-6) : 1;
    const expected = adamw(p0, [g.map((x) => x * scale)], [0.01], true, { weightDecay: 0, eps: 1 });
    const data = model.state().get(name)!.data;
    idx.forEach((i, k) => {
      assert.ok(Math.abs(data[i] - expected[k]) < 1e-7, `maxGradNorm ${maxGradNorm}: ${name}[${i}] ${data[i]} vs ${expected[k]}`);
    });
    if (clips) {
      const unclipped = adamw(p0, [g], [0.01], true, { weightDecay: 0, eps: 1 });
      assert.ok(idx.some((i, k) => Math.abs(data[i] - unclipped[k]) > 1e-6), 'clipping changed the update');
    }
  }
});

test('checkpoint: save, load into a fresh model, continue: the same losses and weights as never stopping', { timeout: 300_000 }, async () => {
  const path = join(dir, 'engine.pt');
  const straight = create(smallConfig, smallWeights, { seed: 9 });
  straight.configureOptimizer(optimizer);
  const first = await losses(straight, 3);
  await straight.saveCheckpoint(path);
  const rest = await losses(straight, 4);

  // Other starting weights and optimizer settings: the checkpoint must replace all of them, RNG state included.
  const resumed = create(smallConfig, testWeights(smallConfig, CROSS, 99), { seed: 1234 });
  resumed.configureOptimizer({ ...optimizer, lr: 1 });
  await resumed.loadCheckpoint(path);
  assert.deepEqual(await losses(resumed, 4), rest);
  assert.deepEqual(resumed.state(), straight.state());
  assert.equal(first.length, 3);

  // A checkpoint of another architecture, or not a checkpoint at all, is refused and leaves the model alone.
  const other = create(tinyConfig(CROSS), testWeights(tinyConfig(CROSS), CROSS, 1));
  const before = other.state();
  await assert.rejects(other.loadCheckpoint(path), /"embeddings\.word_embeddings\.weight" has shape \[200,32\], this model's has \[50,8\]/);
  const oneLayer = tinyConfig(CROSS, { num_hidden_layers: 1 });
  await assert.rejects(create(oneLayer, testWeights(oneLayer, CROSS, 1)).loadCheckpoint(path), /holds a model with different parameters/);
  const junk = join(dir, 'junk.pt');
  await writeFile(junk, 'not a checkpoint');
  await assert.rejects(other.loadCheckpoint(junk), Error);
  await assert.rejects(other.loadCheckpoint(join(dir, 'missing.pt')), Error);
  assert.deepEqual(other.state(), before);
});

test('errors name the missing or misshapen tensor', { timeout: 300_000 }, () => {
  const config = tinyConfig(CROSS);
  const weights = testWeights(config, CROSS, 1);
  const without = new Map(weights);
  without.delete('bert.encoder.layer.1.attention.self.key.bias');
  assert.throws(() => TorchBert.create({ config, head: CROSS, weights: without, seed: 1 }), /missing tensor "encoder\.layer\.1\.attention\.self\.key\.bias" \(also looked for "bert\.encoder/);
  const noClassifier = new Map(weights);
  noClassifier.delete('classifier.weight');
  assert.throws(() => TorchBert.create({ config, head: CROSS, weights: noClassifier, seed: 1 }), /missing tensor "classifier\.weight"/);
  const misshapen = new Map(weights);
  misshapen.set('bert.encoder.layer.0.intermediate.dense.weight', { shape: [8, 16], data: new Float32Array(128) });
  assert.throws(() => TorchBert.create({ config, head: CROSS, weights: misshapen, seed: 1 }), /"bert\.encoder\.layer\.0\.intermediate\.dense\.weight" has shape \[8,16\], expected \[16,8\]/);
  const short = new Map(weights);
  short.set('bert.pooler.dense.bias', { shape: [8], data: new Float32Array(7) });
  assert.throws(() => TorchBert.create({ config, head: CROSS, weights: short, seed: 1 }), /"bert\.pooler\.dense\.bias" must hold 8 float32 values/);
  assert.throws(() => TorchBert.create({ config, head: CROSS, weights, seed: -1 }), /seed/);
  assert.throws(() => TorchBert.create({ config: { ...config, hidden_act: 'swish' }, head: CROSS, weights, seed: 1 }), /hidden_act "swish"/);
  // Encoder names without the prefix are accepted too.
  const encoderWeights = testWeights(tinyConfig(ENCODER), ENCODER, 1);
  assert.ok(encoderWeights.has('encoder.layer.0.attention.self.query.weight'));
  models.push(TorchBert.create({ config: tinyConfig(ENCODER), head: ENCODER, weights: encoderWeights, seed: 1 }));
});

test('bad requests name the problem', { timeout: 300_000 }, async () => {
  const model = create(smallConfig, smallWeights);
  await assert.rejects(model.trainStep(bce), /call configureOptimizer\(\) first/);
  model.configureOptimizer(optimizer);
  await assert.rejects(model.trainStep({ loss: 'bce', batch, labels: Float32Array.of(1, 0) }), /bce: labels: expected 8 values \(one per row\), got 2/);
  await assert.rejects(model.trainStep({ loss: 'mse', batch, targets: new Float32Array(8).fill(NaN) }), /mse: targets\[0\] is not finite/);
  const small = randomBatch(2, [4, 5], smallConfig.vocab_size);
  await assert.rejects(
    model.trainStep({ loss: 'margin-mse', positives: batch, negatives: small, margins: new Float32Array(8) }),
    /margin-mse: positives has 8 rows but negatives has 2/,
  );
  await assert.rejects(model.trainStep({ loss: 'cosine', a: small, b: small, targets: new Float32Array(2) }), /loss "cosine" trains a bi-encoder, but this model has head "sequence-classification"/);
  const outOfVocab = randomBatch(2, [4, 5], smallConfig.vocab_size);
  outOfVocab.inputIds[6] = 200n;
  await assert.rejects(model.forward(outOfVocab), /inputIds\[6\] = 200 is outside \[0, 200\) \(vocab_size\)/);
  const badType = randomBatch(2, [4, 5], smallConfig.vocab_size);
  badType.tokenTypeIds[1] = 2n;
  await assert.rejects(model.forward(badType), /tokenTypeIds\[1\] = 2 is outside \[0, 2\)/);
  await assert.rejects(model.forward(randomBatch(2, [40], smallConfig.vocab_size)), /sequenceLength 40 exceeds max_position_embeddings 32/);
  await assert.rejects(model.forward({ ...small, inputIds: small.inputIds.subarray(1) }), /inputIds: holds 9 values, batchSize x sequenceLength is 10/);
  assert.throws(() => model.setParameter('bert.nope', new Float32Array(1)), /"bert\.nope" is not a trained parameter/);
  assert.throws(() => model.setParameter('classifier.bias', new Float32Array(3)), /"classifier\.bias" has 1 values \[1\], got 3/);
  assert.throws(() => model.configureOptimizer({ ...optimizer, totalSteps: 0 }), /totalSteps must be a positive integer/);
  // The model still works after all of that.
  assert.ok(Number.isFinite((await model.trainStep(bce)).loss));
});

test('calls on one model queue in order; synchronous calls refuse to interleave; disposed models refuse work', { timeout: 300_000 }, async () => {
  const model = create(noDropout, smallWeights);
  model.configureOptimizer({ ...optimizer, warmupSteps: 0 });
  const first = model.forward(batch);
  const step = model.trainStep(bce);
  const second = model.forward(batch);
  assert.throws(() => model.state(), /still running; await them first/);
  const [a, , b] = await Promise.all([first, step, second]);
  assert.deepEqual(a, await create(noDropout, smallWeights).forward(batch), 'the first forward ran before the step');
  assert.notDeepEqual(a, b, 'the second ran after it');
  model.dispose();
  await assert.rejects(model.forward(batch), /disposed/);
  assert.throws(() => model.state(), /disposed/);
});

test('trainStep runs off the event loop: timers fire during a step', { timeout: 300_000 }, async () => {
  const config = tinyConfig(CROSS, { vocab_size: 1000, hidden_size: 128, num_hidden_layers: 4, num_attention_heads: 4, intermediate_size: 512, max_position_embeddings: 64 });
  const model = create(config, testWeights(config, CROSS, 2));
  model.configureOptimizer(optimizer);
  const big = randomBatch(4, Array.from({ length: 16 }, (_, i) => 32 + 2 * i), config.vocab_size);
  const request: TrainRequest = { loss: 'bce', batch: big, labels: Float32Array.from({ length: 16 }, (_, i) => i % 2) };
  await model.trainStep(request);
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  const started = performance.now();
  await model.trainStep(request);
  const elapsed = performance.now() - started;
  clearInterval(timer);
  assert.ok(elapsed > 20, `the step is long enough to tell (${elapsed} ms)`);
  assert.ok(ticks >= 5, `${ticks} timer ticks during a ${elapsed.toFixed(0)} ms step`);
});
