import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Tokenizer as RustTokenizer, type Encoding as RustEncoding, type TruncationStrategy } from 'tokenizers';
import {
  bertUncasedTokenizerConfig,
  bertUncasedTokenizerJson,
  bertUncasedVocab,
  writeBertUncasedTokenizerFiles,
} from '../src/models/bert-vocab.js';
import { bertNormalize, pairBudget, pairFromIds, PairTokenizer, type Encoded } from '../src/models/tokenizer/index.js';
import { handWrittenPairCases, randomPairCases, randomText, seededRandom, TRICKY_TEXTS, type PairCase } from './helpers/pair-cases.js';

const ONLY_SECOND = 'OnlySecond' as unknown as TruncationStrategy;
const LONGEST_FIRST = 'LongestFirst' as unknown as TruncationStrategy;

let dir: string;
let tokenizer: PairTokenizer;
/** The reference, loaded from the very tokenizer.json file we wrote; never truncates. */
let rust: RustTokenizer;
/** A second reference instance whose truncation each comparison sets. */
let rustTruncating: RustTokenizer;

const fromRust = (e: RustEncoding): Encoded => ({
  inputIds: e.getIds(),
  tokenTypeIds: e.getTypeIds(),
  attentionMask: e.getAttentionMask(),
});

async function rustIds(text: string): Promise<number[]> {
  return (await rust.encode(text, null, { addSpecialTokens: false })).getIds();
}

type Category = 'fits' | 'doc cut' | 'query cut';

/**
 * What the reference gives for a pair. When the query takes at most half the budget, that is Rust's own
 * `only_second` truncation. Beyond that our policy cuts the query to half the budget first (only_second alone
 * would keep the whole query or fail), and Rust then truncates the document and lays out the pair.
 */
async function rustPair(c: PairCase): Promise<{ expected: Encoded; category: Category; queryLength: number }> {
  const query = await rust.encode(c.query, null, { addSpecialTokens: false });
  const doc = await rust.encode(c.doc, null, { addSpecialTokens: false });
  const budget = c.maxLength - 3;
  const half = Math.floor(budget / 2);
  const docText = await referenceDoc(c.doc, doc.getIds(), budget);
  rustTruncating.setTruncation(c.maxLength, { strategy: ONLY_SECOND });
  if (query.getLength() + doc.getLength() <= budget || query.getLength() <= half) {
    const encoded = await rustTruncating.encode(c.query, docText);
    const category = query.getLength() + doc.getLength() <= budget ? 'fits' : 'doc cut';
    return { expected: fromRust(encoded), category, queryLength: query.getLength() };
  }
  if (query.getLength() > budget) {
    await assert.rejects(rustTruncating.encode(c.query, docText), /[Tt]runcat/, `${c.name}: only_second should not fit this pair`);
  }
  query.truncate(half, 0, 'right');
  const docEncoding = await rust.encode(docText, null, { addSpecialTokens: false });
  return { expected: fromRust(rustTruncating.postProcess(query, docEncoding, true)), category: 'query cut', queryLength: half };
}

/**
 * A head of the document text that Rust's truncation treats exactly like the whole document: its tokens are the
 * whole document's first tokens, and more of them than any pair can keep. Rust builds every overflowing piece
 * while truncating, which is quadratic for a document of thousands of tokens at a tiny maxLength.
 */
