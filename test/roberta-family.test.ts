/**
 * The RoBERTa / XLM-RoBERTa family end to end: tokenizers trained here with Hugging Face's Rust `tokenizers` on the
 * repository's own text (a SentencePiece Unigram like XLM-R's, a byte-level BPE like RoBERTa's), compared id for id
 * with that Rust tokenizer; tiny random models written as Hugging Face folders, loaded through the public API, and
 * their ONNX logits and sentence vectors checked against a forward pass written out below in plain TypeScript.
 */
import assert from 'node:assert/strict';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  BPE,
  byteLevelAlphabet,
  byteLevelPreTokenizer,
  metaspacePreTokenizer,
  Tokenizer as RustTokenizer,
  Unigram,
  type Encoding as RustEncoding,
  type TruncationStrategy,
} from 'tokenizers';
import { BackendUnavailableError, ModelInvalidError } from '../src/errors.js';
import { numLabels } from '../src/models/config.js';
import { familyFor } from '../src/models/families.js';
import { initBertWeights } from '../src/models/init-weights.js';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import { resolveModel } from '../src/models/model-folder.js';
import { writeModelFolder } from '../src/models/model-writer.js';
import { validateRobertaConfig, type RobertaConfig } from '../src/models/roberta/config.js';
import { robertaFamily } from '../src/models/roberta/family.js';
import { buildRobertaOnnx } from '../src/models/roberta/graph.js';
import { RobertaTokenizer } from '../src/models/roberta/tokenizer.js';
import { rustVocabScores, serdeJsonF64 } from '../src/models/roberta/unigram.js';
import type { TensorMap } from '../src/models/tensors.js';
import type { Encoded } from '../src/models/tokenizer/index.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { EncoderRanker } from '../src/rank/encoder-ranker.js';
import { loadRanker } from '../src/rank/load-ranker.js';
import { scratchDir } from './helpers/fixtures.js';
import { handWrittenPairCases, randomPairCases, TRICKY_TEXTS, type PairCase } from './helpers/pair-cases.js';

const ONLY_SECOND = 'OnlySecond' as unknown as TruncationStrategy;
const TRAINING_TEXT = ['datasets/README.md', 'README.md'];

type TokenizerKind = 'unigram' | 'bpe';

// ---------------------------------------------------------------------------------------------------------------
// Tokenizer files, trained by the Rust tokenizer and laid out as XLM-R's and RoBERTa's tokenizer.json are.

const SPECIAL_TOKENS = ['<s>', '<pad>', '</s>', '<unk>', '<mask>'];
const special = (content: string, id: number, lstrip = false) => ({ id, content, single_word: false, lstrip, rstrip: false, normalized: false, special: true });

async function trainedModel(kind: TokenizerKind, dir: string): Promise<Record<string, unknown>> {
  const rust = new RustTokenizer(kind === 'unigram' ? Unigram.empty() : BPE.empty());
  rust.setPreTokenizer(kind === 'unigram' ? metaspacePreTokenizer() : byteLevelPreTokenizer());
  rust.train(TRAINING_TEXT);
  const path = join(dir, `trained-${kind}.json`);
  rust.save(path);
  const json = JSON.parse(await readFile(path, 'utf8')) as { model: Record<string, unknown> };
  await rm(path);
  return json.model;
}

/** XLM-R's tokenizer.json shape: <s> <pad> </s> <unk> first, the pieces, <mask> last; NFKC stands in for the charsmap. */
function xlmrTokenizerJson(model: Record<string, unknown>): Record<string, unknown> {
  // The training text may spell the special tokens (the README does); a real vocabulary holds each only once.
  const pieces = (model.vocab as Array<[string, number]>).filter(([piece]) => !SPECIAL_TOKENS.includes(piece));
  const vocab: Array<[string, number]> = [['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0], ...pieces, ['<mask>', 0]];
  const mask = vocab.length - 1;
  const token = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
  const sequence = (id: string) => ({ Sequence: { id, type_id: 0 } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special('<s>', 0), special('<pad>', 1), special('</s>', 2), special('<unk>', 3), special('<mask>', mask, true)],
    normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [token('<s>'), sequence('A'), token('</s>')],
      pair: [token('<s>'), sequence('A'), token('</s>'), token('</s>'), sequence('B'), token('</s>')],
      special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, vocab, byte_fallback: false },
  };
}

/** RoBERTa's: byte-level BPE over every byte, the specials first, RobertaProcessing. */
function robertaTokenizerJson(model: Record<string, unknown>): Record<string, unknown> {
  const trained = Object.entries(model.vocab as Record<string, number>).sort((a, b) => a[1] - b[1]).map(([t]) => t);
  const vocab: Record<string, number> = { '<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3 };
  for (const t of [...trained, ...byteLevelAlphabet()]) if (!(t in vocab)) vocab[t] = Object.keys(vocab).length;
  const mask = Object.keys(vocab).length;
  vocab['<mask>'] = mask;
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special('<s>', 0), special('<pad>', 1), special('</s>', 2), special('<unk>', 3), special('<mask>', mask, true)],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { ...model, vocab },
  };
}

