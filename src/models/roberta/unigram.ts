/**
 * The Unigram segmentation of Hugging Face's Rust tokenizer (`Unigram::encode_optimized`, SentencePiece's fast path),
 * put in place of @huggingface/tokenizers' lattice search.
 *
 * Both find a best-scoring segmentation, but they break ties differently: the lattice keeps, for every piece, its best
 * predecessor, while Rust keeps one best path per end position, and the first start to reach that score wins. Ties are
 * common (`.` + `...` scores exactly as `...` + `.`), and XLM-R rerankers must see Rust's ids, so the Rust walk is
 * reproduced here: for each start (in characters), every vocabulary piece beginning there updates the path ending
 * where it ends when strictly better; a character no piece covers alone becomes an unknown piece scored
 * `min score - 10`; consecutive unknown pieces are fused into one, which the pipeline then maps to the unknown id.
 * The scores must be Rust's too (see serdeJsonF64).
 */
import { ModelInvalidError } from '../../errors.js';

/** What this module needs of @huggingface/tokenizers' Unigram model (0.2.0): its vocabulary trie and token ids. */
interface JsUnigramModel {
  trie: { common_prefix_search(chars: string[], start: number): Iterable<string> };
  tokens_to_ids: Map<string, number>;
  tokenize(normalized: string): string[];
}

/** serde_json's table of 1e0..1e308 (correctly rounded literals, as JavaScript's). */
const POW10 = Array.from({ length: 309 }, (_, i) => Number(`1e${i}`));
const U64_MAX = 2n ** 64n - 1n;

/**
 * A JSON number as serde_json reads it without its `float_roundtrip` feature, which is how the Rust tokenizer reads
 * tokenizer.json: the digits go into a u64 (digits past its range are dropped), that is converted to f64 and then
 * multiplied or divided by a power of ten. Two roundings, so about one score in five ends up an ulp away from the
 * correctly rounded value JSON.parse gives; near-equal segmentations are decided by those ulps.
 */
export function serdeJsonF64(text: string): number {
  const match = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d{1,6}))?$/.exec(text);
  if (!match) return Number(text);
  const [, sign, integer, fraction = '', exp] = match;
  let significand = 0n;
  let exponent = 0;
  let overflowed = false;
  const fits = (digit: bigint) => significand * 10n + digit <= U64_MAX;
  // 19 digits always fit in a u64: the common case, without the digit-by-digit walk.
  const fast = integer.length + fraction.length <= 19;
  if (fast) {
    significand = BigInt(integer + fraction);
    exponent = -fraction.length;
  }
  for (const c of fast ? '' : integer) {
    // An integer part past u64: its remaining digits only scale the value.
    if (overflowed || !fits(BigInt(c))) {
      overflowed = true;
      exponent++;
    } else significand = significand * 10n + BigInt(c);
  }
  for (const c of fast ? '' : fraction) {
    if (!fits(BigInt(c))) break;
    significand = significand * 10n + BigInt(c);
    exponent--;
  }
  if (exp !== undefined) exponent += Number(exp);
  let f = Number(significand);
  for (;;) {
    const pow = POW10[Math.abs(exponent)];
    if (pow !== undefined) {
      f = exponent >= 0 ? f * pow : f / pow;
      break;
    }
    if (f === 0 || exponent >= 0) return Number(text);
    f /= 1e308;
    exponent += 308;
  }
  return sign ? -f : f;
}

/**
 * The scores of a Unigram tokenizer.json's `model.vocab` as the Rust tokenizer holds them, read from the file's text
 * (JSON.parse has already rounded them differently). Undefined when the entries cannot be lined up with `vocab`.
 */
export function rustVocabScores(text: string, vocab: ReadonlyArray<readonly [string, number]>): Float64Array | undefined {
  const entry = /\[\s*"((?:[^"\\]|\\.)*)"\s*,\s*(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\s*\]/g;
  const scores = new Float64Array(vocab.length);
  let next = 0;
  for (let m = entry.exec(text); m && next < vocab.length; m = entry.exec(text)) {
    // Other [string, number] pairs (RobertaProcessing's cls/sep) may come before the vocabulary: restart on a mismatch.
    const piece = m[1].includes('\\') ? (JSON.parse(`"${m[1]}"`) as string) : m[1];
    if (next > 0 && piece !== vocab[next][0]) next = 0;
    if (piece !== vocab[next][0]) continue;
    scores[next++] = serdeJsonF64(m[2]);
  }
  return next === vocab.length ? scores : undefined;
}

