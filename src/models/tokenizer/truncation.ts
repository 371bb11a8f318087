/**
 * How a (query, document) pair is laid out and cut to a model's length: `[CLS] query [SEP] doc [SEP]`, the same
 * policy for every model family (BERT's WordPiece and USE Lite's pieces both build their pairs here).
 */
import type { Encoded } from './encoded.js';
import { InputError } from '../../errors.js';

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

export const BERT_LAYOUT: Omit<PairLayout, 'clsId' | 'sepId'> = { clsType: 0, queryType: 0, midSepType: 0, docType: 1, endSepType: 1 };

export function checkMaxLength(maxLength: number): void {
  if (!Number.isInteger(maxLength) || maxLength < 4) {
    throw new InputError(`maxLength must be an integer >= 4 (room for [CLS], [SEP], [SEP] and one token), got ${maxLength}`);
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
  if (!Number.isInteger(overlap) || overlap < 0) throw new InputError(`overlap must be an integer >= 0, got ${overlap}`);
  const { queryKeep, docKeep } = pairBudget(queryIds.length, docIds.length, maxLength);
  const full = fullLayout(layout);
  if (docKeep === docIds.length) return [buildPair(queryIds, queryKeep, docIds, 0, docKeep, full)];
  const docBudget = maxLength - 3 - queryKeep;
  if (overlap >= docBudget) {
    throw new InputError(
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