const TOKENIZER_CONFIG = {
  model_max_length: 512,
  bos_token: '<s>',
  eos_token: '</s>',
  cls_token: '<s>',
  sep_token: '</s>',
  pad_token: '<pad>',
  unk_token: '<unk>',
  mask_token: '<mask>',
};

interface TokenizerFiles {
  dir: string;
  vocabSize: number;
}

async function writeTokenizerFiles(kind: TokenizerKind): Promise<TokenizerFiles> {
  const dir = await scratchDir();
  const model = await trainedModel(kind, dir);
  const json = kind === 'unigram' ? xlmrTokenizerJson(model) : robertaTokenizerJson(model);
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
  await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(TOKENIZER_CONFIG));
  return { dir, vocabSize: RustTokenizer.fromFile(join(dir, 'tokenizer.json')).getVocabSize(true) };
}

// ---------------------------------------------------------------------------------------------------------------
// Model folders.

interface FixtureSpec {
  modelType: 'xlm-roberta' | 'roberta';
  head: 'sequence-classification' | 'none';
  labels?: number;
  seed: number;
}

const HIDDEN = 32;
const MAX_POSITIONS = 66;
const PAD = 1;

function fixtureConfig(spec: FixtureSpec, vocabSize: number): RobertaConfig {
  const xlmr = spec.modelType === 'xlm-roberta';
  const cross = spec.head === 'sequence-classification';
  const labels = spec.labels ?? 1;
  const names = xlmr ? ['XLMRobertaModel', 'XLMRobertaForSequenceClassification'] : ['RobertaModel', 'RobertaForSequenceClassification'];
  return {
    model_type: spec.modelType,
    architectures: [names[cross ? 1 : 0]],
    vocab_size: vocabSize,
    hidden_size: HIDDEN,
    num_hidden_layers: 2,
    num_attention_heads: 4,
    intermediate_size: 64,
    max_position_embeddings: MAX_POSITIONS,
    type_vocab_size: 1,
    layer_norm_eps: 1e-5,
    hidden_act: 'gelu',
    pad_token_id: PAD,
    bos_token_id: 0,
    eos_token_id: 2,
    position_embedding_type: 'absolute',
    ...(cross
      ? {
          id2label: Object.fromEntries(Array.from({ length: labels }, (_, i) => [String(i), `LABEL_${i}`])),
          label2id: Object.fromEntries(Array.from({ length: labels }, (_, i) => [`LABEL_${i}`, i])),
        }
      : {}),
  };
}

/** Random weights under Hugging Face's names; norms and biases random too, so a miswired one changes the output. */
function fixtureWeights(config: RobertaConfig, head: FixtureSpec['head'], seed: number): TensorMap {
  const encoder = initBertWeights(config, 'none', seed, { std: 0.1, randomizeNormsAndBiases: true });
  if (head === 'none') return encoder;
  const weights: TensorMap = new Map();
  for (const [name, t] of encoder) if (!name.startsWith('pooler.')) weights.set(`roberta.${name}`, t);
  // The head's tensors come from the (otherwise unused) pooler draw and a second seed, so they are random as well.
  const extra = initBertWeights({ ...config, num_hidden_layers: 0 }, 'sequence-classification', seed + 1000, { std: 0.2, randomizeNormsAndBiases: true });
  const L = numLabels(config);
  weights.set('classifier.dense.weight', extra.get('bert.pooler.dense.weight')!);
  weights.set('classifier.dense.bias', extra.get('bert.pooler.dense.bias')!);
  weights.set('classifier.out_proj.weight', { shape: [L, HIDDEN], data: extra.get('classifier.weight')!.data });
  weights.set('classifier.out_proj.bias', { shape: [L], data: extra.get('classifier.bias')!.data });
  return weights;
}

