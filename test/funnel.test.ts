import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import type { SentenceEncoder } from '../src/models/sentence-encoder.js';
import { buildFunnel, type FunnelSetup } from '../src/pipeline/build-funnel.js';
import { Funnel, type FunnelResult } from '../src/pipeline/funnel.js';
import { funnelTable } from '../src/present/funnel-table.js';
import { RankerStage } from '../src/pipeline/ranker-stage.js';
import { RetrieverStage } from '../src/pipeline/retriever-stage.js';
import { parseStageSpecs } from '../src/pipeline/stage-spec.js';
import { countTiers, stageTiers } from '../src/pipeline/tiers.js';
import type { DocumentInput } from '../src/documents.js';
import { EncoderRanker } from '../src/rank/encoder-ranker.js';
import { checkRankInput, resultsInOrder, type RankedResults, type Ranker, type RankOptions } from '../src/rank/results.js';
import { OpenAICompatibleProvider } from '../src/rank/llm/openai-compatible.js';
import { readCorpus } from '../src/retrieve/corpus.js';
import type { IndexedDocument } from '../src/retrieve/retriever.js';
import { ROOT } from './helpers/cli.js';
import { fixtureModel } from './helpers/fixtures.js';
import { freePort } from './helpers/processes.js';

const CORPUS = join(ROOT, 'datasets/funnel/corpus.jsonl');
const QUERY = 'how do I reset my router to factory settings';

/** Tier counts straight from the corpus file, to check the funnel's own accounting against. */
function expectedTiers(corpus: readonly IndexedDocument[], ids: readonly string[]): Record<string, number> {
  const tierOf = new Map(corpus.map((d) => [d.id, d.metadata!.tier as string]));
  const counts: Record<string, number> = { high: 0, partial: 0, distractor: 0, noise: 0 };
  for (const id of ids) counts[tierOf.get(id)!]++;
  return counts;
}

function assertNarrows(result: FunnelResult, corpus: readonly IndexedDocument[]): void {
  let previous = new Set(corpus.map((d) => d.id));
  const tiers = stageTiers(result);
  for (const [i, stage] of result.stages.entries()) {
    const ids = stage.kept.map((c) => c.id);
    assert.equal(new Set(ids).size, ids.length, `${stage.name}: duplicate ids`);
    assert.equal(ids.length, Math.min(stage.k, previous.size), `${stage.name}: kept ${ids.length}, k ${stage.k}, had ${previous.size}`);
    assert.ok(ids.every((id) => previous.has(id)), `${stage.name} kept a document the stage before it did not`);
    assert.ok(Number.isFinite(stage.ms) && stage.ms > 0, `${stage.name}: ms ${stage.ms}`);
    const t = tiers![i];
    assert.deepEqual({ high: t.high, partial: t.partial, distractor: t.distractor, noise: t.noise }, expectedTiers(corpus, ids));
    assert.equal(t.high + t.partial + t.distractor + t.noise + t.unlabelled, ids.length);
    assert.equal(t.unlabelled, 0);
    assert.equal(t.precision, t.high / ids.length);
    assert.equal(t.lenientPrecision, (t.high + t.partial) / ids.length);
    previous = new Set(ids);
  }
  assert.deepEqual(result.final.map((c) => c.id), result.stages.at(-1)!.kept.map((c) => c.id));
  assert.ok(result.totalMs >= result.stages.reduce((sum, s) => sum + s.ms, 0) - 1);
}

