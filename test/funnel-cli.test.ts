import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ok, rankwise, ROOT } from './helpers/cli.js';
import { fixtureModel } from './helpers/fixtures.js';
import { freePort } from './helpers/processes.js';

/** A real ONNX cross-encoder with seeded random weights (the built-in reranker takes a minute to build). */
const crossEncoder = () => fixtureModel({ kind: 'cross-encoder' });

const CORPUS = join(ROOT, 'datasets/funnel/corpus.jsonl');
const QUERY = 'how do I reset my router to factory settings';

interface FunnelJson {
  stages: Array<{ name: string; k: number; kept: Array<{ id: string; score: number }>; ms: number; tiers?: Record<string, number>; llm?: { windows: unknown[]; failedWindows: number } }>;
  final: string[];
}

describe('rankwise funnel', { timeout: 300_000 }, () => {
  test('--json: {"stages":[{"name","kept":[{"id","score"}],"ms"}],"final":[ids]} with a local LLM stage', async () => {
    const out = JSON.parse(
      await ok('funnel', '--corpus', CORPUS, '--query', QUERY, '--stages', 'bm25:8,cross-encoder:4,llm:3', '--model', await crossEncoder(), '--llm', 'local', '--json'),
    ) as FunnelJson;
    assert.deepEqual(Object.keys(out), ['stages', 'final']);
    assert.deepEqual(out.stages.map((s) => s.name), ['bm25', 'cross-encoder', 'llm']);
    assert.deepEqual(out.stages.map((s) => s.kept.length), [8, 4, 3]);
    for (const stage of out.stages) {
      assert.ok(stage.kept.every((c) => typeof c.id === 'string' && typeof c.score === 'number'));
      assert.ok(typeof stage.ms === 'number' && stage.ms > 0);
      const t = stage.tiers!;
      assert.equal(t.high + t.partial + t.distractor + t.noise, stage.kept.length);
    }
    assert.deepEqual(out.final, out.stages[2].kept.map((c) => c.id));
    // The tiny local model answers nonsense: every window is repaired or failed, and the stage still returns 3.
    assert.equal(out.stages[2].llm!.windows.length, 1);
  });

  test('the table names every stage, the precision definition and the final list; an LLM that is down fails nothing', async () => {
    const down = `http://127.0.0.1:${await freePort()}/v1`;
    const out = await ok('funnel', '--corpus', CORPUS, '--query', QUERY, '--stages', 'bm25:10,cross-encoder:4,llm:3', '--model', await crossEncoder(), '--llm', down, '--llm-retries', '1');
    assert.match(out, /^stage\s+kept\s+high\s+partial\s+distractor\s+noise\s+precision\s+high\+partial\s+ms/m);
    assert.match(out, /^bm25\s+10\s/m);
    assert.match(out, /^cross-encoder\s+4\s/m);
    assert.match(out, /^llm\s+3\s.*1 call, 1 retry, 1 failed, previous order kept \(fetch failed\)/m);
    assert.match(out, /precision = high \/ kept/);
    assert.equal((out.split('Final ranking:')[1].match(/^#\d /gm) ?? []).length, 3);
  });

  test('bad options are errors naming the option', async () => {
    const stages = await rankwise('funnel', '--corpus', CORPUS, '--query', QUERY, '--stages', 'bm25:10,bm25:5');
    assert.equal(stages.code, 2);
    assert.match(stages.stderr, /--stages: "bm25:5": bm25 searches the index, so it can only be the first stage/);
    const llm = await rankwise('funnel', '--corpus', CORPUS, '--query', QUERY, '--llm', 'gpt');
    assert.equal(llm.code, 2);
    assert.match(llm.stderr, /--llm: expected local\[:PATH.gguf\]/);
    const missing = await rankwise('funnel', '--corpus', join(ROOT, 'nope.jsonl'), '--query', QUERY, '--stages', 'bm25:5');
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /nope.jsonl/);
  });
});