interface Fixture {
  dir: string;
  config: RobertaConfig;
  weights: TensorMap;
}

async function writeFixture(spec: FixtureSpec, tokenizer: TokenizerFiles): Promise<Fixture> {
  const config = fixtureConfig(spec, tokenizer.vocabSize);
  const weights = fixtureWeights(config, spec.head, spec.seed);
  const dir = join(await scratchDir(), 'model');
  await writeModelFolder(dir, {
    config,
    head: spec.head,
    weights,
    writeTokenizer: async (staging) => {
      await cp(join(tokenizer.dir, 'tokenizer.json'), join(staging, 'tokenizer.json'));
      await cp(join(tokenizer.dir, 'tokenizer_config.json'), join(staging, 'tokenizer_config.json'));
    },
  });
  return { dir, config, weights };
}

// ---------------------------------------------------------------------------------------------------------------
// The reference: Hugging Face's XLMRobertaForSequenceClassification forward, one unpadded sequence, in float64.

/** erf, Abramowitz & Stegun 7.1.26 (error below 1.5e-7). */
function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * a);
  const y = 1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a);
  return sign * y;
}

type Matrix = number[][];

function tensor(weights: TensorMap, name: string): Float32Array {
  const t = weights.get(`roberta.${name}`) ?? weights.get(name);
  assert.ok(t, `reference: missing ${name}`);
  return t.data;
}

/** x @ W^T + b for a torch [out, in] weight. */
function linear(x: Matrix, w: Float32Array, b: Float32Array): Matrix {
  const out = b.length;
  return x.map((row) => {
    const y = new Array<number>(out);
    for (let o = 0; o < out; o++) {
      let s = b[o];
      for (let i = 0; i < row.length; i++) s += row[i] * w[o * row.length + i];
      y[o] = s;
    }
    return y;
  });
}

function layerNorm(x: Matrix, gamma: Float32Array, beta: Float32Array, eps: number): Matrix {
  return x.map((row) => {
    const mean = row.reduce((a, v) => a + v, 0) / row.length;
    const variance = row.reduce((a, v) => a + (v - mean) ** 2, 0) / row.length;
    return row.map((v, i) => ((v - mean) / Math.sqrt(variance + eps)) * gamma[i] + beta[i]);
  });
}

const add = (a: Matrix, b: Matrix): Matrix => a.map((row, t) => row.map((v, i) => v + b[t][i]));

/** Final hidden states of one sequence; `positions` as HF numbers them, or BERT's 0..T-1 for the negative control. */
function referenceHidden(config: RobertaConfig, weights: TensorMap, ids: readonly number[], positions: 'roberta' | 'bert' = 'roberta'): Matrix {
  const H = config.hidden_size;
  const heads = config.num_attention_heads;
  const d = H / heads;
  const eps = config.layer_norm_eps;
  const word = tensor(weights, 'embeddings.word_embeddings.weight');
  const pos = tensor(weights, 'embeddings.position_embeddings.weight');
  const type = tensor(weights, 'embeddings.token_type_embeddings.weight');
  let count = 0;
  const positionIds = ids.map((id, t) => {
    if (positions === 'bert') return t;
    if (id === config.pad_token_id) return config.pad_token_id;
    return config.pad_token_id + ++count;
  });
  let x: Matrix = ids.map((id, t) => Array.from({ length: H }, (_, h) => word[id * H + h] + pos[positionIds[t] * H + h] + type[h]));
  x = layerNorm(x, tensor(weights, 'embeddings.LayerNorm.weight'), tensor(weights, 'embeddings.LayerNorm.bias'), eps);
  for (let l = 0; l < config.num_hidden_layers; l++) {
    const p = `encoder.layer.${l}`;
    const [q, k, v] = ['query', 'key', 'value'].map((m) => linear(x, tensor(weights, `${p}.attention.self.${m}.weight`), tensor(weights, `${p}.attention.self.${m}.bias`)));
    const context: Matrix = x.map(() => new Array<number>(H).fill(0));
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < x.length; i++) {
        const scores = x.map((_, j) => {
          let s = 0;
          for (let c = 0; c < d; c++) s += q[i][h * d + c] * k[j][h * d + c];
          return s / Math.sqrt(d);
        });
        const max = Math.max(...scores);
        const e = scores.map((s) => Math.exp(s - max));
        const sum = e.reduce((a, b) => a + b, 0);
        for (let j = 0; j < x.length; j++) for (let c = 0; c < d; c++) context[i][h * d + c] += (e[j] / sum) * v[j][h * d + c];
      }
    }
    const attention = linear(context, tensor(weights, `${p}.attention.output.dense.weight`), tensor(weights, `${p}.attention.output.dense.bias`));
    x = layerNorm(add(attention, x), tensor(weights, `${p}.attention.output.LayerNorm.weight`), tensor(weights, `${p}.attention.output.LayerNorm.bias`), eps);
    const inner = linear(x, tensor(weights, `${p}.intermediate.dense.weight`), tensor(weights, `${p}.intermediate.dense.bias`))
      .map((row) => row.map((u) => 0.5 * u * (1 + erf(u / Math.SQRT2))));
    const ffn = linear(inner, tensor(weights, `${p}.output.dense.weight`), tensor(weights, `${p}.output.dense.bias`));
    x = layerNorm(add(ffn, x), tensor(weights, `${p}.output.LayerNorm.weight`), tensor(weights, `${p}.output.LayerNorm.bias`), eps);
  }
  return x;
}

