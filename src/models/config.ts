/**
 * The subset of a Hugging Face BERT-family `config.json` that rankwise reads. Field names are kept exactly as
 * Hugging Face writes them so that a config round-trips unchanged between Python and rankwise.
 */
import { ModelInvalidError } from '../errors.js';
export interface BertConfig {
  model_type: string;
  architectures?: string[];
  vocab_size: number;
  hidden_size: number;
  num_hidden_layers: number;
  num_attention_heads: number;
  intermediate_size: number;
  max_position_embeddings: number;
  type_vocab_size: number;
  layer_norm_eps: number;
  hidden_act: string;
  pad_token_id?: number;
  /** Classification heads: label names by index; their count is the number of logits. */
  id2label?: Record<string, string>;
  label2id?: Record<string, number>;
  num_labels?: number;
  /** sentence-transformers' CrossEncoder records the activation applied to logits here. */
  sentence_transformers?: { activation_fn?: string };
  [key: string]: unknown;
}

export type ModelHead = 'sequence-classification' | 'none';

export function numLabels(config: BertConfig): number {
  if (config.id2label) return Object.keys(config.id2label).length;
  return config.num_labels ?? 1;
}

/** Which head a config describes: `BertForSequenceClassification` has one, a plain `BertModel` encoder does not. */
export function headOf(config: BertConfig): ModelHead {
  const arch = config.architectures?.[0] ?? '';
  return arch.endsWith('ForSequenceClassification') ? 'sequence-classification' : 'none';
}

const REQUIRED_NUMBERS = [
  'vocab_size',
  'hidden_size',
  'num_hidden_layers',
  'num_attention_heads',
  'intermediate_size',
  'max_position_embeddings',
  'type_vocab_size',
] as const;

/** Checks a parsed config.json; `source` names the file in error messages. */
export function validateBertConfig(raw: unknown, source: string): BertConfig {
  if (typeof raw !== 'object' || raw === null) throw new ModelInvalidError(`${source}: expected a JSON object`);
  const c = raw as Record<string, unknown>;
  for (const key of REQUIRED_NUMBERS) {
    const v = c[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      throw new ModelInvalidError(`${source}: field "${key}" must be a positive integer, got ${JSON.stringify(v)}`);
    }
  }
  const hidden = c.hidden_size as number;
  const heads = c.num_attention_heads as number;
  if (hidden % heads !== 0) {
    throw new ModelInvalidError(`${source}: hidden_size (${hidden}) must be divisible by num_attention_heads (${heads})`);
  }
  const act = c.hidden_act ?? 'gelu';
  if (act !== 'gelu' && act !== 'gelu_new' && act !== 'relu') {
    throw new ModelInvalidError(`${source}: field "hidden_act" must be "gelu", "gelu_new" or "relu", got ${JSON.stringify(act)}`);
  }
  return {
    ...(c as object),
    model_type: typeof c.model_type === 'string' ? c.model_type : 'bert',
    layer_norm_eps: typeof c.layer_norm_eps === 'number' ? c.layer_norm_eps : 1e-12,
    hidden_act: act,
  } as BertConfig;
}
