import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';

/** One sequence ready for a BERT-style model: ids, segment (token type) ids, and a mask of ones. */
export interface Encoded {
  inputIds: number[];
  tokenTypeIds: number[];
  attentionMask: number[];
}

/** A right-padded batch, row-major `[batchSize, sequenceLength]`, as onnxruntime wants int64 inputs. */
export interface PaddedBatch {
  inputIds: BigInt64Array;
  tokenTypeIds: BigInt64Array;
  attentionMask: BigInt64Array;
  batchSize: number;
  sequenceLength: number;
}

export interface PairEncodeOptions {
  /** Longest sequence to produce, special tokens included; an integer >= 4. */
  maxLength: number;
}

export interface PairWindowOptions extends PairEncodeOptions {
  /** Document tokens shared by consecutive windows; an integer >= 0, smaller than the document budget. */
  overlap: number;
}

/**
 * What cross-encoders, bi-encoders and the trainer need from a tokenizer, whatever the model family: BERT's
 * WordPiece (`PairTokenizer`) and USE Lite's SentencePiece (`UseLitePairTokenizer`) both provide it.
 */
export interface SequenceTokenizer {
  /** Longest sequence the model accepts, special tokens included. */
  readonly modelMaxLength: number;
  /** The text's ids without special tokens. */
  tokenIds(text: string): number[];
  /** A pair from already-tokenized sides, cut and laid out as `encodePair` would (a query tokenized once, many documents). */
  pairFromIds(queryIds: readonly number[], docIds: readonly number[], maxLength: number): Encoded;
  encodePair(query: string, doc: string, options: PairEncodeOptions): Encoded;
  encodePairWindows(query: string, doc: string, options: PairWindowOptions): Encoded[];
  encodeSingle(text: string, options: PairEncodeOptions): Encoded;
  pad(batch: readonly Encoded[]): PaddedBatch;
}

/** Right-pads every sequence with `padId` (type 0, mask 0) to the longest in the batch. */
export function padEncoded(batch: readonly Encoded[], padId: number): PaddedBatch {
  const batchSize = batch.length;
  let sequenceLength = 0;
  for (const e of batch) sequenceLength = Math.max(sequenceLength, e.inputIds.length);
  const size = batchSize * sequenceLength;
  const inputIds = new BigInt64Array(size);
  const tokenTypeIds = new BigInt64Array(size);
  const attentionMask = new BigInt64Array(size);
  const pad = BigInt(padId);
  for (let row = 0; row < batchSize; row++) {
    const e = batch[row];
    const n = e.inputIds.length;
    if (e.tokenTypeIds.length !== n || e.attentionMask.length !== n) {
      throw new Error(`pad: sequence ${row} has ${n} ids but ${e.tokenTypeIds.length} token types and ${e.attentionMask.length} mask entries`);
    }
    const base = row * sequenceLength;
    for (let i = 0; i < n; i++) {
      inputIds[base + i] = BigInt(e.inputIds[i]);
      tokenTypeIds[base + i] = BigInt(e.tokenTypeIds[i]);
      attentionMask[base + i] = BigInt(e.attentionMask[i]);
    }
    if (pad !== 0n) inputIds.fill(pad, base + n, base + sequenceLength);
  }
  return { inputIds, tokenTypeIds, attentionMask, batchSize, sequenceLength };
}

/**
 * How a pair is laid out: `[CLS] A [SEP] B [SEP]` with a token type per part. Read from the tokenizer's
 * post-processor, so a template that gives every part type 0 is followed too.
 */
export interface PairLayout {
  clsId: number;
  sepId: number;
  clsType: number;
  queryType: number;
  midSepType: number;
  docType: number;
  endSepType: number;
}

const BERT_LAYOUT: Omit<PairLayout, 'clsId' | 'sepId'> = { clsType: 0, queryType: 0, midSepType: 0, docType: 1, endSepType: 1 };

// ---------------------------------------------------------------------------------------------------------------
// Truncation policy

function checkMaxLength(maxLength: number): void {
  if (!Number.isInteger(maxLength) || maxLength < 4) {
    throw new Error(`maxLength must be an integer >= 4 (room for [CLS], [SEP], [SEP] and one token), got ${maxLength}`);
  }
}

/**
 * How many query and document tokens a pair keeps within `maxLength` (3 of which go to [CLS], [SEP], [SEP]).
 *
 * Policy, with `budget = maxLength - 3` and `half = floor(budget / 2)`:
 * - query + document fit in the budget: nothing is cut.
 * - they do not fit and the query has at most `half` tokens: only the document's tail is cut. This is exactly
 *   Hugging Face's `truncation="only_second"`.
 * - they do not fit and the query has more than `half` tokens: the query's tail is cut to `half` tokens and the
 *   document keeps up to `budget - half` tokens. `only_second` would fail here (it never cuts the first text), and
 *   `longest_first` would let a long query crowd out the document, which is what is being ranked. A pair that
 *   fits is never cut, so every pair Python's tokenizer can encode is encoded exactly as it would be there.
 */
export function pairBudget(queryLength: number, docLength: number, maxLength: number): { queryKeep: number; docKeep: number } {
  checkMaxLength(maxLength);
  const budget = maxLength - 3;
  if (queryLength + docLength <= budget) return { queryKeep: queryLength, docKeep: docLength };
  const queryKeep = Math.min(queryLength, Math.floor(budget / 2));
  return { queryKeep, docKeep: Math.min(docLength, budget - queryKeep) };
}

