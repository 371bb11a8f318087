/**
 * Example 6 of the source article: a multi-stage funnel, 50 documents -> 20 (bi-encoder) -> 10 (cross-encoder) -> 5
 * (an LLM that reads all ten at once and answers {"ranking": [...]}), with each stage's tier counts and time.
 * The LLM is OpenRouter when OPENROUTER_API_KEY is set, else the local GGUF model (RANKWISE_LLM_GGUF, or the tiny
 * test model in ../shared/models, which follows no instructions: its answers get repaired, the funnel carries on).
 * Run: `npx tsx examples/06-funnel.ts [--query Q] [--stages bi-encoder:20,cross-encoder:10,llm:5] [--model M] [--no-llm]`
 */
import { join } from 'node:path';
import { DEFAULT_RERANKER } from 'rankwise';
import { defaultLlmSpec, parseLlmSpec } from 'rankwise/llm';
import { buildFunnel, parseStageSpecs } from 'rankwise/pipeline';
import { funnelTable, table } from 'rankwise/present';
import { readCorpus } from 'rankwise/retrieve';
import { arg, DATASETS, readLines } from './shared.js';

const corpus = await readCorpus(join(DATASETS, 'funnel/corpus.jsonl'));
const query = arg('query') ?? String((await readLines('funnel/queries.jsonl'))[0].value.query);
const withLlm = !process.argv.includes('--no-llm');
const llm = withLlm ? (process.env.OPENROUTER_API_KEY ? parseLlmSpec('openrouter') : defaultLlmSpec()) : undefined;
const stages = parseStageSpecs(arg('stages') ?? `bi-encoder:20,cross-encoder:10${llm ? ',llm:5' : ''}`);
const model = arg('model') ?? DEFAULT_RERANKER;

const setup = await buildFunnel({ corpus, stages, reranker: model, llm });
try {
  const result = await setup.funnel.run(query, { documents: setup.documents });
  const { headers, rows } = funnelTable(result);
  console.log(`Query: ${query}\nLLM: ${llm ? JSON.stringify(llm) : 'none'}\n`);
  console.log(table(headers, rows));
  console.log('\nprecision = high / kept; high+partial = (high + partial) / kept, the article\'s "precision"');
  console.log(`Total pipeline time: ${Math.round(result.totalMs)} ms\n`);
  result.final.forEach((c, i) => console.log(`#${i + 1} ${c.id} [${String(c.metadata?.tier)}] ${c.text}`));
} finally {
  await setup.close();
}
