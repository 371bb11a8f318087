import type { Command } from 'commander';
import { buildFunnel } from '../../pipeline/build-funnel.js';
import { funnelStagesJson, funnelTable } from '../../present/funnel-table.js';
import { stageTiers } from '../../pipeline/tiers.js';
import { parseStageSpecs } from '../../pipeline/stage-spec.js';
import { defaultLlmSpec, parseLlmSpec } from '../../rank/llm/provider-spec.js';
import { DEFAULT_RERANKER } from '../../rank/load-ranker.js';
import { readCorpus } from '../../retrieve/corpus.js';
import { table } from '../../present/table.js';
import { ellipsis } from '../../present/text.js';
import { ensureBuiltIn } from '../load-models.js';
import { FUSION_METHODS } from '../../rank/fusion.js';
import { fraction, nonNegativeInt, oneOf, positiveInt, printJson } from '../options.js';
import { InputError } from '../../errors.js';

/** Without --stages: BM25 then the default reranker, then an LLM when one is available here. */
export function defaultStages(llmAvailable: boolean): string {
  return `bm25:20,cross-encoder:10${llmAvailable ? ',llm:5' : ''}`;
}

export function registerFunnel(program: Command): void {
  program
    .command('funnel')
    .description('Run a multi-stage funnel (retrieve, rerank, LLM) over a corpus and report every stage')
    .requiredOption('--corpus <file>', 'JSONL, one {"id","text","tier"?} per line (tier: high, partial, distractor or noise)')
    .requiredOption('--query <text>', 'the query')
    .option('--stages <list>', 'NAME:K,... with NAME bm25, vector, hybrid, bi-encoder, cross-encoder or llm (default bm25:20,cross-encoder:10 and llm:5 when an LLM is available)')
    .option('--model <model>', 'cross-encoder stage model (default: the default reranker)')
    .option('--encoder <model>', 'sentence encoder for vector, hybrid and bi-encoder (default use-lite)')
    .option('--llm <backend>', 'local[:PATH.gguf], openrouter[:MODEL], openai-compatible (RANKWISE_LLM_* variables) or an http(s) base URL')
    .option('--llm-window <n>', 'most documents per LLM call, longer lists use a sliding window (default 20, 4 for a local GGUF)', positiveInt('--llm-window'))
    .option('--llm-timeout <ms>', 'time-out of one LLM call', positiveInt('--llm-timeout'), 30_000)
    .option('--llm-retries <n>', 'retries of a failed LLM call', nonNegativeInt('--llm-retries'), 2)
    .option('--fuse <method>', 'fuse the cross-encoder and bi-encoder stages with the stage before them: rrf or linear', oneOf('--fuse', FUSION_METHODS))
    .option('--fuse-weight <w>', 'share of the reranking stage in the fusion, 0 to 1 (default 0.5)', fraction('--fuse-weight'))
    .option('--index <dir>', 'keep the LanceDB index in this folder and reuse it (default: a temporary folder)')
    .option('--json', 'print {"stages":[{"name","kept":[{"id","score"}],"ms",...}],"final":[ids]}')
    .action(async (opts) => {
      if (opts.query.trim() === '') throw new InputError('--query: expected a non-empty query');
      const llm = opts.llm ? parseLlmSpec(opts.llm) : defaultLlmSpec();
      const stages = parseStageSpecs(opts.stages ?? defaultStages(llm !== undefined));
      if (stages.some((s) => s.kind === 'llm') && !llm) {
        throw new InputError('--llm: the llm stage needs an LLM: set RANKWISE_LLM_GGUF or OPENROUTER_API_KEY, or pass --llm');
      }
      const corpus = await readCorpus(opts.corpus);
      if (stages.some((s) => s.kind === 'cross-encoder')) await ensureBuiltIn(opts.model ?? DEFAULT_RERANKER, { quiet: opts.json });
      const setup = await buildFunnel({
        corpus,
        stages,
        reranker: opts.model,
        encoder: opts.encoder,
        llm,
        llmOptions: { timeoutMs: opts.llmTimeout, retries: opts.llmRetries, ...(opts.llmWindow ? { windowSize: opts.llmWindow } : {}) },
        indexDir: opts.index,
        ...(opts.fuse ? { fuse: { method: opts.fuse, weight: opts.fuseWeight } } : {}),
      });
      try {
        const result = await setup.funnel.run(opts.query, { documents: setup.documents });
        if (opts.json) {
          // Exactly {stages, final} at the top level; stages may carry more than name, kept and ms.
          printJson({
            stages: funnelStagesJson(result),
            final: result.final.map((c) => c.id),
          });
          return;
        }
        const { headers, rows } = funnelTable(result);
        const lines = [`Query: ${result.query}`, '', table(headers, rows), ''];
        if (stageTiers(result)) {
          lines.push('precision = high / kept (only "high" counts as relevant); high+partial = (high + partial) / kept, the article\'s measure', '');
        }
        lines.push(`Total: ${Math.round(result.totalMs)} ms`, '', 'Final ranking:');
        result.final.forEach((c, i) => {
          const tier = typeof c.metadata?.tier === 'string' ? ` [${c.metadata.tier}]` : '';
          lines.push(`#${i + 1} ${c.id}${tier} ${ellipsis(c.text, 90)}`);
        });
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await setup.close();
      }
    });
}
