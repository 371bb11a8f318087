/**
 * What late interaction needs from a model: per-token unit vectors for queries and for documents, computed
 * separately (documents once, ahead of time). Sentence encoders use the same encoding for both (the article's
 * "ColBERT-like" use of token embeddings); real ColBERT checkpoints encode queries and documents differently.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BiEncoder, type TokenEmbeddings } from '../../models/bi-encoder.js';
import type { BertModelLoadOptions } from '../../models/bert-model.js';
import { builtInUseLiteFolder, isUseLiteFolder } from '../../models/use-lite/builtin.js';
import { UseLiteOnnxEncoder } from '../../models/use-lite/encoder.js';
import { exists } from '../../util/fs.js';
import { ColBertEncoder } from './colbert.js';

export interface LateInteractionEncoder {
  readonly name: string;
  readonly dimension: number;
  encodeQueries(texts: readonly string[]): Promise<TokenEmbeddings[]>;
  encodeDocuments(texts: readonly string[]): Promise<TokenEmbeddings[]>;
  dispose(): Promise<void>;
}

/** Anything with per-token embeddings: UseLiteOnnxEncoder, BiEncoder. */
export interface TokenEmbedder {
  readonly name: string;
  readonly dimension: number;
  encodeTokens(texts: readonly string[]): Promise<TokenEmbeddings[]>;
  dispose(): Promise<void>;
}

/** The article's ColBERT-like setup: a sentence encoder's final token states, unpooled, for queries and documents alike. */
export class SentenceTokenEncoder implements LateInteractionEncoder {
  constructor(private readonly embedder: TokenEmbedder) {}
  get name(): string {
    return this.embedder.name;
  }
  get dimension(): number {
    return this.embedder.dimension;
  }
  encodeQueries(texts: readonly string[]): Promise<TokenEmbeddings[]> {
    return this.embedder.encodeTokens(texts);
  }
  encodeDocuments(texts: readonly string[]): Promise<TokenEmbeddings[]> {
    return this.embedder.encodeTokens(texts);
  }
  dispose(): Promise<void> {
    return this.embedder.dispose();
  }
}

/** A ColBERT checkpoint folder: `artifact.metadata` beside it, or `HF_ColBERT` in config.json. */
export async function isColBertFolder(dir: string): Promise<boolean> {
  if (await exists(join(dir, 'artifact.metadata'))) return true;
  try {
    const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { architectures?: unknown };
    return Array.isArray(config.architectures) && config.architectures.includes('HF_ColBERT');
  } catch {
    return false;
  }
}

/** The default encoder for late interaction: the real pretrained USE Lite. */
export const DEFAULT_LATE_INTERACTION_ENCODER = 'use-lite';

/** `use-lite`, a converted USE Lite folder, a ColBERT checkpoint folder, or any BERT-family encoder folder / hub id. */
export async function loadLateInteractionEncoder(
  model: string = DEFAULT_LATE_INTERACTION_ENCODER,
  options: BertModelLoadOptions = {},
): Promise<LateInteractionEncoder> {
  if (model === 'use-lite') {
    return new SentenceTokenEncoder(await UseLiteOnnxEncoder.load(await builtInUseLiteFolder(), { dtype: options.dtype, threads: options.threads, name: 'use-lite' }));
  }
  if (await isUseLiteFolder(model)) return new SentenceTokenEncoder(await UseLiteOnnxEncoder.load(model, { dtype: options.dtype, threads: options.threads }));
  if (await isColBertFolder(model)) return ColBertEncoder.load(model, options);
  return new SentenceTokenEncoder(await BiEncoder.load(model, options));
}