function buildPair(
  queryIds: readonly number[],
  queryKeep: number,
  docIds: readonly number[],
  docFrom: number,
  docTo: number,
  layout: PairLayout,
): Encoded {
  const length = queryKeep + (docTo - docFrom) + 3;
  const inputIds = new Array<number>(length);
  const tokenTypeIds = new Array<number>(length);
  let k = 0;
  inputIds[k] = layout.clsId;
  tokenTypeIds[k++] = layout.clsType;
  for (let i = 0; i < queryKeep; i++) {
    inputIds[k] = queryIds[i];
    tokenTypeIds[k++] = layout.queryType;
  }
  inputIds[k] = layout.sepId;
  tokenTypeIds[k++] = layout.midSepType;
  for (let i = docFrom; i < docTo; i++) {
    inputIds[k] = docIds[i];
    tokenTypeIds[k++] = layout.docType;
  }
  inputIds[k] = layout.sepId;
  tokenTypeIds[k] = layout.endSepType;
  return { inputIds, tokenTypeIds, attentionMask: new Array<number>(length).fill(1) };
}

function fullLayout(layout: Pick<PairLayout, 'clsId' | 'sepId'> & Partial<PairLayout>): PairLayout {
  return { ...BERT_LAYOUT, ...layout };
}

/**
 * `[CLS] query [SEP] doc [SEP]` from token ids (no special tokens in them), truncated per {@link pairBudget}.
 * Lets a caller tokenize a query once and pair it with many documents.
 */
export function pairFromIds(
  queryIds: readonly number[],
  docIds: readonly number[],
  maxLength: number,
  layout: Pick<PairLayout, 'clsId' | 'sepId'> & Partial<PairLayout>,
): Encoded {
  const { queryKeep, docKeep } = pairBudget(queryIds.length, docIds.length, maxLength);
  return buildPair(queryIds, queryKeep, docIds, 0, docKeep, fullLayout(layout));
}

/**
 * Overlapping windows over a document that does not fit with its query: window `k` holds document tokens
 * `[k * stride, k * stride + docBudget)` with `stride = docBudget - overlap`, the last window ending at the
 * document's end. The query is cut as in {@link pairBudget}, so the first window equals {@link pairFromIds}; a
 * document that fits gives that one pair alone.
 */
