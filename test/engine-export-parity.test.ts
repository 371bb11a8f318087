/**
 * The libtorch model and the ONNX graph written from its weights must be the same function: forward here vs
 * onnxruntime on writeBertOnnx(state()), before and after training, for both heads.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixtureConfig } from '../src/models/fixture.js';
import { writeBertOnnx } from '../src/models/bert/graph.js';
import type { OnnxDtype } from '../src/models/bert/graph.js';
import type { BertConfig, ModelHead } from '../src/models/config.js';
import type { TensorMap } from '../src/models/tensors.js';
import { PairTokenizer, type PaddedBatch } from '../src/models/tokenizer/index.js';
import { TorchBert } from '../src/train/engine.js';
import { CROSS, ENCODER, maxAbsDiff, meanPool, rankOrder, runOnnx, testWeights } from './helpers/engine-fixtures.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';
import { wrongBertConfigs } from './helpers/wrong-variants.js';

const PAIRS: Array<[string, string]> = [
  ['what is the capital of france', 'Paris is the capital and largest city of France.'],
  ['what is the capital of france', 'The Eiffel Tower was completed in 1889.'],
  ['how do vaccines work', 'Vaccines train the immune system to recognise a pathogen without causing the disease.'],
  ['how do vaccines work', 'A recipe for sourdough bread needs flour, water, salt and a starter.'],
  ['python list comprehension', 'List comprehensions give a concise way to build lists in Python: [x * x for x in range(10)].'],
  ['python list comprehension', 'The python is a large constricting snake found in Africa and Asia.'],
  ['boiling point of water', 'At sea level water boils at 100 degrees Celsius (212 °F).'],
  ['boiling point of water', 'Mount Everest is the highest mountain above sea level.'],
  ['who wrote hamlet', 'Hamlet is a tragedy written by William Shakespeare around 1600.'],
  ['who wrote hamlet', 'Zürich, Genève and Basel are Swiss cities; 東京 is in Japan.'],
];
// Distinct, well separated targets: training spreads the scores apart, so int8 rounding cannot swap two of them.
const TARGETS = Float32Array.from(PAIRS, (_, i) => ((i * 7) % PAIRS.length) / 3 - 1.5);
/*
 * Max abs differences allowed between libtorch and onnxruntime (float32 both, different kernels), about 10x what is
 * measured here, and below the smallest wrong variant each must catch (measured by the tests below on the same
 * weights; ONNX written with LayerNorm eps 1e-5 instead of 1e-12, or hidden_act gelu_new instead of gelu):
 *   logits: measured 2.4-3.0e-7 -> 3e-6. Wrong eps moves them 3.1e-5 (untrained) to 1.5e-4, gelu_new 7.4-9.1e-5.
 *   last_hidden_state and pooled vectors: measured up to 1.7e-6 (hidden), 1.1e-6 (CLS), 5.4e-7 (mean) -> 2e-5.
 *     Wrong eps moves hidden states 5.5-7.1e-4 and mean-pooled vectors 1.9-2.0e-4, gelu_new 5.7e-4 and 2.3-3.1e-4;
 *     CLS pooling instead of mean (or the reverse) about 3.
 * The old single bound, 1e-4, let the untrained wrong-eps and both gelu_new logit variants pass.
 */
const LOGITS_TOLERANCE = 3e-6;
const STATES_TOLERANCE = 2e-5;
/** Training must move the outputs by far more than any rounding, or the after-training checks prove nothing. */
const TRAINED_MOVE = 1e-2;

/** Every wrong variant must miss the tolerance: each effect is the variant's max abs difference from libtorch. */
function assertCaught(label: string, tolerance: number, effects: Array<[string, number]>): void {
  for (const [variant, effect] of effects) assert.ok(effect > tolerance, `${label}: ${variant} moves outputs by only ${effect}, within the tolerance ${tolerance}`);
}

let crossTokenizer: PairTokenizer;
let biTokenizer: PairTokenizer;
let dir: string;
const models: TorchBert[] = [];

before(async () => {
  crossTokenizer = await PairTokenizer.fromFolder(await fixtureModel({ kind: 'cross-encoder' }));
  biTokenizer = await PairTokenizer.fromFolder(await fixtureModel({ kind: 'bi-encoder' }));
  dir = await scratchDir();
});
after(() => {
  for (const m of models) m.dispose();
});

