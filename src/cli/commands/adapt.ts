import { InvalidArgumentError, type Command } from 'commander';
import { readBeirCollection } from '../../eval/beir-collection.js';
import { evaluateBeir, type BeirEvaluation } from '../../eval/beir.js';
import { loadRanker } from '../../rank/load-ranker.js';
import { createChatProvider, parseLlmSpec } from '../../rank/llm/provider-spec.js';
import { readCorpus } from '../../retrieve/corpus.js';
import { adapt, DEFAULT_ADAPT_RECIPE } from '../../train/adapt.js';
import { PSEUDO_QUERY_KINDS, type PseudoQueryKind } from '../../train/pseudo-queries.js';
import { createProgress, type Progress } from '../../util/progress.js';
import { beirJson, formatBeirReport } from '../../present/beir-report.js';
import { nonNegativeInt, nonNegativeNumber, positiveInt, positiveNumber, printJson } from '../options.js';

interface AdaptFlags {
  corpus: string;
  out: string;
  eval?: string;
  split: string;
  queries: PseudoQueryKind[];
  perDocument: number;
  maxPairs: number;
  epochs: number;
  batchSize: number;
  lr: number;
  maxLength: number;
  bm25Weight: number;
  encoderWeight: number;
  seed: number;
  skipTraining?: boolean;
  llm?: string;
  llmQuestions: number;
  threads?: number;
  restart?: boolean;
  json?: boolean;
}

function kindList(value: string): PseudoQueryKind[] {
  const kinds = value.split(',').map((s) => s.trim());
  for (const kind of kinds) {
    if (!PSEUDO_QUERY_KINDS.includes(kind as PseudoQueryKind)) throw new InvalidArgumentError(`--queries expects a comma-separated list of ${PSEUDO_QUERY_KINDS.join(', ')}, got "${value}"`);
  }
  return kinds as PseudoQueryKind[];
}

export function registerAdapt(program: Command): void {
  const r = DEFAULT_ADAPT_RECIPE;
  program
    .command('adapt')
    .description('Adapt a reranker to your own unlabelled documents: pseudo-queries, BM25 statistics, a fine-tuned encoder, one model folder')
    .requiredOption('--corpus <file>', 'documents, JSON Lines: {"id","text"} or BEIR {"_id","title","text"} (.gz read too)')
    .requiredOption('--out <dir>', 'the model folder to write (loadRanker, rerank --model and serve --model take it)')
    .option('--eval <dir>', 'a BEIR-format folder: run `eval beir` with BM25 top 100 before (the base encoder) and after')
    .option('--split <name>', 'qrels split for --eval', 'test')
    .option('--queries <kinds>', 'pseudo-query kinds: title, ict, crop', kindList, [...r.kinds])
    .option('--per-document <n>', 'ict and crop queries per document', positiveInt('--per-document'), r.perDocument)
    .option('--max-pairs <n>', 'train on at most this many pseudo-queries', positiveInt('--max-pairs'), r.maxPairs)
    .option('--epochs <n>', 'passes over the pseudo-queries', positiveInt('--epochs'), r.epochs)
    .option('--batch-size <n>', 'pairs per step (each query sees the other positives as negatives)', positiveInt('--batch-size'), r.batchSize)
    .option('--lr <x>', 'peak learning rate', positiveNumber('--lr'), r.learningRate)
    .option('--max-length <n>', 'longest text in tokens', positiveInt('--max-length'), r.maxLength)
    .option('--bm25-weight <x>', 'weight of BM25 in the mix of standardised scores', nonNegativeNumber('--bm25-weight'), r.bm25Weight)
    .option('--encoder-weight <x>', 'weight of the encoder in the mix', nonNegativeNumber('--encoder-weight'), r.encoderWeight)
    .option('--llm <backend>', 'also train on questions an LLM writes: local[:PATH.gguf], openrouter[:MODEL], openai-compatible or an http(s) base URL')
    .option('--llm-questions <n>', 'documents the LLM writes a question for', nonNegativeInt('--llm-questions'), 200)
    .option('--seed <n>', 'random seed', nonNegativeInt('--seed'), r.seed)
    .option('--skip-training', 'no fine-tuning: BM25 statistics and the base encoder only')
    .option('--threads <n>', 'training and inference threads', positiveInt('--threads'))
    .option('--restart', 'start over instead of resuming an interrupted run')
    .option('--json', 'print a JSON summary, no progress')
    .action(async (opts: AdaptFlags) => {
      const corpus = await readCorpus(opts.corpus);
      const collection = opts.eval ? await readBeirCollection(opts.eval, { split: opts.split }) : undefined;
      const log = (line: string) => {
        if (!opts.json) process.stderr.write(`${line}\n`);
      };
      const measure = async (model: string, label: string): Promise<BeirEvaluation> => {
        const ranker = await loadRanker(model, { threads: opts.threads });
        let progress: Progress | undefined;
        try {
          return await evaluateBeir(collection!, {
            rerankers: [{ name: label, ranker }],
            fuse: { method: 'linear' },
            onProgress: (stage, done, total) => {
              progress ??= createProgress({ total, label: `eval ${label}`, enabled: !opts.json });
              if (stage === label) progress.tick();
            },
          });
        } finally {
          progress?.done();
          await ranker.dispose();
        }
      };
      const questionWriter = opts.llm ? createChatProvider(parseLlmSpec(opts.llm)) : undefined;
      const before = collection ? await measure(DEFAULT_ADAPT_RECIPE.base, `${DEFAULT_ADAPT_RECIPE.base} (before)`) : undefined;
      if (before) log(formatBeirReport(before));
      const result = await adapt({
        corpus,
        outputDir: opts.out,
        kinds: opts.queries,
        perDocument: opts.perDocument,
        maxPairs: opts.maxPairs,
        epochs: opts.epochs,
        batchSize: opts.batchSize,
        learningRate: opts.lr,
        maxLength: opts.maxLength,
        bm25Weight: opts.bm25Weight,
        encoderWeight: opts.encoderWeight,
        seed: opts.seed,
        skipTraining: opts.skipTraining,
        threads: opts.threads,
        restart: opts.restart,
        questionWriter,
        questions: opts.llmQuestions,
        showProgress: !opts.json,
        onPhase: (phase, detail) => log(`${phase}: ${detail}`),
      });
      await questionWriter?.dispose();
      const after = collection ? await measure(result.outputDir, 'adapted') : undefined;
      if (opts.json) {
        printJson({
          out: result.outputDir,
          documents: result.documents,
          pseudo_queries: result.pseudoQueries,
          trained_pairs: result.trainedPairs,
          steps: result.steps,
          final_loss: result.finalLoss ?? null,
          resumed_from_step: result.resumedFromStep,
          seconds: result.seconds,
          recipe: result.recipe,
          ...(before && after ? { before: beirJson(before), after: beirJson(after) } : {}),
        });
        return;
      }
      if (after) process.stdout.write(`${formatBeirReport(after)}\n\n`);
      const total = Object.values(result.seconds).reduce((a, b) => a + b, 0);
      process.stdout.write(
        `Adapted model: ${result.outputDir}\n` +
          `${result.documents} documents, ${result.trainedPairs} pseudo-queries trained on, ${result.steps} steps` +
          `${result.finalLoss !== undefined ? ` (final loss ${result.finalLoss.toFixed(4)})` : ''}, ${total.toFixed(0)} s ` +
          `(${Object.entries(result.seconds).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')})\n`,
      );
    });
}
