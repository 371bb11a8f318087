import type { Command } from 'commander';
import { storageError } from '../../eval/compact-storage-error.js';
import { compareRankings, readAgreementQueries } from '../../eval/late-interaction-agreement.js';
import { formatAgreement } from '../../present/agreement-report.js';
import { formatStorageError } from '../../present/storage-error-report.js';
import { DEFAULT_RERANKER } from '../../rank/load-ranker.js';
import { loadRankerForCommand } from '../load-models.js';
import { TOKEN_ENCODINGS } from '../../rank/late-interaction/compact-vectors.js';
import { MAXSIM_KERNELS } from '../../rank/late-interaction/maxsim.js';
import { DEFAULT_LATE_INTERACTION_ENCODER, loadLateInteractionEncoder } from '../../rank/late-interaction/encoder.js';
import { LateInteractionRanker } from '../../rank/late-interaction/ranker.js';
import { TokenIndex, type IndexDocument } from '../../rank/late-interaction/token-index.js';
import { createProgress } from '../../util/progress.js';
import { ellipsis } from '../../present/text.js';
import { readDocuments } from '../input.js';
import { oneOf, positiveInt, printJson } from '../options.js';
import { InputError } from '../../errors.js';

/** Documents encoded per model call while indexing; also the progress granularity. */
const INDEX_BATCH = 32;

function idList(value: string): string[] {
  const ids = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (ids.length === 0) throw new InputError(`--ids: expected comma-separated document ids, got "${value}"`);
  return ids;
}

