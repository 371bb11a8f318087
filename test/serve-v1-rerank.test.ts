/**
 * POST /v1/rerank (Cohere v1 and Jina) and /v2/rerank driven by the real client packages on loopback: the `cohere-ai`
 * clients (v1 and v2), LangChain's CohereRerank (with the `cohere-ai` it ships with), the AI SDK's Cohere provider and
 * plain fetch in Jina's shape. Every score is checked against `CrossEncoder.rank()` on the same model folder.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createCohere } from '@ai-sdk/cohere';
import { CohereRerank } from '@langchain/cohere';
import { Document } from '@langchain/core/documents';
import { rerank } from 'ai';
import { CohereClient, CohereClientV2, CohereError } from 'cohere-ai';
import { bertUncasedVocab, writeBertUncasedTokenizerFiles } from '../src/models/bert-vocab.js';
import { fixtureConfig } from '../src/models/fixture.js';
import { initBertWeights } from '../src/models/init-weights.js';
import { writeModelFolder } from '../src/models/model-writer.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { createServer, type RunningServer } from '../src/serve/server.js';
import { scratchDir } from './helpers/fixtures.js';

const KEY_WORD = 'reset';
const QUERY = 'how do I reset my router to factory settings';
const DOCUMENTS = [
  'Bananas are rich in potassium.',
  'Hold the reset button on the back of the router for ten seconds to restore its factory settings.',
  'A router forwards packets between networks.',
  'Unplug the router, wait thirty seconds and plug it back in to restart it.',
  'To reset it, press reset: the reset button resets the router.',
  'The museum is closed on Mondays.',
];
/** About 110 tokens without the key word, then the passage that answers the query: past the first 64-token window. */
const LONG = `${'The museum is closed on Mondays and opens at nine on every other day of the week. '.repeat(6)}${DOCUMENTS[4]}`;

/**
 * A one-layer cross-encoder built by hand so that relevance has a known meaning: only the key word's embedding is
 * non-zero, attention is uniform, so [CLS] ends up holding the share of the sequence that is the key word (against a
 * fixed bias), and the head maps that share to a higher score. A window that contains the answer therefore scores
 * higher than one that does not; its maximum length is 64 tokens, so long documents need several windows.
 */
async function keyWordModel(): Promise<string> {
  const config = fixtureConfig({ kind: 'cross-encoder', seed: 3, layers: 1, maxPositionEmbeddings: 64 });
  const H = config.hidden_size;
  const weights = initBertWeights(config, 'sequence-classification', 3);
  const data = (name: string) => weights.get(name)!.data;
  const zero = (...names: string[]) => names.forEach((name) => data(name).fill(0));
  const layer = 'bert.encoder.layer.0.';
  zero('bert.embeddings.word_embeddings.weight', 'bert.embeddings.position_embeddings.weight', 'bert.embeddings.token_type_embeddings.weight');
  const key = bertUncasedVocab().indexOf(KEY_WORD);
  data('bert.embeddings.word_embeddings.weight')[key * H] = 1;
  data('bert.embeddings.word_embeddings.weight')[key * H + 1] = -1;
  zero(...['query', 'key', 'value'].flatMap((p) => [`${layer}attention.self.${p}.weight`, `${layer}attention.self.${p}.bias`]));
  zero(`${layer}attention.output.dense.weight`, `${layer}attention.output.dense.bias`, `${layer}output.dense.weight`, `${layer}output.dense.bias`);
  for (let i = 0; i < H; i++) {
    data(`${layer}attention.self.value.weight`)[i * H + i] = 1;
    data(`${layer}attention.output.dense.weight`)[i * H + i] = 1;
  }
  data(`${layer}attention.output.dense.bias`)[2] = 0.5;
  zero('bert.pooler.dense.weight', 'bert.pooler.dense.bias', 'classifier.weight');
  data('bert.pooler.dense.weight')[0] = 0.5;
  data('classifier.weight')[0] = 4;
  data('classifier.bias')[0] = -2;
  const dir = join(await scratchDir(), 'key-word');
  await writeModelFolder(dir, { config, head: 'sequence-classification', weights, writeTokenizer: writeBertUncasedTokenizerFiles });
  return dir;
}

interface V1Reply {
  id: string;
  model: string;
  results: Array<{ index: number; relevance_score: number; document?: { text: string } }>;
  meta: { api_version: { version: string }; warnings?: string[] };
  usage?: { total_tokens: number };
}

