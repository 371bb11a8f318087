import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { readSafetensorsFile } from '../src/models/safetensors.js';
import { ColBertEncoder } from '../src/rank/late-interaction/colbert.js';
import { createFixtureColBert } from '../src/rank/late-interaction/colbert-fixture.js';
import { isColBertFolder, loadLateInteractionEncoder } from '../src/rank/late-interaction/encoder.js';
import { runOnnx } from './helpers/engine-fixtures.js';
import { scratchDir } from './helpers/fixtures.js';

const HIDDEN = 32;
const DIM = 24;
// bert-base-uncased ids: [CLS] 101, [SEP] 102, [MASK] 103, [unused0] 1, [unused1] 2,
// "the" 1996, "cat" 4937, "sat" 2938, "," 1010, "." 1012.
const CLS = 101;
const SEP = 102;
const MASK = 103;

/** Expected vectors: the fixture's own ONNX hidden states at the kept positions, times linear.weight^T, unit length. */
async function expectedVectors(dir: string, ids: number[], mask: number[], keep: number[]): Promise<Float64Array[]> {
  const T = ids.length;
  const batch = {
    inputIds: BigInt64Array.from(ids.map(BigInt)),
    attentionMask: BigInt64Array.from(mask.map(BigInt)),
    tokenTypeIds: new BigInt64Array(T),
    batchSize: 1,
    sequenceLength: T,
  };
  const states = await runOnnx(join(dir, 'onnx', 'model.onnx'), batch);
  const linear = (await readSafetensorsFile(join(dir, 'model.safetensors'))).tensors.get('linear.weight')!;
  return keep.map((t) => {
    const v = new Float64Array(DIM);
    for (let j = 0; j < DIM; j++) for (let h = 0; h < HIDDEN; h++) v[j] += linear.data[j * HIDDEN + h] * states[t * HIDDEN + h];
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  });
}

function assertVectors(actual: Float32Array, expected: Float64Array[]): void {
  assert.equal(actual.length, expected.length * DIM);
  expected.forEach((v, t) => v.forEach((x, j) => assert.ok(Math.abs(actual[t * DIM + j] - x) < 1e-5, `token ${t} dim ${j}: ${actual[t * DIM + j]} vs ${x}`)));
}

