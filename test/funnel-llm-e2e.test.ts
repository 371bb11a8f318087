/**
 * A funnel whose LLM stage really reorders: the LLM is a real OpenAI-compatible HTTP server on 127.0.0.1 whose
 * answers are known. It reads the numbered document blocks of the list-wise prompt and ranks them alphabetically by
 * their text, so the order it chooses can be computed here, and it is not the previous stage's order. Both the
 * library funnel (documents given, a cross-encoder stage, then the LLM through OpenAICompatibleProvider) and
 * `rankwise funnel --llm http://127.0.0.1:PORT/v1` must end in exactly that order.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Funnel } from '../src/pipeline/funnel.js';
import { RankerStage } from '../src/pipeline/ranker-stage.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { LlmListwiseRanker } from '../src/rank/llm/listwise-ranker.js';
import { OpenAICompatibleProvider } from '../src/rank/llm/openai-compatible.js';
import { readCorpus } from '../src/retrieve/corpus.js';
import type { IndexedDocument } from '../src/retrieve/retriever.js';
import { ok, ROOT } from './helpers/cli.js';
import { fixtureModel } from './helpers/fixtures.js';

const CORPUS = join(ROOT, 'datasets/funnel/corpus.jsonl');
const QUERY = 'how do I reset my router to factory settings';

interface ChatBody {
  model: string;
  messages: Array<{ role: string; content: string }>;
  response_format: { type: string; json_schema: { name: string; strict: boolean; schema: unknown } };
}

/** What the server saw: the request body and the documents it parsed out of the prompt, by number. */
const seen: Array<{ body: ChatBody; documents: string[] }> = [];
let server: Server;
let baseUrl: string;
let corpus: IndexedDocument[];
const textOf = (id: string) => corpus.find((d) => d.id === id)!.text;
const alphabetical = (texts: readonly string[]) => texts.map((_, i) => i).sort((a, b) => (texts[a] < texts[b] ? -1 : texts[a] > texts[b] ? 1 : 0));

/** Parses the `<<<BEGIN n BOUNDARY>>> ... <<<END n BOUNDARY>>>` blocks of src/rank/llm/ranking-prompt.ts. */
function documentsInPrompt(user: string): string[] {
  const documents: string[] = [];
  for (const m of user.matchAll(/<<<BEGIN (\d+) (DOC-[0-9a-f]+)>>>\n([\s\S]*?)\n<<<END \1 \2>>>/g)) documents[Number(m[1]) - 1] = m[3];
  return documents;
}

before(async () => {
  corpus = await readCorpus(CORPUS);
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk) => (raw += chunk));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/chat/completions') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw) as ChatBody;
      const documents = documentsInPrompt(body.messages.find((m) => m.role === 'user')!.content);
      seen.push({ body, documents });
      // The known answer: the documents' numbers, alphabetically by text.
      const ranking = alphabetical(documents).map((i) => i + 1);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'x', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: JSON.stringify({ ranking }) }, finish_reason: 'stop' }] }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('a funnel whose LLM stage reorders (a real OpenAI-compatible server with known answers)', { timeout: 120_000 }, () => {
  test('library: documents -> cross-encoder:8 -> llm:5 ends in the order the server chose', async () => {
    seen.length = 0;
    const ce = await CrossEncoder.load(await fixtureModel({ kind: 'cross-encoder', seed: 4 }));
    const llm = new LlmListwiseRanker(new OpenAICompatibleProvider({ baseUrl }), { retries: 0 });
    const funnel = new Funnel([new RankerStage(ce, { k: 8, name: 'cross-encoder' }), new RankerStage(llm, { k: 5, name: 'llm' })]);
    try {
      const result = await funnel.run(QUERY, { documents: corpus });
      const [first, second] = result.stages;
      assert.equal(first.kept.length, 8);
      const previous = first.kept.map((c) => c.id);

      // One call carrying the cross-encoder's 8 documents, in its order, asking for structured output.
      assert.equal(seen.length, 1);
      assert.deepEqual(seen[0].documents, previous.map(textOf));
      assert.equal(seen[0].body.model, 'default');
      assert.equal(seen[0].body.response_format.type, 'json_schema');
      assert.match(seen[0].body.messages[1].content, new RegExp(QUERY));

      const chosen = alphabetical(previous.map(textOf)).map((i) => previous[i]);
      assert.deepEqual(result.final.map((c) => c.id), chosen.slice(0, 5), 'the final order is the server\'s');
      assert.deepEqual(second.kept.map((c) => c.id), chosen.slice(0, 5));
      assert.notDeepEqual(chosen.slice(0, 5), previous.slice(0, 5), 'the LLM changed the ranking');
      const moved = chosen.slice(0, 5).filter((id, rank) => previous.indexOf(id) !== rank);
      assert.ok(moved.length >= 2, `documents that changed rank: ${moved.length}`);
      // Scores follow the LLM's positions, 1 for the first of 8, falling by 1/8.
      assert.deepEqual(second.kept.map((c) => c.score), [8, 7, 6, 5, 4].map((s) => s / 8));
      assert.equal(second.llm!.windows.length, 1);
      assert.equal(second.llm!.windows[0].outcome, 'ranked');
      assert.equal(second.llm!.failedWindows, 0);
      assert.equal(second.llm!.retries, 0);
    } finally {
      await ce.dispose();
    }
  });

  test('CLI: rankwise funnel --stages bm25:8,llm:5 --llm http://127.0.0.1:PORT/v1 does the same', async () => {
    seen.length = 0;
    const out = JSON.parse(await ok('funnel', '--corpus', CORPUS, '--query', QUERY, '--stages', 'bm25:8,llm:5', '--llm', baseUrl, '--llm-retries', '0', '--json')) as {
      stages: Array<{ name: string; kept: Array<{ id: string; score: number }>; llm?: { windows: Array<{ outcome: string }>; failedWindows: number } }>;
      final: string[];
    };
    assert.deepEqual(out.stages.map((s) => s.name), ['bm25', 'llm']);
    const previous = out.stages[0].kept.map((c) => c.id);
    assert.equal(previous.length, 8);
    assert.equal(seen.length, 1, 'one call to the server');
    assert.deepEqual(seen[0].documents, previous.map(textOf), 'the server saw the BM25 stage\'s documents in its order');
    const chosen = alphabetical(previous.map(textOf)).map((i) => previous[i]).slice(0, 5);
    assert.deepEqual(out.final, chosen);
    assert.deepEqual(out.stages[1].kept.map((c) => c.id), chosen);
    assert.notDeepEqual(chosen, previous.slice(0, 5), 'the LLM changed the ranking');
    assert.deepEqual(out.stages[1].llm!.windows.map((w) => w.outcome), ['ranked']);
    assert.equal(out.stages[1].llm!.failedWindows, 0);

    // The table says the same: one call, nothing failed, and the final list in the server's order.
    seen.length = 0;
    const text = await ok('funnel', '--corpus', CORPUS, '--query', QUERY, '--stages', 'bm25:8,llm:5', '--llm', baseUrl);
    assert.match(text, /^llm\s+5\s.*\b1 call\s*$/m);
    const finalIds = [...text.split('Final ranking:')[1].matchAll(/^#\d (\S+)/gm)].map((m) => m[1]);
    assert.deepEqual(finalIds, chosen);
  });
});
