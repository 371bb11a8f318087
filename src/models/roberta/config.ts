/**
 * The config.json of RoBERTa and XLM-RoBERTa (`roberta`, `xlm-roberta`): BERT's fields, plus what makes their
 * positions differ. RoBERTa numbers positions from `pad_token_id + 1` (Hugging Face's
 * create_position_ids_from_input_ids), so a model with `max_position_embeddings` 514 and padding id 1 reads at most
 * 512 tokens.
 */
import { ModelInvalidError } from '../../errors.js';
import { validateBertConfig, type BertConfig } from '../config.js';

export interface RobertaConfig extends BertConfig {
  pad_token_id: number;
}

/** Hugging Face's RobertaConfig / XLMRobertaConfig default. */
const DEFAULT_PAD_TOKEN_ID = 1;

/** Checks a parsed config.json (`source` names the file) and fills RoBERTa's defaults. */
export function validateRobertaConfig(raw: unknown, source: string): RobertaConfig {
  let config: BertConfig;
  try {
    config = validateBertConfig(raw, source);
  } catch (error) {
    throw error instanceof ModelInvalidError ? error : new ModelInvalidError((error as Error).message, { cause: error });
  }
  const pad = config.pad_token_id ?? DEFAULT_PAD_TOKEN_ID;
  if (!Number.isInteger(pad) || pad < 0 || pad >= config.vocab_size) {
    throw new ModelInvalidError(`${source}: field "pad_token_id" must be a token id below vocab_size (${config.vocab_size}), got ${JSON.stringify(pad)}`);
  }
  if (config.max_position_embeddings - pad - 1 < 5) {
    throw new ModelInvalidError(
      `${source}: field "max_position_embeddings" (${config.max_position_embeddings}) must exceed pad_token_id + 1 (${pad + 1}) ` +
        'by at least 5: RoBERTa positions start after the padding id, and a pair needs 4 special tokens and one more',
    );
  }
  const positions = config.position_embedding_type ?? 'absolute';
  if (positions !== 'absolute') {
    throw new ModelInvalidError(`${source}: field "position_embedding_type" must be "absolute", got ${JSON.stringify(positions)}`);
  }
  return { ...config, pad_token_id: pad };
}

/** The longest sequence the position table covers: positions run from pad_token_id + 1 to max_position_embeddings - 1. */
export function robertaMaxTokens(config: Pick<BertConfig, 'max_position_embeddings' | 'pad_token_id'>): number {
  return config.max_position_embeddings - (config.pad_token_id ?? DEFAULT_PAD_TOKEN_ID) - 1;
}
