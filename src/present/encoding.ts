import type { Encoded } from '../models/tokenizer/index.js';

/** `tokenize --json`: the model inputs under Hugging Face's names. */
export function encodingJson(e: Encoded): Record<string, number[]> {
  return { input_ids: e.inputIds, token_type_ids: e.tokenTypeIds, attention_mask: e.attentionMask };
}

/** `tokenize`'s text: each token with its id, segment-B tokens marked with a prime. */
export function formatEncoding(tokenizer: { decodeToken(id: number): string }, e: Encoded): string {
  const tokens = e.inputIds.map((id, i) => `${tokenizer.decodeToken(id)}/${id}${e.tokenTypeIds[i] ? "'" : ''}`);
  return `${e.inputIds.length} tokens (' = segment B): ${tokens.join(' ')}`;
}
