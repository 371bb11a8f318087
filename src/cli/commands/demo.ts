import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadRanker } from '../../rank/load-ranker.js';
import { formatRanking } from '../format.js';
import { printJson } from '../options.js';

interface QuickstartData {
  query: string;
  documents: Array<{ id: string; text: string; relevant: boolean }>;
}

export const QUICKSTART_FILE = new URL('../../../datasets/quickstart.json', import.meta.url);

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('The quick start: rerank the bundled example (one query, ten documents, five relevant) offline')
    .option('--model <model>', 'model folder, hub id, or "use-lite"', 'use-lite')
    .option('--json', 'print the ranking as JSON')
    .action(async (opts) => {
      const data = JSON.parse(await readFile(QUICKSTART_FILE, 'utf8')) as QuickstartData;
      const texts = data.documents.map((d) => d.text);
      const ranker = await loadRanker(opts.model);
      const start = performance.now();
      const ranked = await ranker.rank(data.query, texts);
      const ms = performance.now() - start;
      await ranker.dispose?.();
      const relevant = data.documents.filter((d) => d.relevant).length;
      const found = ranked.results.slice(0, relevant).filter((r) => data.documents[r.index].relevant).length;
      if (opts.json) {
        printJson({ query: data.query, model: ranker.name, ms, relevantInTop: found, relevant, results: ranked.results });
        return;
      }
      process.stdout.write(
        [
          `Query: ${data.query}`,
          `Model: ${ranker.name}${opts.model === 'use-lite' ? ' (Universal Sentence Encoder Lite, bi-encoder: cosine of embeddings)' : ''}`,
          '',
          formatRanking(ranked, texts, 80, (i) => (data.documents[i].relevant ? '  [relevant]' : '')),
          '',
          `${found} of the ${relevant} relevant documents in the top ${relevant}; ${texts.length} documents scored in ${ms.toFixed(0)} ms.`,
          '',
        ].join('\n'),
      );
    });
}
