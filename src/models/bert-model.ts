import type { ModelHead } from './config.js';
import { resolveModel, type ModelFolder, type ResolveModelOptions } from './model-folder.js';
import { createSession, int64Tensor, ort, type SessionOptions } from './session.js';
import type { PaddedBatch, SequenceTokenizer } from './tokenizer/index.js';
import { ModelInvalidError } from '../errors.js';

export interface BertModelLoadOptions extends ResolveModelOptions, SessionOptions {
  /** Longest input in tokens; capped by the model's `max_position_embeddings` and the tokenizer. Default 512. */
  maxLength?: number;
}

/** What every ONNX-backed BERT-family (or USE Lite cross-encoder) model needs: its folder, tokenizer, session and length limit. */
export interface BertModel {
  folder: ModelFolder;
  tokenizer: SequenceTokenizer;
  session: ort.InferenceSession;
  maxLength: number;
}

const HEAD_ROLES: Record<ModelHead, string> = {
  'sequence-classification': 'a cross-encoder needs a *ForSequenceClassification model (use BiEncoder for plain encoders)',
  none: 'a bi-encoder needs a plain encoder (BertModel); use CrossEncoder for classification models',
};

export async function loadBertModel(model: string, head: ModelHead, options: BertModelLoadOptions = {}): Promise<BertModel> {
  return openBertModel(await resolveModel(model, options), head, options);
}

/** A resolved folder's session and tokenizer (the family's: WordPiece for BERT, SentencePiece for USE Lite). */
export async function openBertModel(folder: ModelFolder, head: ModelHead, options: BertModelLoadOptions = {}): Promise<BertModel> {
  if (folder.head !== head) {
    throw new ModelInvalidError(`model "${folder.name}": config.json architectures is ${JSON.stringify(folder.config.architectures ?? [])}; ${HEAD_ROLES[head]}`);
  }
  const tokenizer = await folder.family.loadTokenizer(folder.dir);
  const session = await createSession(folder.onnxPath, options);
  const maxLength = Math.min(options.maxLength ?? 512, folder.config.max_position_embeddings, tokenizer.modelMaxLength);
  return { folder, tokenizer, session, maxLength };
}

/** One forward pass over a padded batch, with the input names Hugging Face's ONNX exports use. */
export function runBertBatch(session: ort.InferenceSession, batch: PaddedBatch): Promise<ort.InferenceSession.OnnxValueMapType> {
  const dims = [batch.batchSize, batch.sequenceLength];
  return session.run({
    input_ids: int64Tensor(batch.inputIds, dims),
    attention_mask: int64Tensor(batch.attentionMask, dims),
    token_type_ids: int64Tensor(batch.tokenTypeIds, dims),
  });
}
