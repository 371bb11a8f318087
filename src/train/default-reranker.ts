/**
 * How the built-in models are made (`npm run build:default-reranker`; the result ships in models/default, so users
 * never train). Measurements behind every choice: docs/reranker-recipes.md.
 *
 * The shipped `default` is a `rankwise-hybrid` model: BM25 with background statistics of general and computing text,
 * plus USE Lite fine-tuned as a bi-encoder on 22k real (query, document) pairs from Debian's archive, combined by a
 * logistic regression fitted on the dev sets so that its score is a probability of relevance. A cross-encoder on the
 * same backbone (`trainCrossEncoderRecipe`) was measured too and kept out: see the docs for why.
 */
import { cp, mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fitLogisticRegression } from '../eval/calibration.js';
import { readBeirCollection } from '../eval/beir-collection.js';
import { readPairwiseCases, type PairwiseResult } from '../eval/pairwise.js';
import { loadSentenceEncoder } from '../models/load-encoder.js';
import { SeededRandom } from '../models/random.js';
import { cosineSimilarity } from '../models/vectors.js';
import { standardize } from '../rank/fusion.js';
import { HYBRID_MODEL_TYPE } from '../rank/hybrid-ranker.js';
import { sigmoid } from '../util/math.js';
import { Bm25Index, Bm25Scorer, bm25Statistics } from '../retrieve/bm25.js';
import { readJsonLines } from '../util/jsonl.js';
import { augmentPairs, type AugmentOptions } from './augment-pairs.js';
import { finalLoss, fineTune } from './fine-tune.js';
import { BinaryCrossEntropyLoss, type LabelledPair } from './losses/binary-cross-entropy.js';
import { stringField } from './losses/loss.js';
import { MultipleNegativesRankingLoss, type PositivePair } from './losses/multiple-negatives-ranking.js';
import { resolveTrainingConfig, type TrainingConfig } from './training-config.js';

const DATASETS = fileURLToPath(new URL('../../datasets/', import.meta.url));
/** The hand-written multi-domain pairs (datasets/reranker/): extra training data, and the pairwise-accuracy check. */
export const HAND_WRITTEN_TRAIN_FILE = join(DATASETS, 'reranker', 'train.jsonl');
export const HAND_WRITTEN_EVAL_FILE = join(DATASETS, 'reranker', 'eval.jsonl');
/** What the hard-negative data alone cannot teach (src/train/augment-pairs.ts). */
const HAND_WRITTEN_AUGMENT: AugmentOptions = { easyNegativesPerQuery: 8, positiveCopies: 2, siblingLabel: 0.6, seed: 5 };

export interface CrossEncoderBuild {
  dir: string;
  seconds: number;
  steps: number;
  /** Pairwise accuracy on datasets/reranker/eval.jsonl before (the untrained head) and after training. */
  before?: PairwiseResult;
  after?: PairwiseResult;
}

// ---------------------------------------------------------------------------------------------------------------
// Real-text training data (datasets/reranker-train/, built by scripts/build-reranker-data.ts).

const TRAINING_DATA_DIR = join(DATASETS, 'reranker-train');
const BEIR_DIR = join(DATASETS, 'beir');

/** A cross-encoder recipe on the real-text data (measured in docs/reranker-recipes.md; not what ships). */
/** The trainer's settings a recipe fixes (the rest of TrainingConfig keeps its defaults). */
export type RecipeSettings = Pick<TrainingConfig, 'epochs' | 'batchSize' | 'learningRate' | 'warmupRatio' | 'weightDecay' | 'maxGradNorm' | 'maxLength' | 'seed'>;

export interface CrossEncoderRecipe extends RecipeSettings {
  base: string;
  /** Training queries drawn (seeded) from datasets/reranker-train/train.jsonl.gz; each gives 1 positive and its negatives. */
  queries: number;
  /** Hard (BM25-mined) negatives used per query, from the 3 the data holds. */
  hardNegatives: number;
  /** Whether the random (easy) negative of each query is used. */
  easyNegative: boolean;
  /** Blend of the hard label with the teacher's probability: label = (1 - w) * hard + w * teacher (0: labels only). */
  teacherWeight: number;
  /** Also train on the hand-written multi-domain pairs of datasets/reranker/ (augmented as the old recipe). */
  handWritten: boolean;
}

