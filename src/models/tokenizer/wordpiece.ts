/** BertPreTokenizer + WordPiece over the normaliser's output, equal to the Rust implementation. */
import { AddedTokenSplitter, type AddedToken } from './added-tokens.js';
import { charFlags, isHigh, isLow, PUNCT, WHITESPACE } from './char-tables.js';
import { bertNormalize, type BertNormalizerOptions } from './normalizer.js';

export interface WordPieceConfig {
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
