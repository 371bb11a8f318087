import { InvalidArgumentError, type Command } from 'commander';
import {
  comparePairwise,
  evaluatePairwise,
  parsePairwiseCase,
  type PairwiseCase,
  type PairwiseResult,
} from '../../eval/pairwise.js';
import { evaluateReranking, metricsByName, parseRerankQuery, queryMetricsByName, type RerankQuery } from '../../eval/rerank-evaluator.js';
import type { ModelDtype } from '../../models/model-folder.js';
import { loadRankerForCommand } from '../load-models.js';
import { createProgress } from '../../util/progress.js';
import { readJsonLines } from '../input.js';
import { fraction, oneOf, positiveInt, printJson } from '../options.js';
import { readBeirCollection } from '../../eval/beir-collection.js';
import { evaluateBeir, FIRST_STAGES, formatTrecRun, type FirstStage } from '../../eval/beir.js';
import { loadSentenceEncoder } from '../../models/load-encoder.js';
import { FUSION_METHODS, type FusionMethod } from '../../rank/fusion.js';
import type { Ranker } from '../../rank/results.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { beirJson, formatBeirReport } from '../../present/beir-report.js';
import { formatPairwiseComparison, formatPairwiseReport, pairwiseJson } from '../../present/pairwise-report.js';
import { formatRerankReport } from '../../present/rerank-report.js';
import type { Progress } from '../../util/progress.js';
import { InputError } from '../../errors.js';

function positiveIntList(name: string): (value: string) => number[] {
  return (value) => {
    const parts = value.split(',').map((s) => s.trim());
    const numbers = parts.map(Number);
    if (parts.some((p) => p === '') || numbers.some((n) => !Number.isInteger(n) || n < 1)) {
      throw new InvalidArgumentError(`${name} expects comma-separated positive integers, got "${value}"`);
    }
    return numbers;
  };
}

/** Each line through `parse`, with any error prefixed by file:line so that the user can go straight to it. */
async function readRecords<T>(path: string, option: string, what: string, parse: (value: unknown) => T): Promise<T[]> {
  const records = (await readJsonLines(path, option)).map(({ line, value }) => {
    try {
      return parse(value);
    } catch (error) {
      throw new InputError(`${path}:${line}: ${(error as Error).message}`);
    }
  });
  if (records.length === 0) throw new InputError(`${option} ${path}: no ${what} in it`);
  return records;
}

interface LoadFlags {
  dtype: ModelDtype;
  threads?: number;
}

