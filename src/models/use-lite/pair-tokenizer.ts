/**
 * USE Lite's SentencePiece tokenizer in the shape cross-encoders and the trainer use (`SequenceTokenizer`).
 *
 * A pair is `<s> query </s> document </s>` with token types 0 | 1: the pretrained encoder never saw two texts in one
 * sequence, so the cross-encoder variant learns a segment embedding (added to layer 0's input) and the two marker
 * pieces the vocabulary already reserves mark the boundaries, exactly as [CLS]/[SEP] do for BERT. That lets the pair
 * budget and the long-document windows be BERT's own (`pairFromIds`, `pairWindowsFromIds`). A single text is encoded
 * as the pretrained sentence encoder reads it: its pieces alone, no markers.
 */
import {
  checkTokenizerText,
  encodedFromIds,
  padEncoded,
  pairFromIds,
  pairWindowsFromIds,
  type Encoded,
  type PaddedBatch,
  type PairEncodeOptions,
  type PairWindowOptions,
  type SequenceTokenizer,
} from '../tokenizer/index.js';
import { UseLiteTokenizer } from './tokenizer.js';
import { InputError } from '../../errors.js';

/** `<s>` and `</s>` in the package's vocabulary (ids 1 and 2, after the unknown piece 0). */
export const USE_LITE_PAIR_MARKERS = { clsId: 1, sepId: 2 } as const;

export class UseLitePairTokenizer implements SequenceTokenizer {
  readonly modelMaxLength: number;

  constructor(readonly pieces: UseLiteTokenizer) {
    this.modelMaxLength = pieces.maxTokens;
  }

  static async load(path: string): Promise<UseLitePairTokenizer> {
    return new UseLitePairTokenizer(await UseLiteTokenizer.load(path));
  }

  tokenIds(text: string): number[] {
    checkTokenizerText(text);
    return this.pieces.encode(text);
  }

  pairFromIds(queryIds: readonly number[], docIds: readonly number[], maxLength: number): Encoded {
    return pairFromIds(queryIds, docIds, this.checkedLength(maxLength), USE_LITE_PAIR_MARKERS);
  }

  encodePair(query: string, doc: string, options: PairEncodeOptions): Encoded {
    const limit = this.checkedLength(options.maxLength);
    // Only the first `limit` pieces of either side can ever be kept, and clipping before tokenizing is exact.
    return pairFromIds(this.pieces.encodeClipped(query, limit), this.pieces.encodeClipped(doc, limit), limit, USE_LITE_PAIR_MARKERS);
  }

  encodePairWindows(query: string, doc: string, options: PairWindowOptions): Encoded[] {
    const limit = this.checkedLength(options.maxLength);
    return pairWindowsFromIds(this.pieces.encodeClipped(query, limit), this.pieces.encode(doc), limit, options.overlap, USE_LITE_PAIR_MARKERS);
  }

  encodeSingle(text: string, options: PairEncodeOptions): Encoded {
    return encodedFromIds(this.pieces.encodeClipped(text, this.checkedLength(options.maxLength, 1)));
  }

  /** Padding id 0 (the unknown piece) is never seen: padded positions are masked. */
  pad(batch: readonly Encoded[]): PaddedBatch {
    return padEncoded(batch, 0);
  }

  private checkedLength(maxLength: number, min = 4): number {
    if (!Number.isInteger(maxLength) || maxLength < min) throw new InputError(`maxLength: expected an integer >= ${min}, got ${maxLength}`);
    // The graph has 128 positions; tokens past them are dropped by the model, so never produce them.
    return Math.min(maxLength, this.modelMaxLength);
  }
}
