import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { storageErrorOfTokens } from '../src/eval/compact-storage-error.js';
import { float16ToNumber } from '../src/models/safetensors.js';
import { SeededRandom } from '../src/models/random.js';
import { centroidInteractionScores, largest } from '../src/rank/late-interaction/centroids.js';
import { decodeTokens, encodeTokens, toFloat16Bits } from '../src/rank/late-interaction/compact-vectors.js';
import { createDotEngine, dotsNTJs } from '../src/rank/late-interaction/dot-engine.js';
import { maxSimScores, maxSimScoresWith, type TokenMatrix } from '../src/rank/late-interaction/maxsim.js';
import { TokenIndex } from '../src/rank/late-interaction/token-index.js';
import { scratchDir } from './helpers/fixtures.js';

function unitRows(rng: SeededRandom, rows: number, dim: number, center?: Float32Array, noise = 1): Float32Array {
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let n = 0;
    for (let k = 0; k < dim; k++) {
      const v = (center ? center[k] : 0) + noise * rng.normal();
      out[r * dim + k] = v;
      n += v * v;
    }
    for (let k = 0; k < dim; k++) out[r * dim + k] /= Math.sqrt(n);
  }
  return out;
}

function matrix(vectors: Float32Array, dim: number): TokenMatrix {
  return { vectors, count: vectors.length / dim, dimension: dim };
}

/** The definition, in float64, one pair at a time. */
function naiveMaxSim(q: TokenMatrix, d: TokenMatrix): number {
  if (d.count === 0) return 0;
  let total = 0;
  for (let i = 0; i < q.count; i++) {
    let best = -Infinity;
    for (let t = 0; t < d.count; t++) {
      let s = 0;
      for (let k = 0; k < q.dimension; k++) s += q.vectors[i * q.dimension + k] * d.vectors[t * d.dimension + k];
      best = Math.max(best, s);
    }
    total += best;
  }
  return total;
}

/** Deterministic token vectors per document id, so a reopened index can be checked value by value. */
function docTokens(id: string, dim: number): TokenMatrix {
  let seed = 0;
  for (const ch of id) seed = (seed * 31 + ch.charCodeAt(0)) >>> 0;
  const rng = new SeededRandom(seed);
  const count = 3 + rng.int(6);
  return matrix(unitRows(rng, count, dim), dim);
}

const engines: Array<{ dispose(): Promise<void> }> = [];
after(async () => {
  for (const e of engines) await e.dispose();
});

describe('MaxSim kernels', { timeout: 1_000 }, () => {
  it('match a hand-computed score', () => {
    const q = matrix(Float32Array.of(1, 0, 0, 1), 2);
    const d = matrix(Float32Array.of(0.6, 0.8, 1, 0), 2);
    // Query token 1 best matches [1, 0] (1.0); query token 2 best matches [0.6, 0.8] (0.8).
    const scores = maxSimScores(q, { vectors: d.vectors, starts: Int32Array.of(0, 2), dimension: 2 });
    assert.ok(Math.abs(scores[0] - 1.8) < 1e-6);
  });

  it('js and onnx kernels equal the definition on ragged documents, subsets and odd query lengths', async () => {
    const rng = new SeededRandom(11);
    const dim = 37;
    const counts = [5, 0, 1, 12, 7, 3, 30, 2];
    const docs = counts.map((c) => matrix(unitRows(rng, c, dim), dim));
    const starts = new Int32Array(counts.length + 1);
    counts.forEach((c, i) => (starts[i + 1] = starts[i] + c));
    const vectors = new Float32Array(starts[counts.length] * dim);
    docs.forEach((d, i) => vectors.set(d.vectors, starts[i] * dim));
    const block = { vectors, starts, dimension: dim };
    const onnx = await createDotEngine('onnx', 1);
    engines.push(onnx);
    for (const nq of [1, 4, 7, 32]) {
      const q = matrix(unitRows(rng, nq, dim), dim);
      const expected = docs.map((d) => naiveMaxSim(q, d));
      const js = maxSimScores(q, block);
      const viaOnnx = await maxSimScoresWith(onnx, q, block);
      expected.forEach((e, i) => {
        assert.ok(Math.abs(js[i] - e) < 1e-4, `js nq=${nq} doc ${i}: ${js[i]} vs ${e}`);
        assert.ok(Math.abs(viaOnnx[i] - e) < 1e-4, `onnx nq=${nq} doc ${i}: ${viaOnnx[i]} vs ${e}`);
      });
      const subset = [6, 0, 3];
      const jsSubset = maxSimScores(q, block, subset);
      const onnxSubset = await maxSimScoresWith(onnx, q, block, subset);
      subset.forEach((d, i) => {
        assert.ok(Math.abs(jsSubset[i] - expected[d]) < 1e-4);
        assert.ok(Math.abs(onnxSubset[i] - expected[d]) < 1e-4);
      });
    }
    assert.throws(() => maxSimScores(matrix(new Float32Array(8), 8), block), /dimension 8, the documents 37/);
  });

  it('dot engines agree with each other', async () => {
    const rng = new SeededRandom(3);
    const a = unitRows(rng, 9, 16);
    const b = unitRows(rng, 21, 16);
    const onnx = await createDotEngine('onnx', 1);
    engines.push(onnx);
    const x = dotsNTJs(a, 9, b, 21, 16);
    const y = await onnx.dotsNT(a, 9, b, 21, 16);
    for (let i = 0; i < x.length; i++) assert.ok(Math.abs(x[i] - y[i]) < 1e-5);
    let s = 0;
    for (let k = 0; k < 16; k++) s += a[2 * 16 + k] * b[5 * 16 + k];
    assert.ok(Math.abs(x[2 * 21 + 5] - s) < 1e-6);
  });
});