/** RobertaClassificationHead: dense, tanh, out_proj on the first token. */
function referenceLogits(fixture: Fixture, ids: readonly number[], positions: 'roberta' | 'bert' = 'roberta'): number[] {
  const first = [referenceHidden(fixture.config, fixture.weights, ids, positions)[0]];
  const dense = linear(first, tensor(fixture.weights, 'classifier.dense.weight'), tensor(fixture.weights, 'classifier.dense.bias'));
  return linear(dense.map((r) => r.map(Math.tanh)), tensor(fixture.weights, 'classifier.out_proj.weight'), tensor(fixture.weights, 'classifier.out_proj.bias'))[0];
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// ---------------------------------------------------------------------------------------------------------------

const QUERY = 'how does a cross-encoder rerank documents?';
const DOCUMENTS = [
  'A cross-encoder reads the query and the document together and returns one relevance score.',
  'Bananas are yellow.',
  'Rerankers reorder the candidates a first-stage retriever returns; ' + 'the model reads every pair in full, '.repeat(12),
  'rankwise',
  'Ünïcödé, 日本語 and emoji 🤗 in a document about ranking',
  '',
];

const tokenizers = new Map<TokenizerKind, TokenizerFiles>();

before(async () => {
  tokenizers.set('unigram', await writeTokenizerFiles('unigram'));
  tokenizers.set('bpe', await writeTokenizerFiles('bpe'));
});

const fromRust = (e: RustEncoding): Encoded => ({ inputIds: e.getIds(), tokenTypeIds: e.getTypeIds(), attentionMask: e.getAttentionMask() });

describe('RoBERTa / XLM-R tokenizers match the Rust tokenizer', { timeout: 300_000 }, () => {
  for (const kind of ['unigram', 'bpe'] as const) {
    it(`${kind}: ids of texts, single texts and pairs (with truncation) equal Rust's`, async () => {
      const files = tokenizers.get(kind)!;
      const path = join(files.dir, 'tokenizer.json');
      const ours = await RobertaTokenizer.fromFolder(files.dir);
      const rust = RustTokenizer.fromFile(path);
      const truncating = RustTokenizer.fromFile(path);
      const rustIds = async (text: string) => (await rust.encode(text, null, { addSpecialTokens: false })).getIds();

      const texts = [...TRICKY_TEXTS, ...DOCUMENTS, 'a</s>b <mask> c<s>', 'tokens<pad>here', '  leading   and trailing  ', 'שלום naïve\t....', 'ok ....'];
      for (const text of texts) assert.deepEqual(ours.tokenIds(text), await rustIds(text), `tokenIds(${JSON.stringify(text)})`);

      for (const [i, text] of texts.entries()) {
        const maxLength = [2, 3, 5, 9, 64, 512][i % 6];
        truncating.setTruncation(maxLength);
        assert.deepEqual(ours.encodeSingle(text, { maxLength }), fromRust(await truncating.encode(text)), `encodeSingle(${JSON.stringify(text)}, ${maxLength})`);
      }

      // Each distinct text is tokenized once by both (the cases reuse a long document many times).
      const cache = new Map<string, number[]>();
      const idsOf = async (text: string): Promise<number[]> => {
        let ids = cache.get(text);
        if (!ids) {
          ids = await rustIds(text);
          assert.deepEqual(ours.tokenIds(text), ids, `tokenIds(${JSON.stringify(text.slice(0, 80))}...)`);
          cache.set(text, ids);
        }
        return ids;
      };
      const counts = { fits: 0, 'doc cut': 0, 'query cut': 0 };
      const cases: PairCase[] = [...handWrittenPairCases(), ...randomPairCases(15, 60)];
      for (const c of cases) {
        const maxLength = Math.max(c.maxLength, 5);
        const queryIds = await idsOf(c.query);
        const docIds = await idsOf(c.doc);
        const budget = maxLength - 4;
        const half = Math.floor(budget / 2);
        // Rust builds every overflowing piece while truncating; its ids for a long document are a prefix of the
        // whole document's, so the reference pairs the query with just enough of the document text.
        const doc = await referenceDoc(c.doc, docIds, budget, rustIds);
        truncating.setTruncation(maxLength, { strategy: ONLY_SECOND });
        let expected: Encoded;
        if (queryIds.length + docIds.length <= budget || queryIds.length <= half) {
          expected = fromRust(await truncating.encode(c.query, doc));
          counts[queryIds.length + docIds.length <= budget ? 'fits' : 'doc cut']++;
        } else {
          // The shared policy cuts a query longer than half the budget to half; Rust then cuts the document.
          const query = await rust.encode(c.query, null, { addSpecialTokens: false });
          query.truncate(half, 0, 'right');
          expected = fromRust(truncating.postProcess(query, await rust.encode(doc, null, { addSpecialTokens: false }), true));
          counts['query cut']++;
        }
        assert.deepEqual(ours.pairFromIds(queryIds, docIds, maxLength), expected, `${c.name} at maxLength ${maxLength}`);
        if (c.doc.length < 2000) assert.deepEqual(ours.encodePair(c.query, c.doc, { maxLength }), expected, `encodePair: ${c.name}`);
        assert.ok(expected.inputIds.length <= maxLength);
      }
      for (const [category, n] of Object.entries(counts)) assert.ok(n >= 5, `${category}: only ${n} cases`);
    });
  }

  it('reads Unigram scores as the Rust tokenizer does (serde_json rounding), since near-ties are decided by them', async () => {
    const dir = tokenizers.get('unigram')!.dir;
    const text = await readFile(join(dir, 'tokenizer.json'), 'utf8');
    const vocab = (JSON.parse(text) as { model: { vocab: Array<[string, number]> } }).model.vocab;
    // Saving writes each score back in its shortest exact form, so the file shows the f64 Rust holds.
    const resaved = join(await scratchDir(), 'resaved.json');
    RustTokenizer.fromFile(join(dir, 'tokenizer.json')).save(resaved);
    const rustScores = (JSON.parse(await readFile(resaved, 'utf8')) as { model: { vocab: Array<[string, number]> } }).model.vocab.map((e) => e[1]);
    assert.deepEqual(Array.from(rustVocabScores(text, vocab)!), rustScores);
    const differing = vocab.filter(([, score], i) => score !== rustScores[i]).length;
    assert.ok(differing > vocab.length / 20, `JSON.parse reads ${differing} of ${vocab.length} scores differently, so this checks something`);
    assert.equal(serdeJsonF64('-3.6032534810704266'), -3.603253481070426);
    assert.equal(serdeJsonF64('-0.5'), -0.5);
    assert.equal(serdeJsonF64('1e-5'), 1e-5);
  });

  it('lays pairs out as <s> q </s></s> d </s> with one token type, and windows long documents the same way', async () => {
    const tokenizer = await RobertaTokenizer.fromFolder(tokenizers.get('unigram')!.dir);
    const pair = tokenizer.encodePair('a question', 'the answer', { maxLength: 64 });
    const q = tokenizer.tokenIds('a question');
    const d = tokenizer.tokenIds('the answer');
    assert.deepEqual(pair.inputIds, [0, ...q, 2, 2, ...d, 2]);
    assert.ok(pair.tokenTypeIds.every((t) => t === 0));
    assert.deepEqual(tokenizer.encodeSingle('a question', { maxLength: 64 }).inputIds, [0, ...q, 2]);

    const long = 'the model reads every pair in full '.repeat(20);
    const windows = tokenizer.encodePairWindows('a question', long, { maxLength: 16, overlap: 3 });
    assert.ok(windows.length > 2);
    assert.deepEqual(windows[0], tokenizer.encodePair('a question', long, { maxLength: 16 }));
    const docIds = tokenizer.tokenIds(long);
    const seen: number[] = [];
    for (const w of windows) {
      assert.ok(w.inputIds.length <= 16);
      assert.deepEqual(w.inputIds.slice(0, q.length + 3), [0, ...q, 2, 2]);
      assert.equal(w.inputIds.at(-1), 2);
      const part = w.inputIds.slice(q.length + 3, -1);
      seen.push(...part.slice(seen.length === 0 ? 0 : 3));
    }
    assert.deepEqual(seen, docIds, 'the windows cover the document in order, 3 tokens shared between neighbours');
    assert.throws(() => tokenizer.encodePair('a', 'b', { maxLength: 4 }), /maxLength: expected an integer >= 5/);
    assert.throws(() => tokenizer.encodePairWindows('a question', long, { maxLength: 16, overlap: 11 }), /overlap: 11 must be smaller than the document tokens per window \(10/);
  });
});

describe('an XLM-R cross-encoder folder, end to end', { timeout: 300_000 }, () => {
  let fixture: Fixture;
  before(async () => {
    fixture = await writeFixture({ modelType: 'xlm-roberta', head: 'sequence-classification', seed: 21 }, tokenizers.get('unigram')!);
  });

  it('loads through CrossEncoder.load and loadRanker; ONNX logits of a padded batch equal the reference to 1e-4', async (t) => {
    assert.equal((await resolveModel(fixture.dir)).family, robertaFamily);
    const ce = await CrossEncoder.load(fixture.dir, { threads: 1 });
    try {
      // The position table covers 64 tokens (66 rows, the first two skipped); the tokenizer and model know it.
      assert.equal(ce.maxLength, MAX_POSITIONS - PAD - 1);
      const sequences = ce.encodeDocuments(QUERY, DOCUMENTS);
      const lengths = sequences.map((s) => s.inputIds.length);
      assert.equal(new Set(lengths).size, lengths.length, `a batch of different lengths: ${lengths}`);
      assert.equal(Math.max(...lengths), ce.maxLength, 'the longest pair uses the last position rows');
      const rows = await ce.logits(sequences, { batchSize: 32 });
      let worst = 0;
      let offsetMatters = 0;
      sequences.forEach((s, i) => {
        const expected = referenceLogits(fixture, s.inputIds);
        worst = Math.max(worst, maxAbsDiff(rows[i], expected));
        offsetMatters = Math.max(offsetMatters, maxAbsDiff(rows[i], referenceLogits(fixture, s.inputIds, 'bert')));
      });
      t.diagnostic(`fp32 max |onnx - reference| = ${worst.toExponential(2)}; with BERT positions ${offsetMatters.toFixed(3)}`);
      assert.ok(worst < 1e-4, `max |onnx - reference| = ${worst}`);
      assert.ok(offsetMatters > 1e-2, `BERT-style positions 0..T-1 would be told apart (they differ by ${offsetMatters})`);

      const ranked = await ce.rank(QUERY, DOCUMENTS);
      const expectedScores = sequences.map((s) => 1 / (1 + Math.exp(-referenceLogits(fixture, s.inputIds)[0])));
      assert.deepEqual(ranked.results.map((r) => r.index), expectedScores.map((_, i) => i).sort((a, b) => expectedScores[b] - expectedScores[a]));
      for (const r of ranked.results) assert.ok(Math.abs(r.score - expectedScores[r.index]) < 1e-5);

      const ranker = await loadRanker(fixture.dir, { threads: 1 });
      try {
        assert.ok(ranker instanceof CrossEncoder);
        assert.deepEqual((await ranker.rank(QUERY, DOCUMENTS)).results, ranked.results);
      } finally {
        await ranker.dispose();
      }
    } finally {
      await ce.dispose();
    }
  });

  it('builds its graph from model.safetensors when onnx/ is missing, and runs int8 close to fp32', async (t) => {
    const dir = join(await scratchDir(), 'no-onnx');
    await cp(fixture.dir, dir, { recursive: true });
    await rm(join(dir, 'onnx'), { recursive: true });
    const rebuilt = await CrossEncoder.load(dir, { threads: 1 });
    const int8 = await CrossEncoder.load(fixture.dir, { threads: 1, dtype: 'int8' });
    try {
      const sequences = rebuilt.encodeDocuments(QUERY, DOCUMENTS);
      const reference = sequences.map((s) => referenceLogits(fixture, s.inputIds)[0]);
      const fp32 = (await rebuilt.logits(sequences)).map((r) => r[0]);
      assert.ok(maxAbsDiff(fp32, reference) < 1e-4);
      const quantized = (await int8.logits(sequences)).map((r) => r[0]);
      const spread = Math.max(...reference) - Math.min(...reference);
      const error = maxAbsDiff(quantized, reference);
      t.diagnostic(`int8 max |onnx - reference| = ${error.toFixed(4)}, logit spread ${spread.toFixed(4)}`);
      assert.ok(error < 0.1 * spread + 0.02, `int8 error ${error} against a logit spread of ${spread}`);
      assert.ok(error > 0, 'the int8 graph is a different graph');
    } finally {
      await rebuilt.dispose();
      await int8.dispose();
    }
  });

  it('a two-label head scores with softmax over its logits', async () => {
    const two = await writeFixture({ modelType: 'xlm-roberta', head: 'sequence-classification', labels: 2, seed: 22 }, tokenizers.get('unigram')!);
    const ce = await CrossEncoder.load(two.dir, { threads: 1 });
    try {
      assert.equal(ce.labels, 2);
      const scores = await ce.predict(DOCUMENTS.map((d) => [QUERY, d] as const));
      ce.encodeDocuments(QUERY, DOCUMENTS).forEach((s, i) => {
        const [a, b] = referenceLogits(two, s.inputIds);
        const expected = Math.exp(b) / (Math.exp(a) + Math.exp(b));
        assert.ok(Math.abs(scores[i] - expected) < 1e-5, `document ${i}: ${scores[i]} vs ${expected}`);
      });
    } finally {
      await ce.dispose();
    }
  });
});

describe('RoBERTa (byte-level BPE) models and encoders', { timeout: 300_000 }, () => {
  it('a roberta cross-encoder matches the reference', async () => {
    const fixture = await writeFixture({ modelType: 'roberta', head: 'sequence-classification', seed: 31 }, tokenizers.get('bpe')!);
    const ce = await CrossEncoder.load(fixture.dir, { threads: 1 });
    try {
      const sequences = ce.encodeDocuments(QUERY, DOCUMENTS);
      const rows = await ce.logits(sequences);
      sequences.forEach((s, i) => assert.ok(maxAbsDiff(rows[i], referenceLogits(fixture, s.inputIds)) < 1e-4, `document ${i}`));
    } finally {
      await ce.dispose();
    }
  });

  it('a plain encoder loads as a sentence encoder (mean and CLS pooling) and as an encoder ranker', async () => {
    const fixture = await writeFixture({ modelType: 'xlm-roberta', head: 'none', seed: 41 }, tokenizers.get('unigram')!);
    const texts = DOCUMENTS.slice(0, 5);
    const tokenizer = await RobertaTokenizer.fromFolder(fixture.dir);
    const normalize = (v: number[]) => {
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    for (const pooling of ['mean', 'cls'] as const) {
      const encoder = await loadSentenceEncoder(fixture.dir, { threads: 1, pooling });
      try {
        const vectors = await encoder.encode(texts);
        texts.forEach((text, i) => {
          const hidden = referenceHidden(fixture.config, fixture.weights, tokenizer.encodeSingle(text, { maxLength: 64 }).inputIds);
          const pooled = pooling === 'cls' ? hidden[0] : hidden[0].map((_, h) => hidden.reduce((a, row) => a + row[h], 0) / hidden.length);
          assert.ok(maxAbsDiff(vectors[i], normalize(pooled)) < 1e-4, `${pooling} vector of text ${i}`);
        });
      } finally {
        await encoder.dispose();
      }
    }
    const ranker = await loadRanker(fixture.dir, { threads: 1 });
    try {
      assert.ok(ranker instanceof EncoderRanker);
      assert.equal((await ranker.rank(QUERY, texts)).results.length, texts.length);
    } finally {
      await ranker.dispose();
    }
  });
});

describe('the RoBERTa family entry', () => {
  it('serves roberta and xlm-roberta, and checks configs naming the field', () => {
    assert.equal(familyFor('xlm-roberta'), robertaFamily);
    assert.equal(familyFor({ model_type: 'roberta' }), robertaFamily);
    const config = fixtureConfig({ modelType: 'xlm-roberta', head: 'none', seed: 1 }, 100);
    const { pad_token_id: _p, layer_norm_eps: _e, ...bare } = config;
    const filled = robertaFamily.validateConfig(bare, 'config.json') as RobertaConfig;
    assert.equal(filled.pad_token_id, 1, 'RoBERTa pads with 1 by default');
    assert.throws(() => validateRobertaConfig({ ...config, pad_token_id: 100 }, 'm/config.json'), (e: Error) =>
      e instanceof ModelInvalidError && /^m\/config\.json: field "pad_token_id" must be a token id below vocab_size \(100\)/.test(e.message));
    assert.throws(() => validateRobertaConfig({ ...config, position_embedding_type: 'relative_key' }, 'c'), /field "position_embedding_type" must be "absolute"/);
    assert.throws(() => validateRobertaConfig({ ...config, max_position_embeddings: 6 }, 'c'), /"max_position_embeddings" \(6\) must exceed pad_token_id \+ 1/);
    assert.throws(() => validateRobertaConfig({ ...config, hidden_size: 30 }, 'c'), ModelInvalidError);
  });

  it('retargets an encoder into a cross-encoder and back, and says training is not supported', () => {
    const encoderConfig = fixtureConfig({ modelType: 'xlm-roberta', head: 'none', seed: 1 }, 50);
    const encoder = fixtureWeights(encoderConfig, 'none', 3);
    const cross = robertaFamily.retarget(encoderConfig, encoder, 'sequence-classification', 7);
    assert.deepEqual(cross.config.architectures, ['XLMRobertaForSequenceClassification']);
    assert.equal(robertaFamily.headOf(cross.config), 'sequence-classification');
    const names = [...cross.weights.keys()];
    assert.ok(names.filter((n) => !n.startsWith('classifier.')).every((n) => n.startsWith('roberta.') && !n.includes('pooler')), names.join());
    assert.deepEqual(names.filter((n) => n.startsWith('classifier.')).sort(),
      ['classifier.dense.bias', 'classifier.dense.weight', 'classifier.out_proj.bias', 'classifier.out_proj.weight']);
    assert.deepEqual(cross.weights.get('classifier.out_proj.weight')!.shape, [1, HIDDEN]);
    assert.ok(buildRobertaOnnx(cross.config as RobertaConfig, cross.weights, { head: 'sequence-classification', dtype: 'int8' }).length > 0);
    // Same seed, same head.
    assert.deepEqual(robertaFamily.retarget(encoderConfig, encoder, 'sequence-classification', 7).weights.get('classifier.dense.weight'),
      cross.weights.get('classifier.dense.weight'));

    const back = robertaFamily.retarget(cross.config, cross.weights, 'none', 0);
    assert.deepEqual(back.config.architectures, ['XLMRobertaModel']);
    assert.equal(back.config.id2label, undefined);
    assert.ok([...back.weights.keys()].every((n) => !n.startsWith('roberta.') && !n.startsWith('classifier.')));
    assert.equal(back.weights.get('embeddings.word_embeddings.weight'), encoder.get('embeddings.word_embeddings.weight'));

    assert.throws(() => robertaFamily.torchLayout(cross.config, 'sequence-classification', undefined), (e: Error) =>
      e instanceof BackendUnavailableError && /training RoBERTa is not supported yet/.test(e.message));
  });
});

/** A head of the document text whose Rust ids are the whole document's first ids, and more than any pair keeps. */
async function referenceDoc(text: string, ids: readonly number[], budget: number, rustIds: (t: string) => Promise<number[]>): Promise<string> {
  if (ids.length <= budget) return text;
  for (let from = 64; from < text.length; from *= 2) {
    const cut = text.indexOf(' ', from);
    if (cut < 0) break;
    const head = await rustIds(text.slice(0, cut));
    if (head.length > budget && head.every((id, i) => id === ids[i])) return text.slice(0, cut);
  }
  return text;
}
