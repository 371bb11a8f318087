/**
 * Relevance on our BEIR-format collections (datasets/beir/): nDCG@10 of the first stages (BM25, vector, hybrid) and of
 * each reranker over BM25's top 100, alone and fused with BM25, and of `rankwise adapt` trained on each collection's
 * own documents (no labels). Writes bench/results/relevance.json.
 *
 * Run: `npm run bench:relevance`. BENCH_SETS=packages,glossary picks collections; BENCH_RERANKERS=default,use-lite
 * picks rerankers; BENCH_ADAPT=0 skips adaptation; BENCH_MAX_QUERIES caps queries per set.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readBeirCollection, type BeirCollection } from '../src/eval/beir-collection.js';
import { beirMetrics, evaluateBeir, type BeirMetrics, type FirstStage } from '../src/eval/beir.js';
import { fuseScores } from '../src/rank/fusion.js';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import { loadRanker } from '../src/rank/load-ranker.js';
import { adapt } from '../src/train/adapt.js';
import { relativeChange } from '../src/present/relative-change.js';
import { report, type BenchRow } from './report.js';

const ROOT = join(import.meta.dirname, '..', 'datasets', 'beir');
const sets = process.env.BENCH_SETS?.split(',') ?? (await readdir(ROOT, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name).sort();
const rerankerNames = (process.env.BENCH_RERANKERS ?? 'default,use-lite').split(',').filter((s) => s !== '');
const withAdapt = process.env.BENCH_ADAPT !== '0';
const maxQueries = process.env.BENCH_MAX_QUERIES ? Number(process.env.BENCH_MAX_QUERIES) : undefined;
const scratch = process.env.BENCH_ADAPT_DIR ?? join(import.meta.dirname, '..', '.cache', 'bench', 'adapted');

const rows: BenchRow[] = [];
const perSet: Record<string, unknown> = {};
const encoder = await loadSentenceEncoder('use-lite');

async function firstStages(collection: BeirCollection, name: string): Promise<number> {
  let bm25 = 0;
  for (const retriever of ['bm25', 'vector', 'hybrid'] as FirstStage[]) {
    const result = await evaluateBeir(collection, { retriever, encoder, maxQueries });
    const m = result.firstStage.metrics;
    if (retriever === 'bm25') bm25 = m['ndcg@10'];
    rows.push({ set: name, system: `${retriever} (first stage)`, 'nDCG@10': m['ndcg@10'], 'vs BM25': relativeChange(m['ndcg@10'], bm25), 'MRR@10': m['mrr@10'], 'R@100': m['recall@100'], seconds: result.seconds.firstStage + result.seconds.index });
  }
  return bm25;
}

for (const name of sets) {
  const collection = await readBeirCollection(join(ROOT, name));
  process.stderr.write(`${name}: ${collection.corpus.length} documents, ${collection.queries.length} queries\n`);
  const bm25 = await firstStages(collection, name);
  const rerankers = [];
  for (const model of rerankerNames) rerankers.push({ name: model, ranker: await loadRanker(model) });
  let adaptSeconds: number | undefined;
  if (withAdapt) {
    const started = performance.now();
    const adapted = await adapt({ corpus: collection.corpus, outputDir: join(scratch, name), showProgress: process.stderr.isTTY });
    adaptSeconds = (performance.now() - started) / 1000;
    rerankers.push({ name: 'adapted', ranker: await loadRanker(adapted.outputDir) });
  }
  try {
    // One reranking pass; the RRF variant is fused from the same runs, so both fusions see identical scores.
    const result = await evaluateBeir(collection, { rerankers, fuse: { method: 'linear' }, maxQueries, keepRuns: true });
    const runs = result.runs!;
    for (const r of result.rerankers) {
      rows.push({ set: name, system: r.name, 'nDCG@10': r.metrics['ndcg@10'], 'vs BM25': relativeChange(r.metrics['ndcg@10'], bm25), 'MRR@10': r.metrics['mrr@10'], 'R@100': r.metrics['recall@100'], seconds: result.seconds.rerankers[r.name] + (r.name === 'adapted' ? adaptSeconds! : 0) });
      rows.push({ set: name, system: `${r.name} + BM25 (linear)`, 'nDCG@10': r.fused['ndcg@10'], 'vs BM25': relativeChange(r.fused['ndcg@10'], bm25), 'MRR@10': r.fused['mrr@10'], 'R@100': r.fused['recall@100'], seconds: '' });
      const rrf = result.perQuery.map((q) => {
        const first = runs['first-stage'][q.queryId];
        const mine = new Map(runs[r.name][q.queryId].map((s) => [s.id, s.score]));
        const fused = first.length === 0 ? [] : fuseScores(first.map((s) => s.score), first.map((s) => mine.get(s.id)!), { method: 'rrf' });
        return beirMetrics(first.map((s, i) => ({ id: s.id, score: fused[i] })), collection.qrels.get(q.queryId)!);
      });
      const mean = (key: keyof BeirMetrics) => rrf.reduce((a, m) => a + m[key], 0) / rrf.length;
      rows.push({ set: name, system: `${r.name} + BM25 (rrf)`, 'nDCG@10': mean('ndcg@10'), 'vs BM25': relativeChange(mean('ndcg@10'), bm25), 'MRR@10': mean('mrr@10'), 'R@100': mean('recall@100'), seconds: '' });
    }
    perSet[name] = { documents: collection.corpus.length, queries: result.queries, adaptSeconds, seconds: result.seconds };
  } finally {
    for (const { ranker } of rerankers) await ranker.dispose?.();
  }
}
await encoder.dispose?.();
await report('relevance', rows, { sets: perSet, note: 'rerankers rerank BM25 top 100; seconds of "adapted" include adapt itself' });