/** The trainer settings both real-text recipes use (measured with these; see docs/reranker-recipes.md). */
const REAL_TEXT_SETTINGS: RecipeSettings = {
  epochs: 1,
  batchSize: 32,
  learningRate: 1e-4,
  warmupRatio: 0.1,
  weightDecay: 0.01,
  maxGradNorm: 1,
  maxLength: 128,
  seed: 42,
};

export const CROSS_ENCODER_RECIPE: CrossEncoderRecipe = {
  base: 'use-lite',
  queries: 6000,
  hardNegatives: 3,
  easyNegative: true,
  teacherWeight: 0,
  handWritten: true,
  ...REAL_TEXT_SETTINGS,
};

/** One line of datasets/reranker-train/train.jsonl.gz (scripts/build-reranker-data.ts writes them). */
export interface TrainingTuple {
  qid: string;
  source: string;
  query: string;
  positive: string;
  /** Hard negatives first (BM25 rank order), then the easy one. */
  negatives: string[];
  /** Teacher signals for [positive, ...negatives]: BM25 against the source's statistics, USE Lite cosine. */
  bm25: number[];
  cosine: number[];
}

/** The training data and a seeded order of its queries (Fisher-Yates); the generator goes on for later draws. */
async function drawTrainingQueries(seed: number): Promise<{ corpus: Map<string, string>; tuples: TrainingTuple[]; order: number[]; rng: SeededRandom }> {
  const corpus = new Map((await trainingDocuments()).map((d) => [d._id, d.text]));
  const tuples = await readRows<TrainingTuple>(join(TRAINING_DATA_DIR, 'train.jsonl.gz'));
  const rng = new SeededRandom(seed);
  const order = rng.shuffle(tuples.map((_, i) => i));
  return { corpus, tuples, order, rng };
}

/** Every training document: datasets/reranker-train/corpus/<source>.jsonl.gz, sources in name order. */
async function trainingDocuments(): Promise<Array<{ _id: string; text: string }>> {
  const dir = join(TRAINING_DATA_DIR, 'corpus');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jsonl.gz')).sort();
  return (await Promise.all(files.map((f) => readRows<{ _id: string; text: string }>(join(dir, f))))).flat();
}

async function readRows<T>(file: string): Promise<T[]> {
  return (await readJsonLines(file, 'training data')).map(({ value }) => value as unknown as T);
}

/** The teacher: BM25 and USE Lite cosine, z-scored within the query's documents and averaged, as a probability. */
function teacherProbabilities(tuple: TrainingTuple): number[] {
  const bm25 = standardize(tuple.bm25);
  const cosine = standardize(tuple.cosine);
  return Array.from(bm25, (b, i) => sigmoid(b + cosine[i]));
}

/** Labelled pairs of the recipe, in a seeded order. */
export async function crossEncoderPairs(recipe: CrossEncoderRecipe): Promise<LabelledPair[]> {
  const { corpus, tuples, order, rng } = await drawTrainingQueries(recipe.seed);
  const pairs: LabelledPair[] = [];
  const w = recipe.teacherWeight;
  for (const index of order.slice(0, recipe.queries)) {
    const t = tuples[index];
    const teacher = teacherProbabilities(t);
    const label = (hard: number, i: number) => (1 - w) * hard + w * teacher[i];
    pairs.push({ query: t.query, document: corpus.get(t.positive)!, label: label(1, 0) });
    t.negatives.slice(0, recipe.hardNegatives).forEach((id, k) => pairs.push({ query: t.query, document: corpus.get(id)!, label: label(0, k + 1) }));
    if (recipe.easyNegative) pairs.push({ query: t.query, document: corpus.get(t.negatives[t.negatives.length - 1])!, label: label(0, t.negatives.length) });
  }
  if (recipe.handWritten) {
    const loss = new BinaryCrossEntropyLoss();
    const hand = (await readJsonLines(HAND_WRITTEN_TRAIN_FILE, 'reranker/train.jsonl')).map(({ line, value }) => {
      const where = `${HAND_WRITTEN_TRAIN_FILE}:${line}`;
      return { ...loss.parseExample(value, where), topic: stringField(value, 'topic', where) };
    });
    pairs.push(...augmentPairs(hand, HAND_WRITTEN_AUGMENT));
  }
  return rng.shuffle(pairs);
}

