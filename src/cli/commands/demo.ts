import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { buildFunnel } from '../../pipeline/build-funnel.js';
import { funnelStagesJson, funnelTable } from '../../present/funnel-table.js';
import { parseStageSpecs } from '../../pipeline/stage-spec.js';
import { DEFAULT_RERANKER } from '../../rank/load-ranker.js';
import { readCorpus } from '../../retrieve/corpus.js';
import type { IndexedDocument } from '../../retrieve/retriever.js';
import { table } from '../../present/table.js';
import { ellipsis } from '../../present/text.js';
import { ensureBuiltIn } from '../load-models.js';
import { printJson } from '../options.js';

interface QuickstartData {
  query: string;
  documents: Array<{ id: string; text: string; relevant: boolean }>;
}

const DATASETS = new URL('../../../datasets/', import.meta.url);
export const QUICKSTART_FILE = new URL('quickstart.json', DATASETS);
/** Other documents of ours: the haystack the first stage has to search (minus their own vaccine topic, see below). */
const HAYSTACK_FILES = ['late-interaction/documents.jsonl', 'funnel/corpus.jsonl'];

/**
 * The quick start's corpus: the ten quickstart documents (five answer the query; the other five share its words and
 * are labelled distractors) hidden among our other data sets' documents (noise).
 */
export async function demoCorpus(): Promise<{ query: string; corpus: IndexedDocument[]; relevant: number }> {
  const data = JSON.parse(await readFile(QUICKSTART_FILE, 'utf8')) as QuickstartData;
  const corpus: IndexedDocument[] = data.documents.map((d) => ({ id: d.id, text: d.text, metadata: { tier: d.relevant ? 'high' : 'distractor' } }));
  for (const file of HAYSTACK_FILES) {
    for (const doc of await readCorpus(new URL(file, DATASETS).pathname)) {
      // The late-interaction corpus has a vaccines topic of its own; those answers are not noise, so they stay out.
      if (doc.metadata?.topic === 'vaccines') continue;
      corpus.push({ id: `${file.split('/')[0]}:${doc.id}`, text: doc.text, metadata: { tier: 'noise' } });
    }
  }
  return { query: data.query, corpus, relevant: data.documents.filter((d) => d.relevant).length };
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('The quick start: a two-stage search, offline: BM25 retrieval (in memory), then the built-in reranker')
    .option('--model <model>', 'second-stage reranker: "default" (the built-in reranker), a folder or a hub id', DEFAULT_RERANKER)
    .option('--stages <list>', 'the funnel, NAME:K,... (see `rankwise funnel --help`)', 'bm25:20,cross-encoder:5')
    .option('--json', 'print the funnel as JSON')
    .action(async (opts) => {
      const { query, corpus, relevant } = await demoCorpus();
      await ensureBuiltIn(opts.model, { quiet: opts.json });
      // The corpus is 114 documents already in memory, so BM25 runs in process: the quick start needs only the core
      // install (no LanceDB native package, no index folder), and prints the same ranking however rankwise was installed.
      const setup = await buildFunnel({ corpus, stages: parseStageSpecs(opts.stages), reranker: opts.model, textIndex: 'memory' });
      try {
        const result = await setup.funnel.run(query, { documents: setup.documents });
        const isRelevant = (c: { metadata?: Record<string, unknown> }) => c.metadata?.tier === 'high';
        const found = result.final.filter(isRelevant).length;
        // What the first stage alone would have returned at the same depth: the reranker's gain, in the same units.
        const firstStageFound = result.stages[0].kept.slice(0, result.final.length).filter(isRelevant).length;
        if (opts.json) {
          printJson({
            query,
            corpus: corpus.length,
            relevant,
            relevantInFinal: found,
            relevantInFirstStageTop: firstStageFound,
            stages: funnelStagesJson(result),
            final: result.final.map((c) => c.id),
          });
          return;
        }
        const { headers, rows } = funnelTable(result);
        process.stdout.write(
          [
            `Query: ${query}`,
            `Corpus: ${corpus.length} documents; ${relevant} answer the query ("high"), 5 share its words but do not ("distractor"), the rest are other topics ("noise")`,
            '',
            table(headers, rows),
            '',
            ...result.final.map((c, i) => `#${i + 1} (score ${c.score.toFixed(4)}) ${ellipsis(c.text, 80)}${c.metadata?.tier === 'high' ? '  [relevant]' : ''}`),
            '',
            `${found} of the ${relevant} relevant documents in the final top ${result.final.length} (the first stage's own top ${result.final.length}: ${firstStageFound}); ${Math.round(result.totalMs)} ms for the whole search.`,
            '',
          ].join('\n'),
        );
      } finally {
        await setup.close();
      }
    });
}
