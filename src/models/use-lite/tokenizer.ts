/**
 * An exact re-implementation of the SentencePiece-style Unigram tokenizer that `@energetic-ai/embeddings` runs for
 * Universal Sentence Encoder Lite, quirks included, so that an ONNX model sees the ids the TF.js runtime would.
 * A stock Hugging Face Unigram tokenizer differs from it (tie-breaking, the "unset" test, unknown handling, reserved
 * ids, UTF-16 backtracking), so `tokenizer.json` carries a `rankwise_use_lite` marker that selects this class.
 */
import { writeFileAtomic } from '../../util/atomic-write.js';
import { readTokenizerJson } from '../tokenizer/loader.js';
import { InputError, ModelInvalidError } from '../../errors.js';

export const SEPARATOR = '\u2581';
/** Ids 0-5: unknown, <s>, </s> and three extra ids. The runtime never matches them, and adds no BOS/EOS. */
export const RESERVED_IDS = 6;
export const UNKNOWN_ID = 0;
export const MARKER_KEY = 'rankwise_use_lite';

/** `[piece, score]` as in the package's vocab.json; a few scores there are null. */
export type UseLiteVocabulary = readonly (readonly [string, number | null])[];

interface TrieNode {
  children: Map<string, TrieNode>;
  /** Vocabulary id of the piece ending here, or -1. */
  id: number;
  score: number;
}

function newNode(): TrieNode {
  return { children: new Map(), id: -1, score: 0 };
}

export interface UseLiteMarker {
  version: 1;
  reserved_ids: number;
  /** Ids whose score was null in the package's vocab.json; the runtime adds null as 0, so they are stored as 0. */
  null_score_ids: number[];
  /** The encoder graph only has positions 0..max_tokens-1; later tokens are dropped. */
  max_tokens: number;
}

export class UseLiteTokenizer {
  private readonly root = newNode();
  /** UTF-16 length of each piece: the runtime backtracks by it (positions are code points; no piece is astral). */
  private readonly pieceLength: Int32Array;
  readonly maxPieceLength: number;

  private constructor(
    readonly pieces: readonly string[],
    readonly scores: Float64Array,
    readonly nullScoreIds: readonly number[],
    readonly reservedIds: number,
    readonly maxTokens: number,
  ) {
    this.pieceLength = Int32Array.from(pieces, (p) => p.length);
    let longest = 1;
    for (let id = 0; id < pieces.length; id++) {
      if (pieces[id].length === 0) throw new ModelInvalidError(`use-lite tokenizer: piece ${id} is empty`);
      if (id < reservedIds) continue;
      longest = Math.max(longest, pieces[id].length);
      let node = this.root;
      for (const ch of pieces[id]) {
        let next = node.children.get(ch);
        if (!next) {
          next = newNode();
          node.children.set(ch, next);
        }
        node = next;
      }
      // A repeated piece keeps its last id, as the runtime's trie does.
      node.id = id;
      node.score = scores[id];
    }
    this.maxPieceLength = longest;
  }