/** Trains a cross-encoder with a recipe into `outputDir` (a full model folder, fp32). */
export async function trainCrossEncoderRecipe(
  recipe: CrossEncoderRecipe,
  outputDir: string,
  options: { threads?: number; showProgress?: boolean } = {},
): Promise<CrossEncoderBuild> {
  const examples = await crossEncoderPairs(recipe);
  const { base, queries: _q, hardNegatives: _h, easyNegative: _e, teacherWeight: _t, handWritten: _w, ...settings } = recipe;
  const config: TrainingConfig = resolveTrainingConfig({ ...settings, outputDir, threads: options.threads });
  const result = await fineTune<LabelledPair>({
    base,
    target: 'cross-encoder',
    loss: new BinaryCrossEntropyLoss(),
    examples,
    config,
    evalCases: await readPairwiseCases(HAND_WRITTEN_EVAL_FILE),
    showProgress: options.showProgress ?? true,
    restart: true,
  });
  return { dir: outputDir, seconds: result.training.seconds, steps: result.training.steps, before: result.before, after: result.after };
}

/** The built-in model's bi-encoder signal: USE Lite fine-tuned with in-batch negatives on the real-text pairs. */
export interface EncoderRecipe extends RecipeSettings {
  base: string;
  /** Training queries drawn (seeded) from datasets/reranker-train/train.jsonl.gz, each with its positive. */
  queries: number;
}

export const ENCODER_RECIPE: EncoderRecipe = {
  base: 'use-lite',
  queries: 22249,
  ...REAL_TEXT_SETTINGS,
};

/** (query, positive) pairs of the recipe, in a seeded order. */
export async function realTextPositivePairs(recipe: Pick<EncoderRecipe, 'queries' | 'seed'>): Promise<PositivePair[]> {
  const { corpus, tuples, order } = await drawTrainingQueries(recipe.seed);
  return order.slice(0, recipe.queries).map((i) => ({ query: tuples[i].query, positive: corpus.get(tuples[i].positive)! }));
}

/** Fine-tunes the bi-encoder of the built-in model into `outputDir` (a full model folder, fp32). */
export async function trainRealTextEncoder(recipe: EncoderRecipe, outputDir: string, options: { threads?: number; showProgress?: boolean } = {}): Promise<{ seconds: number; steps: number; firstLoss: number; finalLoss: number }> {
  const { base, queries: _q, ...settings } = recipe;
  const result = await fineTune<PositivePair>({
    base,
    target: 'bi-encoder',
    loss: new MultipleNegativesRankingLoss(),
    examples: await realTextPositivePairs(recipe),
    config: resolveTrainingConfig({ ...settings, outputDir, threads: options.threads }),
    showProgress: options.showProgress ?? true,
    restart: true,
  });
  return { seconds: result.training.seconds, steps: result.training.steps, firstLoss: result.training.losses[0], finalLoss: finalLoss(result.training.losses) };
}

// ---------------------------------------------------------------------------------------------------------------
// The built-in model as shipped: BM25 with background statistics + the fine-tuned bi-encoder, combined by a logistic
// regression fitted on the dev sets (docs/reranker-recipes.md has the measurements behind each choice).

export interface DefaultModelRecipe {
  encoder: EncoderRecipe;
  /** Background BM25 statistics from the training corpus (general English and computing text); terms below minDf left out (they score as df 1). */
  bm25: { source: string; k1: number; b: number; minDf: number };
  /**
   * Logistic combination fitted on BM25's top `depth` of the judged queries of the dev sets (`maxQueries` per set,
   * default all), relevant and other pairs weighing the same in total.
   */
  combination: { fitSets: readonly string[]; depth: number; l2: number; balanced: true; maxQueries?: number };
}

export const DEFAULT_MODEL_RECIPE: DefaultModelRecipe = {
  encoder: ENCODER_RECIPE,
  bm25: { source: 'datasets/reranker-train/corpus/', k1: 0.9, b: 0.4, minDf: 2 },
  combination: { fitSets: ['packages', 'glossary'], depth: 100, l2: 1e-4, balanced: true },
};

export interface DefaultModelBuild {
  dir: string;
  /** Undefined when a trained encoder was given. */
  encoder?: Awaited<ReturnType<typeof trainRealTextEncoder>>;
  combination: { bias: number; weights: Record<string, number>; rows: number; positives: number };
  seconds: number;
}

