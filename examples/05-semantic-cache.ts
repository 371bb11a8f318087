/**
 * Example 5 of the source article, fixed: a semantic query cache that finds candidates with a vector index instead
 * of scoring every cached query, and refuses opposite questions. Runs the article's simulation on our own labelled
 * queries (12 topics, 38 paraphrases, 22 near misses that must miss) and prints the per-query table and summary.
 * Run: `npx tsx examples/05-semantic-cache.ts [--model MODEL] [--threshold T] [--strategy two-step|scan]`.
 */
import { DEFAULT_ENCODER, loadSentenceEncoder } from 'rankwise';
import { DEFAULT_CACHE_THRESHOLD, parseSimulationQueries, simulateCache } from 'rankwise/cache';
import { formatSimulation } from 'rankwise/present';
import { arg, readLines } from './shared.js';

const queries = parseSimulationQueries(await readLines('cache/queries.jsonl'), 'cache/queries.jsonl');
const encoder = await loadSentenceEncoder(arg('model', DEFAULT_ENCODER));
const result = await simulateCache(queries, {
  encoder,
  threshold: Number(arg('threshold', String(DEFAULT_CACHE_THRESHOLD))),
  strategy: arg('strategy', 'two-step') as 'two-step' | 'scan',
});
console.log(formatSimulation(result));
await encoder.dispose();