export function registerEval(program: Command): void {
  const evaluate = program.command('eval').description('Measure a ranker: relevant-versus-distractor pairs, or reranking metrics over labelled queries');

  evaluate
    .command('pairwise')
    .description('Score a relevant document and a distractor for each case; a case passes when the relevant one scores higher')
    .requiredOption('--model <model>', 'model folder, hub id, "default" (the built-in cross-encoder) or "use-lite"')
    .requiredOption('--cases <file>', '.jsonl, one {"query","relevant","distractor","split":"seen"|"unseen","topic"?} per line')
    .option('--baseline <model>', 'also run this model and report what changed from it to --model (e.g. base -> fine-tuned)')
    .option('--dtype <dtype>', 'fp32 or int8', oneOf('--dtype', ['fp32', 'int8'] as const), 'fp32')
    .option('--threads <n>', 'inference threads', positiveInt('--threads'))
    .option('--json', 'print {"accuracy","seen","unseen","avg_gap","cases"} (with --baseline: {"before","after","fixed","broken"})')
    .action(async (opts) => {
      const cases = await readRecords(opts.cases, '--cases', 'cases', parsePairwiseCase);
      const models: string[] = opts.baseline ? [opts.baseline, opts.model] : [opts.model];
      const progress = createProgress({ total: cases.length * models.length, label: 'pairwise', enabled: !opts.json });
      const results: PairwiseResult[] = [];
      for (const model of models) results.push(await runPairwise(model, cases, opts, () => progress.tick()));
      progress.done();
      if (results.length === 1) {
        if (opts.json) printJson(pairwiseJson(results[0]));
        else process.stdout.write(formatPairwiseReport(results[0]) + '\n');
        return;
      }
      const [before, after] = results;
      if (opts.json) {
        const { fixed, broken, accuracyChange, avgGapChange } = comparePairwise(before, after);
        const change = (c: (typeof fixed)[number]) => ({ index: c.index, query: c.query, split: c.split ?? null, gap_before: c.gapBefore, gap_after: c.gapAfter });
        printJson({
          before: pairwiseJson(before),
          after: pairwiseJson(after),
          accuracy_change: accuracyChange,
          avg_gap_change: avgGapChange,
          fixed: fixed.map(change),
          broken: broken.map(change),
        });
      } else {
        process.stdout.write(`${formatPairwiseReport(after)}\n\n${formatPairwiseComparison(before, after)}\n`);
      }
    });

  registerEvalBeir(evaluate);

  evaluate
    .command('rerank')
    .description('Rank each query\'s documents and report nDCG@k, MRR@k, MAP and recall against relevance labels')
    .requiredOption('--model <model>', 'model folder, hub id, "default" (the built-in cross-encoder) or "use-lite"')
    .requiredOption('--queries <file>', '.jsonl, one {"query","documents":[...],"relevant":[indices]} or {..., "relevance":{"index":grade}} per line')
    .option('--k <n>', 'cut-off for nDCG and MRR', positiveInt('--k'), 10)
    .option('--recall-at <list>', 'cut-offs for recall', positiveIntList('--recall-at'), [1, 5, 10])
    .option('--dtype <dtype>', 'fp32 or int8', oneOf('--dtype', ['fp32', 'int8'] as const), 'fp32')
    .option('--threads <n>', 'inference threads', positiveInt('--threads'))
    .option('--json', 'print the metrics ("ndcg@10", "mrr@10", "map", "recall@5", ...) and "per_query"')
    .action(async (opts) => {
      const queries: RerankQuery[] = await readRecords(opts.queries, '--queries', 'queries', (v) => parseRerankQuery(v).query);
      const ranker = await loadRankerForCommand(opts.model, { dtype: opts.dtype, threads: opts.threads });
      const progress = createProgress({ total: queries.length, label: 'ranking', enabled: !opts.json });
      let reported = 0;
      try {
        const result = await evaluateReranking(ranker, queries, {
          k: opts.k,
          recallAt: opts.recallAt,
          onProgress: (done) => {
            progress.tick(done - reported);
            reported = done;
          },
        });
        progress.done();
        if (opts.json) {
          printJson({
            model: result.model,
            queries: result.queries,
            evaluated: result.evaluated,
            skipped: result.skipped,
            ...metricsByName(result),
            per_query: result.perQuery.map((q) => ({
              query: q.query,
              documents: q.documents,
              relevant_count: q.relevantCount,
              ranking: q.ranking,
              ...queryMetricsByName(q, result.k),
            })),
          });
        } else {
          process.stdout.write(formatRerankReport(result) + '\n');
        }
      } finally {
        await ranker.dispose();
      }
    });
}

function modelList(value: string): string[] {
  const models = value.split(',').map((s) => s.trim());
  if (models.some((m) => m === '')) throw new InvalidArgumentError(`--model expects comma-separated model names, got "${value}"`);
  if (new Set(models).size !== models.length) throw new InvalidArgumentError(`--model names a model twice: "${value}"`);
  return models;
}

interface BeirFlags extends LoadFlags {
  data: string;
  split: string;
  retriever: FirstStage;
  depth: number;
  model?: string[];
  fuse: FusionMethod;
  fuseWeight: number;
  encoder: string;
  indexDir?: string;
  maxQueries?: number;
  run?: string;
  json?: boolean;
}

