/**
 * Documents keep their identity (issue 14, item 3): `{id, text, metadata}` go into every ranker and come back in each
 * result, through the one normaliser; they flow from an index through `/search` and a funnel to the final results;
 * and everything holding native resources has a required `dispose()` that `await using` calls. Real ONNX models
 * (fixture BERTs), a real LanceDB folder and a real server on loopback.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { toDocuments, type DocumentInput } from '../src/documents.js';
import { InputError } from '../src/errors.js';
import { BiEncoder } from '../src/models/bi-encoder.js';
import { Funnel } from '../src/pipeline/funnel.js';
import { RankerStage } from '../src/pipeline/ranker-stage.js';
import { RetrieverStage } from '../src/pipeline/retriever-stage.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { EncoderRanker } from '../src/rank/encoder-ranker.js';
import { encoderSignal, HybridRanker } from '../src/rank/hybrid-ranker.js';
import { SentenceTokenEncoder } from '../src/rank/late-interaction/encoder.js';
import { LateInteractionRanker } from '../src/rank/late-interaction/ranker.js';
import { resultById, scoresOf, topResults, type Ranker } from '../src/rank/results.js';
import { LanceDbRetriever } from '../src/retrieve/lancedb.js';
import { createServer } from '../src/serve/server.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';

const QUERY = 'how do owls hunt at night';
const DOCS = [
  { id: 'owl', text: 'Owls hunt mice at night in quiet barns', metadata: { tier: 'high', url: 'https://example.org/owl' } },
  { id: 'bat', text: 'Bats find insects by listening to echoes', metadata: { tier: 'partial' } },
  { id: 'mole', text: 'Moles dig tunnels under the lawn' },
  { id: 'heron', text: 'Herons stand still in the shallows and wait for fish', metadata: { tier: 'distractor' } },
];

describe('toDocuments: the one normaliser', () => {
  test('strings get their position as id; numeric ids become strings; metadata is kept', () => {
    assert.deepEqual(toDocuments(['a', 'b']), [
      { id: '0', text: 'a' },
      { id: '1', text: 'b' },
    ]);
    assert.deepEqual(toDocuments([{ id: 7, text: 'x', metadata: { k: 1 } }, { text: 'y' }]), [
      { id: '7', text: 'x', metadata: { k: 1 } },
      { id: '1', text: 'y' },
    ]);
  });

  test('bad documents are InputErrors naming the field', () => {
    const cases: Array<[unknown, RegExp, string]> = [
      [[{ id: 'a', text: 'x' }, { id: 'a', text: 'y' }], /documents\[1\]\.id: "a" is also the id of documents\[0\]/, 'documents[1].id'],
      [['x', { id: '0', text: 'y' }], /documents\[1\]\.id: "0" is also the id of documents\[0\]/, 'documents[1].id'],
      [[{ id: 'a', text: 3 }], /documents\[0\]\.text: expected a string, got number/, 'documents[0].text'],
      [[{ id: 'a' }], /documents\[0\]\.text: expected a string, got undefined/, 'documents[0].text'],
      [[{ id: null, text: 'x' }], /documents\[0\]\.id: expected a string or a number, got null/, 'documents[0].id'],
      [[{ text: 'x', metadata: [1] }], /documents\[0\]\.metadata: expected an object, got an array/, 'documents[0].metadata'],
      [[1], /documents\[0\]: expected a string or \{id\?, text, metadata\?\}, got number/, 'documents[0]'],
      ['abc', /documents: expected an array/, 'documents'],
    ];
    for (const [input, message, field] of cases) {
      assert.throws(
        () => toDocuments(input as DocumentInput[]),
        (error: unknown) => error instanceof InputError && message.test(error.message) && error.field === field,
        `${JSON.stringify(input)} should fail on ${field}`,
      );
    }
  });
});

describe('every ranker returns the documents it was given', { timeout: 300_000 }, () => {
  let crossDir: string;
  let encoderDir: string;
  const rankers: Ranker[] = [];

  before(async () => {
    crossDir = await fixtureModel({ kind: 'cross-encoder', seed: 3 });
    encoderDir = await fixtureModel({ kind: 'bi-encoder', seed: 2, hidden: 32, heads: 2, intermediate: 64 });
    rankers.push(
      await CrossEncoder.load(crossDir, { threads: 1 }),
      new EncoderRanker(await BiEncoder.load(encoderDir, { threads: 1 })),
      new HybridRanker('hybrid', [{ signal: encoderSignal(await BiEncoder.load(encoderDir, { threads: 1 })), weight: 1 }]),
      new LateInteractionRanker(new SentenceTokenEncoder(await BiEncoder.load(encoderDir, { threads: 1 }))),
    );
  });

  after(async () => {
    for (const ranker of rankers) await ranker.dispose();
  });

  test('objects and plain strings rank alike; each result carries id, text and metadata', async () => {
    for (const ranker of rankers) {
      const byText = await ranker.rank(QUERY, DOCS.map((d) => d.text));
      const byObject = await ranker.rank(QUERY, DOCS);
      assert.deepEqual(byObject.results.map((r) => [r.index, r.rank, r.score]), byText.results.map((r) => [r.index, r.rank, r.score]), ranker.name);
      for (const r of byObject.results) assert.deepEqual(r.document, DOCS[r.index], `${ranker.name}: result ${r.rank}`);
      for (const r of byText.results) assert.deepEqual(r.document, { id: String(r.index), text: DOCS[r.index].text }, `${ranker.name}: string ids are positions`);
      assert.deepEqual(await scoresOf(ranker, QUERY, DOCS), await scoresOf(ranker, QUERY, DOCS.map((d) => d.text)), ranker.name);
    }
  });

  test('returnDocuments: false drops the text, never the id or metadata; topK, topResults and resultById', async () => {
    for (const ranker of rankers) {
      const full = await ranker.rank(QUERY, DOCS);
      const ranked = await ranker.rank(QUERY, DOCS, { topK: 3, returnDocuments: false });
      assert.deepEqual(
        ranked.results.map((r) => r.document),
        full.results.slice(0, 3).map(({ document: { id, metadata } }) => (metadata ? { id, metadata } : { id })),
        ranker.name,
      );
      assert.deepEqual(topResults(full, 2), full.results.slice(0, 2));
      assert.equal(resultById(full, 'mole')?.document.text, DOCS[2].text);
      assert.equal(resultById(ranked, 'no-such-id'), undefined);
      assert.throws(() => topResults(full, 0), /k: expected a positive integer, got 0/);
    }
  });

  test('bad documents fail the same way in every ranker', async () => {
    for (const ranker of rankers) {
      await assert.rejects(ranker.rank(QUERY, [DOCS[0], { ...DOCS[1], id: 'owl' }]), /documents\[1\]\.id: "owl" is also the id of documents\[0\]/, ranker.name);
      await assert.rejects(ranker.rank(QUERY, [{ id: 'x', text: 5 as unknown as string }]), /documents\[0\]\.text: expected a string/, ranker.name);
    }
  });

  test('await using disposes a ranker: its ONNX session is released', async () => {
    let disposed: CrossEncoder;
    {
      await using ranker = await CrossEncoder.load(crossDir, { threads: 1 });
      disposed = ranker;
      assert.equal((await ranker.rank(QUERY, DOCS)).results.length, DOCS.length);
    }
    await assert.rejects(disposed.rank(QUERY, DOCS), 'a released session cannot score');
  });
});

describe('ids and metadata from the index through /search and a funnel', { timeout: 300_000 }, () => {
  let dir: string;
  let crossDir: string;

  before(async () => {
    dir = join(await scratchDir(), 'idx');
    crossDir = await fixtureModel({ kind: 'cross-encoder', seed: 3 });
    await using index = await LanceDbRetriever.open(dir);
    await index.add(DOCS);
  });

  test('the funnel: a LanceDB first stage, a cross-encoder second, the final candidates carry the stored metadata', async () => {
    await using index = await LanceDbRetriever.open(dir);
    await using reranker = await CrossEncoder.load(crossDir, { threads: 1 });
    const funnel = new Funnel([new RetrieverStage(index, { k: 3, mode: 'text' }), new RankerStage(reranker, { k: 2 })]);
    const result = await funnel.run('owls mice barns bats insects');
    const byId = new Map(DOCS.map((d) => [d.id, d]));
    assert.ok(result.final.length > 0);
    for (const stage of result.stages) {
      for (const candidate of stage.kept) {
        const { score, ...document } = candidate;
        assert.ok(Number.isFinite(score));
        assert.deepEqual(document, byId.get(candidate.id), `${stage.name}: ${candidate.id}`);
      }
    }
  });

  test('/search answers with the indexed ids and metadata, in its own JSON shape', async () => {
    const server = await createServer({ model: crossDir, port: 0, threads: 1, index: dir });
    try {
      const response = await fetch(`${server.url}/search`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: 'owls mice barns bats insects', k: 2, mode: 'text', fuse: 'rrf' }),
      });
      assert.equal(response.status, 200, await response.clone().text());
      const body = (await response.json()) as { results: Array<Record<string, unknown>> };
      assert.ok(body.results.length > 0);
      for (const hit of body.results) {
        const stored = DOCS.find((d) => d.id === hit.id)!;
        assert.deepEqual(Object.keys(hit).sort(), ['fused_score', 'id', 'retrieval_score', 'score', 'text', ...(stored.metadata ? ['metadata'] : [])].sort());
        assert.equal(hit.text, stored.text);
        assert.deepEqual(hit.metadata, stored.metadata);
      }
    } finally {
      await server.close();
    }
  });
});
