import { resolve } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { DEFAULT_ENCODER, loadSentenceEncoder } from '../../models/load-encoder.js';
import type { SentenceEncoder } from '../../models/sentence-encoder.js';
import { readCorpusBatches } from '../../retrieve/corpus.js';
import { DEFAULT_LANCE_TABLE, readLanceManifest, type LanceIndexManifest } from '../../retrieve/lance-manifest.js';
import type { LanceDbRetriever as LanceDb } from '../../retrieve/lancedb.js';
import type { SearchMode } from '../../retrieve/retriever.js';
import { exists } from '../../util/fs.js';
import { jsonLinesSize } from '../../util/jsonl.js';
import { createProgress } from '../../util/progress.js';
import { table } from '../../present/table.js';
import { ellipsis } from '../../present/text.js';
import { oneOf, positiveInt, printJson } from '../options.js';
import { InputError, withContext } from '../../errors.js';

const NO_MODEL = 'none';
/** Documents per write of `index add`: a corpus of any size is streamed and committed this many at a time. */
export const DEFAULT_ADD_BATCH = 10_000;

/** LanceDB's native module takes most of a second to load: only the index commands pay for it. */
async function lanceDb(): Promise<typeof LanceDb> {
  return (await import('../../retrieve/lancedb.js')).LanceDbRetriever;
}

/** Another writer holds the index: say so once, rather than sit silent until it finishes. */
const tellWaiting = (message: string) => process.stderr.write(`rankwise: ${message}\n`);

function idList(value: string): string[] {
  const ids = value.split(',').map((s) => s.trim());
  if (ids.some((id) => id === '')) throw new InvalidArgumentError(`--ids expects comma-separated non-empty ids, got "${value}"`);
  return ids;
}

async function existingManifest(dir: string, tableName: string): Promise<LanceIndexManifest> {
  const manifest = await readLanceManifest(dir, tableName);
  if (!manifest) throw new InputError(`--index ${dir}: no rankwise index (table "${tableName}") there; create one with "rankwise index add"`);
  return manifest;
}

/** The encoder an index needs: the recorded one for an existing index, --model (default use-lite) for a new one. */
async function encoderFor(dir: string, manifest: LanceIndexManifest | undefined, model: string | undefined): Promise<SentenceEncoder | undefined> {
  const recorded = manifest ? (manifest.encoder?.name ?? NO_MODEL) : undefined;
  const name = model ?? recorded ?? DEFAULT_ENCODER;
  // Real encoders are compared by name and dimension when the index opens; "none" has to be caught here.
  if (recorded !== undefined && (name === NO_MODEL || recorded === NO_MODEL) && name !== recorded) {
    throw new InputError(`--model ${name}: the index at ${dir} was built with ${recorded === NO_MODEL ? 'no model (text search only)' : `model ${recorded}`}; leave out --model to use it`);
  }
  if (name === NO_MODEL) return undefined;
  // A model folder is recorded by absolute path, so that the index finds it again from any working directory.
  return loadSentenceEncoder(model !== undefined && (await exists(model)) ? resolve(model) : name);
}