function pairBatch(): PaddedBatch {
  return crossTokenizer.pad(PAIRS.map(([q, d]) => crossTokenizer.encodePair(q, d, { maxLength: 48 })));
}

function textBatch(texts: string[]): PaddedBatch {
  return biTokenizer.pad(texts.map((t) => biTokenizer.encodeSingle(t, { maxLength: 48 })));
}

let files = 0;
async function onnxOutput(config: BertConfig, head: ModelHead, weights: TensorMap, batch: PaddedBatch, dtype: OnnxDtype = 'fp32'): Promise<Float32Array> {
  const path = join(dir, `model-${files++}.onnx`);
  await writeBertOnnx(path, config, weights, { head, dtype });
  return runOnnx(path, batch);
}

/** Token 0 of last_hidden_state [B, T, H] per row. */
function clsPool(states: Float32Array, batch: PaddedBatch, hidden: number): Float32Array {
  const out = new Float32Array(batch.batchSize * hidden);
  for (let b = 0; b < batch.batchSize; b++) out.set(states.subarray(b * batch.sequenceLength * hidden, (b * batch.sequenceLength + 1) * hidden), b * hidden);
  return out;
}

function create(config: BertConfig, head: ModelHead, weights: TensorMap, pooling?: 'mean' | 'cls'): TorchBert {
  const model = TorchBert.create({ config, head, weights, pooling, seed: 11, threads: 2 });
  models.push(model);
  return model;
}

test('cross-encoder: logits match onnxruntime on the exported graph, before and after training', { timeout: 30_000 }, async (t) => {
  const config = fixtureConfig({ kind: 'cross-encoder' });
  const weights = testWeights(config, CROSS, 3);
  const model = create(config, CROSS, weights);
  const batch = pairBatch();

  const state = model.state();
  assert.deepEqual([...state.keys()], [...weights.keys()], 'state() keeps the names and order it was given');
  for (const [name, t] of weights) assert.deepEqual(state.get(name)!.data, t.data, `${name} round-trips exactly`);

  const before = await model.forward(batch);
  assert.equal(before.length, PAIRS.length);
  const diff = maxAbsDiff(before, await onnxOutput(config, CROSS, state, batch));
  assert.ok(diff <= LOGITS_TOLERANCE, `logits differ from onnxruntime by ${diff}`);
  // The same weights written with a wrong eps or GELU must fail the same check.
  const wrong: Array<[string, number]> = [];
  for (const v of wrongBertConfigs(config)) wrong.push([v.label, maxAbsDiff(before, await onnxOutput(v.config, CROSS, state, batch))]);
  assertCaught('cross-encoder logits', LOGITS_TOLERANCE, wrong);
  t.diagnostic(`logits: libtorch vs onnxruntime ${diff.toExponential(2)}; ${wrong.map(([l, e]) => `${l}: ${e.toExponential(2)}`).join('; ')}`);

  model.configureOptimizer({ lr: 3e-3, weightDecay: 0.01, warmupSteps: 0, totalSteps: 30, maxGradNorm: 1 });
  for (let i = 0; i < 30; i++) await model.trainStep({ loss: 'mse', batch, targets: TARGETS });
  const trained = model.state();
  const afterTraining = await model.forward(batch);
  assert.ok(maxAbsDiff(afterTraining, before) > TRAINED_MOVE, 'training changed the model');
  const diffAfter = maxAbsDiff(afterTraining, await onnxOutput(config, CROSS, trained, batch));
  assert.ok(diffAfter <= LOGITS_TOLERANCE, `after training, logits differ from onnxruntime by ${diffAfter}`);
  const wrongAfter: Array<[string, number]> = [];
  for (const v of wrongBertConfigs(config)) wrongAfter.push([v.label, maxAbsDiff(afterTraining, await onnxOutput(v.config, CROSS, trained, batch))]);
  assertCaught('trained cross-encoder logits', LOGITS_TOLERANCE, wrongAfter);
  t.diagnostic(`after training: ${diffAfter.toExponential(2)}; ${wrongAfter.map(([l, e]) => `${l}: ${e.toExponential(2)}`).join('; ')}`);

  // int8 weights move every score a little; the ranking of the test pairs must survive it.
  const int8 = await onnxOutput(config, CROSS, trained, batch, 'int8');
  assert.deepEqual(rankOrder(int8), rankOrder(afterTraining), `int8 ${Array.from(int8)} vs fp32 ${Array.from(afterTraining)}`);
});