async function referenceDoc(text: string, ids: readonly number[], budget: number): Promise<string> {
  for (let from = 64; from < text.length; from *= 2) {
    const cut = text.indexOf(' ', from);
    if (cut < 0) break;
    const head = await rustIds(text.slice(0, cut));
    if (head.length > budget && sameIds(head, ids.slice(0, head.length))) return text.slice(0, cut);
  }
  return text;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rankwise-tokenizer-'));
  await writeBertUncasedTokenizerFiles(dir);
  tokenizer = await PairTokenizer.fromFolder(dir);
  rust = RustTokenizer.fromFile(join(dir, 'tokenizer.json'));
  rustTruncating = RustTokenizer.fromFile(join(dir, 'tokenizer.json'));
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bert-base-uncased vocabulary', { timeout: 120_000 }, () => {
  it('restores the ids of bert-base-uncased', () => {
    const vocab = bertUncasedVocab();
    assert.equal(vocab.length, 30522);
    const expected: Record<string, number> = {
      '[PAD]': 0,
      '[unused0]': 1,
      '[unused98]': 99,
      '[UNK]': 100,
      '[CLS]': 101,
      '[SEP]': 102,
      '[MASK]': 103,
      '[unused99]': 104,
      '[unused993]': 998,
      '!': 999,
      the: 1996,
      '##s': 2015,
      '##ing': 2075,
      hello: 7592,
      '###': 29614,
      '##～': 30521,
    };
    for (const [token, id] of Object.entries(expected)) assert.equal(vocab[id], token, `id ${id}`);
    assert.equal(new Set(vocab).size, vocab.length, 'tokens are unique');
    assert.ok(!vocab.some((t) => t.includes('▁') || t === ''), 'no SentencePiece markers or empty tokens remain');
  });

  it('writes tokenizer files that the Rust tokenizer loads, atomically', async () => {
    const files = (await readdir(dir)).sort();
    assert.deepEqual(files, ['tokenizer.json', 'tokenizer_config.json'], 'no temp files left behind');
    const text = await readFile(join(dir, 'tokenizer.json'), 'utf8');
    assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(bertUncasedTokenizerJson())));
    // As HF writes it: in id order, though JS objects put integer-like keys such as "1" first.
    const positions = ['"[PAD]": 0,', '"[unused0]": 1,', '"!": 999,', '"1": 1015,', '"the": 1996,', '"##～": 30521'].map((line) => text.indexOf(line));
    assert.ok(positions.every((p, i) => p > 0 && (i === 0 || p > positions[i - 1])), `vocab written in id order (${positions})`);
    const config: Record<string, unknown> = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8'));
    assert.deepEqual(config, bertUncasedTokenizerConfig());
    assert.equal(config.model_max_length, 512);
    assert.equal(config.do_lower_case, true);
    assert.equal(config.tokenizer_class, 'BertTokenizer');
    assert.equal(rust.getVocabSize(true), 30522);
    assert.equal(rust.tokenToId('the'), 1996);
  });

  it('encodes the Hugging Face documentation example with the published ids', () => {
    // BertTokenizer("bert-base-uncased")("Hello, my dog is cute") in the transformers docs.
    assert.deepEqual(tokenizer.encodeSingle('Hello, my dog is cute', { maxLength: 512 }).inputIds, [101, 7592, 1010, 2026, 3899, 2003, 10140, 102]);
  });

  it('exposes the special ids and the model length', () => {
    assert.equal(tokenizer.clsId, 101);
    assert.equal(tokenizer.sepId, 102);
    assert.equal(tokenizer.padId, 0);
    assert.equal(tokenizer.maskId, 103);
    assert.equal(tokenizer.modelMaxLength, 512);
    assert.equal(PairTokenizer.fromJson(bertUncasedTokenizerJson()).modelMaxLength, 512);
    assert.equal(PairTokenizer.fromJson(bertUncasedTokenizerJson(), { model_max_length: 128 }).modelMaxLength, 128);
    assert.equal(PairTokenizer.fromJson(bertUncasedTokenizerJson(), { model_max_length: 1e30 }).modelMaxLength, 512);
  });
});