/** Builds the whole built-in model (a `rankwise-hybrid` folder, fp32) into `outputDir`; writeShippedModel ships it. */
export async function buildDefaultModel(
  outputDir: string,
  options: {
    threads?: number;
    showProgress?: boolean;
    /** An encoder this recipe already trained (skips the long step). */
    trainedEncoder?: string;
    /** Another recipe (tests build a small one); default DEFAULT_MODEL_RECIPE. */
    recipe?: DefaultModelRecipe;
  } = {},
): Promise<DefaultModelBuild> {
  const started = performance.now();
  const recipe = options.recipe ?? DEFAULT_MODEL_RECIPE;
  await mkdir(outputDir, { recursive: true });
  const encoderDir = join(outputDir, 'encoder');
  let encoder: DefaultModelBuild['encoder'] | undefined;
  if (options.trainedEncoder) await cp(options.trainedEncoder, encoderDir, { recursive: true });
  else encoder = await trainRealTextEncoder(recipe.encoder, encoderDir, options);

  const texts = (await trainingDocuments()).map((d) => d.text);
  const full = bm25Statistics(texts, { k1: recipe.bm25.k1, b: recipe.bm25.b });
  const statistics = { ...full, df: Object.fromEntries(Object.entries(full.df).filter(([, n]) => n >= recipe.bm25.minDf)) };
  await writeFile(join(outputDir, 'bm25.json'), JSON.stringify(statistics) + '\n');

  const scorer = new Bm25Scorer(statistics);
  const sentenceEncoder = await loadSentenceEncoder(encoderDir, { threads: options.threads });
  const features: number[][] = [];
  const labels: number[] = [];
  try {
    for (const set of recipe.combination.fitSets) {
      const collection = await readBeirCollection(join(BEIR_DIR, set));
      const index = new Bm25Index(collection.corpus);
      const text = new Map(collection.corpus.map((d) => [d.id, d.text]));
      const vectors = new Map<string, Float32Array>();
      const queries = collection.queries.slice(0, recipe.combination.maxQueries ?? collection.queries.length);
      const candidates = queries.map((q) => index.search(q.text, recipe.combination.depth).map((c) => c.id));
      const needed = [...new Set(candidates.flat())].sort();
      for (let i = 0; i < needed.length; i += 256) {
        const batch = needed.slice(i, i + 256);
        (await sentenceEncoder.encode(batch.map((id) => text.get(id)!))).forEach((v, j) => vectors.set(batch[j], v));
      }
      const queryVectors = await sentenceEncoder.encode(queries.map((q) => q.text));
      queries.forEach((q, qi) => {
        const ids = candidates[qi];
        const bm25 = scorer.score(q.text, ids.map((id) => text.get(id)!));
        const judged = collection.qrels.get(q.id)!;
        ids.forEach((id, k) => {
          features.push([bm25[k], cosineSimilarity(queryVectors[qi], vectors.get(id)!)]);
          labels.push((judged.get(id) ?? 0) > 0 ? 1 : 0);
        });
      });
    }
  } finally {
    await sentenceEncoder.dispose();
  }
  const positives = labels.filter((l) => l === 1).length;
  const sampleWeights = labels.map((l) => (l === 1 ? (labels.length - positives) / positives : 1));
  const fit = fitLogisticRegression(features, labels, { l2: recipe.combination.l2, sampleWeights });
  const config = {
    model_type: HYBRID_MODEL_TYPE,
    combination: 'logistic',
    bias: fit.bias,
    signals: [
      { kind: 'bm25', path: 'bm25.json', weight: fit.weights[0] },
      { kind: 'encoder', path: 'encoder', weight: fit.weights[1] },
    ],
    adapted: { recipe, encoderTraining: encoder, combinationRows: labels.length, combinationPositives: positives },
  };
  await writeFile(join(outputDir, 'config.json'), JSON.stringify(config, null, 2) + '\n');
  return {
    dir: outputDir,
    encoder,
    combination: { bias: fit.bias, weights: { bm25: fit.weights[0], encoder: fit.weights[1] }, rows: labels.length, positives },
    seconds: (performance.now() - started) / 1000,
  };
}
