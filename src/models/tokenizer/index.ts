/**
 * Tokenization for every model family: encoded sequences and padding, the pair truncation policy, and Hugging Face
 * BERT tokenizers reproduced exactly (Rust character tables, normaliser, WordPiece, tokenizer.json loading).
 */
export { checkTokenizerText, encodedFromIds, padEncoded } from './encoded.js';
export type { Encoded, PaddedBatch, PairEncodeOptions, PairWindowOptions, SequenceTokenizer } from './encoded.js';
export { checkMaxLength, pairBudget, pairFromIds, pairWindowsFromIds, type PairLayout } from './truncation.js';
export { bertNormalize, type BertNormalizerOptions } from './normalizer.js';
export { BertPipeline } from './wordpiece.js';
export { PairTokenizer } from './pair-tokenizer.js';
