/**
 * Gradients from libtorch autograd against central finite differences in float64: first each loss on raw inputs
 * (evaluateLoss runs the same C++ loss code as trainStep), then whole tiny encoders through lossAndGradients.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { BertConfig, ModelHead } from '../src/models/config.js';
import { SeededRandom } from '../src/models/random.js';
import type { TensorMap } from '../src/models/tensors.js';
import { evaluateLoss, TorchBert, type LossKind, type TrainRequest } from '../src/train/engine.js';
import { CROSS, ENCODER, randomBatch, relativeError, testWeights, tinyConfig } from './helpers/engine-fixtures.js';

type Inputs = Parameters<typeof evaluateLoss>[1];
type ArrayInput = 'scores' | 'positives' | 'negatives' | 'a' | 'b' | 'targets';

function randomArray(rng: SeededRandom, n: number, std = 1, mean = 0): Float64Array {
  return Float64Array.from({ length: n }, () => rng.normal(mean, std));
}

/** Central differences of the loss w.r.t. every element of every array input. */
function finiteDifferences(kind: LossKind, inputs: Inputs, h = 1e-6): Record<string, Float64Array> {
  const out: Record<string, Float64Array> = {};
  for (const key of ['scores', 'positives', 'negatives', 'a', 'b', 'targets'] as ArrayInput[]) {
    const base = inputs[key];
    if (!base) continue;
    const grad = new Float64Array(base.length);
    for (let i = 0; i < base.length; i++) {
      const plus = Float64Array.from(base);
      const minus = Float64Array.from(base);
      plus[i] += h;
      minus[i] -= h;
      grad[i] = (evaluateLoss(kind, { ...inputs, [key]: plus }).loss - evaluateLoss(kind, { ...inputs, [key]: minus }).loss) / (2 * h);
    }
    out[key] = grad;
  }
  return out;
}

const rng = new SeededRandom(2024);
const B = 5;
const DIM = 4;
const LOSS_CASES: Array<{ name: string; kind: LossKind; inputs: Inputs }> = [
  { name: 'bce', kind: 'bce', inputs: { scores: randomArray(rng, B, 2), targets: Float64Array.from({ length: B }, () => rng.next()) } },
  { name: 'mse', kind: 'mse', inputs: { scores: randomArray(rng, B, 2), targets: randomArray(rng, B) } },
  { name: 'mse (sigmoid)', kind: 'mse', inputs: { scores: randomArray(rng, B, 2), targets: Float64Array.from({ length: B }, () => rng.next()), activation: 'sigmoid' } },
  { name: 'margin-mse', kind: 'margin-mse', inputs: { positives: randomArray(rng, B, 3), negatives: randomArray(rng, B, 3), targets: randomArray(rng, B, 2) } },
  { name: 'cosine', kind: 'cosine', inputs: { a: randomArray(rng, B * DIM), b: randomArray(rng, B * DIM), dim: DIM, targets: Float64Array.from({ length: B }, () => 2 * rng.next() - 1) } },
  { name: 'mnrl', kind: 'mnrl', inputs: { a: randomArray(rng, B * DIM), b: randomArray(rng, B * DIM), dim: DIM, scale: 20 } },
];

for (const { name, kind, inputs } of LOSS_CASES) {
  test(`evaluateLoss(${name}): autograd gradients match central finite differences`, () => {
    const { gradients } = evaluateLoss(kind, inputs);
    const numeric = finiteDifferences(kind, inputs);
    assert.deepEqual(Object.keys(gradients).sort(), Object.keys(numeric).sort(), 'a gradient for every array input');
    for (const key of Object.keys(numeric)) {
      const err = relativeError(gradients[key], numeric[key]);
      assert.ok(err < 1e-5, `${name}: d loss / d ${key}: relative error ${err}`);
    }
  });
}

