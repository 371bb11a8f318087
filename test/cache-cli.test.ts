import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseSimulationQueries } from '../src/cache/simulate.js';
import { SqliteCacheStore } from '../src/cache/sqlite-store.js';
import { readJsonLines } from '../src/util/jsonl.js';
import { ok, rankwise, ROOT } from './helpers/cli.js';
import { scratchDir } from './helpers/fixtures.js';

const QUERIES = join(ROOT, 'datasets/cache/queries.jsonl');

describe('rankwise cache', { timeout: 300_000 }, () => {
  it('simulate --json reports exactly the article\'s fields, and they agree with the labels', async () => {
    const report = JSON.parse(await ok('cache', 'simulate', '--queries', QUERIES, '--json'));
    assert.deepEqual(Object.keys(report), ['hits', 'misses', 'hit_precision', 'miss_precision', 'accuracy', 'queries']);
    const labels = (await readJsonLines(QUERIES, 'queries')).map(({ line, value }) => ({ line, ...(value as { query: string; repeats: number | null; kind: string }) }));
    assert.equal(report.queries.length, labels.length);
    assert.equal(report.hits + report.misses, labels.length);

    // Recompute the summary from the per-query answers and the labels: a hit is right on the same topic chain.
    const root = new Map<number, number>();
    for (const l of labels) root.set(l.line, l.repeats === null ? l.line : root.get(l.repeats)!);
    let correctHits = 0;
    let correctMisses = 0;
    report.queries.forEach((q: { query: string; hit: boolean; matched: number | null; score: number | null }, i: number) => {
      const label = labels[i];
      assert.deepEqual(Object.keys(q), ['query', 'hit', 'matched', 'score']);
      assert.equal(q.query, label.query);
      assert.equal(q.hit, q.matched !== null);
      if (q.hit) {
        assert.ok(q.matched! < label.line, 'a hit matches an earlier line');
        if (label.repeats !== null && root.get(q.matched!) === root.get(label.line)) correctHits++;
      } else if (label.repeats === null) {
        correctMisses++;
      }
    });
    assert.equal(report.hit_precision, correctHits / report.hits);
    assert.equal(report.miss_precision, correctMisses / report.misses);
    assert.equal(report.accuracy, (correctHits + correctMisses) / labels.length);
    assert.equal(report.queries[0].hit, false, 'an empty cache cannot hit');
    assert.equal(report.queries[0].score, null);

    // The near misses a guard can see never hit, however close their vectors are.
    const guarded = /disable|turn off|import my data|disconnect|from Paris to London|to Rome|on Friday|from 2023|Firefox|Microsoft Teams|more than 50|remove people/;
    const nearMisses = labels.filter((l) => l.kind === 'near-miss' && guarded.test(l.query));
    assert.ok(nearMisses.length >= 10);
    for (const l of nearMisses) assert.equal(report.queries[l.line - 1].hit, false, l.query);
  });

  it('simulate names the file, line and field of a bad label', async () => {
    const dir = await scratchDir();
    const file = join(dir, 'bad.jsonl');
    await writeFile(file, ['{"query":"How do I reset my password?","repeats":null}', '{"query":"How can I reset my password?","repeats":1}', '{"query":"Where is my order?","repeats":7}'].join('\n'));
    const out = await rankwise('cache', 'simulate', '--queries', file);
    assert.equal(out.code, 2);
    assert.match(out.stderr, /bad\.jsonl:3: "repeats": expected a line number before 3 or null, got 7/);
    // The other checks, on the library function the command calls (each CLI run costs seconds).
    const parse = (values: Array<Record<string, unknown>>) => parseSimulationQueries(values.map((value, i) => ({ line: i + 1, value })), 'q.jsonl');
    assert.throws(() => parse([{ query: '', repeats: null }]), /q\.jsonl:1: "query": expected a non-empty string, got ""/);
    assert.throws(() => parse([{ query: 'a', repeats: null }, { query: 'b', repeats: 2 }]), /q\.jsonl:2: "repeats": expected a line number before 2 or null, got 2/);
    assert.throws(() => parse([{ query: 'a', repeats: null }, { query: 'b', repeats: '1' }]), /q\.jsonl:2: "repeats": expected a line number before 2 or null, got "1"/);
    assert.throws(() => parse([{ query: 'a', repeats: null, kind: 'dup' }]), /q\.jsonl:1: "kind": expected one of seed, paraphrase, near-miss, got "dup"/);
    assert.throws(
      () => parseSimulationQueries([{ line: 1, value: { query: 'a', repeats: null } }, { line: 3, value: { query: 'b', repeats: 2 } }], 'q.jsonl'),
      /q\.jsonl:3: "repeats": line 2 holds no query/,
    );
    assert.deepEqual(parse([{ query: 'a' }, { query: 'b', repeats: 1, kind: 'paraphrase' }]), [
      { line: 1, query: 'a', repeats: null },
      { line: 2, query: 'b', repeats: 1, kind: 'paraphrase' },
    ]);
  });

  it('calibrate prints the chosen threshold, its precision and recall, and which objective chose it', async () => {
    const pairs = join(ROOT, 'datasets/cache/pairs.jsonl');
    const text = await ok('cache', 'calibrate', '--pairs', pairs);
    const count = (await readJsonLines(pairs, 'pairs')).length;
    assert.match(text, new RegExp(`Calibrated on ${count} labelled pairs with use-lite .*objective: maximum F1`));
    const [, threshold, tp, predicted, tp2, positives, f1] = text.match(/Threshold: (0\.\d{4})\nPrecision: (\d+) \/ (\d+) \(\d+%\)\nRecall: (\d+) \/ (\d+) \(\d+%\)\nF1: (0\.\d{3})/)!.map(Number);
    assert.equal(tp, tp2);
    assert.ok(threshold > 0 && predicted >= tp && positives >= tp);
    assert.ok(Math.abs(f1 - (2 * tp) / (predicted + positives)) < 0.001, 'F1 agrees with the printed counts');
    // No row of the printed sweep beats the chosen F1.
    const sweepF1 = [...text.matchAll(/^0\.\d{3} .* (\d\.\d{3})$/gm)].map((m) => Number(m[1]));
    assert.equal(sweepF1.length, 10);
    assert.ok(sweepF1.every((x) => x <= f1));
  });

  it('stats reads a cache file', async () => {
    const db = join(await scratchDir(), 'cache.db');
    const store = await SqliteCacheStore.open(db);
    await store.setMeta({ encoder: 'use-lite', dimension: 512 });
    await store.put([{ key: 'a', query: 'a', vector: new Float32Array(512), value: 1, expiresAt: null }], 1);
    await store.addCounters({ hits: 3, misses: 1, stores: 1 });
    await store.close();
    const stats = JSON.parse(await ok('cache', 'stats', '--db', db, '--json'));
    assert.deepEqual(stats, { entries: 1, hits: 3, misses: 1, stores: 1, evictions: 0, expirations: 0, invalidations: 0, stale: 0, hit_rate: 0.75, encoder: 'use-lite' });
  });

  it('stats on a mistyped --db path names it and creates nothing', async () => {
    const dir = await scratchDir();
    const typo = join(dir, 'typo.db');
    const out = await rankwise('cache', 'stats', '--db', typo, '--json');
    assert.equal(out.code, 2);
    assert.match(out.stderr, /--db .*typo\.db: no such cache file/);
    assert.deepEqual(await readdir(dir), [], 'no cache file (nor -wal/-shm) was created');
  });

  it('stats on a corrupt cache file names the file', async () => {
    const db = join(await scratchDir(), 'broken.db');
    await writeFile(db, 'this is not a database, just text that is long enough to fill a header page'.repeat(20));
    const out = await rankwise('cache', 'stats', '--db', db, '--json');
    assert.equal(out.code, 6, 'ERROR_KINDS.store_unavailable');
    assert.match(out.stderr, /--db .*broken\.db: not a usable SQLite cache file, it is corrupt or not SQLite \(file is not a database\)/);
    assert.doesNotMatch(out.stderr, /\n\s+at /, 'a message, not a stack trace');
  });
});
