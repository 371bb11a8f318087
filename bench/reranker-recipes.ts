/**
 * Reproduces the recipe comparison of docs/reranker-recipes.md on the dev sets: trains each recipe on the real-text
 * data (datasets/reranker-train/) and reports nDCG@10 over BM25's top 100, alone and fused with BM25, next to BM25
 * and the pretrained `use-lite`. Writes bench/results/reranker-recipes.json. Training takes minutes per recipe.
 *
 * Run: `npm run bench:recipes`. BENCH_RECIPES picks recipes (default cross-encoder,encoder,hybrid):
 *   cross-encoder  the CROSS_ENCODER_RECIPE (BCE, hard negatives; BENCH_QUERIES training queries, default 2,000)
 *   encoder        the ENCODER_RECIPE bi-encoder (MNRL; BENCH_QUERIES, default 8,000)
 *   hybrid         the shipped model's build with that encoder (background BM25 + encoder, logistic combination)
 * BENCH_SETS (default packages,glossary), BENCH_MAX_QUERIES (default 100), BENCH_DIR (where models are written).
 */
import { join } from 'node:path';
import { readBeirCollection } from '../src/eval/beir-collection.js';
import { evaluateBeir } from '../src/eval/beir.js';
import { relativeChange } from '../src/present/relative-change.js';
import { loadRanker } from '../src/rank/load-ranker.js';
import type { Ranker } from '../src/rank/results.js';
import {
  buildDefaultModel,
  CROSS_ENCODER_RECIPE,
  DEFAULT_MODEL_RECIPE,
  ENCODER_RECIPE,
  trainCrossEncoderRecipe,
  trainRealTextEncoder,
} from '../src/train/default-reranker.js';
import { report, type BenchRow } from './report.js';

const recipes = (process.env.BENCH_RECIPES ?? 'cross-encoder,encoder,hybrid').split(',');
const sets = (process.env.BENCH_SETS ?? 'packages,glossary').split(',');
const maxQueries = Number(process.env.BENCH_MAX_QUERIES ?? 100);
const queries = process.env.BENCH_QUERIES ? Number(process.env.BENCH_QUERIES) : undefined;
const dir = process.env.BENCH_DIR ?? join(import.meta.dirname, '..', '.cache', 'bench', 'recipes');
const showProgress = process.stderr.isTTY;

const models: Array<{ name: string; path: string; training: Record<string, unknown> }> = [];
if (recipes.includes('cross-encoder')) {
  const recipe = { ...CROSS_ENCODER_RECIPE, queries: queries ?? 2000 };
  const path = join(dir, 'cross-encoder');
  const built = await trainCrossEncoderRecipe(recipe, path, { showProgress });
  models.push({ name: `cross-encoder (${recipe.queries} queries)`, path, training: { recipe, seconds: built.seconds, steps: built.steps, pairwise: built.after?.accuracy } });
}
if (recipes.includes('encoder') || recipes.includes('hybrid')) {
  const recipe = { ...ENCODER_RECIPE, queries: queries ?? 8000 };
  const path = join(dir, 'encoder');
  const built = await trainRealTextEncoder(recipe, path, { showProgress });
  if (recipes.includes('encoder')) models.push({ name: `bi-encoder (${recipe.queries} queries)`, path, training: { recipe, ...built } });
  if (recipes.includes('hybrid')) {
    const hybridPath = join(dir, 'hybrid');
    const hybrid = await buildDefaultModel(hybridPath, { trainedEncoder: path, showProgress, recipe: { ...DEFAULT_MODEL_RECIPE, encoder: recipe } });
    models.push({ name: `hybrid with that bi-encoder`, path: hybridPath, training: { combination: hybrid.combination } });
  }
}

const rows: BenchRow[] = [];
for (const set of sets) {
  const collection = await readBeirCollection(join(import.meta.dirname, '..', 'datasets', 'beir', set));
  const rankers: Array<{ name: string; ranker: Ranker }> = [{ name: 'use-lite', ranker: await loadRanker('use-lite') }];
  for (const m of models) rankers.push({ name: m.name, ranker: await loadRanker(m.path) });
  try {
    const result = await evaluateBeir(collection, { rerankers: rankers, maxQueries });
    const bm25 = result.firstStage.metrics['ndcg@10'];
    rows.push({ set, system: 'BM25 (first stage)', 'nDCG@10': bm25.toFixed(4), 'vs BM25': '', fused: '', 'fused vs BM25': '' });
    for (const r of result.rerankers) {
      rows.push({
        set,
        system: r.name,
        'nDCG@10': r.metrics['ndcg@10'].toFixed(4),
        'vs BM25': relativeChange(r.metrics['ndcg@10'], bm25),
        fused: r.fused['ndcg@10'].toFixed(4),
        'fused vs BM25': relativeChange(r.fused['ndcg@10'], bm25),
      });
    }
  } finally {
    for (const { ranker } of rankers) await ranker.dispose?.();
  }
}
await report('reranker-recipes', rows, { maxQueries, models: models.map(({ name, training }) => ({ name, training })) });
