/**
 * The built-in `default` model on our BEIR-format collections: calibration (reliability of its scores over BM25's
 * top 100 of every judged query, each candidate labelled by the judgments) and reranking latency (BM25's top 100 for
 * one query, 2 threads, fp32 and int8). Writes bench/results/default-model.json.
 *
 * Run: `npm run bench:default-model`. BENCH_SETS picks collections (default: the two evaluation-only ones);
 * BENCH_MAX_QUERIES caps queries per set; BENCH_RUNS sets latency repetitions (default 30).
 */
import { join } from 'node:path';
import { readBeirCollection } from '../src/eval/beir-collection.js';
import { reliabilityTable } from '../src/eval/calibration.js';
import { loadRanker } from '../src/rank/load-ranker.js';
import { scoresOf } from '../src/rank/results.js';
import { Bm25Index } from '../src/retrieve/bm25.js';
import { percentile, report, timeRuns, type BenchRow } from './report.js';

const ROOT = join(import.meta.dirname, '..', 'datasets', 'beir');
const sets = (process.env.BENCH_SETS ?? 'manpages,handbook').split(',');
const maxQueries = process.env.BENCH_MAX_QUERIES ? Number(process.env.BENCH_MAX_QUERIES) : Infinity;
const runs = Number(process.env.BENCH_RUNS ?? 30);
const THRESHOLD = 0.5;

const calibrationRows: BenchRow[] = [];
const reliability: Record<string, unknown> = {};
const latencyRows: BenchRow[] = [];
const ranker = await loadRanker('default', { threads: 2 });
const ranker8 = await loadRanker('default', { threads: 2, dtype: 'int8' });
try {
  for (const name of sets) {
    const collection = await readBeirCollection(join(ROOT, name));
    const index = new Bm25Index(collection.corpus);
    const text = new Map(collection.corpus.map((d) => [d.id, d.text]));
    const probabilities: number[] = [];
    const labels: number[] = [];
    const queries = collection.queries.slice(0, maxQueries);
    for (const [i, query] of queries.entries()) {
      const ids = index.search(query.text, 100).map((c) => c.id);
      const scores = await scoresOf(ranker, query.text, ids.map((id) => text.get(id)!));
      const judged = collection.qrels.get(query.id)!;
      ids.forEach((id, k) => {
        probabilities.push(scores[k]);
        labels.push((judged.get(id) ?? 0) > 0 ? 1 : 0);
      });
      if (process.stderr.isTTY) process.stderr.write(`\r${name}: ${i + 1}/${queries.length} queries`);
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
    const table = reliabilityTable(probabilities, labels, 10, THRESHOLD);
    reliability[name] = table;
    for (const bin of table.bins) {
      calibrationRows.push({
        set: name,
        score: `${bin.from.toFixed(1)}-${bin.to.toFixed(1)}`,
        pairs: bin.count,
        'mean score': Number.isNaN(bin.meanPredicted) ? '' : bin.meanPredicted.toFixed(3),
        'share relevant': Number.isNaN(bin.observed) ? '' : bin.observed.toFixed(3),
      });
    }
    process.stdout.write(
      `${name}: ECE ${table.ece.toFixed(4)}, log loss ${table.logLoss.toFixed(4)}; relevant scoring >= ${THRESHOLD}: ` +
        `${(table.threshold.relevantAbove * 100).toFixed(1)}%, non-relevant scoring < ${THRESHOLD}: ${(table.threshold.nonRelevantBelow * 100).toFixed(1)}%\n`,
    );

    const query = queries[0];
    const documents = index.search(query.text, 100).map((c) => text.get(c.id)!);
    for (const [dtype, model] of [['fp32', ranker], ['int8', ranker8]] as const) {
      // Every run's documents are new to the model's embedding cache (a marker appended), so runs are cold, as for a
      // fresh query; warm (repeated documents) is also reported.
      let run = 0;
      await scoresOf(model, query.text, documents.map((d) => `${d} [${dtype} warm-up]`));
      const times = await timeRuns(runs, () => {
        run++;
        return scoresOf(model, query.text, documents.map((d) => `${d} [${dtype} run ${run}]`));
      });
      const warm = await timeRuns(runs, () => scoresOf(model, query.text, documents));
      latencyRows.push({ set: name, dtype, documents: documents.length, 'p50 ms': percentile(times, 50).toFixed(1), 'p90 ms': percentile(times, 90).toFixed(1), 'p50 ms, documents seen before': percentile(warm, 50).toFixed(1) });
    }
  }
} finally {
  await ranker.dispose?.();
  await ranker8.dispose?.();
}
await report('default-model', [...calibrationRows], { latency: latencyRows, reliability, threshold: THRESHOLD });
process.stdout.write(
  `\n${latencyRows.map((r) => `${r.set} ${r.dtype}: p50 ${r['p50 ms']} ms, p90 ${r['p90 ms']} ms for ${r.documents} new documents (${r['p50 ms, documents seen before']} ms when seen before)`).join('\n')}\n`,
);
