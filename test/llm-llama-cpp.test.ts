import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ProviderError } from '../src/rank/llm/chat-provider.js';
import { findDefaultGguf, LlamaCppProvider, SHARED_TEST_GGUF } from '../src/rank/llm/llama-cpp.js';
import { LlmListwiseRanker } from '../src/rank/llm/listwise-ranker.js';
import { buildRankingPrompt } from '../src/rank/llm/ranking-prompt.js';
import { rankingSchema } from '../src/rank/llm/ranking-schema.js';
import { ROOT } from './helpers/cli.js';

const MODEL = findDefaultGguf(ROOT, {});
assert.ok(MODEL, `the tiny test model ${SHARED_TEST_GGUF} (relative to ${ROOT}) is missing; see ../shared/models/README.md`);

const corpus = readFileSync(join(ROOT, 'datasets/funnel/corpus.jsonl'), 'utf8')
  .trim()
  .split('\n')
  .map((line) => JSON.parse(line).text as string);

describe('LlamaCppProvider with stories260K.gguf', () => {
  const provider = new LlamaCppProvider({ modelPath: MODEL, threads: 1, maxTokens: 128 });
  after(() => provider.dispose());

  test('the answer always parses under the schema: the grammar is enforced', async () => {
    const prompt = buildRankingPrompt('how do I reset my router', corpus.slice(0, 4));
    const answer = await provider.complete({ ...prompt, schema: rankingSchema(4) });
    const value = JSON.parse(answer);
    assert.deepEqual(Object.keys(value), ['ranking']);
    assert.ok(Array.isArray(value.ranking));
    assert.ok(value.ranking.every((n: unknown) => Number.isInteger(n)), answer);
    assert.ok(value.ranking.length <= 4, `maxItems is part of the grammar: ${answer}`);
  });

  test('the ranker returns a valid permutation whatever the model picks, and reports each repair', async () => {
    const documents = corpus.slice(0, 7);
    const ranker = new LlmListwiseRanker(provider, { windowSize: 4, windowStep: 2, retries: 0 });
    const result = await ranker.rank('how do I reset my router to factory settings', documents);
    assert.deepEqual(result.results.map((r) => r.index).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6]);
    assert.equal(result.llm.windows.length, 3);
    for (const w of result.llm.windows) {
      assert.notEqual(w.outcome, 'failed', JSON.stringify(w));
      const fixes = w.repairs!.invalid.length + w.repairs!.duplicates.length + w.repairs!.missing.length;
      assert.equal(w.outcome === 'repaired', fixes > 0, JSON.stringify(w));
      // Missing documents are named by their index in `documents`, inside the window.
      assert.ok(w.repairs!.missing.every((i) => i >= w.start && i < w.end));
    }
    process.stdout.write(`# tiny model: ${result.llm.repairedWindows}/${result.llm.windows.length} answers needed repair: ${JSON.stringify(result.llm.windows.map((w) => w.repairs))}\n`);
  });

  test('a tiny time-out fails the call, the ranker keeps the input order and reports it', async () => {
    const ranker = new LlmListwiseRanker(provider, { timeoutMs: 1, retries: 1, baseDelayMs: 1 });
    const documents = corpus.slice(0, 3);
    const result = await ranker.rank('reset my router', documents);
    assert.deepEqual(result.results.map((r) => r.index), [0, 1, 2]);
    assert.equal(result.llm.failedWindows, 1);
    assert.equal(result.llm.attempts, 2);
    assert.equal(result.llm.failure, 'timed out after 1 ms');
    // The provider is still usable afterwards.
    const answer = await provider.complete({ ...buildRankingPrompt('q', ['a', 'b']), schema: rankingSchema(2) });
    assert.ok(Array.isArray(JSON.parse(answer).ranking));
  });

  test('a prompt longer than the context is refused at once, not retried', async () => {
    const small = new LlamaCppProvider({ modelPath: MODEL, contextSize: 256, maxTokens: 32 });
    try {
      const prompt = buildRankingPrompt('q', corpus.slice(0, 4));
      await assert.rejects(small.complete({ ...prompt, schema: rankingSchema(4) }), (error: unknown) => {
        assert.ok(error instanceof ProviderError && !error.retryable);
        assert.match((error as Error).message, /exceed the 256-token context/);
        return true;
      });
    } finally {
      await small.dispose();
    }
  });

  test('a missing model file is an error naming the option', () => {
    assert.throws(() => new LlamaCppProvider({ modelPath: '/nonexistent/model.gguf' }), /modelPath: no such GGUF file: \/nonexistent\/model.gguf/);
  });
});
