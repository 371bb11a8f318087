/**
 * Reading a Hugging Face `tokenizer.json` / `tokenizer_config.json`: the files, the vocabulary, the added tokens,
 * the pair template and the settings, each checked with an error that names the field.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer as JsTokenizer } from '@huggingface/tokenizers';
import type { AddedToken } from './added-tokens.js';
import { BERT_LAYOUT, type PairLayout } from './truncation.js';
import { BertPipeline } from './wordpiece.js';
import { ModelInvalidError } from '../../errors.js';

export type Json = Record<string, unknown>;
/** Throws an error that names the file being read. */
export type Fail = (message: string) => never;
export type LoadedAddedToken = AddedToken & { normalized: boolean; special: boolean };

export const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** tokenizer_config.json writes special tokens either as strings or as serialized AddedToken objects. */
export function tokenName(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isObject(value) && typeof value.content === 'string') return value.content;
  return undefined;
}

/** HF writes `int(1e30)` as model_max_length when a model sets none; such values mean "unknown". */
const UNSET_MAX_LENGTH = 1e9;

/** tokenizer_config.json's model_max_length; 512 when absent or set to HF's "unknown" sentinel. */
export function readModelMaxLength(config: Json): number {
  const configured = config.model_max_length;
  return typeof configured === 'number' && Number.isInteger(configured) && configured > 0 && configured < UNSET_MAX_LENGTH ? configured : 512;
}

/** Whether the Rust-equal BERT pipeline can run this tokenizer.json; anything else goes to @huggingface/tokenizers. */
export function isBertPipeline(json: Json): boolean {
  const model = json.model;
  const normalizer = json.normalizer;
  const preTokenizer = json.pre_tokenizer;
  const added = Array.isArray(json.added_tokens) ? json.added_tokens : [];
  return (
    isObject(model) &&
    model.type === 'WordPiece' &&
    (normalizer === null || normalizer === undefined || (isObject(normalizer) && normalizer.type === 'BertNormalizer')) &&
    isObject(preTokenizer) &&
    preTokenizer.type === 'BertPreTokenizer' &&
    added.every((t) => isObject(t) && !t.single_word)
  );
}

export interface Vocabulary {
  model: Json;
  tokenToId: Map<string, number>;
  idToToken: string[];
  added: LoadedAddedToken[];
}

/** `model.vocab` when it is a token -> id object (WordPiece), and `added_tokens`. */
export function readVocabulary(json: Json, fail: Fail): Vocabulary {
  const model = isObject(json.model) ? json.model : fail('"model" is missing');
  if (!isObject(model.vocab) && !Array.isArray(model.vocab)) fail('"model.vocab" is missing');
  const rawAdded = json.added_tokens === undefined ? [] : json.added_tokens;
  if (!Array.isArray(rawAdded)) fail('"added_tokens" must be an array');

  const tokenToId = new Map<string, number>();
  const idToToken: string[] = [];
  if (isObject(model.vocab)) {
    for (const [token, id] of Object.entries(model.vocab)) {
      if (!Number.isInteger(id)) fail(`"model.vocab" maps ${JSON.stringify(token)} to ${JSON.stringify(id)}, not an integer id`);
      tokenToId.set(token, id as number);
      idToToken[id as number] = token;
    }
  }
  const added: LoadedAddedToken[] = [];
  for (const [i, t] of (rawAdded as unknown[]).entries()) {
    if (!isObject(t) || typeof t.content !== 'string' || !Number.isInteger(t.id)) fail(`added_tokens[${i}] needs "content" and an integer "id"`);
    const token = t as Json;
    added.push({
      content: token.content as string,
      id: token.id as number,
      lstrip: token.lstrip === true,
      rstrip: token.rstrip === true,
      normalized: token.normalized === true,
      special: token.special === true,
    });
  }
  return { model, tokenToId, idToToken, added };
}

/** Adds a `[token, score]` array vocabulary (Unigram and friends) to the id maps, for decoding. */
export function addArrayVocabulary(vocabulary: Vocabulary): void {
  if (!Array.isArray(vocabulary.model.vocab)) return;
  (vocabulary.model.vocab as unknown[]).forEach((entry, id) => {
    if (Array.isArray(entry) && typeof entry[0] === 'string') {
      vocabulary.tokenToId.set(entry[0], id);
      vocabulary.idToToken[id] = entry[0];
    }
  });
}

/** The native BertNormalizer + BertPreTokenizer + WordPiece pipeline for a tokenizer.json that {@link isBertPipeline}. */
export function readBertPipeline(json: Json, { model, tokenToId, added }: Vocabulary, fail: Fail): BertPipeline {
  const normalizer = isObject(json.normalizer)
    ? {
        cleanText: json.normalizer.clean_text !== false,
        handleChineseChars: json.normalizer.handle_chinese_chars !== false,
        lowercase: json.normalizer.lowercase !== false,
        // null (what HF writes) means "strip when lowercasing".
        stripAccents:
          typeof json.normalizer.strip_accents === 'boolean' ? json.normalizer.strip_accents : json.normalizer.lowercase !== false,
      }
    : null;
  const unkToken = typeof model.unk_token === 'string' ? model.unk_token : '[UNK]';
  const unkId = tokenToId.get(unkToken) ?? fail(`unk_token ${JSON.stringify(unkToken)} is not in model.vocab`);
  return new BertPipeline(
    normalizer,
    {
      vocab: tokenToId,
      unkId,
      prefix: typeof model.continuing_subword_prefix === 'string' ? model.continuing_subword_prefix : '##',
      maxInputCharsPerWord: Number.isInteger(model.max_input_chars_per_word) ? (model.max_input_chars_per_word as number) : 100,
    },
    added,
  );
}