describe('parity with the Rust tokenizer', { timeout: 120_000 }, () => {
  it('normalizes and tokenizes every Unicode code point as Rust does', async () => {
    const normalizer = rust.getNormalizer()!;
    const options = { cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true };
    const mismatches: string[] = [];
    for (let base = 0; base < 0x110000; base += 4096) {
      let text = '';
      for (let cp = base; cp < base + 4096; cp++) {
        if (cp < 0xd800 || cp > 0xdfff) text += `A${String.fromCodePoint(cp)}b `;
      }
      if (bertNormalize(text, options) !== normalizer.normalizeString(text)) mismatches.push(`normalize U+${base.toString(16)}..`);
      const ids = await rustIds(text);
      if (!sameIds(tokenizer.tokenIds(text), ids)) mismatches.push(`ids U+${base.toString(16)}..`);
    }
    assert.deepEqual(mismatches, []);
  });

  it('gives the same ids for every tricky text', async () => {
    for (const text of TRICKY_TEXTS) assert.deepEqual(tokenizer.tokenIds(text), await rustIds(text), JSON.stringify(text));
  });

  it('matches ids, token types and masks on hand-written and seeded pairs', async () => {
    const cases = [...handWrittenPairCases(), ...randomPairCases(20240611, 320)];
    assert.ok(cases.length >= 300, `${cases.length} cases`);
    const counts: Record<Category, number> = { fits: 0, 'doc cut': 0, 'query cut': 0 };
    for (const c of cases) {
      const { expected, category, queryLength } = await rustPair(c);
      counts[category]++;
      const actual = tokenizer.encodePair(c.query, c.doc, { maxLength: c.maxLength });
      assert.deepEqual(actual, expected, `${c.name} (maxLength ${c.maxLength}, ${category})`);
      assert.ok(actual.inputIds.length <= c.maxLength, c.name);
      assert.equal(actual.inputIds.indexOf(tokenizer.sepId, 1 + queryLength), 1 + queryLength, `${c.name}: query keeps ${queryLength} tokens`);
    }
    // Each branch of the truncation policy must actually be exercised.
    for (const category of Object.keys(counts) as Category[]) assert.ok(counts[category] >= 40, `${category}: ${counts[category]} cases`);
  });

  it('keeps [CLS] A [SEP] [SEP] for an empty document, as Rust does', async () => {
    const expected = [tokenizer.clsId, ...(await rustIds('a question')), tokenizer.sepId, tokenizer.sepId];
    const pair = tokenizer.encodePair('a question', '', { maxLength: 512 });
    assert.deepEqual(pair.inputIds, expected);
    assert.deepEqual(pair.tokenTypeIds, [0, 0, 0, 0, 1]);
    assert.deepEqual(tokenizer.encodePair('', '', { maxLength: 4 }).inputIds, [101, 102, 102]);
  });

  it('encodes single texts like Rust with tail truncation', async () => {
    for (const maxLength of [4, 7, 16, 512]) {
      rustTruncating.setTruncation(maxLength, { strategy: LONGEST_FIRST });
      for (const text of [...TRICKY_TEXTS, 'word '.repeat(3000)]) {
        const expected = fromRust(await rustTruncating.encode(text));
        assert.deepEqual(tokenizer.encodeSingle(text, { maxLength }), expected, `${JSON.stringify(text.slice(0, 40))} at ${maxLength}`);
      }
    }
  });

  it('decodes like Rust', async () => {
    const random = seededRandom(7);
    const texts = [...TRICKY_TEXTS, ...Array.from({ length: 40 }, () => randomText(random, 30))];
    for (const text of texts) {
      const ids = tokenizer.encodePair(text, 'and a document, too!', { maxLength: 512 }).inputIds;
      for (const skip of [true, false]) {
        assert.equal(tokenizer.decode(ids, { skipSpecialTokens: skip }), await rust.decode(ids, skip), `${JSON.stringify(text)} skip=${skip}`);
      }
    }
  });

  it('shows single tokens by id', () => {
    assert.equal(tokenizer.decodeToken(101), '[CLS]');
    assert.equal(tokenizer.decodeToken(2015), '##s');
    assert.equal(tokenizer.decodeToken(rust.tokenToId('the')!), 'the');
    assert.throws(() => tokenizer.decodeToken(30522), /not a token id/);
  });

  it('falls back to @huggingface/tokenizers for pipelines other than BERT', async () => {
    const json = bertUncasedTokenizerJson() as Record<string, unknown>;
    json.normalizer = { type: 'Sequence', normalizers: [{ type: 'NFD' }, { type: 'Lowercase' }, { type: 'StripAccents' }] };
    const other = PairTokenizer.fromJson(json);
    const reference = RustTokenizer.fromString(JSON.stringify(json));
    for (const text of ['Hello, my dog is cute', 'Café NAÏVE résumé', 'numbers 3.14 and 1,000']) {
      const expected = (await reference.encode(text, null, { addSpecialTokens: false })).getIds();
      assert.deepEqual(other.tokenIds(text), expected, text);
    }
    assert.deepEqual(other.encodePair('a', 'b', { maxLength: 8 }).inputIds, [101, 1037, 102, 1038, 102]);
  });
});

describe('truncation policy', { timeout: 120_000 }, () => {
  it('cuts only the document while the query takes at most half the budget', () => {
    assert.deepEqual(pairBudget(10, 20, 40), { queryKeep: 10, docKeep: 20 });
    assert.deepEqual(pairBudget(10, 600, 512), { queryKeep: 10, docKeep: 499 });
    assert.deepEqual(pairBudget(254, 600, 512), { queryKeep: 254, docKeep: 255 });
  });

  it('cuts a long query to half the budget, leaving the document the rest', () => {
    assert.deepEqual(pairBudget(255, 600, 512), { queryKeep: 254, docKeep: 255 });
    assert.deepEqual(pairBudget(900, 600, 512), { queryKeep: 254, docKeep: 255 });
    assert.deepEqual(pairBudget(900, 3, 512), { queryKeep: 254, docKeep: 3 });
    assert.deepEqual(pairBudget(300, 200, 512), { queryKeep: 300, docKeep: 200 }, 'nothing is cut when both fit');
    assert.deepEqual(pairBudget(5, 5, 4), { queryKeep: 0, docKeep: 1 });
  });

  it('builds pairs from ids with the given layout', () => {
    const pair = pairFromIds([1, 2, 3], [4, 5, 6, 7], 8, { clsId: 101, sepId: 102 });
    assert.deepEqual(pair.inputIds, [101, 1, 2, 102, 4, 5, 6, 102]);
    assert.deepEqual(pair.tokenTypeIds, [0, 0, 0, 0, 1, 1, 1, 1]);
    assert.deepEqual(tokenizer.pairFromIds([1, 2], [3], 512).inputIds, [101, 1, 2, 102, 3, 102]);
  });
});

