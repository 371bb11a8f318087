/**
 * Domain adaptation without labels (`rankwise adapt`): from a user's own documents to a reranker model folder.
 *
 * 1. Pseudo-queries from the documents (titles, inverse cloze sentences, random crops; see pseudo-queries.ts).
 * 2. BM25 statistics of the collection, kept in the model so that exact matches of its rare terms count.
 * 3. The bi-encoder (USE Lite by default) fine-tuned on the pseudo-queries with the multiple negatives ranking loss,
 *    so that its sense of meaning fits the collection's vocabulary.
 * 4. A hybrid model folder: BM25 and the adapted encoder, standardised within each candidate list and mixed
 *    (src/rank/hybrid-ranker.ts). `loadRanker(dir)`, `rankwise rerank --model dir` and `serve --model dir` use it.
 *
 * Resumable: the work folder `<out>.work` keeps the trained encoder and the trainer's checkpoints; a second run with
 * the same corpus and recipe continues where the first stopped. Deterministic for a seed.
 */
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SeededRandom } from '../models/random.js';
import { exists } from '../util/fs.js';
import { writeFolderAtomic } from '../util/atomic-write.js';
import { bm25Statistics } from '../retrieve/bm25.js';
import type { IndexedDocument } from '../retrieve/retriever.js';
import { HYBRID_MODEL_TYPE, type HybridConfig } from '../rank/hybrid-ranker.js';
import { MultipleNegativesRankingLoss } from './losses/multiple-negatives-ranking.js';
import { generateQuestions, makePseudoQueries, PSEUDO_QUERY_KINDS, type PseudoQuery, type PseudoQueryKind, type QuestionWriter } from './pseudo-queries.js';
import { loadTrainableModel } from './trainable-model.js';
import { train } from './trainer.js';
import { resolveTrainingConfig } from './training-config.js';
import { InputError } from '../errors.js';

/**
 * The default recipe. Chosen on our development collections (datasets/beir: packages, glossary), never on the
 * evaluation-only ones; datasets/README.md and the README give the measurements behind each value.
 */
export const DEFAULT_ADAPT_RECIPE = {
  base: 'use-lite',
  kinds: PSEUDO_QUERY_KINDS as readonly PseudoQueryKind[],
  perDocument: 1,
  /** At most this many pseudo-queries are trained on (a random subset beyond it): keeps large corpora within an hour. */
  maxPairs: 20_000,
  epochs: 1,
  batchSize: 32,
  learningRate: 5e-5,
  maxLength: 128,
  /** Weight of BM25 and of the encoder in the mix of standardised scores. */
  bm25Weight: 0.5,
  encoderWeight: 0.5,
  seed: 42,
};

export type AdaptRecipe = typeof DEFAULT_ADAPT_RECIPE;

export interface AdaptOptions extends Partial<AdaptRecipe> {
  corpus: readonly IndexedDocument[];
  outputDir: string;
  /** Skip fine-tuning: BM25 statistics and the base encoder only (seconds instead of minutes). */
  skipTraining?: boolean;
  /** More training pairs from elsewhere. */
  extraPairs?: readonly PseudoQuery[];
  /** An LLM that writes a question for some of the documents (`generateQuestions`); its failures are skipped. */
  questionWriter?: QuestionWriter;
  /** Documents the LLM writes a question for (default 200). */
  questions?: number;
  threads?: number;
  showProgress?: boolean;
  restart?: boolean;
  onStep?: (step: { step: number; totalSteps: number; loss: number }) => void;
  /** Tells the caller what each step did as it finishes. */
  onPhase?: (phase: string, detail: string) => void;
}

export interface AdaptResult {
  outputDir: string;
  documents: number;
  pseudoQueries: Record<string, number>;
  trainedPairs: number;
  steps: number;
  finalLoss?: number;
  resumedFromStep: number;
  seconds: Record<string, number>;
  recipe: AdaptRecipe;
}

/** A seeded subset of n items, in their original order. */
function seededSubset<T>(items: readonly T[], n: number, seed: number): T[] {
  if (items.length <= n) return [...items];
  const chosen = new SeededRandom(seed).shuffle(items.map((_, i) => i)).slice(0, n);
  return chosen.sort((a, b) => a - b).map((i) => items[i]);
}

