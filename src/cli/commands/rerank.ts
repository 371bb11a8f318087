import type { Command } from 'commander';
import { DEFAULT_RERANKER } from '../../rank/load-ranker.js';
import { loadRankerForCommand } from '../load-models.js';
import { createProgress } from '../../util/progress.js';
import { formatRanking } from '../../present/ranking.js';
import { jsonLinesSize } from '../../util/jsonl.js';
import { DEFAULT_MAX_DOCUMENTS, readDocuments } from '../input.js';
import { collect, oneOf, positiveInt, printJson, intAtLeast } from '../options.js';
import { InputError } from '../../errors.js';

export function registerRerank(program: Command): void {
  program
    .command('rerank')
    .description('Score documents against a query and print them best first')
    .option('--model <model>', 'model folder, hub id, "default" (the built-in cross-encoder) or "use-lite"', DEFAULT_RERANKER)
    .requiredOption('--query <text>', 'the query')
    .option('--docs <file>', 'documents: .txt (one per line) or .jsonl ({"text"} or {"id","text"} per line)')
    .option('--doc <text>', 'a document (repeatable)', collect)
    .option('--max-docs <n>', 'most documents --docs may hold (each one is scored against the query)', positiveInt('--max-docs'), DEFAULT_MAX_DOCUMENTS)
    .option('--top-k <n>', 'keep only the best n', positiveInt('--top-k'))
    .option('--dtype <dtype>', 'fp32 or int8', oneOf('--dtype', ['fp32', 'int8'] as const), 'fp32')
    .option('--threads <n>', 'inference threads', positiveInt('--threads'))
    .option('--batch-size <n>', 'pairs per model call', positiveInt('--batch-size'), 32)
    .option('--max-length <n>', 'longest pair in tokens', intAtLeast('--max-length', 4))
    .option('--long-documents <mode>', 'truncate or chunk', oneOf('--long-documents', ['truncate', 'chunk'] as const), 'truncate')
    .option('--activation <fn>', 'sigmoid, softmax or none (cross-encoders)', oneOf('--activation', ['sigmoid', 'softmax', 'none'] as const))
    .option('--json', 'print {"results":[{"index","score","document"}]}')
    .action(async (opts) => {
      if (opts.query.trim() === '') throw new InputError('--query: expected a non-empty query');
      if (!opts.docs && !opts.doc) throw new InputError('give documents with --docs FILE or --doc TEXT');
      if (opts.docs && opts.doc) throw new InputError('give documents with either --docs or --doc, not both');
      const documents = opts.docs ? await readDocumentTexts(opts.docs, opts.maxDocs, !opts.json) : (opts.doc as string[]);
      const ranker = await loadRankerForCommand(opts.model, { dtype: opts.dtype, threads: opts.threads, maxLength: opts.maxLength, quiet: opts.json });
      const progress = createProgress({ total: documents.length, label: 'scoring', enabled: !opts.json });
      let reported = 0;
      const ranked = await ranker.rank(opts.query, documents, {
        topK: opts.topK,
        batchSize: opts.batchSize,
        maxLength: opts.maxLength,
        longDocuments: opts.longDocuments,
        activation: opts.activation,
        onProgress: (done: number) => {
          progress.tick(done - reported);
          reported = done;
        },
      } as Parameters<typeof ranker.rank>[2]);
      progress.done();
      await ranker.dispose();
      if (opts.json) {
        printJson({ results: ranked.results.map((r) => ({ index: r.index, score: r.score, document: r.document.text })) });
      } else {
        process.stdout.write(`Query: ${opts.query}\nModel: ${ranker.name}\n${formatRanking(ranked, documents)}\n`);
      }
    });
}

/** The texts of a --docs file, streamed with a progress line on bytes read (a large file takes a while to read). */
async function readDocumentTexts(path: string, maxDocuments: number, showProgress: boolean): Promise<string[]> {
  const reading = createProgress({ total: await jsonLinesSize(path), label: 'reading (bytes)', enabled: showProgress });
  let read = 0;
  try {
    const documents = await readDocuments(path, {
      maxDocuments,
      onBytes: (bytes) => {
        reading.tick(bytes - read);
        read = bytes;
      },
    });
    return documents.map((d) => d.text);
  } finally {
    reading.done();
  }
}