export function registerLateInteraction(program: Command): void {
  const late = program
    .command('late-interaction')
    .description('ColBERT-style late interaction: a persistent token index, MaxSim search, agreement with a cross-encoder');

  late
    .command('index')
    .description('Encode documents into the token index (created when missing); re-adding an id replaces it')
    .requiredOption('--docs <file>', '.jsonl ({"id","text"} per line) or .txt (one per line; the id is the line number)')
    .requiredOption('--index <dir>', 'index folder')
    .option('--model <model>', 'token encoder: use-lite, a ColBERT checkpoint, or a BERT-family encoder', DEFAULT_LATE_INTERACTION_ENCODER)
    .option('--encoding <encoding>', 'stored precision: float32, float16 or int8', oneOf('--encoding', TOKEN_ENCODINGS), 'float16')
    .option('--centroids <n>', 'then train n centroids for the candidate step', positiveInt('--centroids'))
    .option('--seed <n>', 'seed for the centroids', Number, 1)
    .option('--compact', 'then merge all segments into one and drop tombstoned documents')
    .option('--json', 'print {"added","documents","tokens","segments"}')
    .action(async (opts) => {
      const documents = (await readDocuments(opts.docs)).map((d, i) => ({ id: d.id ?? String(i + 1), text: d.text }));
      const encoder = await loadLateInteractionEncoder(opts.model);
      const index = await TokenIndex.openOrCreate(opts.index, { dimension: encoder.dimension, encoding: opts.encoding, model: opts.model });
      const progress = createProgress({ total: documents.length, label: 'indexing', enabled: !opts.json });
      try {
        const batch: IndexDocument[] = [];
        for (let from = 0; from < documents.length; from += INDEX_BATCH) {
          const slice = documents.slice(from, from + INDEX_BATCH);
          const tokens = await encoder.encodeDocuments(slice.map((d) => d.text));
          slice.forEach((d, i) => batch.push({ id: d.id, text: d.text, tokens: tokens[i] }));
          progress.tick(slice.length);
        }
        progress.done();
        // One segment per command: the documents become visible together, or (after a crash) not at all.
        await index.add(batch);
        if (opts.centroids) await index.trainCentroids({ count: Math.min(opts.centroids, index.tokenCount), seed: opts.seed });
        if (opts.compact) await index.compact();
        const summary = { added: documents.length, documents: index.size, tokens: index.tokenCount, segments: index.segmentCount, centroids: index.centroidCount };
        if (opts.json) printJson(summary);
        else process.stdout.write(`indexed ${summary.added} documents: the index now holds ${summary.documents} documents, ${summary.tokens} tokens in ${summary.segments} segment(s)\n`);
      } finally {
        await index.close();
        await encoder.dispose();
      }
    });

  late
    .command('delete')
    .description('Remove documents by id (tombstones; `index --compact` reclaims the space)')
    .requiredOption('--index <dir>', 'index folder')
    .requiredOption('--ids <list>', 'comma-separated ids', idList)
    .option('--json', 'print {"deleted","missing","documents"}')
    .action(async (opts) => {
      const index = await TokenIndex.open(opts.index);
      const missing = await index.delete(opts.ids);
      const deleted = new Set(opts.ids as string[]).size - missing.length;
      await index.close();
      if (opts.json) printJson({ deleted, missing, documents: index.size });
      else process.stdout.write(`deleted ${deleted} document(s)${missing.length ? `; not in the index: ${missing.join(', ')}` : ''}; ${index.size} left\n`);
    });

  late
    .command('search')
    .description('Rank the indexed documents for a query by MaxSim')
    .requiredOption('--index <dir>', 'index folder')
    .requiredOption('--query <text>', 'the query')
    .option('--k <n>', 'results to show', positiveInt('--k'), 10)
    .option('--model <model>', 'token encoder (default: the one the index was built with)')
    .option('--candidates', 'score only documents near the query in centroid space (needs index --centroids)')
    .option('--probe <n>', 'centroids probed per query token', positiveInt('--probe'), 4)
    .option('--kernel <kernel>', 'MaxSim kernel: auto, js or onnx', oneOf('--kernel', MAXSIM_KERNELS), 'auto')
    .option('--json', 'print {"results":[{"id","score","text"}],"scored"}')
    .action(async (opts) => {
      if (opts.query.trim() === '') throw new InputError('--query: expected a non-empty query');
      const index = await TokenIndex.open(opts.index);
      const encoder = await loadLateInteractionEncoder(opts.model ?? index.model ?? DEFAULT_LATE_INTERACTION_ENCODER);
      try {
        const [query] = await encoder.encodeQueries([opts.query]);
        const result = await index.search(query, { k: opts.k, candidates: opts.candidates ? { probe: opts.probe } : false, kernel: opts.kernel });
        if (opts.json) {
          printJson({ results: result.hits, scored: result.scored });
        } else {
          const lines = result.hits.map((h, i) => `#${i + 1} (score ${h.score.toFixed(4)}) [${h.id}] ${h.text ? ellipsis(h.text, 90) : ''}`.trimEnd());
          process.stdout.write(`Query: ${opts.query}\nModel: ${encoder.name}, ${result.scored} of ${index.size} documents scored\n${lines.join('\n')}\n`);
        }
      } finally {
        await index.close();
        await encoder.dispose();
      }
    });

  late
    .command('compare')
    .description('Agreement of late interaction with a reranker (ground truth): Kendall tau and top-3/top-5 overlap per query')
    .requiredOption('--docs <file>', 'documents: .jsonl ({"text"} per line) or .txt')
    .requiredOption('--queries <file>', 'queries: .jsonl ({"id","query"} per line) or .txt')
    .option('--model <model>', 'token encoder for late interaction', DEFAULT_LATE_INTERACTION_ENCODER)
    .option('--reranker <model>', 'the reference ranker', DEFAULT_RERANKER)
    .option('--json', 'print {"candidate","reference","queries":[{"id","tau","top3","top5"}],"average","storage"}')
    .action(async (opts) => {
      const documents = (await readDocuments(opts.docs)).map((d) => d.text);
      const queries = await readAgreementQueries(opts.queries, '--queries');
      const late = new LateInteractionRanker(await loadLateInteractionEncoder(opts.model));
      const reference = await loadRankerForCommand(opts.reranker, { quiet: opts.json });
      const progress = createProgress({ total: queries.length, label: 'comparing', enabled: !opts.json });
      try {
        const indexMs = await late.indexDocuments(documents);
        const report = await compareRankings(late, reference, queries, documents, () => progress.tick());
        progress.done();
        const storage = await storageError(late.encoder, queries.map((q) => q.query), documents);
        if (opts.json) {
          printJson({
            candidate: report.candidate,
            reference: report.reference,
            index_ms: indexMs,
            queries: report.rows,
            average: report.average,
            storage: storage.map((s) => ({ encoding: s.encoding, bytes_per_token: s.bytesPerToken, ...s.average, worst_tau: s.worstTau, max_score_error: s.maxScoreError })),
          });
        } else {
          process.stdout.write(`${formatAgreement(report)}\n\n${formatStorageError(storage, late.encoder.dimension)}\n`);
        }
      } finally {
        await late.dispose();
        await reference.dispose();
      }
    });
}