export function registerIndex(program: Command): void {
  const index = program.command('index').description('Build and search a first-stage index (LanceDB: BM25, vectors, hybrid)');

  index
    .command('add')
    .description('Add or replace documents (by id) in an index folder, creating it on first use')
    .requiredOption('--index <dir>', 'index folder')
    .requiredOption('--docs <file>', 'JSONL, one {"id","text", ...} per line; other fields are kept as metadata')
    .option('--model <model>', `sentence encoder for a new index ("${NO_MODEL}" for text search only); default ${DEFAULT_ENCODER}, or the one the index was built with`)
    .option('--table <name>', 'table inside the folder', DEFAULT_LANCE_TABLE)
    .option('--batch-size <n>', 'documents per write: larger files are streamed and added this many at a time', positiveInt('--batch-size'), DEFAULT_ADD_BATCH)
    .option('--json', 'print {"added","count","model","seconds"}')
    .action(async (opts) => {
      const started = performance.now();
      // Streamed twice (checked whole, then added batch by batch), so that neither the file nor its documents need to
      // fit in memory at once, and a bad line anywhere fails before anything is written.
      const checking = createProgress({ total: await jsonLinesSize(opts.docs), label: 'checking (bytes)', enabled: !opts.json });
      let checkedBytes = 0;
      let total = 0;
      const batches = readCorpusBatches(opts.docs, opts.batchSize, {
        onBytes: (bytes) => {
          checking.tick(bytes - checkedBytes);
          checkedBytes = bytes;
        },
        onChecked: (documents) => {
          checking.done();
          total = documents;
        },
      });
      // The first batch comes after the whole file was checked: errors in it stop here, before a model loads.
      const first = await batches.next();
      const encoder = await encoderFor(opts.index, await readLanceManifest(opts.index, opts.table), opts.model);
      let added = 0;
      try {
        const retriever = await (await lanceDb()).open(opts.index, { encoder, table: opts.table, lock: { onWait: tellWaiting } });
        const progress = createProgress({ total, label: encoder ? 'embedding' : 'adding', enabled: !opts.json });
        try {
          for (let next = first; !next.done; next = await batches.next()) {
            let reported = 0;
            await retriever.add(next.value, {
              onProgress: (done) => {
                progress.tick(done - reported);
                reported = done;
              },
            });
            progress.tick(next.value.length - reported);
            added += next.value.length;
          }
        } catch (error) {
          throw withContext(error, '', added > 0 ? ` (the first ${added} documents of ${opts.docs} were added before this)` : '');
        } finally {
          progress.done();
        }
        const count = await retriever.count();
        await retriever.close();
        const seconds = (performance.now() - started) / 1000;
        const model = retriever.manifest.encoder?.name ?? null;
        if (opts.json) printJson({ added, count, model, seconds });
        else process.stdout.write(`Added ${added} documents to ${opts.index} in ${seconds.toFixed(1)} s; it now holds ${count} (model: ${model ?? 'none, text search only'})\n`);
      } finally {
        await encoder?.dispose();
      }
    });

  index
    .command('delete')
    .description('Remove documents by id')
    .requiredOption('--index <dir>', 'index folder')
    .requiredOption('--ids <ids>', 'comma-separated ids', idList)
    .option('--table <name>', 'table inside the folder', DEFAULT_LANCE_TABLE)
    .option('--json', 'print {"deleted","count"}')
    .action(async (opts) => {
      await existingManifest(opts.index, opts.table);
      const retriever = await (await lanceDb()).open(opts.index, { table: opts.table, lock: { onWait: tellWaiting } });
      const before = await retriever.count();
      await retriever.delete(opts.ids);
      const count = await retriever.count();
      await retriever.close();
      if (opts.json) printJson({ deleted: before - count, count });
      else process.stdout.write(`Deleted ${before - count} of ${opts.ids.length} ids from ${opts.index}; it now holds ${count}\n`);
    });

  index
    .command('search')
    .description('Search an index and print the hits best first')
    .requiredOption('--index <dir>', 'index folder')
    .requiredOption('--query <text>', 'the query')
    .option('--k <n>', 'number of hits', positiveInt('--k'), 10)
    .option('--mode <mode>', 'text (BM25), vector (cosine) or hybrid (RRF); default hybrid when the index has vectors', oneOf('--mode', ['text', 'vector', 'hybrid'] as const))
    .option('--table <name>', 'table inside the folder', DEFAULT_LANCE_TABLE)
    .option('--json', 'print {"mode","results":[{"rank","id","score","text","metadata"}]}')
    .action(async (opts) => {
      if (opts.query.trim() === '') throw new InputError('--query: expected a non-empty query');
      const manifest = await existingManifest(opts.index, opts.table);
      const mode: SearchMode = opts.mode ?? (manifest.encoder ? 'hybrid' : 'text');
      // Text search needs no model: skip loading it.
      const encoder = mode === 'text' || !manifest.encoder ? undefined : await loadSentenceEncoder(manifest.encoder.name);
      try {
        const retriever = await (await lanceDb()).open(opts.index, { encoder, table: opts.table });
        const hits = await retriever.search(opts.query, { k: opts.k, mode });
        await retriever.close();
        if (opts.json) {
          printJson({ mode, results: hits.map((h) => ({ rank: h.rank, id: h.id, score: h.score, text: h.text, metadata: h.metadata ?? null })) });
        } else if (hits.length === 0) {
          process.stdout.write(`No hits for "${opts.query}" (${mode} search).\n`);
        } else {
          const score = mode === 'text' ? 'bm25' : mode === 'vector' ? 'cosine' : 'rrf';
          process.stdout.write(`${table(['rank', 'id', score, 'text'], hits.map((h) => [h.rank, h.id, h.score.toFixed(4), ellipsis(h.text, 70)]))}\n`);
        }
      } finally {
        await encoder?.dispose();
      }
    });

  index
    .command('stats')
    .description('Show what an index holds')
    .requiredOption('--index <dir>', 'index folder')
    .option('--table <name>', 'table inside the folder', DEFAULT_LANCE_TABLE)
    .option('--json', 'print {"table","documents","model","dimension","modes","createdAt"}')
    .action(async (opts) => {
      const manifest = await existingManifest(opts.index, opts.table);
      const retriever = await (await lanceDb()).open(opts.index, { table: opts.table });
      const stats = {
        table: manifest.table,
        documents: await retriever.count(),
        model: manifest.encoder?.name ?? null,
        dimension: manifest.encoder?.dimension ?? null,
        modes: retriever.modes,
        createdAt: manifest.createdAt,
      };
      await retriever.close();
      if (opts.json) printJson(stats);
      else {
        process.stdout.write(
          `Index:     ${opts.index} (table ${stats.table})\nDocuments: ${stats.documents}\nModel:     ${stats.model ? `${stats.model} (${stats.dimension}-d)` : 'none (text search only)'}\n` +
            `Modes:     ${stats.modes.join(', ')}\nCreated:   ${stats.createdAt}\n`,
        );
      }
    });
}
