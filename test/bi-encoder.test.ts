import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { BiEncoder } from '../src/models/bi-encoder.js';
import { createSession, int64Tensor } from '../src/models/session.js';
import { PairTokenizer } from '../src/models/tokenizer/index.js';
import { EncoderRanker } from '../src/rank/encoder-ranker.js';
import { fixtureModel } from './helpers/fixtures.js';

const TEXTS = ['a short text', 'a somewhat longer text about search engines and ranking', '', 'Zürich 🙂 東京', 'one'];

let dir: string;
let encoder: BiEncoder;
before(async () => {
  dir = await fixtureModel({ kind: 'bi-encoder', seed: 5 });
  encoder = await BiEncoder.load(dir, { threads: 1 });
});

/** Hidden states of one text straight from onnxruntime, without our batching. */
async function hiddenStates(text: string): Promise<{ ids: number[]; states: Float32Array; hidden: number }> {
  const tokenizer = await PairTokenizer.fromFolder(dir);
  const enc = tokenizer.encodeSingle(text, { maxLength: 512 });
  const session = await createSession(join(dir, 'onnx', 'model.onnx'), { threads: 1 });
  const dims = [1, enc.inputIds.length];
  const out = await session.run({
    input_ids: int64Tensor(BigInt64Array.from(enc.inputIds, BigInt), dims),
    attention_mask: int64Tensor(BigInt64Array.from(enc.attentionMask, BigInt), dims),
    token_type_ids: int64Tensor(BigInt64Array.from(enc.tokenTypeIds, BigInt), dims),
  });
  await session.release();
  return { ids: enc.inputIds, states: out.last_hidden_state.data as Float32Array, hidden: 64 };
}

test('mean pooling over real tokens equals the mean of the hidden states, whatever the batch', { timeout: 120_000 }, async () => {
  const raw = await encoder.encode(TEXTS, { normalize: false, batchSize: 2 });
  for (let i = 0; i < TEXTS.length; i++) {
    const { ids, states, hidden } = await hiddenStates(TEXTS[i]);
    for (let h = 0; h < hidden; h++) {
      let sum = 0;
      for (let t = 0; t < ids.length; t++) sum += states[t * hidden + h];
      assert.ok(Math.abs(sum / ids.length - raw[i][h]) < 1e-5, `text ${i} dim ${h}`);
    }
  }
});

test('vectors are unit length by default; CLS pooling is the first hidden state', { timeout: 120_000 }, async () => {
  const vectors = await encoder.encode(TEXTS);
  for (const v of vectors) assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-5);
  const [cls] = await encoder.encode([TEXTS[1]], { pooling: 'cls', normalize: false });
  const { states } = await hiddenStates(TEXTS[1]);
  cls.forEach((x, h) => assert.ok(Math.abs(x - states[h]) < 1e-5));
});

test('token embeddings: one unit vector per real token, specials dropped on request', { timeout: 120_000 }, async () => {
  const [tokens] = await encoder.encodeTokens([TEXTS[1]]);
  const ids = encoder.tokenizer.tokenIds(TEXTS[1]);
  assert.deepEqual(tokens.ids, ids);
  assert.equal(tokens.count, ids.length);
  assert.equal(tokens.vectors.length, ids.length * 64);
  for (let t = 0; t < tokens.count; t++) {
    assert.ok(Math.abs(Math.hypot(...tokens.vectors.subarray(t * 64, (t + 1) * 64)) - 1) < 1e-5);
  }
  const [withSpecial] = await encoder.encodeTokens([TEXTS[1]], { dropSpecialTokens: false });
  assert.equal(withSpecial.count, ids.length + 2);
  assert.deepEqual(withSpecial.ids.slice(1, -1), ids);
  const { states } = await hiddenStates(TEXTS[1]);
  const first = states.subarray(64, 128);
  const norm = Math.hypot(...first);
  tokens.vectors.subarray(0, 64).forEach((x, h) => assert.ok(Math.abs(x - first[h] / norm) < 1e-5));
});

test('the encoder ranks by cosine through the common Ranker interface', { timeout: 120_000 }, async () => {
  const ranker = new EncoderRanker(encoder);
  const ranked = await ranker.rank('search ranking', TEXTS);
  const [q, ...docs] = await encoder.encode(['search ranking', ...TEXTS]);
  const cos = docs.map((d) => d.reduce((s, x, i) => s + x * q[i], 0));
  ranked.results.forEach((r) => assert.ok(Math.abs(r.score - cos[r.index]) < 1e-5));
  assert.deepEqual(ranked.results.map((r) => r.index), [...cos.keys()].sort((a, b) => cos[b] - cos[a]));
});

test('a cross-encoder folder is refused with a clear error', { timeout: 120_000 }, async () => {
  const ce = await fixtureModel({ kind: 'cross-encoder', seed: 5 });
  await assert.rejects(BiEncoder.load(ce), /a bi-encoder needs a plain encoder/);
});
