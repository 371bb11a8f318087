import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadRanker } from '../src/rank/load-ranker.js';
import { HybridRanker } from '../src/rank/hybrid-ranker.js';
import { readCorpus } from '../src/retrieve/corpus.js';
import { adapt } from '../src/train/adapt.js';
import { generateQuestions, makePseudoQueries } from '../src/train/pseudo-queries.js';
import { findDefaultGguf, LlamaCppProvider } from '../src/rank/llm/llama-cpp.js';
import { OpenAICompatibleProvider } from '../src/rank/llm/openai-compatible.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ok, rankwise, ROOT } from './helpers/cli.js';
import { scratchDir } from './helpers/fixtures.js';

const CORPUS = new URL('../datasets/funnel/corpus.jsonl', import.meta.url).pathname;

describe('pseudo-queries', { timeout: 30_000 }, () => {
  const documents = [
    {
      id: 'd1',
      text: 'Routers Hold the reset button for ten seconds. The lights blink amber while the router restores its factory settings. Then it restarts on its own.',
      metadata: { title: 'Routers' },
    },
    { id: 'd2', text: 'short text' },
  ];

  test('title, inverse cloze and crop queries come from the document they are paired with', () => {
    const pairs = makePseudoQueries(documents, { seed: 1 });
    const kinds = pairs.map((p) => p.kind).sort();
    assert.deepEqual(kinds, ['crop', 'ict', 'title']);
    for (const p of pairs) assert.equal(p.documentId, 'd1');
    const title = pairs.find((p) => p.kind === 'title')!;
    assert.equal(title.query, 'Routers');
    assert.ok(!title.positive.startsWith('Routers'), 'the title is not in its own positive');
    const ict = pairs.find((p) => p.kind === 'ict')!;
    assert.ok(documents[0].text.includes(ict.query), 'an ICT query is a sentence of the document');
    const crop = pairs.find((p) => p.kind === 'crop')!;
    assert.ok(documents[0].text.includes(crop.query), 'a crop is a span of the document');
  });

  test('deterministic for a seed, different for another', () => {
    const a = JSON.stringify(makePseudoQueries(documents, { seed: 3, perDocument: 3 }));
    assert.equal(JSON.stringify(makePseudoQueries(documents, { seed: 3, perDocument: 3 })), a);
    assert.notEqual(JSON.stringify(makePseudoQueries(documents, { seed: 4, perDocument: 3 })), a);
    assert.throws(() => makePseudoQueries(documents, { kinds: ['question' as 'ict'] }), /kinds: expected title, ict or crop, got "question"/);
  });
});

