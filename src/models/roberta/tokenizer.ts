/**
 * RoBERTa's and XLM-RoBERTa's tokenizers (byte-level BPE and SentencePiece Unigram tokenizer.json files) in the shape
 * cross-encoders and bi-encoders use (`SequenceTokenizer`).
 *
 * The pieces come from @huggingface/tokenizers, with its Unigram search replaced by Rust's (./unigram.ts: the two
 * break ties between equally scored segmentations differently), which gives the Rust tokenizer's ids for both
 * pipelines (test/roberta-family.test.ts compares them). Its `Precompiled` normalizer (XLM-R's SentencePiece charsmap) is
 * NFKC plus SentencePiece's whitespace and control-character rules rather than the charsmap itself, so for rare
 * characters where the two disagree an id can differ from Python's.
 *
 * A pair is `<s> query </s></s> document </s>`, a single text `<s> text </s>`, every token type 0. Pairs are cut by
 * the same policy as BERT's (`pairBudget`), with 4 special tokens instead of 3: the layout is BERT's
 * `[CLS] q [SEP] d [SEP]` built for one token less, with the second separator inserted after the query.
 */
import type { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InputError, ModelInvalidError } from '../../errors.js';
import {
  checkTokenizerText,
  encodedFromIds,
  padEncoded,
  pairBudget,
  pairFromIds,
  pairWindowsFromIds,
  type Encoded,
  type PaddedBatch,
  type PairEncodeOptions,
  type PairLayout,
  type PairWindowOptions,
  type SequenceTokenizer,
} from '../tokenizer/index.js';
import {
  addArrayVocabulary,
  isObject,
  readJsTokenizer,
  readModelMaxLength,
  readTokenizerFolder,
  readTokenizerJson,
  readVocabulary,
  tokenName,
  type Fail,
  type Json,
} from '../tokenizer/loader.js';
import { robertaMaxTokens } from './config.js';
import { metaspaceSplit, rustVocabScores, useRustUnigramSearch } from './unigram.js';

/** `<s>`, `</s>`, `</s>`, `</s>`: what a pair adds to its two texts. */
const PAIR_SPECIAL_TOKENS = 4;

/** The `<s>` and `</s>` ids a pair is built with. */
function readMarkers(json: Json, config: Json, idOf: (name: string) => number | undefined, fail: Fail): { clsId: number; sepId: number } {
  let processor = json.post_processor;
  if (isObject(processor) && processor.type === 'Sequence' && Array.isArray(processor.processors)) {
    processor = (processor.processors as unknown[]).find((p) => isObject(p) && (p.type === 'TemplateProcessing' || p.type === 'RobertaProcessing'));
  }
  if (isObject(processor) && processor.type === 'RobertaProcessing') {
    const pick = (entry: unknown, what: string): number =>
      Array.isArray(entry) && Number.isInteger(entry[1]) ? (entry[1] as number) : fail(`post_processor.${what} must be [token, id]`);
    return { clsId: pick(processor.cls, 'cls'), sepId: pick(processor.sep, 'sep') };
  }
  if (isObject(processor) && processor.type === 'TemplateProcessing') return templateMarkers(processor, idOf, fail);
  if (processor !== null && processor !== undefined) {
    fail(`post_processor of type ${JSON.stringify(isObject(processor) ? processor.type : processor)} is not a RoBERTa pair template`);
  }
  const clsName = tokenName(config.cls_token) ?? '<s>';
  const sepName = tokenName(config.sep_token) ?? '</s>';
  return {
    clsId: idOf(clsName) ?? fail(`no post_processor, and the CLS token ${JSON.stringify(clsName)} is not in the vocabulary`),
    sepId: idOf(sepName) ?? fail(`no post_processor, and the SEP token ${JSON.stringify(sepName)} is not in the vocabulary`),
  };
}