describe('encodePairWindows', { timeout: 120_000 }, () => {
  it('covers every document token with exact overlaps, each window a valid pair', () => {
    const random = seededRandom(99);
    const settings = [
      { maxLength: 512, overlap: 128 },
      { maxLength: 64, overlap: 0 },
      { maxLength: 32, overlap: 7 },
      { maxLength: 16, overlap: 5 },
      { maxLength: 8, overlap: 1 },
    ];
    let checked = 0;
    for (let i = 0; i < 30; i++) {
      const query = i % 10 === 9 ? randomText(random, 200) : randomText(random, 1 + Math.floor(random() * 8));
      const doc = randomText(random, 50 + Math.floor(random() * 2500)).replaceAll('[SEP]', '');
      const queryIds = tokenizer.tokenIds(query);
      const docIds = tokenizer.tokenIds(doc);
      for (const { maxLength, overlap } of settings) {
        const { queryKeep, docKeep } = pairBudget(queryIds.length, docIds.length, maxLength);
        const docBudget = maxLength - 3 - queryKeep;
        if (docKeep < docIds.length && overlap >= docBudget) continue;
        const windows = tokenizer.encodePairWindows(query, doc, { maxLength, overlap });
        assert.deepEqual(windows[0], tokenizer.encodePair(query, doc, { maxLength }), 'first window is encodePair');
        const rebuilt: number[] = [];
        windows.forEach((w, k) => {
          assert.ok(w.inputIds.length <= maxLength);
          assert.equal(w.inputIds[0], tokenizer.clsId);
          assert.deepEqual(w.inputIds.slice(1, 1 + queryKeep), queryIds.slice(0, queryKeep), 'same query part in every window');
          assert.equal(w.inputIds[1 + queryKeep], tokenizer.sepId);
          assert.equal(w.inputIds.at(-1), tokenizer.sepId);
          assert.deepEqual(w.tokenTypeIds, w.inputIds.map((_, j) => (j < queryKeep + 2 ? 0 : 1)));
          assert.ok(w.attentionMask.every((m) => m === 1));
          const part = w.inputIds.slice(queryKeep + 2, -1);
          if (k === 0) rebuilt.push(...part);
          else {
            assert.deepEqual(part.slice(0, overlap), rebuilt.slice(rebuilt.length - overlap), `window ${k} overlaps by ${overlap}`);
            assert.ok(part.length > overlap, 'every window adds new tokens');
            rebuilt.push(...part.slice(overlap));
          }
          if (k < windows.length - 1) assert.equal(part.length, docBudget, 'inner windows are full');
        });
        assert.deepEqual(rebuilt, docIds, 'windows cover the document exactly');
        checked++;
      }
    }
    assert.ok(checked >= 100, `${checked} window checks`);
  });

  it('gives one window, equal to encodePair, for a document that fits', () => {
    const windows = tokenizer.encodePairWindows('short query', 'short document', { maxLength: 512, overlap: 128 });
    assert.deepEqual(windows, [tokenizer.encodePair('short query', 'short document', { maxLength: 512 })]);
    assert.deepEqual(tokenizer.encodePairWindows('q', '', { maxLength: 4, overlap: 0 }), [tokenizer.encodePair('q', '', { maxLength: 4 })]);
  });
});