test('bi-encoder: last_hidden_state and mean/CLS pooling match onnxruntime, before and after training', { timeout: 30_000 }, async (t) => {
  const config = fixtureConfig({ kind: 'bi-encoder' });
  const weights = testWeights(config, ENCODER, 4);
  const H = config.hidden_size;
  const queries = PAIRS.filter((_, i) => i % 2 === 0).map(([q]) => q);
  const docs = PAIRS.filter((_, i) => i % 2 === 0).map(([, d]) => d);
  const batch = textBatch([...queries, ...docs]);
  const model = create(config, ENCODER, weights);
  const cls = create(config, ENCODER, weights, 'cls');

  const check = async (label: string) => {
    const state = model.state();
    const reference = await onnxOutput(config, ENCODER, state, batch);
    const hidden = await model.hiddenStates(batch);
    assert.equal(hidden.length, batch.batchSize * batch.sequenceLength * H);
    const hiddenDiff = maxAbsDiff(hidden, reference);
    assert.ok(hiddenDiff <= STATES_TOLERANCE, `${label}: last_hidden_state differs by ${hiddenDiff}`);
    const pooled = await model.forward(batch);
    const pooledDiff = maxAbsDiff(pooled, meanPool(reference, batch, H));
    assert.ok(pooledDiff <= STATES_TOLERANCE, `${label}: mean pooling differs by ${pooledDiff}`);
    const wrongHidden: Array<[string, number]> = [];
    const wrongPooled: Array<[string, number]> = [];
    for (const v of wrongBertConfigs(config)) {
      const wrong = await onnxOutput(v.config, ENCODER, state, batch);
      wrongHidden.push([v.label, maxAbsDiff(hidden, wrong)]);
      wrongPooled.push([v.label, maxAbsDiff(pooled, meanPool(wrong, batch, H))]);
    }
    // Pooling slip: the first (CLS) token where the mean was asked for.
    wrongPooled.push(['CLS instead of mean pooling', maxAbsDiff(pooled, clsPool(reference, batch, H))]);
    assertCaught(`${label}: last_hidden_state`, STATES_TOLERANCE, wrongHidden);
    assertCaught(`${label}: mean pooling`, STATES_TOLERANCE, wrongPooled);
    t.diagnostic(`${label}: hidden ${hiddenDiff.toExponential(2)} (${wrongHidden.map(([l, e]) => `${l}: ${e.toExponential(2)}`).join('; ')}); ` +
      `pooled ${pooledDiff.toExponential(2)} (${wrongPooled.map(([l, e]) => `${l}: ${e.toExponential(2)}`).join('; ')})`);
  };
  await check('before training');

  // CLS pooling is token 0 of last_hidden_state (computed on a shorter path, so equal up to float rounding).
  const clsPooled = await cls.forward(batch);
  const reference = await onnxOutput(config, ENCODER, cls.state(), batch);
  const T = batch.sequenceLength;
  let clsDiff = 0;
  for (let b = 0; b < batch.batchSize; b++) {
    const diff = maxAbsDiff(clsPooled.subarray(b * H, (b + 1) * H), reference.subarray(b * T * H, b * T * H + H));
    clsDiff = Math.max(clsDiff, diff);
    assert.ok(diff <= STATES_TOLERANCE, `CLS pooling of row ${b} differs by ${diff}`);
  }
  // And the reverse slip: mean pooling where CLS was asked for.
  const meanInstead = maxAbsDiff(clsPooled, meanPool(reference, batch, H));
  assertCaught('CLS pooling', STATES_TOLERANCE, [['mean instead of CLS pooling', meanInstead]]);
  t.diagnostic(`CLS pooling ${clsDiff.toExponential(2)}; mean instead of CLS: ${meanInstead.toExponential(2)}`);

  const before = await model.forward(batch);
  model.configureOptimizer({ lr: 2e-3, weightDecay: 0.01, warmupSteps: 1, totalSteps: 6, maxGradNorm: 1 });
  for (let i = 0; i < 6; i++) await model.trainStep({ loss: 'mnrl', anchors: textBatch(queries), positives: textBatch(docs), scale: 20 });
  assert.ok(maxAbsDiff(await model.forward(batch), before) > TRAINED_MOVE, 'training changed the model');
  await check('after training');
  // The untrained pooler is carried through unchanged, so the exported folder stays a complete BertModel.
  assert.deepEqual(model.state().get('pooler.dense.weight')!.data, weights.get('pooler.dense.weight')!.data);
});