/** @huggingface/tokenizers for pipelines the native one does not cover. */
export function readJsTokenizer(json: Json, config: Json, fail: Fail): JsTokenizer {
  try {
    // Its constructor insists on these keys, which tokenizer.json may leave out when they are null.
    return new JsTokenizer({ normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json }, config);
  } catch (error) {
    return fail(`cannot be loaded (${(error as Error).message})`);
  }
}

/** The template's `[CLS] $A [SEP] $B [SEP]` ids and token types. */
function templateLayout(processor: Json, idOf: (name: string | undefined) => number | undefined, fail: Fail): PairLayout {
  const pair = Array.isArray(processor.pair) ? (processor.pair as unknown[]) : [];
  const special = (piece: unknown) => (isObject(piece) && isObject(piece.SpecialToken) ? piece.SpecialToken : undefined);
  const sequence = (piece: unknown) => (isObject(piece) && isObject(piece.Sequence) ? piece.Sequence : undefined);
  const [cls, a, mid, b, end] = [special(pair[0]), sequence(pair[1]), special(pair[2]), sequence(pair[3]), special(pair[4])];
  if (pair.length !== 5 || !cls || !a || !mid || !b || !end || a.id !== 'A' || b.id !== 'B' || mid.id !== end.id) {
    fail('post_processor.pair is not of the form [CLS] $A [SEP] $B [SEP]; only BERT-style pairs are supported');
  }
  const specials = isObject(processor.special_tokens) ? processor.special_tokens : {};
  const idFromTemplate = (name: unknown): number => {
    const entry = typeof name === 'string' ? specials[name] : undefined;
    const ids = isObject(entry) && Array.isArray(entry.ids) ? entry.ids : undefined;
    if (ids && ids.length === 1 && Number.isInteger(ids[0])) return ids[0] as number;
    return idOf(typeof name === 'string' ? name : undefined) ?? fail(`special token ${JSON.stringify(name)} of the pair template has no id`);
  };
  const typeOf = (piece: Json) => (Number.isInteger(piece.type_id) ? (piece.type_id as number) : 0);
  return {
    clsId: idFromTemplate(cls!.id),
    sepId: idFromTemplate(mid!.id),
    clsType: typeOf(cls!),
    queryType: typeOf(a!),
    midSepType: typeOf(mid!),
    docType: typeOf(b!),
    endSepType: typeOf(end!),
  };
}

/** The pair template, which must be `[CLS] $A [SEP] $B [SEP]` in shape; token types are taken from it. */
export function readPairLayout(json: Json, config: Json, idOf: (name: string | undefined) => number | undefined, fail: Fail): PairLayout {
  let processor = json.post_processor;
  if (isObject(processor) && processor.type === 'Sequence' && Array.isArray(processor.processors)) {
    processor = (processor.processors as unknown[]).find((p) => isObject(p) && (p.type === 'TemplateProcessing' || p.type === 'BertProcessing'));
  }
  if (isObject(processor) && processor.type === 'TemplateProcessing') return templateLayout(processor, idOf, fail);
  if (isObject(processor) && processor.type === 'BertProcessing') {
    const pick = (entry: unknown, what: string): number =>
      Array.isArray(entry) && Number.isInteger(entry[1]) ? (entry[1] as number) : fail(`post_processor.${what} must be [token, id]`);
    return { ...BERT_LAYOUT, clsId: pick(processor.cls, 'cls'), sepId: pick(processor.sep, 'sep') };
  }
  if (processor !== null && processor !== undefined) {
    fail(`post_processor of type ${JSON.stringify(isObject(processor) ? processor.type : processor)} is not a BERT-style pair template`);
  }
  const clsName = tokenName(config.cls_token) ?? '[CLS]';
  const sepName = tokenName(config.sep_token) ?? '[SEP]';
  return {
    ...BERT_LAYOUT,
    clsId: idOf(clsName) ?? fail(`no post_processor, and the CLS token ${JSON.stringify(clsName)} is not in the vocabulary`),
    sepId: idOf(sepName) ?? fail(`no post_processor, and the SEP token ${JSON.stringify(sepName)} is not in the vocabulary`),
  };
}

/** Parses a tokenizer file; a missing optional file gives undefined. Errors name the path. */
export async function readTokenizerJson(path: string, required: boolean): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!required) return undefined;
      throw new ModelInvalidError(`tokenizer: ${path} is missing`);
    }
    throw new ModelInvalidError(`tokenizer: cannot read ${path} (${(error as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ModelInvalidError(`tokenizer: ${path} is not valid JSON (${(error as Error).message})`);
  }
}

/** `tokenizer.json` and, when present, `tokenizer_config.json` of a model folder, both checked to be objects. */
export async function readTokenizerFolder(dir: string): Promise<{ json: Json; config: Json; source: string }> {
  const tokenizerPath = join(dir, 'tokenizer.json');
  const json = await readTokenizerJson(tokenizerPath, true);
  const configPath = join(dir, 'tokenizer_config.json');
  const config = (await readTokenizerJson(configPath, false)) ?? {};
  if (!isObject(config)) throw new ModelInvalidError(`tokenizer: ${configPath} must hold a JSON object`);
  if (!isObject(json)) throw new ModelInvalidError(`tokenizer: ${tokenizerPath} must hold a JSON object`);
  return { json, config, source: tokenizerPath };
}