describe('pad', { timeout: 120_000 }, () => {
  it('right-pads to the longest sequence', () => {
    const batch = [
      tokenizer.encodePair('a', 'b c', { maxLength: 512 }),
      tokenizer.encodePair('query', 'a much longer document here', { maxLength: 512 }),
      tokenizer.encodeSingle('x', { maxLength: 512 }),
    ];
    const padded = tokenizer.pad(batch);
    const width = Math.max(...batch.map((e) => e.inputIds.length));
    assert.equal(padded.batchSize, 3);
    assert.equal(padded.sequenceLength, width);
    assert.equal(padded.inputIds.length, 3 * width);
    batch.forEach((e, row) => {
      const slice = (a: BigInt64Array) => Array.from(a.subarray(row * width, (row + 1) * width), Number);
      const padding = width - e.inputIds.length;
      assert.deepEqual(slice(padded.inputIds), [...e.inputIds, ...Array(padding).fill(tokenizer.padId)]);
      assert.deepEqual(slice(padded.tokenTypeIds), [...e.tokenTypeIds, ...Array(padding).fill(0)]);
      assert.deepEqual(slice(padded.attentionMask), [...e.attentionMask, ...Array(padding).fill(0)]);
    });
  });

  it('pads with a non-zero pad id and handles an empty batch', () => {
    const custom = PairTokenizer.fromJson(bertUncasedTokenizerJson(), { pad_token: '[MASK]' });
    assert.equal(custom.padId, 103);
    const padded = custom.pad([custom.encodeSingle('a b c', { maxLength: 512 }), custom.encodeSingle('', { maxLength: 512 })]);
    assert.deepEqual(Array.from(padded.inputIds, Number), [101, 1037, 1038, 1039, 102, 101, 102, 103, 103, 103]);
    const empty = tokenizer.pad([]);
    assert.equal(empty.batchSize, 0);
    assert.equal(empty.sequenceLength, 0);
    assert.equal(empty.inputIds.length, 0);
  });
});

describe('errors', { timeout: 120_000 }, () => {
  it('rejects a maxLength that is not an integer >= 4, naming maxLength', () => {
    for (const maxLength of [3, 0, -1, 4.5, Number.NaN, Infinity]) {
      assert.throws(() => tokenizer.encodePair('q', 'd', { maxLength }), /maxLength must be an integer >= 4/);
      assert.throws(() => tokenizer.encodeSingle('q', { maxLength }), /maxLength/);
      assert.throws(() => tokenizer.encodePairWindows('q', 'd', { maxLength, overlap: 0 }), /maxLength/);
      assert.throws(() => pairFromIds([], [], maxLength, { clsId: 101, sepId: 102 }), /maxLength/);
    }
  });

  it('rejects a bad overlap, naming overlap and the budget', () => {
    const doc = 'word '.repeat(100);
    assert.throws(() => tokenizer.encodePairWindows('q', doc, { maxLength: 32, overlap: -1 }), /overlap must be an integer >= 0/);
    assert.throws(() => tokenizer.encodePairWindows('q', doc, { maxLength: 32, overlap: 1.5 }), /overlap/);
    assert.throws(() => tokenizer.encodePairWindows('q', doc, { maxLength: 32, overlap: 28 }), /overlap \(28\) must be smaller than the document tokens per window \(28/);
  });

  it('names the missing or invalid file', async () => {
    const missing = join(dir, 'nope');
    await assert.rejects(PairTokenizer.fromFolder(missing), (e: Error) => e.message.includes(join(missing, 'tokenizer.json')) && /is missing/.test(e.message));
    const broken = await mkdtemp(join(tmpdir(), 'rankwise-tokenizer-broken-'));
    try {
      await writeFile(join(broken, 'tokenizer.json'), '{ not json');
      await assert.rejects(PairTokenizer.fromFolder(broken), /tokenizer\.json is not valid JSON/);
      await writeFile(join(broken, 'tokenizer.json'), JSON.stringify(bertUncasedTokenizerJson()));
      await writeFile(join(broken, 'tokenizer_config.json'), '{');
      await assert.rejects(PairTokenizer.fromFolder(broken), /tokenizer_config\.json is not valid JSON/);
      await writeFile(join(broken, 'tokenizer_config.json'), '{}');
      assert.equal((await PairTokenizer.fromFolder(broken)).modelMaxLength, 512);
      await writeFile(join(broken, 'tokenizer.json'), JSON.stringify({ version: '1.0' }));
      await assert.rejects(PairTokenizer.fromFolder(broken), (e: Error) => e.message.includes(join(broken, 'tokenizer.json')) && /"model" is missing/.test(e.message));
    } finally {
      await rm(broken, { recursive: true, force: true });
    }
  });

  it('refuses pair templates that are not BERT-shaped', () => {
    const json = bertUncasedTokenizerJson() as Record<string, unknown>;
    json.post_processor = { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0], trim_offsets: true, add_prefix_space: false };
    assert.throws(() => PairTokenizer.fromJson(json), /not a BERT-style pair template/);
  });
});

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