describe('centroid interaction', { timeout: 1_000 }, () => {
  it('is MaxSim over the tokens centroids, read from the query-centroid table', () => {
    // 2 query tokens x 3 centroids.
    const sims = Float32Array.of(0.9, 0.1, -0.2, 0.0, 0.5, 0.7);
    const codes = Uint16Array.of(0, 1, 2, 1, 1);
    const starts = Int32Array.of(0, 2, 3, 5);
    // doc 0 has centroids {0, 1}: max(0.9, 0.1) + max(0.0, 0.5) = 1.4; doc 1 {2}: -0.2 + 0.7 = 0.5; doc 2 {1}: 0.1 + 0.5.
    const scores = centroidInteractionScores(sims, 2, 3, codes, starts, [2, 0, 1]);
    assert.deepEqual(Array.from(scores, (x) => Number(x.toFixed(6))), [0.6, 1.4, 0.5]);
    assert.deepEqual(largest(scores, 2).sort(), [0, 1]);
  });
});

describe('compact token storage', { timeout: 1_000 }, () => {
  it('float16 rounds to nearest even and round-trips every half value', () => {
    assert.equal(toFloat16Bits(1), 0x3c00);
    assert.equal(toFloat16Bits(-2), 0xc000);
    assert.equal(toFloat16Bits(65504), 0x7bff);
    assert.equal(toFloat16Bits(65520), 0x7c00); // halfway to the next binade: rounds up to infinity
    assert.equal(toFloat16Bits(2 ** -24), 0x0001);
    assert.equal(toFloat16Bits(2 ** -26), 0x0000);
    assert.equal(toFloat16Bits(0.1), 0x2e66);
    assert.equal(toFloat16Bits(1 + 2 ** -11), 0x3c00); // tie, even mantissa kept
    assert.equal(toFloat16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie, rounded up to even
    for (let bits = 0; bits < 65536; bits++) {
      const v = float16ToNumber(bits);
      if (Number.isNaN(v)) continue;
      assert.equal(toFloat16Bits(v), bits, `bits ${bits.toString(16)}`);
    }
  });

  it('float16 and int8 errors stay within their bounds, and so do MaxSim scores', () => {
    const rng = new SeededRandom(8);
    const dim = 64;
    const rows = 50;
    const v = unitRows(rng, rows, dim);
    const half = decodeTokens(encodeTokens(v, rows, dim, 'float16'), rows, dim, 'float16');
    const int8 = decodeTokens(encodeTokens(v, rows, dim, 'int8'), rows, dim, 'int8');
    const exact = decodeTokens(encodeTokens(v, rows, dim, 'float32'), rows, dim, 'float32');
    assert.deepEqual(exact, v);
    for (let r = 0; r < rows; r++) {
      let maxAbs = 0;
      for (let k = 0; k < dim; k++) maxAbs = Math.max(maxAbs, Math.abs(v[r * dim + k]));
      for (let k = 0; k < dim; k++) {
        const i = r * dim + k;
        assert.ok(Math.abs(half[i] - v[i]) <= Math.abs(v[i]) * 2 ** -11 + 2 ** -25);
        assert.ok(Math.abs(int8[i] - v[i]) <= maxAbs / 254 + 1e-7);
      }
    }
    // Score bounds: per query token |dot error| <= 2^-11 (float16, Cauchy-Schwarz) or sqrt(dim) / 254 (int8).
    const queries = [0, 1, 2].map(() => ({ ...matrix(unitRows(rng, 6, dim), dim), ids: [] as number[] }));
    const documents = Array.from({ length: 12 }, () => ({ ...matrix(unitRows(rng, 1 + rng.int(9), dim), dim), ids: [] as number[] }));
    const [f16, i8] = storageErrorOfTokens(queries, documents);
    assert.equal(f16.encoding, 'float16');
    assert.equal(f16.bytesPerToken, dim * 2);
    assert.equal(i8.bytesPerToken, dim + 4);
    assert.ok(f16.maxScoreError <= 6 * 2 ** -11, `float16 score error ${f16.maxScoreError}`);
    assert.ok(i8.maxScoreError <= (6 * Math.sqrt(dim)) / 254, `int8 score error ${i8.maxScoreError}`);
    assert.ok(f16.maxScoreError < i8.maxScoreError);
    assert.ok(f16.average.tau > 0.99 && f16.average.tau <= 1);
  });
});

describe('persistent token index', { timeout: 1_000 }, () => {
  const dim = 16;

  async function bruteForce(index: TokenIndex, query: TokenMatrix, ids: string[]): Promise<string[]> {
    const scored = ids.map((id) => ({ id, score: naiveMaxSim(query, index.tokens(id)!) }));
    return scored.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1)).map((s) => s.id);
  }

  it('adds, replaces, deletes and compacts incrementally, and survives reopening', async () => {
    const dir = join(await scratchDir(), 'index');
    const index = await TokenIndex.create(dir, { dimension: dim, encoding: 'float16', model: 'test' });
    await assert.rejects(TokenIndex.create(dir, { dimension: dim }), /already holds a token index/);
    const first = ['a', 'b', 'c', 'd'].map((id) => ({ id, tokens: docTokens(id, dim), text: `text ${id}` }));
    await index.add(first);
    await index.add(['e', 'f'].map((id) => ({ id, tokens: docTokens(id, dim) })));
    assert.equal(index.size, 6);
    assert.equal(index.segmentCount, 2);
    // Re-adding "b" with other vectors replaces it.
    await index.add([{ id: 'b', tokens: docTokens('b-new', dim), text: 'new b' }]);
    assert.equal(index.size, 6);
    assert.equal(index.text('b'), 'new b');
    assert.deepEqual(await index.delete(['c', 'zz']), ['zz']);
    assert.equal(index.has('c'), false);
    const query = docTokens('query', dim);
    const expectedOrder = await bruteForce(index, query, ['a', 'b', 'd', 'e', 'f']);
    const result = await index.search(query, { k: 5 });
    assert.deepEqual(result.hits.map((h) => h.id), expectedOrder);
    assert.equal(result.hits.find((h) => h.id === 'a')?.text, 'text a');
    await index.close();

    const reopened = await TokenIndex.open(dir);
    assert.deepEqual(reopened.ids().sort(), ['a', 'b', 'd', 'e', 'f']);
    // float16 storage: the stored vectors are the float16 rounding of the given ones.
    const b = reopened.tokens('b')!;
    const given = docTokens('b-new', dim);
    for (let i = 0; i < b.vectors.length; i++) assert.equal(b.vectors[i], float16ToNumber(toFloat16Bits(given.vectors[i])));
    assert.deepEqual((await reopened.search(query, { k: 5 })).hits, result.hits);
    const filesBefore = await readdir(dir);
    await reopened.compact();
    assert.equal(reopened.segmentCount, 1);
    assert.deepEqual((await reopened.search(query, { k: 5 })).hits, result.hits);
    const filesAfter = await readdir(dir);
    assert.ok(filesAfter.length < filesBefore.length);
    await reopened.close();
    const again = await TokenIndex.open(dir);
    assert.deepEqual((await again.search(query, { k: 5 })).hits, result.hits);
    await again.close();
  });

  it('rejects bad documents, queries and manifests with the field named', async () => {
    const dir = join(await scratchDir(), 'index');
    const index = await TokenIndex.create(dir, { dimension: dim });
    await assert.rejects(index.add([{ id: '', tokens: docTokens('x', dim) }]), /documents\[0\]\.id: expected a non-empty string/);
    await assert.rejects(index.add([{ id: 'x', tokens: docTokens('x', 8) }]), /documents\[0\]\.tokens: expected dimension 16, got 8/);
    await assert.rejects(
      index.add([
        { id: 'x', tokens: docTokens('x', dim) },
        { id: 'x', tokens: docTokens('y', dim) },
      ]),
      /appears twice/,
    );
    await assert.rejects(index.search(docTokens('q', 8)), /query: tokens have dimension 8, the index 16/);
    await assert.rejects(index.search(docTokens('q', dim), { candidates: { probe: 2 } }), /no centroids yet/);
    await index.close();
    await writeFile(join(dir, 'manifest.json'), '{"format":"rankwise-token-index","version":1,"dimension":0}');
    await assert.rejects(TokenIndex.open(dir), /"dimension": expected a positive integer, got 0/);
    await assert.rejects(TokenIndex.openOrCreate(join(await scratchDir(), 'other'), { dimension: 0 }), /dimension: expected a positive integer/);
  });

  // A writer killed mid-write: test/crash-points.test.ts stops it at each named point and checks the folder.
  it('leftovers of a crashed write do not disturb opening; compaction removes them', async () => {
    const dir = join(await scratchDir(), 'index');
    const index = await TokenIndex.create(dir, { dimension: dim, encoding: 'int8' });
    await index.add(['x', 'y', 'z'].map((id) => ({ id, tokens: docTokens(id, dim) })));
    await index.close();
    await writeFile(join(dir, '.manifest.json.1.abcd.tmp'), '{"half');
    await writeFile(join(dir, 'seg-999999.bin'), 'garbage');
    const reopened = await TokenIndex.open(dir);
    assert.deepEqual(reopened.ids().sort(), ['x', 'y', 'z']);
    await reopened.compact();
    const names = await readdir(dir);
    assert.ok(!names.includes('seg-999999.bin') && !names.includes('.manifest.json.1.abcd.tmp'));
    assert.equal(names.filter((n) => n.startsWith('seg-')).length, 1);
    await reopened.close();
    const again = await TokenIndex.open(dir);
    assert.equal(again.size, 3);
    await again.close();
  });

  it('the candidate step (seeded centroids, inverted lists) scores fewer documents and finds the same best ones', async () => {
    const rng = new SeededRandom(21);
    const clusters = 8;
    const centers = Array.from({ length: clusters }, () => unitRows(rng, 1, dim).map((x) => x * 4));
    const dir = join(await scratchDir(), 'index');
    const index = await TokenIndex.create(dir, { dimension: dim, encoding: 'float32' });
    const docs = Array.from({ length: 80 }, (_, i) => ({ id: `d${i}`, tokens: matrix(unitRows(rng, 6, dim, centers[i % clusters]), dim) }));
    await index.add(docs.slice(0, 60));
    await index.trainCentroids({ count: clusters, seed: 5 });
    // Added after training: assigned to the existing centroids.
    await index.add(docs.slice(60));
    const query = matrix(unitRows(rng, 4, dim, centers[3]), dim);
    const exhaustive = await index.search(query, { k: 5 });
    const candidates = await index.search(query, { k: 5, candidates: { probe: 1 } });
    assert.equal(exhaustive.scored, 80);
    assert.ok(candidates.scored < 40, `scored ${candidates.scored}`);
    assert.deepEqual(candidates.hits, exhaustive.hits);
    assert.ok(candidates.hits.every((h) => Number(h.id.slice(1)) % clusters === 3));
    // Centroid interaction keeps only the most promising probed documents for exact scoring. It cannot tell apart
    // documents whose tokens share one centroid, so `keep` must cover the query's cluster (10 documents here).
    const probedOnly = await index.search(query, { k: 5, candidates: { probe: 2, keep: Infinity } });
    const pruned = await index.search(query, { k: 5, candidates: { probe: 2, keep: 12 } });
    assert.ok(probedOnly.scored > 12, `probe 2 reached ${probedOnly.scored} documents`);
    assert.equal(pruned.scored, 12);
    assert.deepEqual(pruned.hits, exhaustive.hits);
    await index.close();
    const reopened = await TokenIndex.open(dir);
    assert.deepEqual((await reopened.search(query, { k: 5, candidates: { probe: 1 }, kernel: 'onnx' })).hits.map((h) => h.id), candidates.hits.map((h) => h.id));
    await reopened.close();
  });
});