/** XLM-R's template: pair `<s> $A </s> </s> $B </s>`, every part of token type 0. */
function templateMarkers(processor: Json, idOf: (name: string) => number | undefined, fail: Fail): { clsId: number; sepId: number } {
  const pair = Array.isArray(processor.pair) ? (processor.pair as unknown[]) : [];
  const part = (piece: unknown, kind: 'SpecialToken' | 'Sequence') => (isObject(piece) && isObject(piece[kind]) ? (piece[kind] as Json) : undefined);
  const pieces = [part(pair[0], 'SpecialToken'), part(pair[1], 'Sequence'), part(pair[2], 'SpecialToken'), part(pair[3], 'SpecialToken'),
    part(pair[4], 'Sequence'), part(pair[5], 'SpecialToken')];
  const [cls, a, sep1, sep2, b, sep3] = pieces;
  if (pair.length !== 6 || pieces.some((p) => !p) || a!.id !== 'A' || b!.id !== 'B' || sep1!.id !== sep2!.id || sep1!.id !== sep3!.id) {
    fail('post_processor.pair is not of the form <s> $A </s> </s> $B </s>');
  }
  if (pieces.some((p) => (p!.type_id ?? 0) !== 0)) fail('post_processor.pair gives a part a token type other than 0; RoBERTa pairs have one type');
  const specials = isObject(processor.special_tokens) ? processor.special_tokens : {};
  const idFromTemplate = (name: unknown): number => {
    const entry = typeof name === 'string' ? specials[name] : undefined;
    const ids = isObject(entry) && Array.isArray(entry.ids) ? entry.ids : undefined;
    if (ids && ids.length === 1 && Number.isInteger(ids[0])) return ids[0] as number;
    return (typeof name === 'string' ? idOf(name) : undefined) ?? fail(`special token ${JSON.stringify(name)} of the pair template has no id`);
  };
  return { clsId: idFromTemplate(cls!.id), sepId: idFromTemplate(sep1!.id) };
}

function checkLength(maxLength: unknown, min: number, what: string): number {
  if (typeof maxLength !== 'number' || !Number.isInteger(maxLength) || maxLength < min) {
    throw new InputError(`maxLength: expected an integer >= ${min} (${what}), got ${JSON.stringify(maxLength)}`);
  }
  return maxLength;
}

const checkPairLength = (maxLength: unknown) => checkLength(maxLength, PAIR_SPECIAL_TOKENS + 1, 'room for <s>, </s></s>, </s> and one token');

export interface RobertaTokenizerOptions {
  /** The longest sequence the model's position table covers (from config.json); caps `modelMaxLength`. */
  maxTokens?: number;
  /** tokenizer.json's text, for Unigram scores exactly as the Rust tokenizer reads them (see ./unigram.ts). */
  text?: string;
}

export class RobertaTokenizer implements SequenceTokenizer {
  readonly clsId: number;
  readonly sepId: number;
  readonly padId: number;
  /** tokenizer_config.json's model_max_length (512 when unset), capped by the position table. */
  readonly modelMaxLength: number;
  readonly layout: PairLayout;

  private readonly js: JsTokenizer;
  private readonly idToToken: string[];

  private constructor(json: Json, config: Json, source: string, options: RobertaTokenizerOptions) {
    const fail: Fail = (message) => {
      throw new ModelInvalidError(`tokenizer: ${source}: ${message}`);
    };
    const vocabulary = readVocabulary(json, fail);
    addArrayVocabulary(vocabulary);
    for (const t of vocabulary.added) {
      vocabulary.tokenToId.set(t.content, t.id);
      vocabulary.idToToken[t.id] = t.content;
    }
    const idOf = (name: string) => vocabulary.tokenToId.get(name);
    this.idToToken = vocabulary.idToToken;
    this.js = readJsTokenizer(json, config, fail);
    const { model } = vocabulary;
    if (model.type === 'Unigram') {
      const unkId = Number.isInteger(model.unk_id) ? (model.unk_id as number) : -1;
      const vocab = model.vocab as Array<[string, number]>;
      const scores = options.text === undefined ? undefined : rustVocabScores(options.text, vocab);
      const split = metaspaceSplit(json.pre_tokenizer);
      useRustUnigramSearch((this.js as unknown as { model: unknown }).model, vocab, unkId, source, scores, split);
    }

    const { clsId, sepId } = readMarkers(json, config, idOf, fail);
    this.clsId = clsId;
    this.sepId = sepId;
    this.layout = { clsId, sepId, clsType: 0, queryType: 0, midSepType: 0, docType: 0, endSepType: 0 };
    const padName = tokenName(config.pad_token) ?? '<pad>';
    const padding = isObject(json.padding) && Number.isInteger(json.padding.pad_id) ? (json.padding.pad_id as number) : undefined;
    this.padId = idOf(padName) ?? padding ?? fail(`the padding token ${JSON.stringify(padName)} is not in the vocabulary`);
    const configured = readModelMaxLength(config);
    this.modelMaxLength = options.maxTokens === undefined ? configured : Math.min(configured, options.maxTokens);
  }