describe('ColBERT checkpoints (fixture in the colbertv2.0 layout)', { timeout: 300_000 }, () => {
  let dir: string;
  let encoder: ColBertEncoder;

  before(async () => {
    dir = join(await scratchDir(), 'colbert');
    await createFixtureColBert(dir, { layers: 2, hidden: HIDDEN, heads: 4, intermediate: 64, dim: DIM, seed: 3, queryMaxLength: 12, docMaxLength: 9 });
  });

  it('is laid out as a real checkpoint: HF_ColBERT config, artifact.metadata, bert.* + linear.weight, no ONNX', async () => {
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
    assert.deepEqual(config.architectures, ['HF_ColBERT']);
    const meta = JSON.parse(await readFile(join(dir, 'artifact.metadata'), 'utf8'));
    assert.equal(meta.query_token_id, '[unused0]');
    assert.equal(meta.doc_token_id, '[unused1]');
    assert.equal(meta.dim, DIM);
    const { tensors } = await readSafetensorsFile(join(dir, 'model.safetensors'));
    assert.deepEqual(tensors.get('linear.weight')?.shape, [DIM, HIDDEN]);
    assert.ok(tensors.has('bert.embeddings.word_embeddings.weight'));
    assert.ok(![...tensors.keys()].some((k) => k.startsWith('linear.bias')));
    assert.ok(!(await readdir(dir)).includes('onnx'));
    assert.equal(await isColBertFolder(dir), true);
    const loaded = await loadLateInteractionEncoder(dir);
    assert.ok(loaded instanceof ColBertEncoder);
    encoder = loaded as ColBertEncoder;
    assert.equal(encoder.dimension, DIM);
  });

  it('queries: [CLS] [Q] tokens [SEP] then [MASK] to query_maxlen, every position kept, projected and normalised', async () => {
    const input = encoder.queryInput('The cat sat.');
    const ids = [CLS, 1, 1996, 4937, 2938, 1012, SEP, MASK, MASK, MASK, MASK, MASK];
    assert.deepEqual(input.ids, ids);
    assert.deepEqual(input.mask, ids.map(() => 1));
    const [q] = await encoder.encodeQueries(['The cat sat.']);
    assert.deepEqual(q.ids, ids);
    assert.equal(q.count, 12);
    assertVectors(q.vectors, await expectedVectors(dir, ids, input.mask, ids.map((_, t) => t)));
    // A long query is cut so that [SEP] still ends it, with no room left for masks.
    const long = encoder.queryInput('the cat sat '.repeat(10));
    assert.equal(long.ids.length, 12);
    assert.equal(long.ids[11], SEP);
    assert.ok(!long.ids.includes(MASK));
  });

  it('documents: [CLS] [D] tokens [SEP], cut to doc_maxlen, punctuation dropped from the output', async () => {
    const text = 'The cat, sat.';
    const input = encoder.documentInput(text);
    assert.deepEqual(input.ids, [CLS, 2, 1996, 4937, 1010, 2938, 1012, SEP]);
    const [d] = await encoder.encodeDocuments([text]);
    assert.deepEqual(d.ids, [CLS, 2, 1996, 4937, 2938, SEP]);
    // Punctuation is dropped after the encoder ran on the whole sequence, so it still shaped the other tokens.
    assertVectors(d.vectors, await expectedVectors(dir, input.ids, input.mask, [0, 1, 2, 3, 5, 7]));
    const cut = encoder.documentInput('the cat sat the cat sat the cat sat');
    assert.equal(cut.ids.length, 9);
    assert.deepEqual(cut.ids.slice(-2), [2938, SEP]);
    // Batched documents of different lengths give the same vectors as one at a time (padding is masked).
    const [alone] = await encoder.encodeDocuments(['the cat sat the cat sat the cat sat']);
    const [, batched] = await encoder.encodeDocuments([text, 'the cat sat the cat sat the cat sat']);
    for (let i = 0; i < alone.vectors.length; i++) assert.ok(Math.abs(alone.vectors[i] - batched.vectors[i]) < 1e-5);
  });

  it('honours attend_to_mask_tokens = false (colbertv2.0 records it) and rejects a wrong dim', async () => {
    const meta = JSON.parse(await readFile(join(dir, 'artifact.metadata'), 'utf8'));
    await writeFile(join(dir, 'artifact.metadata'), JSON.stringify({ ...meta, attend_to_mask_tokens: false }));
    const noMaskAttention = await ColBertEncoder.load(dir);
    const input = noMaskAttention.queryInput('The cat sat.');
    assert.deepEqual(input.mask, [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]);
    const [q] = await noMaskAttention.encodeQueries(['The cat sat.']);
    assert.equal(q.count, 12);
    assertVectors(q.vectors, await expectedVectors(dir, input.ids, input.mask, input.ids.map((_, t) => t)));
    await noMaskAttention.dispose();
    await writeFile(join(dir, 'artifact.metadata'), JSON.stringify({ ...meta, dim: 7 }));
    await assert.rejects(ColBertEncoder.load(dir), /"linear\.weight" has 24 rows but artifact\.metadata says dim 7/);
    await writeFile(join(dir, 'artifact.metadata'), JSON.stringify({ ...meta, query_maxlen: 'long' }));
    await assert.rejects(ColBertEncoder.load(dir), /"query_maxlen": expected a positive integer, got "long"/);
    await writeFile(join(dir, 'artifact.metadata'), JSON.stringify(meta));
    await encoder.dispose();
  });
});