export function pairWindowsFromIds(
  queryIds: readonly number[],
  docIds: readonly number[],
  maxLength: number,
  overlap: number,
  layout: Pick<PairLayout, 'clsId' | 'sepId'> & Partial<PairLayout>,
): Encoded[] {
  if (!Number.isInteger(overlap) || overlap < 0) throw new Error(`overlap must be an integer >= 0, got ${overlap}`);
  const { queryKeep, docKeep } = pairBudget(queryIds.length, docIds.length, maxLength);
  const full = fullLayout(layout);
  if (docKeep === docIds.length) return [buildPair(queryIds, queryKeep, docIds, 0, docKeep, full)];
  const docBudget = maxLength - 3 - queryKeep;
  if (overlap >= docBudget) {
    throw new Error(
      `overlap (${overlap}) must be smaller than the document tokens per window (${docBudget} at maxLength ${maxLength} ` +
        `with a ${queryKeep}-token query); any overlap below ${Math.ceil((maxLength - 3) / 2)} is safe at this maxLength`,
    );
  }
  const stride = docBudget - overlap;
  const windows: Encoded[] = [];
  for (let start = 0; ; start += stride) {
    const end = Math.min(start + docBudget, docIds.length);
    windows.push(buildPair(queryIds, queryKeep, docIds, start, end, full));
    if (end === docIds.length) return windows;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Character classes of the reference (Hugging Face's Rust `tokenizers`)

/*
 * The Rust tokenizer classifies characters with its own, older Unicode tables: several hundred code points that
 * today's \p{P} / \p{Mn} call punctuation or accents are letters to it, it keeps unassigned code points that
 * \p{Cn}-based checks would drop, and its CJK ranges skip U+2B820..U+2B91F. Regex classes would also change with
 * the ICU of each Node release. So the sets are carried here as measured from `tokenizers` 0.23.2 over every code
 * point: comma-separated base-36 `start` or `start-count` ranges (count = extra code points after start). NFD and
 * lowercasing still come from the JS engine; the parity test sweeps every code point to catch an ICU that drifts.
 */
const RUST_TABLES = {
  /** Removed by clean_text: Rust `is_other` minus \t \n \r, plus U+0000 and U+FFFD. */
  control:
    '0-8,b-1,e-h,3j-w,4t,16o-5,17g,1ct,1e7,4r2,6bv-4,6cq-4,6e8-4,6ee-9,188w-4xr,1edb,1ek9-2,1ekd,1hvh,' +
    '2fts-3,2jxv-7,jny9,jnz4-2n,l2io-1ekd,mh34-1ekd',
  /** Rust `char::is_whitespace`. */
  whitespace:
    '9-4,w,3p,4g,4g0,6bk-a,6co-1,6cv,6e7,9hc',
  /** BertPreTokenizer punctuation: ASCII punctuation or the Rust tables' P* categories. */
  punctuation:
    'x-e,1m-6,2j-5,3f-3,4h,4n,4r,52-1,57,5b,ou,p3,122-5,13d-1,14u,14w,14z,152,16b-1,16x-1,170-1,17f,' +
    '17i-1,19m-3,1ck,1ds-d,1kn-2,1m8-e,1ni,1us-1,1v4,25s,2r8,2tr,2u2-1,2ys-e,2z8,30a-3,32d,34g-4,34p-1,' +
    '37u-5,3cr,3ts-8,3y8,4fh-1,4gr-1,4iz-2,4l1-1,4pg-2,4pk-2,4qo-a,4zo-1,55q-1,59c-6,59k-5,5ei-6,5j0-3,' +
    '5kr-4,5mm-1,5og-7,5oz,6c0-n,6cw-j,6dh-c,6dv-b,6f1-1,6fh-1,6x4-3,6y1-1,7s8-d,7ut-1,7vq-9,877-l,89k-3,' +
    '8ak-1,8vt-3,8vy-1,8z4,934-1a,94g-i,9hd-2,9hk-9,9hw-b,9io,9j1,9ls,9ob,wla-1,wst-2,wvn,wvy,wz6-5,' +
    'x9w-3,xce-1,xdk-2,xdo,xf2-1,xgf,xj5-c,xjy-1,xng-3,xr2-1,xrk-1,xyj,1e0u-1,1e6o-9,1e7k-y,1e8k-d,1e8z,' +
    '1e94,1e96-1,1edd-2,1edh-5,1edo-3,1ee2-1,1ee7-1,1eez-2,1ef3,1efv,1efx,1efz-6,1erk-2,1fa7,1fbk,1fn3,' +
    '1g7r,1gdb,1ge7,1gls-8,1gn3,1gq8-6,1gs9-6,1gux-3,1hs7-6,1hvf-1,1hvi-3,1hz4-3,1i0k-1,1i2t-4,1i31,1i3f,' +
    '1i3h-2,1i60-5,1i95,1io6,1iv5-m,1iyp-2,1j5o-2,1lrk-4,1zla-1,1zp1,1zqv-4,1zr8,2ftr,2lqf-4',
  /**
   * Code points Rust's NFD leaves alone as plain starters (its normalization tables predate them) while ICU
   * decomposes them or gives them a combining class: NFD is applied around them, never across.
   */
  nfdStarters:
    '1kt,1p3-8,1qi-9,1z2,2f0,2m3-1,2wq,4k5,5a7-u,5b4-b,5x2-4,x7w,1fpl,1fqc,1h5w-3,1h7t-4,1hgr-1,1hiy-1,1hj1-2,' +
    '1hl2-a,1hmq-3,1htc,1id7,1if7,1if9,1ifi,1ifl,1ih1,1ih3-1,1iha-2,1ila,1jcp-1,1jjs,1jjx-1,1jk3,1jog,1jqs,1jrb,' +
    '1jtl,1kci,1kck-1,1kev,1kqp-1,1xr5-7,1xrj,206g-2,20og-1,2mxb,2n1s-6,2nce,2ne4-3,2nsc-3,2nzi-1,2o6b,2o6e,' +
    '2o6m-1,2o6t',
  /** Nonspacing marks, removed after NFD when accents are stripped. */
  nonspacingMarks:
    'lc-33,w3-4,13l-18,14v,14x-1,150-1,153,174-a,18r-k,19s,1cm-6,1cv-5,1d3-1,1d6-3,1e9,1f4-q,1ie-a,1kb-8,' +
    '1li-3,1ln-8,1lx-2,1m1-4,1nd-2,1r7-v,1tm,1to,1tt-7,1u5,1u9-6,1uq-1,1vl,1x8,1xd-3,1xp,1ya-1,1z5-1,20s,' +
    '20x-1,213-1,217-2,21d,228-1,22d,22p-1,24c,24h-4,24n-1,24t,25e-1,269,27w,27z,281-3,28d,28m,28y-1,29u,' +
    '2bk,2bx,2dc,2f2-2,2fa-2,2fe-3,2fp-1,2g2-1,2gx,2ik,2in,2iu,2j0-1,2jm-1,2kh,2m9-3,2ml,2n6-1,2q2,2qa-2,' +
    '2qe,2sx,2t0-6,2tj-7,2wh,2wk-5,2wr-1,2x4-5,2zc-1,305,307,309,31t-d,328-4,32e-1,32l-a,32x-z,346,371-3,' +
    '376-5,37d-1,37h-1,388-1,38e-2,38x-3,39e,39h-1,39p,3a5,3tp-2,4k2-2,4ky-2,4lu-1,4mq-1,4ok-1,4on-6,4p2,' +
    '4p5-a,4pp,4qz-2,4vd,4yo-2,4yv-1,4z6,4zd-2,55j-1,55n,57a,57c-6,57k,57m,57p-7,583-9,58f,59s-d,5c0-3,' +
    '5dg,5di-4,5do,5du,5ez-8,5fk-1,5gi-3,5go-1,5gr-2,5ie,5ig-1,5il,5in-2,5kc-7,5km-1,5ow-2,5p0-c,5pe-6,' +
    '5pp,5pw,5q0-1,5vk-1h,5x8-3,6hc-c,6ht,6hx-b,8vj-2,8zj,928-v,9ii-3,9ll-1,wvj,wvo-9,wwu-1,wz4-1,x6q,' +
    'x6u,x6z,x7p-1,xc4,xcw-h,xeu-7,xfr-a,xhc-2,xir,xiu-3,xj0,xk5,xm1-5,xm9-1,xmd-1,xmr,xn0,xoc,xps,xpu-2,' +
    'xpz-1,xq6-1,xq9,xrg-1,xrq,xyd,xyg,xyl,1dlq,1e68-f,1e74-f,1eyl,1f4w,1f92-4,1gjl-2,1gjp-1,1gjw-3,' +
    '1gl4-2,1glb,1gpx-1,1hq9,1hrs-e,1htr-2,1hv7-3,1hvd-1,1hxc-2,1hyf-4,1hyl-7,1i0j,1i0w-1,1i2e-8,1i2y-2,' +
    '1i5r-2,1i5w,1i5y-1,1ian,1iar-7,1ibk-1,1id8,1idc,1iee-6,1ieo-4,1inn-5,1inu,1inz-1,1io2-1,1iuq-3,' +
    '1iv0-1,1iv3-1,1ivw-1,1iyb-7,1iyl,1iyn-1,1j1n,1j1p,1j1s-5,1j1z,1j4t-2,1j4y-3,1j53-4,1zow-4,1zqo-6,' +
    '20lr-3,2ftp-1,2jxj-2,2jy3-7,2jyd-6,2jze-3,2k3m-2,2lmo-1i,2lob-1d,2lpx,2lqc,2lqz-4,2lr5-e,2ok0-6,' +
    'jo5c-6n',
};

/** Rust BertNormalizer's `is_chinese_char` ranges, U+2B920 start included as it is there. */
const CHINESE_RANGES: ReadonlyArray<readonly [number, number]> = [
  [0x4e00, 0x9fff],
  [0x3400, 0x4dbf],
  [0x20000, 0x2a6df],
  [0x2a700, 0x2b73f],
  [0x2b740, 0x2b81f],
  [0x2b920, 0x2ceaf],
  [0xf900, 0xfaff],
  [0x2f800, 0x2fa1f],
];

const CONTROL = 1;
const WHITESPACE = 2;
const PUNCT = 4;
const MARK = 8;
const CHINESE = 16;
const NFD_STARTER = 32;

let charFlagTable: Uint8Array | undefined;

/** One byte of flags per code point (1.1 MB), built on first use; a lookup is then one load. */
function charFlags(): Uint8Array {
  if (charFlagTable) return charFlagTable;
  const table = new Uint8Array(0x110000);
  const mark = (ranges: string, flag: number) => {
    for (const range of ranges.split(',')) {
      const dash = range.indexOf('-');
      const start = parseInt(dash < 0 ? range : range.slice(0, dash), 36);
      const end = dash < 0 ? start : start + parseInt(range.slice(dash + 1), 36);
      for (let cp = start; cp <= end; cp++) table[cp] |= flag;
    }
  };
  mark(RUST_TABLES.control, CONTROL);
  mark(RUST_TABLES.whitespace, WHITESPACE);
  mark(RUST_TABLES.punctuation, PUNCT);
  mark(RUST_TABLES.nonspacingMarks, MARK);
  mark(RUST_TABLES.nfdStarters, NFD_STARTER);
  for (const [start, end] of CHINESE_RANGES) for (let cp = start; cp <= end; cp++) table[cp] |= CHINESE;
  charFlagTable = table;
  return table;
}

const isHigh = (unit: number) => unit >= 0xd800 && unit <= 0xdbff;
const isLow = (unit: number) => unit >= 0xdc00 && unit <= 0xdfff;

// ---------------------------------------------------------------------------------------------------------------
// BERT pipeline: BertNormalizer + BertPreTokenizer + WordPiece, equal to the Rust implementation

export interface BertNormalizerOptions {
  cleanText: boolean;
  handleChineseChars: boolean;
  stripAccents: boolean;
  lowercase: boolean;
}

/** Rust BertNormalizer: clean_text, then CJK spacing, then NFD + drop nonspacing marks, then per-char lowercase. */
export function bertNormalize(text: string, options: BertNormalizerOptions): string {
  const flags = charFlags();
  let out = '';
  let from = 0;
  let changed = false;
  let nonAscii = false;
  let starters = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const unit = text.charCodeAt(i);
    // Printable ASCII is left alone by every step before lowercasing.
    if (unit >= 0x20 && unit < 0x7f) continue;
    let cp = unit;
    let width = 1;
    let lone = false;
    if (unit >= 0xd800 && unit <= 0xdfff) {
      if (isHigh(unit) && i + 1 < n && isLow(text.charCodeAt(i + 1))) {
        cp = ((unit - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00) + 0x10000;
        width = 2;
      } else {
        // Node hands a lone surrogate to Rust as U+FFFD.
        cp = 0xfffd;
        lone = true;
      }
    }
    if (cp >= 0x80) nonAscii = true;
    const f = flags[cp];
    if (f & NFD_STARTER) starters = true;
    let replacement: string | undefined;
    if (options.cleanText && f & CONTROL) replacement = '';
    else if (options.cleanText && f & WHITESPACE) replacement = unit === 0x20 ? undefined : ' ';
    else if (options.handleChineseChars && f & CHINESE) replacement = ` ${text.slice(i, i + width)} `;
    else if (lone) replacement = '\ufffd';
    if (replacement !== undefined) {
      out += text.slice(from, i) + replacement;
      from = i + width;
      changed = true;
    }
    i += width - 1;
  }
  let result = changed ? out + text.slice(from) : text;
  if (nonAscii && options.stripAccents) result = dropMarks(starters ? nfdAround(result, flags) : result.normalize('NFD'), flags);
  if (options.lowercase) {
    // Rust lowercases char by char; String#toLowerCase would turn a word-final Σ into ς.
    result = (nonAscii ? result.replace(/Σ/g, 'σ') : result).toLowerCase();
  }
  return result;
}

/** NFD of the stretches between NFD_STARTER code points, which stay as they are. */
function nfdAround(text: string, flags: Uint8Array): string {
  let out = '';
  let from = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    let cp = unit;
    let width = 1;
    if (isHigh(unit) && i + 1 < n && isLow(text.charCodeAt(i + 1))) {
      cp = ((unit - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00) + 0x10000;
      width = 2;
    }
    if (flags[cp] & NFD_STARTER) {
      out += text.slice(from, i).normalize('NFD') + text.slice(i, i + width);
      from = i + width;
    }
    i += width - 1;
  }
  return out + text.slice(from).normalize('NFD');
}

function dropMarks(text: string, flags: Uint8Array): string {
  let out = '';
  let from = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x300) continue;
    let cp = unit;
    let width = 1;
    if (isHigh(unit) && i + 1 < n && isLow(text.charCodeAt(i + 1))) {
      cp = ((unit - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00) + 0x10000;
      width = 2;
    }
    if (flags[cp] & MARK) {
      out += text.slice(from, i);
      from = i + width;
    }
    i += width - 1;
  }
  return from === 0 ? text : out + text.slice(from);
}

interface AddedToken {
  content: string;
  id: number;
  lstrip: boolean;
  rstrip: boolean;
}

/** Finds added tokens (leftmost, then longest, as Rust's aho-corasick matcher does) in a string. */
class AddedTokenSplitter {
  private readonly byFirst = new Map<string, AddedToken[]>();
  private readonly firsts: string[];

  constructor(tokens: readonly AddedToken[]) {
    for (const token of tokens) {
      if (token.content.length === 0) continue;
      const first = token.content[0];
      const list = this.byFirst.get(first) ?? [];
      list.push(token);
      this.byFirst.set(first, list);
    }
    for (const list of this.byFirst.values()) list.sort((a, b) => b.content.length - a.content.length);
    this.firsts = [...this.byFirst.keys()];
  }

  get empty(): boolean {
    return this.firsts.length === 0;
  }

  /** Calls `onText` for each stretch between matches and `onToken` for each match, in order. */
  split(text: string, onText: (from: number, to: number) => void, onToken: (id: number) => void): void {
    let pos = 0;
    let textFrom = 0;
    const n = text.length;
    while (pos < n) {
      let at = -1;
      let token: AddedToken | undefined;
      let searchFrom = pos;
      while (searchFrom < n) {
        let candidate = -1;
        for (const first of this.firsts) {
          const hit = text.indexOf(first, searchFrom);
          if (hit >= 0 && (candidate < 0 || hit < candidate)) candidate = hit;
        }
        if (candidate < 0) break;
        token = this.byFirst.get(text[candidate])!.find((t) => text.startsWith(t.content, candidate));
        if (token) {
          at = candidate;
          break;
        }
        searchFrom = candidate + 1;
      }
      if (!token || at < 0) break;
      let start = at;
      let end = at + token.content.length;
      const flags = charFlags();
      if (token.lstrip) while (start > textFrom && flags[text.charCodeAt(start - 1)] & WHITESPACE) start--;
      if (token.rstrip) while (end < n && flags[text.charCodeAt(end)] & WHITESPACE) end++;
      if (start > textFrom) onText(textFrom, start);
      onToken(token.id);
      pos = end;
      textFrom = end;
    }
    if (textFrom < n) onText(textFrom, n);
  }
}

interface WordPieceConfig {
  vocab: Map<string, number>;
  unkId: number;
  prefix: string;
  maxInputCharsPerWord: number;
}

/** The BERT pipeline of a tokenizer.json, run natively in JS with the reference's character tables. */
export class BertPipeline {
  private readonly initial: Map<string, number>;
  private readonly continuation: Map<string, number>;
  private readonly maxInitialLength: number;
  private readonly maxContinuationLength: number;
  private readonly unkId: number;
  private readonly maxInputCharsPerWord: number;
  private readonly rawAdded: AddedTokenSplitter;
  private readonly normalizedAdded: AddedTokenSplitter;

  constructor(
    readonly normalizer: BertNormalizerOptions | null,
    model: WordPieceConfig,
    addedTokens: ReadonlyArray<AddedToken & { normalized: boolean }>,
  ) {
    this.initial = model.vocab;
    this.continuation = new Map();
    let maxInitial = 0;
    let maxContinuation = 0;
    for (const [token, id] of model.vocab) {
      maxInitial = Math.max(maxInitial, token.length);
      if (token.startsWith(model.prefix)) {
        const rest = token.slice(model.prefix.length);
        this.continuation.set(rest, id);
        maxContinuation = Math.max(maxContinuation, rest.length);
      }
    }
    this.maxInitialLength = maxInitial;
    this.maxContinuationLength = maxContinuation;
    this.unkId = model.unkId;
    this.maxInputCharsPerWord = model.maxInputCharsPerWord;
    this.rawAdded = new AddedTokenSplitter(addedTokens.filter((t) => !t.normalized));
    this.normalizedAdded = new AddedTokenSplitter(
      addedTokens.filter((t) => t.normalized).map((t) => ({ ...t, content: this.normalize(t.content) })),
    );
  }

  normalize(text: string): string {
    return this.normalizer ? bertNormalize(text, this.normalizer) : text;
  }

  /** BertPreTokenizer: split on whitespace, and isolate each punctuation character. */
  preTokenize(text: string): string[] {
    const words: string[] = [];
    this.forEachWord(text, 0, text.length, (from, to) => words.push(text.slice(from, to)));
    return words;
  }

  /** Token ids of `text`, no special tokens added (added tokens written in the text are still recognised). */
  encode(text: string): number[] {
    const out: number[] = [];
    if (this.rawAdded.empty) {
      this.encodeSegment(text, out);
    } else {
      this.rawAdded.split(
        text,
        (from, to) => this.encodeSegment(text.slice(from, to), out),
        (id) => out.push(id),
      );
    }
    return out;
  }

  private encodeSegment(segment: string, out: number[]): void {
    const normalized = this.normalize(segment);
    const onText = (from: number, to: number) => this.forEachWord(normalized, from, to, (a, b) => this.wordPiece(normalized, a, b, out));
    if (this.normalizedAdded.empty) onText(0, normalized.length);
    else this.normalizedAdded.split(normalized, onText, (id) => out.push(id));
  }

  private forEachWord(text: string, from: number, to: number, onWord: (from: number, to: number) => void): void {
    const flags = charFlags();
    let wordStart = -1;
    for (let i = from; i < to; ) {
      const unit = text.charCodeAt(i);
      let cp = unit;
      let width = 1;
      if (isHigh(unit) && i + 1 < to && isLow(text.charCodeAt(i + 1))) {
        cp = ((unit - 0xd800) << 10) + (text.charCodeAt(i + 1) - 0xdc00) + 0x10000;
        width = 2;
      }
      const f = flags[cp];
      if (f & (WHITESPACE | PUNCT)) {
        if (wordStart >= 0) {
          onWord(wordStart, i);
          wordStart = -1;
        }
        if (f & PUNCT) onWord(i, i + width);
      } else if (wordStart < 0) {
        wordStart = i;
      }
      i += width;
    }
    if (wordStart >= 0) onWord(wordStart, to);
  }

  /** Greedy longest-match-first WordPiece; a word with any unmatched rest, or too long, becomes one [UNK]. */
  private wordPiece(text: string, from: number, to: number, out: number[]): void {
    if (to - from > this.maxInputCharsPerWord) {
      let chars = 0;
      for (let i = from; i < to; i++) if (!isLow(text.charCodeAt(i)) || i === from || !isHigh(text.charCodeAt(i - 1))) chars++;
      if (chars > this.maxInputCharsPerWord) {
        out.push(this.unkId);
        return;
      }
    }
    const mark = out.length;
    let pos = from;
    while (pos < to) {
      const first = pos === from;
      const vocab = first ? this.initial : this.continuation;
      let end = Math.min(to, pos + (first ? this.maxInitialLength : this.maxContinuationLength));
      if (end < to && end > pos && isHigh(text.charCodeAt(end - 1)) && isLow(text.charCodeAt(end))) end--;
      let id: number | undefined;
      while (end > pos) {
        id = vocab.get(text.slice(pos, end));
        if (id !== undefined) break;
        end -= end - 2 >= pos && isLow(text.charCodeAt(end - 1)) && isHigh(text.charCodeAt(end - 2)) ? 2 : 1;
      }
      if (id === undefined) {
        out.length = mark;
        out.push(this.unkId);
        return;
      }
      out.push(id);
      pos = end;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading tokenizer.json / tokenizer_config.json

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** tokenizer_config.json writes special tokens either as strings or as serialized AddedToken objects. */
function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.content === 'string') return value.content;
  return undefined;
}

/** HF writes `int(1e30)` as model_max_length when a model sets none; such values mean "unknown". */
const UNSET_MAX_LENGTH = 1e9;

interface WordPieceDecoder {
  prefix: string;
  cleanup: boolean;
}

/** Rust WordPiece decoder's per-token cleanup (tokenizers/src/decoders/wordpiece.rs). */
function cleanupToken(token: string): string {
  return token
    .replaceAll(' .', '.')
    .replaceAll(' ?', '?')
    .replaceAll(' !', '!')
    .replaceAll(' ,', ',')
    .replaceAll(" ' ", "'")
    .replaceAll(" n't", "n't")
    .replaceAll(" 'm", "'m")
    .replaceAll(' do not', " don't")
    .replaceAll(" 's", "'s")
    .replaceAll(" 've", "'ve")
    .replaceAll(" 're", "'re");
}

/** Whether the Rust-equal BERT pipeline can run this tokenizer.json; anything else goes to @huggingface/tokenizers. */
function isBertPipeline(json: Json): boolean {
  const model = json.model;
  const normalizer = json.normalizer;
  const preTokenizer = json.pre_tokenizer;
  const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
  return (
    isObject(model) &&
    model.type === 'WordPiece' &&
    (normalizer === null || normalizer === undefined || (isObject(normalizer) && normalizer.type === 'BertNormalizer')) &&
    isObject(preTokenizer) &&
    preTokenizer.type === 'BertPreTokenizer' &&
    added.every((t) => isObject(t) && !t.single_word)
  );
}

/** Sequences of `[CLS] q [SEP] d [SEP]` for rerankers, built exactly as Hugging Face's Rust tokenizer builds them. */
export class PairTokenizer implements SequenceTokenizer {
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  readonly maskId: number | undefined;
  readonly unkId: number | undefined;
  /** From tokenizer_config.json's model_max_length; 512 when absent or set to HF's "unknown" sentinel. */
  readonly modelMaxLength: number;
  readonly layout: PairLayout;

  private readonly bert: BertPipeline | undefined;
  private readonly js: JsTokenizer | undefined;
  private readonly idToToken: string[];
  private readonly specialIds: Set<number>;
  private readonly decoderConfig: WordPieceDecoder | null;
  /** Decodes for tokenizers whose pipeline or decoder is not the BERT one handled here. */
  private readonly jsDecoder: JsTokenizer | undefined;

  private constructor(json: Json, config: Json, source: string) {
    const fail = (message: string): never => {
      throw new Error(`tokenizer: ${source}: ${message}`);
    };
    const model = isObject(json.model) ? json.model : fail('"model" is missing');
    if (!isObject(model.vocab) && !Array.isArray(model.vocab)) fail('"model.vocab" is missing');
    const rawAdded = json.added_tokens === undefined ? [] : json.added_tokens;
    if (!Array.isArray(rawAdded)) fail('"added_tokens" must be an array');

    const tokenToId = new Map<string, number>();
    const idToToken: string[] = [];
    if (isObject(model.vocab)) {
      for (const [token, id] of Object.entries(model.vocab)) {
        if (!Number.isInteger(id)) fail(`"model.vocab" maps ${JSON.stringify(token)} to ${JSON.stringify(id)}, not an integer id`);
        tokenToId.set(token, id as number);
        idToToken[id as number] = token;
      }
    }
    const added: Array<AddedToken & { normalized: boolean; special: boolean }> = [];
    for (const [i, t] of (rawAdded as unknown[]).entries()) {
      if (!isObject(t) || typeof t.content !== 'string' || !Number.isInteger(t.id)) fail(`added_tokens[${i}] needs "content" and an integer "id"`);
      const token = t as Json;
      added.push({
        content: token.content as string,
        id: token.id as number,
        lstrip: token.lstrip === true,
        rstrip: token.rstrip === true,
        normalized: token.normalized === true,
        special: token.special === true,
      });
    }
    const idOf = (name: string | undefined): number | undefined => {
      if (name === undefined) return undefined;
      return added.find((t) => t.content === name)?.id ?? tokenToId.get(name);
    };

    if (isBertPipeline(json)) {
      const normalizer = isObject(json.normalizer)
        ? {
            cleanText: json.normalizer.clean_text !== false,
            handleChineseChars: json.normalizer.handle_chinese_chars !== false,
            lowercase: json.normalizer.lowercase !== false,
            // null (what HF writes) means "strip when lowercasing".
            stripAccents:
              typeof json.normalizer.strip_accents === 'boolean' ? json.normalizer.strip_accents : json.normalizer.lowercase !== false,
          }
        : null;
      const unkToken = typeof model.unk_token === 'string' ? model.unk_token : '[UNK]';
      const unkId = tokenToId.get(unkToken) ?? fail(`unk_token ${JSON.stringify(unkToken)} is not in model.vocab`);
      this.bert = new BertPipeline(
        normalizer,
        {
          vocab: tokenToId,
          unkId,
          prefix: typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '##',
          maxInputCharsPerWord: Number.isInteger(model.max_input_chars_per_word) ? (model.max_input_chars_per_word as number) : 100,
        },
        added,
      );
    } else {
      this.js = PairTokenizer.jsTokenizer(json, config, fail);
      if (Array.isArray(model.vocab)) {
        (model.vocab as unknown[]).forEach((entry, id) => {
          if (Array.isArray(entry) && typeof entry[0] === 'string') {
            tokenToId.set(entry[0], id);
            idToToken[id] = entry[0];
          }
        });
      }
    }
    for (const t of added) {
      tokenToId.set(t.content, t.id);
      idToToken[t.id] = t.content;
    }
    this.idToToken = idToToken;
    this.specialIds = new Set(added.filter((t) => t.special).map((t) => t.id));

    this.layout = PairTokenizer.readLayout(json, config, idOf, fail);
    this.clsId = this.layout.clsId;
    this.sepId = this.layout.sepId;
    const padding = isObject(json.padding) && Number.isInteger(json.padding.pad_id) ? (json.padding.pad_id as number) : undefined;
    this.padId = idOf(tokenName(config.pad_token)) ?? padding ?? idOf('[PAD]') ?? 0;
    this.maskId = idOf(tokenName(config.mask_token) ?? '[MASK]');
    this.unkId = idOf(tokenName(config.unk_token) ?? (typeof model.unk_token === 'string' ? model.unk_token : '[UNK]'));
    const configured = config.model_max_length;
    this.modelMaxLength =
      typeof configured === 'number' && Number.isInteger(configured) && configured > 0 && configured < UNSET_MAX_LENGTH ? configured : 512;

    const decoder = json.decoder;
    const wordPieceDecoder = isObject(decoder) && decoder.type === 'WordPiece';
    this.decoderConfig = wordPieceDecoder
      ? { prefix: typeof decoder.prefix === 'string' ? decoder.prefix : '##', cleanup: decoder.cleanup !== false }
      : null;
    const plainJoin = decoder === null || decoder === undefined;
    this.jsDecoder = this.js ?? (wordPieceDecoder || plainJoin ? undefined : PairTokenizer.jsTokenizer(json, config, fail));
  }

  private static jsTokenizer(json: Json, config: Json, fail: (message: string) => never): JsTokenizer {
    try {
      // Its constructor insists on these keys, which tokenizer.json may leave out when they are null.
      return new JsTokenizer({ normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json }, config);
    } catch (error) {
      return fail(`cannot be loaded (${(error as Error).message})`);
    }
  }

  /** The pair template, which must be `[CLS] $A [SEP] $B [SEP]` in shape; token types are taken from it. */
  private static readLayout(
    json: Json,
    config: Json,
    idOf: (name: string | undefined) => number | undefined,
    fail: (message: string) => never,
  ): PairLayout {
    let processor = json.post_processor;
    if (isObject(processor) && processor.type === 'Sequence' && Array.isArray(processor.processors)) {
      processor = (processor.processors as unknown[]).find((p) => isObject(p) && (p.type === 'TemplateProcessing' || p.type === 'BertProcessing'));
    }
    if (isObject(processor) && processor.type === 'TemplateProcessing') {
      const pair = Array.isArray(processor.pair) ? (processor.pair as unknown[]) : [];
      const special = (piece: unknown) => (isObject(piece) && isObject(piece.SpecialToken) ? piece.SpecialToken : undefined);
      const sequence = (piece: unknown) => (isObject(piece) && isObject(piece.Sequence) ? piece.Sequence : undefined);
      const [cls, a, mid, b, end] = [special(pair[0]), sequence(pair[1]), special(pair[2]), sequence(pair[3]), special(pair[4])];
      if (pair.length !== 5 || !cls || !a || !mid || !b || !end || a.id !== 'A' || b.id !== 'B' || mid.id !== end.id) {
        fail('post_processor.pair is not of the form [CLS] $A [SEP] $B [SEP]; only BERT-style pairs are supported');
      }
      const specials = isObject(processor.special_tokens) ? processor.special_tokens : {};
      const idFromTemplate = (name: unknown): number => {
        const entry = typeof name === 'string' ? specials[name] : undefined;
        const ids = isObject(entry) && Array.isArray(entry.ids) ? entry.ids : undefined;
        if (ids && ids.length === 1 && Number.isInteger(ids[0])) return ids[0] as number;
        return idOf(typeof name === 'string' ? name : undefined) ?? fail(`special token ${JSON.stringify(name)} of the pair template has no id`);
      };
      const typeOf = (piece: Json) => (Number.isInteger(piece.type_id) ? (piece.type_id as number) : 0);
      return {
        clsId: idFromTemplate(cls!.id),
        sepId: idFromTemplate(mid!.id),
        clsType: typeOf(cls!),
        queryType: typeOf(a!),
        midSepType: typeOf(mid!),
        docType: typeOf(b!),
        endSepType: typeOf(end!),
      };
    }
    if (isObject(processor) && processor.type === 'BertProcessing') {
      const pick = (entry: unknown, what: string): number =>
        Array.isArray(entry) && Number.isInteger(entry[1]) ? (entry[1] as number) : fail(`post_processor.${what} must be [token, id]`);
      return { ...BERT_LAYOUT, clsId: pick(processor.cls, 'cls'), sepId: pick(processor.sep, 'sep') };
    }
    if (processor !== null && processor !== undefined) {
      fail(`post_processor of type ${JSON.stringify(isObject(processor) ? processor.type : processor)} is not a BERT-style pair template`);
    }
    const clsName = tokenName(config.cls_token) ?? '[CLS]';
    const sepName = tokenName(config.sep_token) ?? '[SEP]';
    return {
      ...BERT_LAYOUT,
      clsId: idOf(clsName) ?? fail(`no post_processor, and the CLS token ${JSON.stringify(clsName)} is not in the vocabulary`),
      sepId: idOf(sepName) ?? fail(`no post_processor, and the SEP token ${JSON.stringify(sepName)} is not in the vocabulary`),
    };
  }

  /** Reads `tokenizer.json` and, when present, `tokenizer_config.json` from a model folder. */
  static async fromFolder(dir: string): Promise<PairTokenizer> {
    const tokenizerPath = join(dir, 'tokenizer.json');
    const json = await readJson(tokenizerPath, true);
    const configPath = join(dir, 'tokenizer_config.json');
    const config = (await readJson(configPath, false)) ?? {};
    if (!isObject(config)) throw new Error(`tokenizer: ${configPath} must hold a JSON object`);
    if (!isObject(json)) throw new Error(`tokenizer: ${tokenizerPath} must hold a JSON object`);
    return new PairTokenizer(json, config, tokenizerPath);
  }

  /** From already-parsed `tokenizer.json` (and optional `tokenizer_config.json`) contents. */
  static fromJson(tokenizerJson: object, tokenizerConfig: object = {}): PairTokenizer {
    if (!isObject(tokenizerJson)) throw new Error('tokenizer: tokenizer.json must be a JSON object');
    if (!isObject(tokenizerConfig)) throw new Error('tokenizer: tokenizer_config.json must be a JSON object');
    return new PairTokenizer(tokenizerJson, tokenizerConfig, 'tokenizer.json');
  }

  /** Token ids of `text` without special tokens. */
  tokenIds(text: string): number[] {
    if (typeof text !== 'string') throw new Error(`tokenIds: expected a string, got ${typeof text}`);
    if (this.bert) return this.bert.encode(text);
    return text.length === 0 ? [] : this.js!.encode(text, { add_special_tokens: false }).ids;
  }

  /**
   * `[CLS] query [SEP] doc [SEP]` with token types from the pair template (0 for the query part, 1 for the
   * document part in BERT). Truncation policy: see {@link pairBudget}; in short, only the document is cut unless
   * the query alone takes more than half of `maxLength - 3`.
   */
  encodePair(query: string, doc: string, options: PairEncodeOptions): Encoded {
    checkMaxLength(options?.maxLength);
    return pairFromIds(this.tokenIds(query), this.tokenIds(doc), options.maxLength, this.layout);
  }

  /** {@link pairFromIds} with this tokenizer's layout, for a query tokenized once and paired with many documents. */
  pairFromIds(queryIds: readonly number[], docIds: readonly number[], maxLength: number): Encoded {
    return pairFromIds(queryIds, docIds, maxLength, this.layout);
  }

  /**
   * A long document as overlapping windows, each a valid pair of at most `maxLength` tokens: document tokens are
   * split with `stride = docBudget - overlap`, where `docBudget` is what the (possibly cut) query leaves. A document
   * that fits gives one window, equal to {@link encodePair}.
   */
  encodePairWindows(query: string, doc: string, options: PairWindowOptions): Encoded[] {
    checkMaxLength(options?.maxLength);
    return pairWindowsFromIds(this.tokenIds(query), this.tokenIds(doc), options.maxLength, options.overlap, this.layout);
  }

  /** `[CLS] text [SEP]`, the text's tail cut to fit `maxLength`; all token types are the template's first type. */
  encodeSingle(text: string, options: PairEncodeOptions): Encoded {
    checkMaxLength(options?.maxLength);
    const ids = this.tokenIds(text);
    const keep = Math.min(ids.length, options.maxLength - 2);
    const length = keep + 2;
    const inputIds = new Array<number>(length);
    inputIds[0] = this.clsId;
    for (let i = 0; i < keep; i++) inputIds[i + 1] = ids[i];
    inputIds[length - 1] = this.sepId;
    return { inputIds, tokenTypeIds: new Array<number>(length).fill(this.layout.clsType), attentionMask: new Array<number>(length).fill(1) };
  }

  /** Right-pads every sequence with `padId` (type 0, mask 0) to the longest in the batch. */
  pad(batch: readonly Encoded[]): PaddedBatch {
    return padEncoded(batch, this.padId);
  }

  /** The vocabulary entry for one id, as stored (`##ing`, `[CLS]`); for showing tokens, not for rebuilding text. */
  decodeToken(id: number): string {
    const token = this.idToToken[id];
    if (token === undefined) throw new RangeError(`decodeToken: ${id} is not a token id of this tokenizer`);
    return token;
  }

  /** Text of `ids` as the Rust tokenizer's `decode` gives it; special tokens are skipped unless asked for. */
  decode(ids: readonly number[], options: { skipSpecialTokens?: boolean } = {}): string {
    const skip = options.skipSpecialTokens ?? true;
    if (this.jsDecoder) {
      if (ids.length === 0) return '';
      return this.jsDecoder.decode([...ids], { skip_special_tokens: skip, clean_up_tokenization_spaces: false });
    }
    const tokens: string[] = [];
    for (const id of ids) {
      const token = this.idToToken[id];
      if (token === undefined || (skip && this.specialIds.has(id))) continue;
      tokens.push(token);
    }
    const decoder = this.decoderConfig;
    if (decoder === null) return tokens.join(' ');
    let text = '';
    tokens.forEach((token, i) => {
      let piece = token;
      if (i !== 0) piece = piece.startsWith(decoder.prefix) ? piece.slice(decoder.prefix.length) : ` ${piece}`;
      text += decoder.cleanup ? cleanupToken(piece) : piece;
    });
    return text;
  }
}

async function readJson(path: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!required) return undefined;
      throw new Error(`tokenizer: ${path} is missing`);
    }
    throw new Error(`tokenizer: cannot read ${path} (${(error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`tokenizer: ${path} is not valid JSON (${(error as Error).message})`);
  }
}