describe('funnel over the 50-document router corpus', { timeout: 300_000 }, () => {
  let corpus: IndexedDocument[];
  before(async () => {
    corpus = await readCorpus(CORPUS);
  });

  test('data set: 50 documents, 8 high, 10 partial, 12 distractor, 20 noise', () => {
    assert.equal(corpus.length, 50);
    assert.deepEqual(expectedTiers(corpus, corpus.map((d) => d.id)), { high: 8, partial: 10, distractor: 12, noise: 20 });
  });

  test('LanceDB BM25 -> cross-encoder -> an LLM that is down: k kept, tiers add up, the LLM stage keeps the order', async () => {
    const down = new OpenAICompatibleProvider({ baseUrl: `http://127.0.0.1:${await freePort()}/v1`, env: {} });
    let setup: FunnelSetup | undefined;
    try {
      setup = await buildFunnel({
        corpus,
        stages: parseStageSpecs('bm25:20,cross-encoder:10,llm:5'),
        // A real ONNX cross-encoder with seeded random weights: these checks are about the funnel's bookkeeping.
        reranker: await fixtureModel({ kind: 'cross-encoder' }),
        llm: down,
        llmOptions: { retries: 1, baseDelayMs: 5 },
      });
      const result = await setup.funnel.run(QUERY, { documents: setup.documents });
      assert.deepEqual(result.stages.map((s) => s.name), ['bm25', 'cross-encoder', 'llm']);
      assertNarrows(result, corpus);
      const [bm25, cross, llm] = result.stages;
      // BM25 scores fall (or tie) down the list; the cross-encoder reorders by its own scores.
      assert.ok(bm25.kept.every((c, i) => i === 0 || c.score <= bm25.kept[i - 1].score));
      assert.ok(cross.kept.every((c, i) => i === 0 || c.score <= cross.kept[i - 1].score));
      assert.equal(llm.llm!.failedWindows, 1);
      assert.equal(llm.llm!.attempts, 2);
      assert.match(llm.llm!.failure!, /fetch failed/);
      assert.deepEqual(llm.kept.map((c) => c.id), cross.kept.slice(0, 5).map((c) => c.id));
      const table = funnelTable(result);
      assert.deepEqual(table.headers, ['stage', 'kept', 'high', 'partial', 'distractor', 'noise', 'precision', 'high+partial', 'ms', 'llm']);
      assert.match(String(table.rows[2].at(-1)), /1 failed, previous order kept/);
    } finally {
      await setup?.close();
    }
  });

  describe('the article shape: a bi-encoder over all 50 documents, then narrower rankers', () => {
    let encoder: SentenceEncoder;
    before(async () => {
      encoder = await loadSentenceEncoder('use-lite');
    });
    after(() => encoder?.dispose?.());

    test('documents handed to the funnel feed a ranker first stage', async () => {
      const ranker = new EncoderRanker(encoder);
      const funnel = new Funnel([new RankerStage(ranker, { k: 20, name: 'bi-encoder' }), new RankerStage(ranker, { k: 7, name: 'again' })]);
      const result = await funnel.run(QUERY, { documents: corpus });
      assertNarrows(result, corpus);
      // The same ranker twice gives the same order: the second stage is the first one's top 7.
      assert.deepEqual(result.stages[1].kept.map((c) => c.id), result.stages[0].kept.slice(0, 7).map((c) => c.id));
    });
  });

  test('unlabelled documents give no tier report', async () => {
    const plain = corpus.slice(0, 5).map(({ id, text }) => ({ id, text }));
    const funnel = new Funnel([new RankerStage(new KeepOrder(), { k: 3 })]);
    const result = await funnel.run(QUERY, { documents: plain });
    assert.equal(stageTiers(result), undefined);
    assert.deepEqual(result.final.map((c) => c.id), plain.slice(0, 3).map((d) => d.id));
    assert.equal(countTiers([]).precision, NaN);
  });

  test('bad funnels are errors that say what is wrong', async () => {
    assert.throws(() => new Funnel([]), /stages: expected at least one stage/);
    const retriever = { name: 'r', modes: ['text'] } as unknown as ConstructorParameters<typeof RetrieverStage>[0];
    assert.throws(() => new Funnel([new RankerStage(new KeepOrder(), { k: 2 }), new RetrieverStage(retriever, { k: 2 })]), /stages\[1\] "r": a retriever stage can only be the first stage/);
    assert.throws(() => new RankerStage(new KeepOrder(), { k: 0, name: 'x' }), /stage "x": k: expected a positive integer, got 0/);
    assert.throws(() => new RetrieverStage(retriever, { k: 2, mode: 'vector' }), /supports text, not vector/);
    await assert.rejects(new Funnel([new RankerStage(new KeepOrder(), { k: 2 })]).run(QUERY), /a ranker needs candidates/);
    assert.throws(() => parseStageSpecs('bm25:20,vector:5'), /vector searches the index, so it can only be the first stage/);
    assert.throws(() => parseStageSpecs('bm25:20,rerank:5'), /"rerank:5": NAME must be one of bm25, vector, hybrid/);
    assert.throws(() => parseStageSpecs('bm25:0'), /K must be a positive integer/);
    assert.throws(() => parseStageSpecs('bm25'), /"bm25": expected NAME:K/);
  });
});

/** The identity ranking: for checks that are about the funnel's bookkeeping, not about any model. */
class KeepOrder implements Ranker {
  readonly name = 'keep-order';
  async rank(query: string, documents: readonly DocumentInput[], options: RankOptions = {}): Promise<RankedResults> {
    const checked = checkRankInput(query, documents, options);
    return resultsInOrder(query, checked, checked.map((_, index) => index), (index) => -index, this.name, options);
  }

  async dispose(): Promise<void> {}

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
