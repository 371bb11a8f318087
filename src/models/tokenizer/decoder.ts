/** Turning WordPiece tokens back into text as the Rust tokenizer's WordPiece decoder does. */
import { isObject, type Json } from './loader.js';

export interface WordPieceDecoder {
  prefix: string;
  cleanup: boolean;
}

/** The tokenizer.json's decoder when it is WordPiece, else null. */
export function readWordPieceDecoder(json: Json): WordPieceDecoder | null {
  const decoder = json.decoder;
  return isObject(decoder) && decoder.type === 'WordPiece'
    ? { prefix: typeof decoder.prefix === 'string' ? decoder.prefix : '##', cleanup: decoder.cleanup !== false }
    : null;
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

/** Joins tokens: continuation pieces glued to the previous one, others after a space; plain spaces without a decoder. */
export function joinWordPieces(tokens: readonly string[], decoder: WordPieceDecoder | null): string {
  if (decoder === null) return tokens.join(' ');
  let text = '';
  tokens.forEach((token, i) => {
    let piece = token;
    if (i !== 0) piece = piece.startsWith(decoder.prefix) ? piece.slice(decoder.prefix.length) : ` ${piece}`;
    text += decoder.cleanup ? cleanupToken(piece) : piece;
  });
  return text;
}