function registerEvalBeir(evaluate: Command): void {
  evaluate
    .command('beir')
    .description('Retrieve then rerank on a BEIR-format collection; report nDCG@10, MRR@10, MAP@100 and recall@100 per system')
    .requiredOption('--data <dir>', 'folder with corpus.jsonl, queries.jsonl and qrels/<split>.tsv (.jsonl.gz also read)')
    .option('--split <name>', 'which qrels file to evaluate', 'test')
    .option('--retriever <kind>', 'first stage: bm25 (in memory), vector (cached LanceDB index) or hybrid (both, RRF)', oneOf('--retriever', FIRST_STAGES), 'bm25')
    .option('--depth <n>', 'candidates taken from the first stage and reranked', positiveInt('--depth'), 100)
    .option('--model <models>', 'comma-separated rerankers: model folders, hub ids, "default", "use-lite"', modelList)
    .option('--fuse <method>', 'how each reranker is also fused with the first stage: rrf or linear (z-scores)', oneOf('--fuse', FUSION_METHODS), 'linear')
    .option('--fuse-weight <w>', 'share of the reranker in the fusion, 0 to 1', fraction('--fuse-weight'), 0.5)
    .option('--encoder <model>', 'sentence encoder for the vector and hybrid first stages', 'use-lite')
    .option('--index-dir <dir>', 'where the vector index is cached (default: under the model cache, by corpus and encoder)')
    .option('--max-queries <n>', 'evaluate only the first n judged queries', positiveInt('--max-queries'))
    .option('--run <file>', 'write a TREC run file: the last --model fused with the first stage, or the first stage alone without --model')
    .option('--dtype <dtype>', 'fp32 or int8', oneOf('--dtype', ['fp32', 'int8'] as const), 'fp32')
    .option('--threads <n>', 'inference threads', positiveInt('--threads'))
    .option('--json', 'print {"queries","first_stage","rerankers":{model:{...,"fused"}},"seconds","per_query"}')
    .action(async (opts: BeirFlags) => {
      const collection = await readBeirCollection(opts.data, { split: opts.split });
      const rerankers: Array<{ name: string; ranker: Ranker }> = [];
      const encoder = opts.retriever === 'bm25' ? undefined : await loadSentenceEncoder(opts.encoder, { dtype: opts.dtype, threads: opts.threads });
      let progress: Progress | undefined;
      let stage = '';
      try {
        for (const model of opts.model ?? []) {
          rerankers.push({ name: model, ranker: await loadRankerForCommand(model, { dtype: opts.dtype, threads: opts.threads, quiet: opts.json }) });
        }
        const result = await evaluateBeir(collection, {
          retriever: opts.retriever,
          depth: opts.depth,
          rerankers,
          fuse: { method: opts.fuse, weight: opts.fuseWeight },
          encoder,
          indexDir: opts.indexDir,
          maxQueries: opts.maxQueries,
          keepRuns: opts.run !== undefined,
          onProgress: (name, done, total) => {
            if (name !== stage) {
              progress?.done();
              stage = name;
              progress = createProgress({ total, label: name, enabled: !opts.json });
            }
            progress!.tick();
          },
        });
        progress?.done();
        if (opts.run) {
          const last = rerankers.at(-1)?.name;
          const system = last === undefined ? 'first-stage' : `${last}+fused`;
          await writeFileAtomic(opts.run, formatTrecRun(result.runs![system], `rankwise-${system}`.replace(/[^\w.+-]/g, '_')));
        }
        if (opts.json) printJson(beirJson(result));
        else process.stdout.write(`${formatBeirReport(result)}\n`);
      } finally {
        for (const { ranker } of rerankers) await ranker.dispose();
        await encoder?.dispose();
      }
    });
}

async function runPairwise(model: string, cases: PairwiseCase[], flags: LoadFlags, tick: () => void): Promise<PairwiseResult> {
  const ranker = await loadRankerForCommand(model, { dtype: flags.dtype, threads: flags.threads });
  try {
    return await evaluatePairwise(ranker, cases, { onProgress: tick });
  } finally {
    await ranker.dispose();
  }
}
