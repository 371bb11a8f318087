/**
 * Names rankwise resolves without a folder or hub id (`default`, `use-lite`): each family folder or shipped model
 * contributes its own, and resolveModel turns them into a runnable folder in the model cache on first use.
 */
import type { SentenceEncoder } from './sentence-encoder.js';
import { SHIPPED_BUILT_INS } from './shipped-model.js';
import { USE_LITE_BUILT_INS } from './use-lite/builtin.js';

export interface BuiltInModel {
  /** What loading the name gives: a reranker folder (possibly a hybrid) or a sentence encoder. */
  kind: 'reranker' | 'encoder';
  /** The runnable folder, created on first use (`created`, taking `seconds`). */
  prepare(options: { cacheDir?: string }): Promise<{ dir: string; created: boolean; seconds: number }>;
  /** A runtime other than the folder's ONNX graph (USE Lite's own TF.js runtime). */
  loadSentenceEncoder?: () => Promise<SentenceEncoder>;
}

export type BuiltInModels = Record<string, BuiltInModel>;

const BUILT_INS: BuiltInModels = { ...SHIPPED_BUILT_INS, ...USE_LITE_BUILT_INS };

export const BUILT_IN_MODEL_NAMES: readonly string[] = Object.keys(BUILT_INS);

/** The built-in model of that name, if it is one. */
export function builtInModel(name: string): BuiltInModel | undefined {
  return Object.hasOwn(BUILT_INS, name) ? BUILT_INS[name] : undefined;
}
