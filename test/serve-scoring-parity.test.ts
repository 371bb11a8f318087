/**
 * One scoring path: the server's Cohere (/v2/rerank) and TEI (/rerank) routes report exactly the scores and order that
 * `CrossEncoder.rank()` gives, with the model's own activation - a sigmoid for a one-logit model, a softmax over the
 * labels for a two-label model.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeBertUncasedTokenizerFiles } from '../src/models/bert-vocab.js';
import { fixtureConfig } from '../src/models/fixture.js';
import { initBertWeights } from '../src/models/init-weights.js';
import { writeModelFolder } from '../src/models/model-writer.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { createServer, type RunningServer } from '../src/serve/server.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';

const QUERY = 'how do I reset my router to factory settings';
const DOCUMENTS = [
  'Bananas are rich in potassium.',
  'Hold the reset button on the back of the router for ten seconds to restore its factory settings.',
  'A router forwards packets between networks.',
  'Factory settings erase your saved Wi-Fi passwords.',
  'The museum is closed on Mondays.',
  'Unplug the router, wait thirty seconds and plug it back in to restart it.',
];

/**
 * A two-label cross-encoder (no recorded activation, so softmax by its label count) whose label-0 logit is twice its
 * label-1 logit: the softmax probability of label 1 then falls as its logit rises, so ordering by the last logit (and
 * reporting its sigmoid) gives the reverse of `rank()`'s order - the drift this test guards against.
 */
async function twoLabelModel(): Promise<string> {
  const { sentence_transformers: _recorded, ...base } = fixtureConfig({ kind: 'cross-encoder', seed: 11 });
  const config = { ...base, id2label: { '0': 'irrelevant', '1': 'relevant' }, label2id: { irrelevant: 0, relevant: 1 } };
  const weights = initBertWeights(config, 'sequence-classification', 11);
  const weight = weights.get('classifier.weight')!;
  const bias = weights.get('classifier.bias')!;
  const H = config.hidden_size;
  for (let c = 0; c < H; c++) weight.data[c] = 2 * weight.data[H + c];
  bias.data[0] = 2 * bias.data[1];
  const dir = join(await scratchDir(), 'two-label');
  await writeModelFolder(dir, { config, head: 'sequence-classification', weights, writeTokenizer: writeBertUncasedTokenizerFiles });
  return dir;
}

async function post<T>(server: RunningServer, path: string, body: unknown): Promise<T> {
  const response = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as T;
}

function assertClose(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-6, `${what}: ${actual} vs ${expected}`);
}

const MODELS = [
  { name: 'a one-logit sigmoid model', activation: 'sigmoid', folder: () => fixtureModel({ kind: 'cross-encoder', seed: 5 }) },
  { name: 'a two-label softmax model', activation: 'softmax', folder: twoLabelModel },
] as const;

for (const model of MODELS) {
  describe(`/rerank, /v2/rerank and rank() agree for ${model.name}`, () => {
    let server: RunningServer;
    let crossEncoder: CrossEncoder;
    before(async () => {
      const folder = await model.folder();
      server = await createServer({ model: folder, port: 0, threads: 1 });
      crossEncoder = await CrossEncoder.load(folder, { threads: 1 });
    });
    after(async () => {
      await crossEncoder?.dispose();
      await server?.close();
    });

    it('scores and orders identically', async () => {
      assert.equal(crossEncoder.defaultActivation, model.activation);
      const ranked = await crossEncoder.rank(QUERY, DOCUMENTS);
      const order = ranked.results.map((r) => r.index);
      const expected = new Map(ranked.results.map((r) => [r.index, r.score]));
      assert.equal(new Set(expected.values()).size, DOCUMENTS.length, 'distinct scores, so the order is not decided by ties');

      const cohere = await post<{ results: Array<{ index: number; relevance_score: number }> }>(server, '/v2/rerank', { query: QUERY, documents: DOCUMENTS });
      assert.deepEqual(cohere.results.map((r) => r.index), order, 'Cohere order');
      for (const r of cohere.results) assertClose(r.relevance_score, expected.get(r.index)!, `Cohere documents[${r.index}]`);

      const tei = await post<Array<{ index: number; score: number }>>(server, '/rerank', { query: QUERY, texts: DOCUMENTS });
      assert.deepEqual(tei.map((r) => r.index), order, 'TEI order');
      for (const r of tei) assertClose(r.score, expected.get(r.index)!, `TEI texts[${r.index}]`);

      // raw_scores: the relevance label's logit before the activation, in the same order.
      const logits = await crossEncoder.predict(DOCUMENTS.map((d) => [QUERY, d] as const), { activation: 'none' });
      const raw = await post<Array<{ index: number; score: number }>>(server, '/rerank', { query: QUERY, texts: DOCUMENTS, raw_scores: true });
      assert.deepEqual(raw.map((r) => r.index), order, 'TEI raw_scores order');
      for (const r of raw) assertClose(r.score, logits[r.index], `TEI raw texts[${r.index}]`);
    });

    if (model.activation === 'softmax') {
      it('orders by the softmax, not by the last logit', async () => {
        const logits = await crossEncoder.predict(DOCUMENTS.map((d) => [QUERY, d] as const), { activation: 'none' });
        const byLogit = [...logits.keys()].sort((a, b) => logits[b] - logits[a]);
        const tei = await post<Array<{ index: number }>>(server, '/rerank', { query: QUERY, texts: DOCUMENTS });
        assert.deepEqual(tei.map((r) => r.index), byLogit.reverse(), 'the fixture makes the two orders opposite');
      });
    }
  });
}
