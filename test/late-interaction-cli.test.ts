import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { EmbeddingsModel } from '@energetic-ai/embeddings';
import { scoresOf } from '../src/rank/results.js';
import { useLitePackageDir } from '../src/models/use-lite/tfjs-weights.js';
import { loadLateInteractionEncoder } from '../src/rank/late-interaction/encoder.js';
import { LateInteractionRanker } from '../src/rank/late-interaction/ranker.js';
import { ok, rankwise, ROOT } from './helpers/cli.js';
import { scratchDir } from './helpers/fixtures.js';

const DATASET_DOCS = join(ROOT, 'datasets/late-interaction/documents.jsonl');
const DATASET_QUERIES = join(ROOT, 'datasets/late-interaction/queries.jsonl');

interface Doc {
  id: string;
  topic: string;
  text: string;
}

describe('late interaction with the real pretrained USE Lite encoder', { timeout: 150_000 }, () => {
  let dir: string;
  let docsFile: string;
  let docs: Doc[];

  before(async () => {
    dir = await scratchDir();
    const all = (await readFile(DATASET_DOCS, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as Doc);
    docs = all.filter((d) => d.topic === 'ocean chemistry' || d.topic === 'vaccines' || d.topic === 'geography');
    docsFile = join(dir, 'docs.jsonl');
    await writeFile(docsFile, docs.map((d) => JSON.stringify(d)).join('\n'));
  });

  it('MaxSim ranking equals the definition applied to encodeTokens outputs, and puts on-topic documents first', async (t) => {
    const ranker = new LateInteractionRanker(await loadLateInteractionEncoder('use-lite', { threads: 1 }));
    const texts = docs.map((d) => d.text);
    const query = 'Why is the ocean becoming more acidic?';
    const ranked = await ranker.rank(query, texts, { topK: 3 });
    assert.ok(ranked.results.every((r) => docs[r.index].topic === 'ocean chemistry'), JSON.stringify(ranked.results.map((r) => docs[r.index].id)));
    const [q] = await ranker.encoder.encodeQueries([query]);
    const d = await ranker.encoder.encodeDocuments(texts);
    const H = q.dimension;
    /** Sum over the tokens of `a` of the best dot product with any token of `b`: MaxSim(a, b). */
    const maxSim = (a: typeof q, b: typeof q): number => {
      let total = 0;
      for (let i = 0; i < a.count; i++) {
        let best = -Infinity;
        for (let t = 0; t < b.count; t++) {
          let s = 0;
          for (let k = 0; k < H; k++) s += a.vectors[i * H + k] * b.vectors[t * H + k];
          best = Math.max(best, s);
        }
        total += best;
      }
      return total;
    };
    const expected = d.map((doc) => maxSim(q, doc));
    const scores = await scoresOf(ranker, query, texts);
    // Measured: 2.9e-7 at most (scores from 2.1 up; float32 sums). Bound 3e-6, about 10x (old: 1e-3). MaxSim taken the
    // wrong way round (each document token's best query token) misses it by far, as does dropping the last query token.
    const MAXSIM_TOLERANCE = 3e-6;
    expected.forEach((e, i) => assert.ok(Math.abs(scores[i] - e) <= MAXSIM_TOLERANCE, `doc ${i}: ${scores[i]} vs ${e}`));
    const shortQuery = { ...q, count: q.count - 1, vectors: q.vectors.subarray(0, (q.count - 1) * H) };
    const wrong: Array<[string, number[]]> = [
      ['reversed MaxSim', d.map((doc) => maxSim(doc, q))],
      ['last query token dropped', d.map((doc) => maxSim(shortQuery, doc))],
    ];
    const effects = wrong.map(([label, values]) => {
      const effect = Math.max(...values.map((v, i) => Math.abs(scores[i] - v)));
      assert.ok(effect > MAXSIM_TOLERANCE, `${label} moves scores by only ${effect}`);
      return `${label}: ${effect.toExponential(2)}`;
    });
    t.diagnostic(`MaxSim vs definition: ${Math.max(...expected.map((e, i) => Math.abs(scores[i] - e))).toExponential(2)}; ${effects.join('; ')}`);
    await ranker.dispose();
  });

  it('index, search, replace, delete and compact through the CLI', async () => {
    const index = join(dir, 'index');
    const added = JSON.parse(await ok('late-interaction', 'index', '--docs', docsFile, '--index', index, '--json'));
    // One stored vector per token the USE Lite package's own tokenizer gives each document, clipped at 128 positions.
    const vocabulary = JSON.parse(await readFile(join(useLitePackageDir(), 'vocab.json'), 'utf8'));
    const packageTokenizer = new EmbeddingsModel({ vocabulary, model: undefined as never }).tokenizer;
    const tokens = docs.reduce((sum, d) => sum + Math.min(128, packageTokenizer.encode(d.text).length), 0);
    assert.ok(tokens > 18 * 5, `${tokens} tokens`);
    assert.deepEqual(added, { added: 18, documents: 18, tokens, segments: 1, centroids: 0 });
    const search = async (...extra: string[]) =>
      JSON.parse(await ok('late-interaction', 'search', '--index', index, '--query', 'How does a vaccine teach the immune system to fight a disease?', '--k', '4', '--json', ...extra));
    const first = await search();
    assert.ok(first.results.slice(0, 3).every((r: { id: string }) => r.id.startsWith('vx-')), JSON.stringify(first.results));
    assert.equal(first.scored, 18);
    const top = first.results[0].id as string;

    // Re-adding an id replaces its document: the old text no longer answers the query.
    const replacement = join(dir, 'replace.jsonl');
    await writeFile(replacement, JSON.stringify({ id: top, text: 'Glaciers carve deep valleys as they slowly grind down the mountains.' }));
    const replaced = JSON.parse(await ok('late-interaction', 'index', '--docs', replacement, '--index', index, '--json'));
    assert.equal(replaced.documents, 18);
    assert.equal(replaced.segments, 2);
    const afterReplace = await search();
    assert.notEqual(afterReplace.results[0].id, top);

    const deleted = JSON.parse(await ok('late-interaction', 'delete', '--index', index, '--ids', `${afterReplace.results[0].id},nope`, '--json'));
    assert.deepEqual(deleted, { deleted: 1, missing: ['nope'], documents: 17 });
    const afterDelete = await search();
    assert.ok(!afterDelete.results.some((r: { id: string }) => r.id === afterReplace.results[0].id));

    const empty = join(dir, 'none.jsonl');
    await writeFile(empty, JSON.stringify({ id: 'gg-1', text: 'The Nile flows north.' }));
    const compacted = JSON.parse(await ok('late-interaction', 'index', '--docs', empty, '--index', index, '--compact', '--centroids', '16', '--json'));
    assert.deepEqual([compacted.documents, compacted.segments, compacted.centroids], [17, 1, 16]);
    assert.deepEqual((await search()).results, afterDelete.results);
    const text = await ok('late-interaction', 'search', '--index', index, '--query', 'longest river', '--k', '2', '--candidates', '--probe', '2');
    assert.match(text, /#1 \(score \d+\.\d{4}\) \[gg-/);

    const bad = await rankwise('late-interaction', 'search', '--index', join(dir, 'missing'), '--query', 'x');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /no token index here \(manifest\.json is missing\)/);
  });

  it('compare: per-query Kendall tau and top-3/top-5 overlap against a reranker, plus compact-storage error', async () => {
    const queries = join(dir, 'queries.jsonl');
    const all = (await readFile(DATASET_QUERIES, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { topic: string });
    await writeFile(queries, all.filter((q) => ['ocean chemistry', 'geography'].includes(q.topic)).map((q) => JSON.stringify(q)).join('\n'));
    const out = JSON.parse(await ok('late-interaction', 'compare', '--docs', docsFile, '--queries', queries, '--reranker', 'use-lite', '--json'));
    assert.equal(out.reference, 'use-lite');
    assert.equal(out.queries.length, 2);
    for (const row of out.queries) {
      assert.ok(row.tau > 0 && row.tau <= 1);
      assert.ok([0, 1 / 3, 2 / 3, 1].some((v) => Math.abs(row.top3 - v) < 1e-9));
      assert.ok([0, 0.2, 0.4, 0.6, 0.8, 1].some((v) => Math.abs(row.top5 - v) < 1e-9));
    }
    assert.ok(Math.abs(out.average.tau - (out.queries[0].tau + out.queries[1].tau) / 2) < 1e-12);
    const [f16, i8] = out.storage;
    assert.equal(f16.encoding, 'float16');
    assert.equal(f16.bytes_per_token, 1024);
    assert.ok(f16.tau > 0.99 && i8.tau > 0.9);
    assert.ok(f16.max_score_error < i8.max_score_error);
    const bad = await rankwise('late-interaction', 'compare', '--docs', docsFile, '--queries', docsFile);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /docs\.jsonl:1: "query": expected a non-empty string/);
  });
});
