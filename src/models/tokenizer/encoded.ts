/** The encoded sequences every tokenizer produces and every model consumes, and their padding into a batch. */
import { InputError } from '../../errors.js';

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
      throw new InputError(`pad: sequence ${row} has ${n} ids but ${e.tokenTypeIds.length} token types and ${e.attentionMask.length} mask entries`);
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

/** One sequence of `inputIds`, every token of type `tokenType`, nothing masked. */
export function encodedFromIds(inputIds: number[], tokenType = 0): Encoded {
  const n = inputIds.length;
  return { inputIds, tokenTypeIds: new Array<number>(n).fill(tokenType), attentionMask: new Array<number>(n).fill(1) };
}

export function checkTokenizerText(text: unknown): asserts text is string {
  if (typeof text !== 'string') throw new InputError(`tokenIds: expected a string, got ${typeof text}`);
}