/** Rust's K_UNK_PENALTY. */
const UNKNOWN_PENALTY = 10;

function isJsUnigram(model: unknown): model is JsUnigramModel {
  const m = model as Partial<JsUnigramModel> | undefined;
  return typeof m?.trie?.common_prefix_search === 'function' && m.tokens_to_ids instanceof Map && typeof m.tokenize === 'function';
}

/**
 * Makes a loaded @huggingface/tokenizers Unigram model segment as Rust does. `vocab` is tokenizer.json's
 * `model.vocab` ([piece, score] pairs), `unkId` its `model.unk_id`, `scores` Rust's reading of them
 * ({@link rustVocabScores}; JSON.parse's values by default); `source` names the file in errors.
 */
export function useRustUnigramSearch(
  model: unknown,
  vocab: ReadonlyArray<readonly [string, number]>,
  unkId: number,
  source: string,
  scores: Float64Array = Float64Array.from(vocab, (entry) => entry[1]),
  splitBefore?: string,
): void {
  if (!isJsUnigram(model)) {
    throw new ModelInvalidError(`tokenizer: ${source}: the Unigram model of @huggingface/tokenizers is not the shape this version expects`);
  }
  let minScore = Infinity;
  for (const s of scores) minScore = Math.min(minScore, s);
  const unknownScore = minScore - UNKNOWN_PENALTY;
  const unknownPiece = vocab[unkId]?.[0];
  const ids = model.tokens_to_ids;

  const search = (normalized: string): string[] => {
    const chars = Array.from(normalized);
    const size = chars.length;
    const best = new Float64Array(size + 1);
    const from = new Int32Array(size + 1).fill(-1);
    const unknown = new Uint8Array(size + 1);
    const update = (end: number, start: number, score: number, isUnknown: boolean) => {
      if (from[end] < 0 || score > best[end]) {
        best[end] = score;
        from[end] = start;
        unknown[end] = isUnknown ? 1 : 0;
      }
    };
    for (let start = 0; start < size; start++) {
      const here = best[start];
      let single = false;
      for (const piece of model.trie.common_prefix_search(chars, start)) {
        let length = 0;
        for (const _ of piece) length++;
        const id = ids.get(piece)!;
        // The trie is the vocabulary's, but an added token spelled like a piece may have given it an id past it.
        update(start + length, start, id < scores.length ? scores[id] + here : here, piece === unknownPiece);
        if (length === 1) single = true;
      }
      if (!single) update(start + 1, start, unknownScore + here, true);
    }
    const pieces: string[] = [];
    let fused = '';
    for (let end = size; end > 0; ) {
      const start = from[end];
      const piece = chars.slice(start, end).join('');
      if (unknown[end]) fused = piece + fused;
      else {
        if (fused) pieces.push(fused);
        fused = '';
        pieces.push(piece);
      }
      end = start;
    }
    if (fused) pieces.push(fused);
    return pieces.reverse();
  };
  // Rust's Metaspace splits before every replacement character; the package's hands over the whole text, and the
  // scores summed over a longer text round differently, which decides ties differently.
  const before = splitBefore === undefined ? undefined : new RegExp(`(?=${splitBefore.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')})`, 'u');
  model.tokenize = before ? (normalized) => normalized.split(before).flatMap(search) : search;
}

/** The character before which Rust's pre-tokenizer splits words: a Metaspace's replacement, unless `split` is false. */
export function metaspaceSplit(preTokenizer: unknown): string | undefined {
  if (typeof preTokenizer !== 'object' || preTokenizer === null) return undefined;
  const p = preTokenizer as { type?: unknown; replacement?: unknown; split?: unknown; pretokenizers?: unknown };
  if (p.type === 'Sequence' && Array.isArray(p.pretokenizers)) {
    for (const inner of p.pretokenizers) {
      const found = metaspaceSplit(inner);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (p.type !== 'Metaspace' || p.split === false) return undefined;
  return typeof p.replacement === 'string' ? p.replacement : '\u2581';
}