export async function adapt(options: AdaptOptions): Promise<AdaptResult> {
  const recipe: AdaptRecipe = { ...DEFAULT_ADAPT_RECIPE, ...Object.fromEntries(Object.entries(options).filter(([k, v]) => k in DEFAULT_ADAPT_RECIPE && v !== undefined)) };
  if (options.corpus.length === 0) throw new InputError('corpus: no documents');
  for (const key of ['bm25Weight', 'encoderWeight'] as const) {
    if (!(recipe[key] >= 0)) throw new InputError(`${key}: expected a number >= 0, got ${recipe[key]}`);
  }
  if (!Number.isInteger(recipe.maxPairs) || recipe.maxPairs < 1) throw new InputError(`maxPairs: expected a positive integer, got ${recipe.maxPairs}`);
  const out = resolve(options.outputDir);
  const work = `${out}.work`;
  const seconds: Record<string, number> = {};
  const timed = async <T>(phase: string, job: () => Promise<T> | T): Promise<T> => {
    const t = performance.now();
    const value = await job();
    seconds[phase] = (performance.now() - t) / 1000;
    return value;
  };

  const generated = await timed('pseudo-queries', () => makePseudoQueries(options.corpus, { kinds: recipe.kinds, perDocument: recipe.perDocument, seed: recipe.seed }));
  let questions: PseudoQuery[] = [];
  if (options.questionWriter) {
    const writer = options.questionWriter;
    const { pairs: written, failed } = await timed('questions', () => generateQuestions(options.corpus, writer, { documents: options.questions, seed: recipe.seed }));
    questions = written;
    options.onPhase?.('questions', `${written.length} questions from ${writer.name}, ${failed} calls failed or unusable`);
  }
  // Questions go in front so that a maxPairs cut never drops the most expensive pairs first.
  const all = [...questions, ...generated, ...(options.extraPairs ?? [])];
  const pairs = [...questions, ...seededSubset([...generated, ...(options.extraPairs ?? [])], Math.max(0, recipe.maxPairs - questions.length), recipe.seed)];
  const counts: Record<string, number> = {};
  for (const p of all) counts[p.kind] = (counts[p.kind] ?? 0) + 1;
  options.onPhase?.('pseudo-queries', `${Object.entries(counts).map(([k, n]) => `${n} ${k}`).join(', ')}; training on ${pairs.length}`);

  const statistics = await timed('bm25', () => bm25Statistics(options.corpus.map((d) => d.text)));
  options.onPhase?.('bm25', `${statistics.documents} documents, ${Object.keys(statistics.df).length} terms`);

  const encoderDir = join(work, 'encoder');
  let steps = 0;
  let finalLoss: number | undefined;
  let resumedFromStep = 0;
  if (!options.skipTraining) {
    if (pairs.length === 0) throw new InputError('corpus: the documents gave no pseudo-queries (too short, or no sentences); pass skipTraining to adapt BM25 only');
    if (options.restart) await rm(encoderDir, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    if (await exists(join(encoderDir, 'config.json'))) {
      options.onPhase?.('train', `already trained in ${encoderDir}`);
    } else {
      const model = await loadTrainableModel(recipe.base, 'bi-encoder', recipe.seed);
      const result = await timed('train', () =>
        train(
          pairs.map((p) => ({ query: p.query, positive: p.positive })),
          {
            model,
            loss: new MultipleNegativesRankingLoss(),
            config: resolveTrainingConfig({
              outputDir: encoderDir,
              epochs: recipe.epochs,
              batchSize: recipe.batchSize,
              learningRate: recipe.learningRate,
              maxLength: recipe.maxLength,
              seed: recipe.seed,
              threads: options.threads,
              checkpointSteps: 100,
            }),
            showProgress: options.showProgress,
            restart: options.restart,
            onStep: (s) => options.onStep?.({ step: s.step, totalSteps: s.totalSteps, loss: s.loss }),
          },
        ),
      );
      steps = result.steps;
      resumedFromStep = result.resumedFromStep;
      const tail = result.losses.slice(-Math.max(1, Math.ceil(result.losses.length / 10)));
      finalLoss = tail.reduce((a, b) => a + b, 0) / tail.length;
      options.onPhase?.('train', `${steps} steps, final loss ${finalLoss.toFixed(4)}`);
    }
  }

  const config: HybridConfig = {
    model_type: HYBRID_MODEL_TYPE,
    signals: [
      { kind: 'bm25', path: 'bm25.json', weight: recipe.bm25Weight },
      options.skipTraining ? { kind: 'encoder', model: recipe.base, weight: recipe.encoderWeight } : { kind: 'encoder', path: 'encoder', weight: recipe.encoderWeight },
    ],
    adapted: { recipe, documents: options.corpus.length, pseudoQueries: counts, trainedPairs: pairs.length, steps },
  };
  await timed('write', () =>
    writeFolderAtomic(out, async (staging) => {
      await writeFile(join(staging, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);
      await writeFile(join(staging, 'bm25.json'), JSON.stringify(statistics));
      if (!options.skipTraining) await cp(encoderDir, join(staging, 'encoder'), { recursive: true });
    }),
  );
  await rm(work, { recursive: true, force: true });
  return {
    outputDir: out,
    documents: options.corpus.length,
    pseudoQueries: counts,
    trainedPairs: options.skipTraining ? 0 : pairs.length,
    steps,
    finalLoss,
    resumedFromStep,
    seconds,
    recipe,
  };
}
