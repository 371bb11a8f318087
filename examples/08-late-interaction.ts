/**
 * Example 8 of the source article: ColBERT-like late interaction (MaxSim over USE Lite's token vectors, documents
 * encoded once) against the cross-encoder, on our 60-document corpus: how far their rankings agree, what each costs
 * per query, and what happens to each under load (a simulated single-server queue at 5-40 QPS, and real open-loop
 * load at 50% and 90% of each system's capacity).
 * Run: `npx tsx examples/08-late-interaction.ts [--reranker MODEL] [--encoder use-lite] [--samples 100]
 *      [--real-requests 40] [--report late-interaction.html]`
 */
import { DEFAULT_RERANKER, loadRanker } from 'rankwise';
import { type ProfileOptions, profileService } from 'rankwise/eval';
import { compareRankings, LateInteractionRanker, loadLateInteractionEncoder, storageError } from 'rankwise/late-interaction';
import { formatAgreement, formatProfiles, formatRealLoad, formatStorageError, writeLatencyReport } from 'rankwise/present';
import { arg, readLines } from './shared.js';

const documents = (await readLines('late-interaction/documents.jsonl')).map((l) => l.value.text as string);
const queries = (await readLines('late-interaction/queries.jsonl')).map((l) => ({ id: l.value.id as string, query: l.value.query as string }));
const late = new LateInteractionRanker(await loadLateInteractionEncoder(arg('encoder', 'use-lite')!));
const cross = await loadRanker(arg('reranker', DEFAULT_RERANKER)!);

const indexMs = await late.indexDocuments(documents);
const agreement = await compareRankings(late, cross, queries, documents);
console.log(formatAgreement(agreement));

// One pass over the 10 queries each, as the article times them.
const timeAll = async (ranker: typeof late | typeof cross) => {
  const start = performance.now();
  for (const q of queries) await ranker.rank(q.query, documents, { returnDocuments: false });
  return performance.now() - start;
};
const lateMs = await timeAll(late);
const crossMs = await timeAll(cross);
console.log(`\nLatency breakdown:
Late interaction indexing: ${indexMs.toFixed(1)}ms (one-time, ${documents.length} docs)
Late interaction queries: ${lateMs.toFixed(1)}ms total (${(lateMs / queries.length).toFixed(1)}ms avg per query)
Cross-encoder: ${crossMs.toFixed(1)}ms total (${(crossMs / queries.length).toFixed(1)}ms avg per query)
Query speedup: ${(crossMs / lateMs).toFixed(1)}x faster\n`);
console.log(formatStorageError(await storageError(late.encoder, queries.map((q) => q.query), documents), late.encoder.dimension));

const options: ProfileOptions = {
  samples: Number(arg('samples', '100')),
  qpsLevels: [5, 10, 20, 30, 40],
  arrivals: ['fixed', 'poisson'],
  requests: 1000,
  seed: 1,
  // Real load where queueing matters but the queue stays stable: half and nine tenths of each system's capacity.
  realLoad: { qps: (service) => [0.5, 0.9].map((rho) => Number(((rho * 1000) / service.mean).toFixed(2))), requests: Number(arg('real-requests', '40')), arrivals: 'poisson' },
};
const queryTexts = queries.map((q) => q.query);
const profiles = [await profileService(late, queryTexts, documents, options), await profileService(cross, queryTexts, documents, options)];
console.log(`\n${formatProfiles(profiles, options.requests!).replace(/\nREAL LOAD[\s\S]*$/, '')}`);
console.log(`\nREAL LOAD vs SIMULATION (open-loop Poisson generator, one worker, FIFO)\n\n${profiles.map(formatRealLoad).join('\n\n')}`);

const report = arg('report');
if (report) {
  await writeLatencyReport(report, {
    title: 'Late interaction vs cross-encoder',
    latency: profiles.map((p) => ({ name: p.name, summary: p.service })),
    queues: profiles[0].queues.map((q, i) => ({ arrivals: q.arrivals, systems: profiles.map((p) => ({ name: p.name, levels: p.queues[i].levels })) })),
  });
  console.log(`\nwrote ${report}`);
}
await late.dispose();
await cross.dispose();
