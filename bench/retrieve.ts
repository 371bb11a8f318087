/**
 * First-stage retrieval: index build time and search latency for LanceDB (BM25, cosine, hybrid RRF with USE Lite
 * vectors) and PostgreSQL full-text search, on 1,000 and 10,000 seeded synthetic sentences.
 * Run: `npm run bench:retrieve` (starts a throwaway PostgreSQL from /usr/lib/postgresql/15/bin; BENCH_SIZES=1000 to
 * shorten, BENCH_QUERIES for the number of timed queries per mode).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import { SeededRandom } from '../src/models/random.js';
import { LanceDbRetriever } from '../src/retrieve/lancedb.js';
import { PostgresRetriever } from '../src/retrieve/postgres.js';
import type { IndexedDocument, Retriever, SearchMode } from '../src/retrieve/retriever.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { percentile, report, timeRuns, type BenchRow } from './report.js';

const SIZES = (process.env.BENCH_SIZES ?? '1000,10000').split(',').map(Number);
const QUERIES = Number(process.env.BENCH_QUERIES ?? 30);

const SUBJECTS = ['the night ferry', 'a retired chemist', 'our village bakery', 'the city council', 'a young falcon', 'the research team', 'an old lighthouse keeper', 'the hotel manager', 'a mountain guide', 'the school choir'];
const VERBS = ['repaired', 'photographed', 'argued about', 'painted', 'measured', 'sold', 'carried', 'studied', 'rebuilt', 'ignored'];
const OBJECTS = ['a broken telescope', 'the harbour wall', 'forty jars of honey', 'the winter budget', 'a rusty bicycle', 'the frozen river', 'an unsigned letter', 'the station clock', 'a basket of plums', 'the flooded cellar'];
const TAILS = ['before the storm arrived', 'while tourists watched', 'for the spring festival', 'after a long delay', 'without telling anyone', 'during the power cut', 'at dawn on Sunday', 'to everyone’s surprise', 'near the northern gate', 'with borrowed tools'];

/** Seeded sentences from templates: subject, verb, object, circumstance (10^4 combinations, then numbered). */
function syntheticDocuments(count: number, seed = 7): IndexedDocument[] {
  const rng = new SeededRandom(seed);
  const pick = (list: string[]) => list[Math.floor(rng.next() * list.length)];
  return Array.from({ length: count }, (_, i) => {
    const sentence = `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(TAILS)}`;
    return { id: `doc-${i}`, text: `${sentence[0].toUpperCase()}${sentence.slice(1)}, report ${i}.` };
  });
}

function syntheticQueries(count: number, seed = 11): string[] {
  const rng = new SeededRandom(seed);
  const pick = (list: string[]) => list[Math.floor(rng.next() * list.length)];
  return Array.from({ length: count }, () => `who ${pick(VERBS)} ${pick(OBJECTS).replace(/^(a|an|the|forty) /, '')} ${pick(TAILS).split(' ').slice(-2).join(' ')}`);
}

async function searchP50(retriever: Retriever, queries: string[], mode: SearchMode): Promise<number> {
  await retriever.search(queries[0], { k: 10, mode }); // warm-up
  let i = 0;
  const times = await timeRuns(queries.length, () => retriever.search(queries[i++ % queries.length], { k: 10, mode }));
  return percentile(times, 50);
}

async function seconds(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return (performance.now() - start) / 1000;
}

const rows: BenchRow[] = [];
const queries = syntheticQueries(QUERIES);
const scratch = await mkdtemp(join(tmpdir(), 'rankwise-bench-retrieve-'));
const encoder = await loadSentenceEncoder('use-lite');
const postgres = await startPostgres();
try {
  for (const size of SIZES) {
    const documents = syntheticDocuments(size);
    const extra = syntheticDocuments(size + 100).slice(size);

    const lance = await LanceDbRetriever.open(join(scratch, `lance-${size}`), { encoder });
    const addS = await seconds(() => lance.add(documents));
    const incrementalS = await seconds(() => lance.add(extra));
    rows.push({
      store: 'lancedb + use-lite',
      docs: size,
      'add s': addS,
      'add 100 more s': incrementalS,
      'text p50 ms': await searchP50(lance, queries, 'text'),
      'vector p50 ms': await searchP50(lance, queries, 'vector'),
      'hybrid p50 ms': await searchP50(lance, queries, 'hybrid'),
    });
    await lance.close();

    const lexical = await LanceDbRetriever.open(join(scratch, `lance-text-${size}`));
    const lexicalAddS = await seconds(() => lexical.add(documents));
    const lexicalIncrementalS = await seconds(() => lexical.add(extra));
    rows.push({ store: 'lancedb text only', docs: size, 'add s': lexicalAddS, 'add 100 more s': lexicalIncrementalS, 'text p50 ms': await searchP50(lexical, queries, 'text'), 'vector p50 ms': NaN, 'hybrid p50 ms': NaN });
    await lexical.close();

    const pg = await PostgresRetriever.open({ connection: postgres.url, table: `bench_${size}` });
    const pgAddS = await seconds(() => pg.add(documents));
    const pgIncrementalS = await seconds(() => pg.add(extra));
    rows.push({ store: 'postgresql fts', docs: size, 'add s': pgAddS, 'add 100 more s': pgIncrementalS, 'text p50 ms': await searchP50(pg, queries, 'text'), 'vector p50 ms': NaN, 'hybrid p50 ms': NaN });
    await pg.close();
  }
} finally {
  await postgres.stop();
  await encoder.dispose?.();
  await rm(scratch, { recursive: true, force: true });
}
await report('retrieve', rows, {
  queries: QUERIES,
  k: 10,
  notes:
    'add s includes USE Lite embedding for "lancedb + use-lite"; vector/hybrid p50 include embedding the query. ' +
    'LanceDB vector search is an exact scan (no ANN index); PostgreSQL ranks with ts_rank_cd over websearch_to_tsquery (AND of terms).',
});