test('evaluateLoss: hand-computed values on tiny inputs', { timeout: 300_000 }, () => {
  const close = (actual: number, expected: number, what: string) => assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual} vs ${expected}`);
  // BCEWithLogits(x, y) = -y log s(x) - (1 - y) log(1 - s(x)): (x=0, y=1) -> log 2; (x=2, y=0) -> -log(1 - s(2)) =
  // log(1 + e^2). Mean of the two.
  close(evaluateLoss('bce', { scores: Float64Array.of(0, 2), targets: Float64Array.of(1, 0) }).loss, (Math.log(2) + Math.log(1 + Math.exp(2))) / 2, 'bce');
  // ((1 - 0.5)^2 + (-1 - 0)^2) / 2 = (0.25 + 1) / 2 = 0.625.
  close(evaluateLoss('mse', { scores: Float64Array.of(1, -1), targets: Float64Array.of(0.5, 0) }).loss, 0.625, 'mse');
  // sigmoid(0) = 0.5, target 1: (0.5 - 1)^2 = 0.25; d/dx = 2 (0.5 - 1) * s'(0) = -1 * 0.25 = -0.25.
  const sig = evaluateLoss('mse', { scores: Float64Array.of(0), targets: Float64Array.of(1), activation: 'sigmoid' });
  close(sig.loss, 0.25, 'mse sigmoid');
  close(sig.gradients.scores[0], -0.25, 'mse sigmoid gradient');
  // Margins: (3 - 1) - 1 = 1 and (1 - 1) - 0.5 = -0.5 -> (1 + 0.25) / 2 = 0.625.
  close(evaluateLoss('margin-mse', { positives: Float64Array.of(3, 1), negatives: Float64Array.of(1, 1), targets: Float64Array.of(1, 0.5) }).loss, 0.625, 'margin-mse');
  // cos([1,0], [0,1]) = 0 (target 0), cos([1,1], [2,2]) = 1 (target 0.5): (0 + 0.25) / 2 = 0.125.
  close(evaluateLoss('cosine', { a: Float64Array.of(1, 0, 1, 1), b: Float64Array.of(0, 1, 2, 2), dim: 2, targets: Float64Array.of(0, 0.5) }).loss, 0.125, 'cosine');
  // Orthonormal anchors and positives, scale 1: the score matrix is I, so each row's cross-entropy is
  // -log(e^1 / (e^1 + e^0)) = log(1 + e^-1); the mean is the same.
  close(evaluateLoss('mnrl', { a: Float64Array.of(1, 0, 0, 1), b: Float64Array.of(3, 0, 0, 0.5), dim: 2, scale: 1 }).loss, Math.log(1 + Math.exp(-1)), 'mnrl');
  // BCE gradient w.r.t. the logit is (s(x) - y) / B: (0.5 - 1) / 2 = -0.25.
  close(evaluateLoss('bce', { scores: Float64Array.of(0, 2), targets: Float64Array.of(1, 0) }).gradients.scores[0], -0.25, 'bce gradient');
});

test('evaluateLoss: bad inputs name the problem', { timeout: 300_000 }, () => {
  assert.throws(() => evaluateLoss('bce', { scores: Float64Array.of(0, 1) }), /"targets" must be a Float64Array/);
  assert.throws(() => evaluateLoss('bce', { scores: Float64Array.of(0, 1), targets: Float64Array.of(1) }), /"scores" has 2 rows, "targets" has 1/);
  assert.throws(() => evaluateLoss('cosine', { a: Float64Array.of(1, 2, 3), b: Float64Array.of(1, 2, 3), dim: 2, targets: Float64Array.of(1) }), /multiple of dim/);
  assert.throws(() => evaluateLoss('mnrl', { a: Float64Array.of(1, 2), b: Float64Array.of(1, 2), dim: 2 }), /"scale" must be a finite number/);
  assert.throws(() => evaluateLoss('hinge' as LossKind, {}), /unknown loss "hinge"/);
});

// --- whole models -------------------------------------------------------------------------------------------------

const models: TorchBert[] = [];
after(() => {
  for (const m of models) m.dispose();
});

/**
 * Compares lossAndGradients' gradient for a few elements of each parameter with central differences of the loss,
 * perturbing through setParameter. The model is float64 and untrained, so its parameters are exactly the float32
 * weights it was built from and can be restored bit for bit.
 */
async function checkModelGradients(
  head: ModelHead,
  config: BertConfig,
  weights: TensorMap,
  request: TrainRequest,
  picks: Array<{ name: string; indices: number[] }>,
  pooling: 'mean' | 'cls' = 'mean',
): Promise<void> {
  const model = TorchBert.create({ config, head, weights, pooling, seed: 1, dtype: 'float64', threads: 1 });
  models.push(model);
  const names = picks.map((p) => p.name);
  const { loss, gradients } = await model.lossAndGradients(request, names);
  assert.ok(Number.isFinite(loss));
  assert.equal((await model.lossAndGradients(request, [])).loss, loss, 'no-gradient evaluation gives the same loss');
  // Attention gradients are small (~1e-4), so the step is kept large enough that rounding in the loss stays far
  // below them; truncation error (~h^2) is still negligible.
  const h = 1e-5;
  for (const { name, indices } of picks) {
    const original = Float64Array.from(weights.get(name)!.data);
    const analytic = gradients.get(name)!;
    assert.equal(analytic.length, original.length, `${name}: one gradient per element`);
    const numeric: number[] = [];
    for (const i of indices) {
      const probe = Float64Array.from(original);
      probe[i] = original[i] + h;
      model.setParameter(name, probe);
      const up = (await model.lossAndGradients(request, [])).loss;
      probe[i] = original[i] - h;
      model.setParameter(name, probe);
      const down = (await model.lossAndGradients(request, [])).loss;
      numeric.push((up - down) / (2 * h));
    }
    model.setParameter(name, original);
    const picked = indices.map((i) => analytic[i]);
    assert.ok(picked.some((g) => Math.abs(g) > 1e-6), `${name}: the checked gradient entries are not all ~0`);
    const err = relativeError(picked, numeric);
    assert.ok(err < 1e-5, `${name}: relative error ${err} (autograd ${picked}, finite differences ${numeric})`);
  }
  assert.equal((await model.lossAndGradients(request, [])).loss, loss, 'parameters restored exactly');
}

/** Elements of a word-embedding row for a token that occurs in the batch, plus scattered entries of other tensors. */
function wordPicks(batchIds: BigInt64Array, hidden: number, prefix: string): { name: string; indices: number[] } {
  const token = Number(batchIds[1]);
  return { name: `${prefix}embeddings.word_embeddings.weight`, indices: [0, 3, hidden - 1].map((j) => token * hidden + j) };
}
const spread = (n: number, count = 5): number[] => Array.from({ length: count }, (_, k) => Math.floor(((k + 0.5) * n) / count));

test('cross-encoder (bce, mse, margin-mse): parameter gradients match finite differences', { timeout: 300_000 }, async () => {
  const config = tinyConfig(CROSS);
  const weights = testWeights(config, CROSS, 21);
  const H = config.hidden_size;
  const batch = randomBatch(5, [7, 4, 6], config.vocab_size);
  const picks = [
    wordPicks(batch.inputIds, H, 'bert.'),
    { name: 'bert.encoder.layer.0.attention.self.query.weight', indices: spread(H * H) },
    { name: 'bert.encoder.layer.1.output.LayerNorm.weight', indices: spread(H) },
    { name: 'bert.embeddings.LayerNorm.bias', indices: spread(H) },
    { name: 'classifier.weight', indices: spread(H) },
    { name: 'classifier.bias', indices: [0] },
  ];
  await checkModelGradients(CROSS, config, weights, { loss: 'bce', batch, labels: Float32Array.of(1, 0, 1) }, picks);
  await checkModelGradients(CROSS, config, weights, { loss: 'mse', batch, targets: Float32Array.of(0.9, 0.1, 0.4), activation: 'sigmoid' }, picks.slice(1, 3));
  const negatives = randomBatch(6, [5, 7, 3], config.vocab_size);
  await checkModelGradients(CROSS, config, weights, { loss: 'margin-mse', positives: batch, negatives, margins: Float32Array.of(2, -1, 0.5) }, picks.slice(1, 3));
});

test('bi-encoder (cosine, mnrl; mean and CLS pooling): parameter gradients match finite differences', { timeout: 300_000 }, async () => {
  const config = tinyConfig(ENCODER, { hidden_act: 'gelu_new' });
  const weights = testWeights(config, ENCODER, 22);
  const H = config.hidden_size;
  const a = randomBatch(7, [6, 3, 5, 4], config.vocab_size);
  const b = randomBatch(8, [4, 6, 2, 5], config.vocab_size);
  const picks = [
    wordPicks(a.inputIds, H, ''),
    { name: 'encoder.layer.0.attention.self.query.weight', indices: spread(H * H) },
    { name: 'embeddings.LayerNorm.weight', indices: spread(H) },
    { name: 'encoder.layer.1.intermediate.dense.bias', indices: spread(config.intermediate_size) },
  ];
  await checkModelGradients(ENCODER, config, weights, { loss: 'cosine', a, b, targets: Float32Array.of(0.8, -0.2, 0.1, 0.5) }, picks);
  await checkModelGradients(ENCODER, config, weights, { loss: 'mnrl', anchors: a, positives: b, scale: 20 }, picks);
  // CLS pooling takes the shortened last layer (token 0 only), which must differentiate the same way.
  await checkModelGradients(ENCODER, config, weights, { loss: 'mnrl', anchors: a, positives: b, scale: 20 }, picks, 'cls');
});

test('the padding row of the word embeddings gets no gradient, as nn.Embedding(padding_idx) in HF', { timeout: 300_000 }, async () => {
  const config = tinyConfig(CROSS);
  const weights = testWeights(config, CROSS, 23);
  const model = TorchBert.create({ config, head: CROSS, weights, seed: 1, dtype: 'float64', threads: 1 });
  models.push(model);
  const batch = randomBatch(9, [7, 3], config.vocab_size);
  const name = 'bert.embeddings.word_embeddings.weight';
  const { gradients } = await model.lossAndGradients({ loss: 'bce', batch, labels: Float32Array.of(1, 0) }, [name]);
  const grad = gradients.get(name)!;
  const H = config.hidden_size;
  assert.ok(grad.subarray(0, H).every((g) => g === 0), 'pad row (id 0) is all zeros');
  const used = Number(batch.inputIds[0]);
  assert.ok(grad.subarray(used * H, (used + 1) * H).some((g) => g !== 0), 'a used row is not');
});