  /**
   * Reads `tokenizer.json`, and `tokenizer_config.json` when present, from a model folder; the folder's config.json,
   * when present, caps the length at what its position table covers.
   */
  static async fromFolder(dir: string): Promise<RobertaTokenizer> {
    const { json, config, source } = await readTokenizerFolder(dir);
    const text = isObject(json.model) && json.model.type === 'Unigram' ? await readFile(source, 'utf8') : undefined;
    const modelConfig = await readTokenizerJson(join(dir, 'config.json'), false);
    const positions = isObject(modelConfig) ? modelConfig.max_position_embeddings : undefined;
    const maxTokens = typeof positions === 'number'
      ? robertaMaxTokens({ max_position_embeddings: positions, pad_token_id: (modelConfig as { pad_token_id?: number }).pad_token_id })
      : undefined;
    return new RobertaTokenizer(json, config, source, { maxTokens, text });
  }

  /** From already-parsed `tokenizer.json` (and optional `tokenizer_config.json`) contents. */
  static fromJson(tokenizerJson: object, tokenizerConfig: object = {}, options: RobertaTokenizerOptions = {}): RobertaTokenizer {
    if (!isObject(tokenizerJson)) throw new InputError('tokenizer: tokenizer.json must be a JSON object');
    if (!isObject(tokenizerConfig)) throw new InputError('tokenizer: tokenizer_config.json must be a JSON object');
    return new RobertaTokenizer(tokenizerJson, tokenizerConfig, 'tokenizer.json', options);
  }

  /** Token ids of `text` without special tokens (special tokens written in the text are still recognised, as in Rust). */
  tokenIds(text: string): number[] {
    checkTokenizerText(text);
    return text.length === 0 ? [] : this.js.encode(text, { add_special_tokens: false }).ids;
  }

  /** `<s> query </s></s> doc </s>`, cut as {@link pairBudget} says for `maxLength - 1` (one more special token than BERT). */
  pairFromIds(queryIds: readonly number[], docIds: readonly number[], maxLength: number): Encoded {
    const limit = checkPairLength(maxLength);
    const { queryKeep } = pairBudget(queryIds.length, docIds.length, limit - 1);
    return this.withSecondSeparator(pairFromIds(queryIds, docIds, limit - 1, this.layout), queryKeep);
  }

  encodePair(query: string, doc: string, options: PairEncodeOptions): Encoded {
    checkPairLength(options?.maxLength);
    return this.pairFromIds(this.tokenIds(query), this.tokenIds(doc), options.maxLength);
  }

  /** BERT's windows (see `pairWindowsFromIds`) with the RoBERTa layout; the first equals {@link encodePair}. */
  encodePairWindows(query: string, doc: string, options: PairWindowOptions): Encoded[] {
    const limit = checkPairLength(options?.maxLength);
    const queryIds = this.tokenIds(query);
    const docIds = this.tokenIds(doc);
    const { queryKeep, docKeep } = pairBudget(queryIds.length, docIds.length, limit - 1);
    const docBudget = limit - PAIR_SPECIAL_TOKENS - queryKeep;
    if (docKeep < docIds.length && Number.isInteger(options.overlap) && options.overlap >= docBudget) {
      throw new InputError(
        `overlap: ${options.overlap} must be smaller than the document tokens per window (${docBudget} at maxLength ${limit} with a ` +
          `${queryKeep}-token query)`,
      );
    }
    return pairWindowsFromIds(queryIds, docIds, limit - 1, options.overlap, this.layout).map((w) => this.withSecondSeparator(w, queryKeep));
  }

  /** `<s> text </s>`, the text's tail cut to fit `maxLength`. */
  encodeSingle(text: string, options: PairEncodeOptions): Encoded {
    const limit = checkLength(options?.maxLength, 2, 'room for <s> and </s>');
    const ids = this.tokenIds(text);
    return encodedFromIds([this.clsId, ...ids.slice(0, limit - 2), this.sepId]);
  }

  /** Right-pads with `<pad>` (mask 0), the id the graph's position numbering skips. */
  pad(batch: readonly Encoded[]): PaddedBatch {
    return padEncoded(batch, this.padId);
  }

  /** The vocabulary entry for one id, as stored (`▁the`, `Ġthe`, `<s>`); for showing tokens, not for rebuilding text. */
  decodeToken(id: number): string {
    const token = this.idToToken[id];
    if (token === undefined) throw new InputError(`id: ${id} is not a token id of this tokenizer`);
    return token;
  }

  /** BERT's `[CLS] q [SEP] d [SEP]` -> `<s> q </s></s> d </s>`: a second separator right after the first. */
  private withSecondSeparator(encoded: Encoded, queryKeep: number): Encoded {
    const at = queryKeep + 2;
    encoded.inputIds.splice(at, 0, this.sepId);
    encoded.tokenTypeIds.splice(at, 0, 0);
    encoded.attentionMask.splice(at, 0, 1);
    return encoded;
  }
}
