import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { evaluatePairwise } from '../src/eval/pairwise.js';
import { BiEncoder } from '../src/models/bi-encoder.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { EncoderRanker } from '../src/rank/encoder-ranker.js';
import { BinaryCrossEntropyLoss, CosineSimilarityLoss, MarginMSELoss, MSELoss, MultipleNegativesRankingLoss } from '../src/train/losses/index.js';
import { loadTrainableModel } from '../src/train/trainable-model.js';
import { train } from '../src/train/trainer.js';
import { resolveTrainingConfig } from '../src/train/training-config.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';
import { syntheticCases, syntheticPairs } from './helpers/synthetic-task.js';

const SHAPE = { layers: 2, hidden: 64, heads: 4, intermediate: 128 } as const;
const heldOut = syntheticCases(60, 999);
// Four key words: matching tokens across the [SEP] has to be learnt from scratch by a 2-layer model, which takes
// a few hundred steps with four keys and several thousand with twenty.
const KEYS = 4;
const heldOutFewKeys = syntheticCases(60, 999, KEYS);

test('a random cross-encoder learns a task that needs query and document together (BCE), and its export ranks as well', { timeout: 300_000 }, async () => {
  const base = await fixtureModel({ kind: 'cross-encoder', ...SHAPE, seed: 1 });
  const out = join(await scratchDir(), 'trained');
  const model = await loadTrainableModel(base, 'cross-encoder', 7);
  const result = await train(syntheticPairs(200, 1, KEYS), {
    model,
    loss: new BinaryCrossEntropyLoss(),
    config: resolveTrainingConfig({ outputDir: out, epochs: 16, batchSize: 16, learningRate: 1e-3, warmupRatio: 0.1, maxLength: 32, seed: 7, threads: 1 }),
    showProgress: false,
    evaluate: async (ranker) => {
      const r = await evaluatePairwise(ranker, heldOutFewKeys);
      return { score: r.accuracy, details: r };
    },
  });
  const before = result.evaluations[0].evaluation.score;
  const after = result.evaluations.at(-1)!.evaluation.score;
  assert.ok(before < 0.75, `before training: ${before}`);
  assert.ok(after >= 0.9, `after training: ${after}`);
  assert.deepEqual((await readdir(out)).sort(), ['config.json', 'model.safetensors', 'onnx', 'tokenizer.json', 'tokenizer_config.json']);
  const exported = await CrossEncoder.load(out, { threads: 1 });
  const viaOnnx = await evaluatePairwise(exported, heldOutFewKeys);
  assert.ok(Math.abs(viaOnnx.accuracy - after) < 1e-9, `ONNX export ${viaOnnx.accuracy} vs libtorch ${after}`);
  await exported.dispose();
});

test('a random bi-encoder learns the same task with the cosine-similarity loss', { timeout: 300_000 }, async () => {
  const base = await fixtureModel({ kind: 'bi-encoder', ...SHAPE, seed: 2 });
  const out = join(await scratchDir(), 'trained-bi');
  const model = await loadTrainableModel(base, 'bi-encoder', 3);
  const examples = syntheticPairs(240, 2).map((p) => ({ query: p.query, document: p.document, score: p.label }));
  const result = await train(examples, {
    model,
    loss: new CosineSimilarityLoss(),
    config: resolveTrainingConfig({ outputDir: out, epochs: 6, batchSize: 16, learningRate: 1e-3, maxLength: 32, seed: 3 }),
    showProgress: false,
    evaluate: async (ranker) => ({ score: (await evaluatePairwise(ranker, heldOut)).accuracy, details: null }),
  });
  const before = result.evaluations[0].evaluation.score;
  const after = result.evaluations.at(-1)!.evaluation.score;
  assert.ok(before < 0.75, `before training: ${before}`);
  assert.ok(after >= 0.9, `after training: ${after}`);
  const exported = new EncoderRanker(await BiEncoder.load(out, { threads: 1 }));
  assert.ok(Math.abs((await evaluatePairwise(exported, heldOut)).accuracy - after) < 1e-9);
  await exported.dispose();
});