describe('adapt: unlabelled documents to a hybrid reranker folder', { timeout: 300_000 }, () => {
  test('trains the encoder, writes a folder that loadRanker and `rerank --model` use, and is deterministic', async () => {
    const corpus = await readCorpus(CORPUS);
    const parent = await scratchDir();
    const options = { corpus, epochs: 1, batchSize: 8, maxPairs: 16, showProgress: false, threads: 1 };
    const first = await adapt({ ...options, outputDir: join(parent, 'a') });
    assert.equal(first.trainedPairs, 16);
    assert.equal(first.steps, 2);
    assert.ok(Number.isFinite(first.finalLoss));
    assert.deepEqual((await readdir(first.outputDir)).sort(), ['bm25.json', 'config.json', 'encoder']);
    const config = JSON.parse(await readFile(join(first.outputDir, 'config.json'), 'utf8'));
    assert.equal(config.model_type, 'rankwise-hybrid');
    const bm25 = JSON.parse(await readFile(join(first.outputDir, 'bm25.json'), 'utf8'));
    assert.equal(bm25.documents, corpus.length);

    // Same data, seed and recipe: the same encoder weights, byte for byte.
    const second = await adapt({ ...options, outputDir: join(parent, 'b') });
    assert.deepEqual(await readFile(join(second.outputDir, 'encoder', 'model.safetensors')), await readFile(join(first.outputDir, 'encoder', 'model.safetensors')));

    const ranker = await loadRanker(first.outputDir);
    try {
      assert.ok(ranker instanceof HybridRanker);
      const docs = ['The museum is closed on Mondays.', 'Hold the reset button of the router for ten seconds.', 'A router forwards packets.'];
      const ranked = await ranker.rank('reset the router', docs);
      assert.equal(ranked.results[0].index, 1);
      // The combined score is the weighted sum of each signal's z-scores: check it against the signals' raw scores.
      const { combined, signals } = await (ranker as HybridRanker).scoreAll('reset the router', docs);
      const z = (xs: number[]) => {
        const m = xs.reduce((a, b) => a + b, 0) / xs.length;
        const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
        return xs.map((x) => (x - m) / sd);
      };
      const expected = z(signals.bm25).map((b, i) => 0.5 * b + 0.5 * z(signals.encoder)[i]);
      combined.forEach((c, i) => assert.ok(Math.abs(c - expected[i]) < 1e-9));
    } finally {
      await ranker.dispose?.();
    }
    const out = await ok('rerank', '--model', first.outputDir, '--query', 'reset the router', '--doc', 'The museum is closed on Mondays.', '--doc', 'Hold the reset button of the router.', '--json');
    assert.equal(JSON.parse(out).results[0].index, 1);
  });

  test('the CLI: --skip-training, --json summary, and errors that name the flag', async () => {
    const parent = await scratchDir();
    const out = JSON.parse(await ok('adapt', '--corpus', CORPUS, '--out', join(parent, 'm'), '--skip-training', '--json'));
    assert.equal(out.steps, 0);
    assert.equal(out.documents, 50);
    const config = JSON.parse(await readFile(join(parent, 'm', 'config.json'), 'utf8'));
    assert.deepEqual(config.signals.map((s: { kind: string }) => s.kind), ['bm25', 'encoder']);
    assert.equal(config.signals[1].model, 'use-lite');
    // --eval: eval beir before (the pretrained encoder) and after, on a BEIR folder made of the same documents.
    const beir = join(parent, 'beir');
    await mkdir(join(beir, 'qrels'), { recursive: true });
    const docs = (await readCorpus(CORPUS)).slice(0, 12);
    await writeFile(join(beir, 'corpus.jsonl'), docs.map((d) => JSON.stringify({ _id: d.id, title: '', text: d.text })).join('\n'));
    await writeFile(join(beir, 'queries.jsonl'), JSON.stringify({ _id: 'q1', text: 'reset the router to factory settings' }));
    await writeFile(join(beir, 'qrels', 'test.tsv'), `query-id\tcorpus-id\tscore\nq1\t${docs[1].id}\t1\n`);
    const evaluated = JSON.parse(await ok('adapt', '--corpus', join(beir, 'corpus.jsonl'), '--out', join(parent, 'e'), '--skip-training', '--eval', beir, '--json'));
    assert.equal(evaluated.before.queries, 1);
    assert.deepEqual(Object.keys(evaluated.before.rerankers), ['use-lite (before)']);
    assert.deepEqual(Object.keys(evaluated.after.rerankers), ['adapted']);
    assert.equal(evaluated.after.first_stage['ndcg@10'], evaluated.before.first_stage['ndcg@10'], 'the same first stage both times');
    const bad = await rankwise('adapt', '--corpus', CORPUS, '--out', join(parent, 'x'), '--queries', 'ict,questions');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--queries expects a comma-separated list of title, ict, crop, got "ict,questions"/);
    const empty = join(parent, 'empty.jsonl');
    await writeFile(empty, '');
    const none = await rankwise('adapt', '--corpus', empty, '--out', join(parent, 'y'));
    assert.equal(none.code, 2);
    assert.match(none.stderr, /empty\.jsonl: no documents in it/);
  });
});

describe('questions written by an LLM', { timeout: 180_000 }, () => {
  test('a real local model writes schema-valid questions; a failing writer is counted, not fatal', async () => {
    const corpus = await readCorpus(CORPUS);
    const model = findDefaultGguf(ROOT, {});
    assert.ok(model, 'the tiny test model is missing');
    const provider = new LlamaCppProvider({ modelPath: model, threads: 1, maxTokens: 48 });
    try {
      const { pairs, failed } = await generateQuestions(corpus, provider, { documents: 3, seed: 5 });
      assert.equal(pairs.length + failed, 3);
      for (const p of pairs) {
        assert.equal(p.kind, 'question');
        assert.equal(p.positive, corpus.find((d) => d.id === p.documentId)!.text);
        assert.ok(p.query.length >= 8 && p.query.length <= 300, p.query);
      }
    } finally {
      await provider.dispose();
    }
    // Real HTTP on loopback: a port nobody listens on, and a server whose model answers something that is not JSON.
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = new OpenAICompatibleProvider({ baseUrl: `http://127.0.0.1:${port}/v1`, model: 'none', apiKey: 'x' });
    assert.deepEqual(await generateQuestions(corpus, down, { documents: 2 }), { pairs: [], failed: 2 });
    const server = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ choices: [{ message: { role: 'assistant', content: 'not json' }, finish_reason: 'stop' }] }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const garbage = new OpenAICompatibleProvider({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, model: 'm', apiKey: 'x' });
      assert.deepEqual(await generateQuestions(corpus, garbage, { documents: 2 }), { pairs: [], failed: 2 });
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
