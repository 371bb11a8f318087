/** BERT-family tokenizers from a Hugging Face tokenizer.json, producing the pairs and single texts rerankers need. */
import type { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { joinWordPieces, readWordPieceDecoder, type WordPieceDecoder } from './decoder.js';
import { checkTokenizerText, encodedFromIds, padEncoded } from './encoded.js';
import type { Encoded, PaddedBatch, PairEncodeOptions, PairWindowOptions, SequenceTokenizer } from './encoded.js';
import {
  addArrayVocabulary,
  isBertPipeline,
  isObject,
  readBertPipeline,
  readJsTokenizer,
  readModelMaxLength,
  readPairLayout,
  readTokenizerFolder,
  readVocabulary,
  tokenName,
  type Json,
} from './loader.js';
import { checkMaxLength, pairFromIds, pairWindowsFromIds, type PairLayout } from './truncation.js';
import type { BertPipeline } from './wordpiece.js';
import { ModelInvalidError } from '../../errors.js';

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
      throw new ModelInvalidError(`tokenizer: ${source}: ${message}`);
    };
    const vocabulary = readVocabulary(json, fail);
    const { model, tokenToId, idToToken, added } = vocabulary;
    const idOf = (name: string | undefined): number | undefined => {
      if (name === undefined) return undefined;
      return added.find((t) => t.content === name)?.id ?? tokenToId.get(name);
    };

    if (isBertPipeline(json)) {
      this.bert = readBertPipeline(json, vocabulary, fail);
    } else {
      this.js = readJsTokenizer(json, config, fail);
      addArrayVocabulary(vocabulary);
    }
    for (const t of added) {
      tokenToId.set(t.content, t.id);
      idToToken[t.id] = t.content;
    }
    this.idToToken = idToToken;
    this.specialIds = new Set(added.filter((t) => t.special).map((t) => t.id));

    this.layout = readPairLayout(json, config, idOf, fail);
    this.clsId = this.layout.clsId;
    this.sepId = this.layout.sepId;
    const padding = isObject(json.padding) && Number.isInteger(json.padding.pad_id) ? (json.padding.pad_id as number) : undefined;
    this.padId = idOf(tokenName(config.pad_token)) ?? padding ?? idOf('[PAD]') ?? 0;
    this.maskId = idOf(tokenName(config.mask_token) ?? '[MASK]');
    this.unkId = idOf(tokenName(config.unk_token) ?? (typeof model.unk_token === 'string' ? model.unk_token : '[UNK]'));
    this.modelMaxLength = readModelMaxLength(config);

    this.decoderConfig = readWordPieceDecoder(json);
    const plainJoin = json.decoder === null || json.decoder === undefined;
    this.jsDecoder = this.js ?? (this.decoderConfig || plainJoin ? undefined : readJsTokenizer(json, config, fail));
  }

  /** Reads `tokenizer.json` and, when present, `tokenizer_config.json` from a model folder. */
  static async fromFolder(dir: string): Promise<PairTokenizer> {
    const { json, config, source } = await readTokenizerFolder(dir);
    return new PairTokenizer(json, config, source);
  }

  /** From already-parsed `tokenizer.json` (and optional `tokenizer_config.json`) contents. */
  static fromJson(tokenizerJson: object, tokenizerConfig: object = {}): PairTokenizer {
    if (!isObject(tokenizerJson)) throw new ModelInvalidError('tokenizer: tokenizer.json must be a JSON object');
    if (!isObject(tokenizerConfig)) throw new ModelInvalidError('tokenizer: tokenizer_config.json must be a JSON object');
    return new PairTokenizer(tokenizerJson, tokenizerConfig, 'tokenizer.json');
  }

  /** Token ids of `text` without special tokens. */
  tokenIds(text: string): number[] {
    checkTokenizerText(text);
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
    return encodedFromIds([this.clsId, ...ids.slice(0, keep), this.sepId], this.layout.clsType);
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
    return joinWordPieces(tokens, this.decoderConfig);
  }
}