test('a run that crashes resumes from its last checkpoint and ends exactly where an uninterrupted run ends', { timeout: 300_000 }, async () => {
  const base = await fixtureModel({ kind: 'cross-encoder', ...SHAPE, seed: 1 });
  const dir = await scratchDir();
  const examples = syntheticPairs(48, 5);
  const run = async (outputDir: string, crashAt?: number) =>
    train(examples, {
      model: await loadTrainableModel(base, 'cross-encoder', 1),
      loss: new BinaryCrossEntropyLoss(),
      config: resolveTrainingConfig({ outputDir, epochs: 2, batchSize: 8, learningRate: 5e-4, maxLength: 32, seed: 1, checkpointSteps: 4 }),
      showProgress: false,
      onStep: ({ step }) => {
        if (step === crashAt) throw new Error('simulated crash');
      },
    });
  const whole = await run(join(dir, 'whole'));
  await assert.rejects(run(join(dir, 'crashed'), 10), /simulated crash/);
  const resumed = await run(join(dir, 'crashed'));
  assert.equal(resumed.resumedFromStep, 8);
  assert.deepEqual(resumed.losses, whole.losses);
  const a = await CrossEncoder.load(join(dir, 'whole'), { threads: 1 });
  const b = await CrossEncoder.load(join(dir, 'crashed'), { threads: 1 });
  const pairs = examples.slice(0, 6).map((e) => [e.query, e.document] as const);
  assert.deepEqual(Array.from(await a.predict(pairs)), Array.from(await b.predict(pairs)));
  await a.dispose();
  await b.dispose();
});

test('mse, margin-mse and multiple-negatives ranking each fit a small training set', { timeout: 300_000 }, async () => {
  const ce = await fixtureModel({ kind: 'cross-encoder', ...SHAPE, seed: 1 });
  const bi = await fixtureModel({ kind: 'bi-encoder', ...SHAPE, seed: 2 });
  const dir = await scratchDir();
  const cases = syntheticCases(16, 11, KEYS);
  const runs = [
    { base: ce, target: 'cross-encoder' as const, loss: new MSELoss(), examples: cases.flatMap((c) => [{ query: c.query, document: c.relevant, score: 1 }, { query: c.query, document: c.distractor, score: -1 }]) },
    { base: ce, target: 'cross-encoder' as const, loss: new MarginMSELoss(), examples: cases.map((c) => ({ query: c.query, positive: c.relevant, negative: c.distractor, margin: 2 })) },
    { base: bi, target: 'bi-encoder' as const, loss: new MultipleNegativesRankingLoss(), examples: cases.map((c) => ({ query: c.query, positive: c.relevant })) },
  ];
  for (const [i, r] of runs.entries()) {
    const result = await train<unknown, unknown>(r.examples, {
      model: await loadTrainableModel(r.base, r.target, 1),
      loss: r.loss,
      config: resolveTrainingConfig({ outputDir: join(dir, `m${i}`), epochs: Math.ceil((80 * 16) / r.examples.length), batchSize: 16, learningRate: 1e-3, maxLength: 32, seed: 1, threads: 1 }),
      showProgress: false,
    });
    const head = result.losses.slice(0, 4).reduce((a, b) => a + b) / 4;
    const tail = result.losses.slice(-4).reduce((a, b) => a + b) / 4;
    assert.ok(tail < 0.5 * head, `${r.loss.name}: loss ${head.toFixed(4)} -> ${tail.toFixed(4)}`);
  }
});

test('training errors name the problem', { timeout: 300_000 }, async () => {
  const bi = await fixtureModel({ kind: 'bi-encoder', ...SHAPE, seed: 2 });
  const out = join(await scratchDir(), 'x');
  assert.throws(() => resolveTrainingConfig({ outputDir: out, batchSize: 0 }), /batchSize: expected a positive integer/);
  assert.throws(() => resolveTrainingConfig({ outputDir: out, learningRate: 3 }), /learningRate/);
  assert.throws(() => new BinaryCrossEntropyLoss().parseExample({ query: 'q', document: 'd', label: 2 }, 'f.jsonl:3'), /f\.jsonl:3: field "label" must be a number in \[0, 1\]/);
  assert.throws(() => new CosineSimilarityLoss().parseExample({ query: 'q', score: 0.5 }, 'f.jsonl:9'), /f\.jsonl:9: field "document" must be a string/);
  const model = await loadTrainableModel(bi, 'bi-encoder', 1);
  await assert.rejects(
    train([{ query: 'a', document: 'b', label: 1 }], { model, loss: new BinaryCrossEntropyLoss(), config: resolveTrainingConfig({ outputDir: out }), showProgress: false }),
    /loss "bce" trains a cross-encoder/,
  );
});