  static fromVocabulary(vocabulary: UseLiteVocabulary, options: { reservedIds?: number; maxTokens?: number } = {}): UseLiteTokenizer {
    const pieces: string[] = [];
    const scores = new Float64Array(vocabulary.length);
    const nullIds: number[] = [];
    vocabulary.forEach((entry, id) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') throw new ModelInvalidError(`use-lite tokenizer: vocabulary[${id}] is not [piece, score]`);
      const score = entry[1];
      if (score === null) nullIds.push(id);
      else if (typeof score !== 'number' || !Number.isFinite(score)) throw new ModelInvalidError(`use-lite tokenizer: vocabulary[${id}] has score ${String(score)}`);
      pieces.push(entry[0]);
      scores[id] = score ?? 0;
    });
    return new UseLiteTokenizer(pieces, scores, nullIds, options.reservedIds ?? RESERVED_IDS, options.maxTokens ?? 128);
  }

  get vocabSize(): number {
    return this.pieces.length;
  }

  /** Token ids for the whole text, identical to the package's `Tokenizer.encode`. */
  encode(text: string): number[] {
    const normalized = text.normalize('NFKC');
    const input = normalized.length > 0 ? SEPARATOR + normalized.replaceAll(' ', SEPARATOR) : normalized;
    const symbols = Array.from(input);
    const n = symbols.length;
    // 0 doubles as "unset" in the runtime, and a later candidate wins ties: both are reproduced as is.
    const best = new Float64Array(n + 1);
    const words = new Int32Array(n + 1);
    /*
     * The runtime visits ends ascending and, per end, starts ascending. Walking starts ascending and relaxing every
     * end from each gives each end the same candidates in the same order, and best[start] is final by then.
     */
    for (let start = 0; start < n; start++) {
      const base = best[start];
      let node = this.root.children.get(symbols[start]);
      let matched = false;
      for (let end = start + 1; node; end++) {
        if (node.id >= 0) {
          matched = true;
          const score = node.score + base;
          if (best[end] === 0 || score >= best[end]) {
            best[end] = score;
            words[end] = node.id;
          }
        }
        if (end >= n) break;
        node = node.children.get(symbols[end]);
      }
      if (!matched) {
        // An unmatched character is one unknown token, scored 0.
        const score = base;
        if (best[start + 1] === 0 || score >= best[start + 1]) {
          best[start + 1] = score;
          words[start + 1] = UNKNOWN_ID;
        }
      }
    }
    const reversed: number[] = [];
    for (let at = n; at > 0; at -= this.pieceLength[words[at]]) reversed.push(words[at]);
    const ids: number[] = [];
    for (let i = reversed.length - 1; i >= 0; i--) {
      const id = reversed[i];
      // Runs of unknown tokens collapse into one.
      if (id === UNKNOWN_ID && ids.length > 0 && ids[ids.length - 1] === UNKNOWN_ID) continue;
      ids.push(id);
    }
    return ids;
  }

  /**
   * The first `limit` ids (default maxTokens) without tokenizing the rest of a long text. Cutting the text just
   * before a space is exact: a space becomes "▁", no piece has "▁" past its first character and "▁" is itself a
   * piece, so every segmentation breaks there and the prefix's ids are the full text's leading ids.
   */
  encodeClipped(text: string, limit = this.maxTokens): number[] {
    return encodeClippedBeforeSpace((t) => this.encode(t), text, limit, this.maxPieceLength);
  }

  /** Hugging Face `tokenizer.json` layout (Unigram, NFKC, Metaspace) plus the marker that selects this algorithm. */
  toJSON(): Record<string, unknown> {
    const metaspace = { type: 'Metaspace', replacement: SEPARATOR, prepend_scheme: 'always', split: false };
    const marker: UseLiteMarker = {
      version: 1,
      reserved_ids: this.reservedIds,
      null_score_ids: [...this.nullScoreIds],
      max_tokens: this.maxTokens,
    };
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      // Reserved pieces ("<s>", ...) are deliberately not added tokens: the runtime never matches them in text.
      added_tokens: [],
      normalizer: { type: 'NFKC' },
      pre_tokenizer: metaspace,
      post_processor: null,
      decoder: metaspace,
      model: {
        type: 'Unigram',
        unk_id: UNKNOWN_ID,
        vocab: this.pieces.map((p, id) => [p, this.scores[id]]),
        byte_fallback: false,
      },
      [MARKER_KEY]: marker,
    };
  }

  static fromJSON(json: unknown, source = 'tokenizer.json'): UseLiteTokenizer {
    const j = json as Record<string, unknown> | null;
    const marker = j?.[MARKER_KEY] as Partial<UseLiteMarker> | undefined;
    if (!marker || typeof marker !== 'object') throw new ModelInvalidError(`${source}: no "${MARKER_KEY}" marker; not a USE Lite tokenizer`);
    if (marker.version !== 1) throw new ModelInvalidError(`${source}: unsupported ${MARKER_KEY} version ${String(marker.version)}`);
    const model = j?.model as { type?: unknown; vocab?: unknown; unk_id?: unknown } | undefined;
    if (model?.type !== 'Unigram' || !Array.isArray(model.vocab)) throw new ModelInvalidError(`${source}: model must be Unigram with a vocab array`);
    if (model.unk_id !== UNKNOWN_ID) throw new InputError(`${source}: unk_id must be ${UNKNOWN_ID}`);
    const reserved = marker.reserved_ids ?? RESERVED_IDS;
    const maxTokens = marker.max_tokens ?? 128;
    if (!Number.isInteger(reserved) || reserved < 1) throw new InputError(`${source}: reserved_ids must be a positive integer`);
    if (!Number.isInteger(maxTokens) || maxTokens < 1) throw new ModelInvalidError(`${source}: max_tokens must be a positive integer`);
    const nullIds = new Set(marker.null_score_ids ?? []);
    const vocab = (model.vocab as [string, number][]).map(([p, s], id) => [p, nullIds.has(id) ? null : s] as const);
    return UseLiteTokenizer.fromVocabulary(vocab, { reservedIds: reserved, maxTokens });
  }

  static async load(path: string): Promise<UseLiteTokenizer> {
    return UseLiteTokenizer.fromJSON(await readTokenizerJson(path, true), path);
  }

  async save(path: string): Promise<void> {
    await writeFileAtomic(path, JSON.stringify(this.toJSON()));
  }
}

/** True when a parsed tokenizer.json is one of ours, so a generic loader can hand it to UseLiteTokenizer. */
export function isUseLiteTokenizerJson(json: unknown): boolean {
  return typeof json === 'object' && json !== null && MARKER_KEY in json;
}

/**
 * The first `limit` ids of `encode(text)` without encoding all of a long text: the text is cut just before a space
 * (exact for USE Lite's vocabulary, see `encodeClipped`), and the cut grows until it yields `limit` ids (runs of
 * unknown characters collapse into one id and can span far). Shared by this tokenizer and the TF.js wrapper.
 */
export function encodeClippedBeforeSpace(encode: (text: string) => number[], text: string, limit: number, maxPieceLength: number): number[] {
  let budget = Math.max(1, limit) * maxPieceLength;
  for (;;) {
    const space = text.length <= budget ? -1 : text.indexOf(' ', budget);
    const cut = space < 0 ? text : text.slice(0, space);
    const ids = encode(cut);
    if (ids.length >= limit || cut.length === text.length) return ids.slice(0, limit);
    budget *= 2;
  }
}