function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} vs ${expected}`);
}

describe('POST /v1/rerank and /v2/rerank with the real clients', () => {
  let server: RunningServer;
  let model: string;
  let crossEncoder: CrossEncoder;
  /** rank()'s order and scores for DOCUMENTS. */
  let order: number[];
  let expected: Map<number, number>;

  before(async () => {
    model = await keyWordModel();
    server = await createServer({ model, port: 0, threads: 1 });
    crossEncoder = await CrossEncoder.load(model, { threads: 1 });
    const ranked = await crossEncoder.rank(QUERY, DOCUMENTS);
    order = ranked.results.map((r) => r.index);
    expected = new Map(ranked.results.map((r) => [r.index, r.score]));
    assert.equal(new Set(expected.values()).size, DOCUMENTS.length, 'distinct scores, so the order is not decided by ties');
    assert.equal(order[0], 4, 'the model ranks the document that says "reset" most often first');
  });
  after(async () => {
    await crossEncoder?.dispose();
    await server?.close();
  });

  async function post(path: string, body: unknown): Promise<Response> {
    return fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  async function v1(body: unknown): Promise<V1Reply> {
    const response = await post('/v1/rerank', body);
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()) as V1Reply;
  }

  function assertRanked(results: ReadonlyArray<{ index: number; score: number }>, n: number, what: string): void {
    assert.deepEqual(results.map((r) => r.index), order.slice(0, n), `${what}: order`);
    for (const r of results) assertClose(r.score, expected.get(r.index)!, `${what}: documents[${r.index}]`);
  }

  it('cohere-ai CohereClient (v1): strings and {text} documents, topN, returnDocuments', async () => {
    const client = new CohereClient({ token: 'unused', environment: server.url });
    const documents = DOCUMENTS.map((text, i) => (i % 2 === 0 ? text : { text }));
    const reply = await client.rerank({ model: 'rerank-english-v3.0', query: QUERY, documents, topN: 3, returnDocuments: true });
    assertRanked(reply.results.map((r) => ({ index: r.index, score: r.relevanceScore })), 3, 'CohereClient');
    for (const r of reply.results) assert.equal(r.document?.text, DOCUMENTS[r.index]);
    assert.equal(typeof reply.id, 'string');
    assert.equal(reply.meta?.apiVersion?.version, '1');

    // Cohere's default: no document text unless asked for.
    const bare = await client.rerank({ query: QUERY, documents: DOCUMENTS });
    assertRanked(bare.results.map((r) => ({ index: r.index, score: r.relevanceScore })), DOCUMENTS.length, 'CohereClient, all');
    assert.ok(bare.results.every((r) => r.document === undefined));
  });

  it('cohere-ai CohereClientV2 (/v2/rerank) gives the same scores', async () => {
    const client = new CohereClientV2({ token: 'unused', environment: server.url });
    const reply = await client.rerank({ model: 'rerank-v3.5', query: QUERY, documents: DOCUMENTS, topN: 4 });
    assertRanked(reply.results.map((r) => ({ index: r.index, score: r.relevanceScore })), 4, 'CohereClientV2');
  });

  it('a bad request reaches the cohere-ai client as a 400 that names the field', async () => {
    const client = new CohereClient({ token: 'unused', environment: server.url });
    await assert.rejects(client.rerank({ query: QUERY, documents: DOCUMENTS, topN: 0 }), (error: unknown) => {
      assert.ok(error instanceof CohereError, String(error));
      assert.equal(error.statusCode, 400);
      assert.equal((error.body as { error: { field: string } }).error.field, 'top_n');
      return true;
    });
  });

  it("LangChain's CohereRerank, with a client of the cohere-ai version it ships with", async () => {
    // @langchain/cohere builds its own CohereClient from an API key alone; a client aimed elsewhere is passed in.
    const require = createRequire(import.meta.resolve('@langchain/cohere'));
    const { CohereClient: ShippedClient } = require('cohere-ai') as typeof import('cohere-ai');
    const client = new ShippedClient({ token: 'unused', environment: server.url });
    const reranker = new CohereRerank({ model: 'rerank-english-v3.0', topN: 3, client: client as never });

    const documents = DOCUMENTS.map((pageContent, i) => new Document({ pageContent, metadata: { i } }));
    const compressed = await reranker.compressDocuments(documents, QUERY);
    assertRanked(compressed.map((d) => ({ index: d.metadata.i as number, score: d.metadata.relevanceScore as number })), 3, 'compressDocuments');

    const ranked = await reranker.rerank(DOCUMENTS, QUERY, { topN: 5 });
    assertRanked(ranked.map((r) => ({ index: r.index, score: r.relevanceScore })), 5, 'CohereRerank.rerank');

    // maxChunksPerDoc goes through as max_chunks_per_doc: the long document's answer is found.
    const chunked = await reranker.rerank([...DOCUMENTS.slice(0, 4), LONG], QUERY, { topN: 5, maxChunksPerDoc: 10 });
    assert.equal(chunked[0].index, 4, 'the long document, scored by its best chunk');
  });

  it("the AI SDK's Cohere provider against /v2/rerank and /v1/rerank", async () => {
    for (const version of ['v2', 'v1']) {
      const cohere = createCohere({ baseURL: `${server.url}/${version}`, apiKey: 'unused' });
      const { ranking } = await rerank({ model: cohere.reranking('rerank-v3.5'), query: QUERY, documents: DOCUMENTS, topN: 3 });
      assertRanked(ranking.map((r) => ({ index: r.originalIndex, score: r.score })), 3, `AI SDK ${version}`);
      for (const r of ranking) assert.equal(r.document, DOCUMENTS[r.originalIndex]);
    }
  });

  it("Jina's shape: top_n, return_documents, model, usage.total_tokens counted by the served tokenizer", async () => {
    const reply = await v1({ model: 'jina-reranker-v2-base-multilingual', query: QUERY, documents: DOCUMENTS, top_n: 2, return_documents: false });
    assertRanked(reply.results.map((r) => ({ index: r.index, score: r.relevance_score })), 2, 'Jina');
    assert.ok(reply.results.every((r) => !('document' in r)), 'return_documents: false omits the documents');
    assert.equal(reply.model, model, 'the model the server runs, whatever name was asked for');
    // Every document fits, so the model reads [CLS] query [SEP] document [SEP] once per document.
    const queryTokens = crossEncoder.tokenizer.tokenIds(QUERY).length;
    const tokens = DOCUMENTS.reduce((sum, d) => sum + queryTokens + crossEncoder.tokenizer.tokenIds(d).length + 3, 0);
    assert.equal(reply.usage?.total_tokens, tokens);
    // top_n counts documents that are scored anyway: usage does not depend on it.
    const all = await v1({ query: QUERY, documents: DOCUMENTS.map((text) => ({ text })), return_documents: true });
    assert.equal(all.usage?.total_tokens, tokens);
    assert.deepEqual(all.results.map((r) => r.document?.text), order.map((i) => DOCUMENTS[i]));
  });

  it('max_chunks_per_doc: a long document whose answer is at its end ranks first, as rank() chunks it', async () => {
    const documents = [...DOCUMENTS.slice(0, 4), LONG];
    const truncated = await crossEncoder.rank(QUERY, documents);
    const chunked = await crossEncoder.rank(QUERY, documents, { longDocuments: 'chunk' });
    const windows = crossEncoder.tokenizer.encodePairWindows(QUERY, LONG, { maxLength: crossEncoder.maxLength, overlap: Math.floor(crossEncoder.maxLength / 4) });
    assert.ok(windows.length >= 3, `the long document needs several windows (${windows.length})`);

    const cut = await v1({ query: QUERY, documents });
    assert.deepEqual(cut.results.map((r) => r.index), truncated.results.map((r) => r.index), 'no max_chunks_per_doc: truncated');
    for (const [i, r] of cut.results.entries()) assertClose(r.relevance_score, truncated.results[i].score, `truncated documents[${r.index}]`);
    assert.equal(cut.results.at(-1)!.index, 4, 'cut to its first window, the long document ranks last');

    const split = await v1({ query: QUERY, documents, max_chunks_per_doc: windows.length });
    assert.deepEqual(split.results.map((r) => r.index), chunked.results.map((r) => r.index), 'chunked order');
    for (const [i, r] of split.results.entries()) assertClose(r.relevance_score, chunked.results[i].score, `chunked documents[${r.index}]`);
    assert.equal(split.results[0].index, 4, 'scored by its best chunk, the long document ranks first');
    const shortTokens = documents.slice(0, 4).reduce((sum, d) => sum + crossEncoder.tokenizer.encodePair(QUERY, d, { maxLength: crossEncoder.maxLength }).inputIds.length, 0);
    const windowTokens = (n: number) => windows.slice(0, n).reduce((sum, w) => sum + w.inputIds.length, 0);
    assert.equal(split.usage?.total_tokens, shortTokens + windowTokens(windows.length), 'every window is counted');

    // One chunk is the truncated pair; two stop before the answer, and the score is the better of those two windows.
    const one = await v1({ query: QUERY, documents, max_chunks_per_doc: 1 });
    assert.deepEqual(one.results, cut.results);
    const two = await v1({ query: QUERY, documents, max_chunks_per_doc: 2 });
    const firstTwo = await crossEncoder.scoreEncoded(windows.slice(0, 2));
    assertClose(two.results.find((r) => r.index === 4)!.relevance_score, Math.max(...firstTwo), 'two chunks');
    assert.equal(two.usage?.total_tokens, shortTokens + windowTokens(2));
  });

  it('an optional field sent as null, as the cohere-ai clients send one left undefined, is absent', async () => {
    const nulls = { model: null, top_n: null, return_documents: null, max_tokens_per_doc: null };
    for (const [path, extra] of [['/v2/rerank', {}], ['/v1/rerank', { max_chunks_per_doc: null, rank_fields: null }]] as const) {
      const response = await post(path, { query: QUERY, documents: DOCUMENTS, ...nulls, ...extra });
      assert.equal(response.status, 200, await response.clone().text());
      const reply = (await response.json()) as V1Reply;
      assertRanked(reply.results.map((r) => ({ index: r.index, score: r.relevance_score })), DOCUMENTS.length, path);
      assert.ok(reply.results.every((r) => r.document === undefined));
    }
    const client = new CohereClientV2({ token: 'unused', environment: server.url });
    const reply = await client.rerank({ model: 'rerank-v3.5', query: QUERY, documents: DOCUMENTS, topN: undefined, maxTokensPerDoc: undefined });
    assertRanked(reply.results.map((r) => ({ index: r.index, score: r.relevanceScore })), DOCUMENTS.length, 'CohereClientV2, undefined fields');
  });

  it('rank_fields is accepted and ignored, with a warning', async () => {
    const reply = await v1({ query: QUERY, documents: DOCUMENTS.map((text) => ({ text, title: 'x' })), rank_fields: ['title', 'text'] });
    assert.deepEqual(reply.results.map((r) => r.index), order);
    assert.match(reply.meta.warnings?.join('\n') ?? '', /rank_fields: ignored/);
    const plain = await v1({ query: QUERY, documents: DOCUMENTS, rank_fields: ['text'] });
    assert.equal(plain.meta.warnings, undefined);
  });

  it('/openapi.json documents /v1/rerank with its own fields', async () => {
    const document = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, { post?: { requestBody: unknown } }> };
    const body = JSON.stringify(document.paths['/v1/rerank']?.post?.requestBody ?? null);
    assert.match(body, /max_chunks_per_doc/);
    assert.match(body, /rank_fields/);
  });

  it('bad input is a 400 naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ documents: DOCUMENTS }, 'query'],
      [{ query: QUERY, documents: ['ok', 7] }, 'documents[1]'],
      [{ query: QUERY, documents: [{ title: 'no text' }] }, 'documents[0]'],
      [{ query: QUERY, documents: [] }, 'documents'],
      [{ query: ' ', documents: DOCUMENTS }, 'query'],
      [{ query: QUERY, documents: DOCUMENTS, top_n: 0 }, 'top_n'],
      [{ query: QUERY, documents: DOCUMENTS, return_documents: 'yes' }, 'return_documents'],
      [{ query: QUERY, documents: DOCUMENTS, max_chunks_per_doc: 0 }, 'max_chunks_per_doc'],
      [{ query: QUERY, documents: DOCUMENTS, max_chunks_per_doc: 2.5 }, 'max_chunks_per_doc'],
      [{ query: QUERY, documents: DOCUMENTS, max_chunks_per_doc: 2, max_tokens_per_doc: 10 }, 'max_chunks_per_doc'],
      [{ query: QUERY, documents: DOCUMENTS, rank_fields: 'text' }, 'rank_fields'],
    ];
    for (const [body, field] of cases) {
      const response = await post('/v1/rerank', body);
      const reply = (await response.json()) as { error: { message: string; field: string } };
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.equal(reply.error.field, field, `${JSON.stringify(body)}: ${reply.error.message}`);
      assert.ok(reply.error.message.startsWith(`${field}: `), reply.error.message);
    }
  });
});
