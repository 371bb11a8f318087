/**
 * What late interaction needs from a model: per-token unit vectors for queries and for documents, computed
 * separately (documents once, ahead of time). Sentence encoders use the same encoding for both (the article's
 * "ColBERT-like" use of token embeddings); real ColBERT checkpoints encode queries and documents differently.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenEmbeddings } from '../../models/bi-encoder.js';
import type { BertModelLoadOptions } from '../../models/bert-model.js';
import { locateModel, resolveModel } from '../../models/model-folder.js';
import { exists } from '../../util/fs.js';
import { ColBertEncoder } from './colbert.js';

export interface LateInteractionEncoder {
  readonly name: string;
  readonly dimension: number;
  encodeQueries(texts: readonly string[]): Promise<TokenEmbeddings[]>;
  encodeDocuments(texts: readonly string[]): Promise<TokenEmbeddings[]>;
  dispose(): Promise<void>;
}

/** Anything with per-token embeddings: every family's sentence encoder (UseLiteOnnxEncoder, BiEncoder). */
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

/** A ColBERT checkpoint folder, or any model whose family gives a sentence encoder (a built-in name, a folder, a hub id). */
export async function loadLateInteractionEncoder(
  model: string = DEFAULT_LATE_INTERACTION_ENCODER,
  options: BertModelLoadOptions = {},
): Promise<LateInteractionEncoder> {
  const located = await locateModel(model, options);
  if (await isColBertFolder(located.dir)) return ColBertEncoder.load(located.dir, options);
  const folder = await resolveModel(located, options);
  return new SentenceTokenEncoder(await folder.family.loadSentenceEncoder(folder, options));
}
