import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { headOf, validateBertConfig, type BertConfig, type ModelHead } from './config.js';
import { exists } from '../util/fs.js';
import { fetchHubFile, hubCacheFolder, HubDownloadError, isHubId, type HubOptions } from './hub.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { buildUseLiteOnnx, type UseLiteConfig } from './use-lite/graph.js';
import { writeBertOnnx } from './onnx/bert-graph.js';
import { readSafetensorsFile } from './safetensors.js';

export type ModelDtype = 'fp32' | 'int8';

/** A model laid out as transformers.js expects: config.json + tokenizer.json + onnx/, optionally model.safetensors. */
export interface ModelFolder {
  /** What the user asked for: a hub id or a path. */
  name: string;
  dir: string;
  config: BertConfig;
  head: ModelHead;
  /** The ONNX file for the requested dtype; built from model.safetensors when the folder had none. */
  onnxPath: string;
  dtype: ModelDtype;
}

export interface ResolveModelOptions extends HubOptions {
  dtype?: ModelDtype;
}

export const ONNX_FILES: Record<ModelDtype, string> = {
  fp32: 'onnx/model.onnx',
  int8: 'onnx/model_quantized.onnx',
};

/**
 * Finds a model by local folder or hub id. A hub model is downloaded once into the cache folder and reused; when the
 * hub cannot be reached and the cache lacks files, the error names the model, the cache folder and the files expected.
 */
export async function resolveModel(spec: string, options: ResolveModelOptions = {}): Promise<ModelFolder> {
  const dtype = options.dtype ?? 'fp32';
  if (dtype !== 'fp32' && dtype !== 'int8') throw new Error(`dtype must be "fp32" or "int8", got ${JSON.stringify(dtype)}`);
  if (!spec || typeof spec !== 'string') throw new Error('model: expected a folder path or a hub id such as "cross-encoder/ms-marco-MiniLM-L6-v2"');

  const local = resolve(spec);
  let dir: string;
  if (await isDirectory(local)) {
    dir = local;
  } else if (isHubId(spec)) {
    dir = await downloadHubModel(spec, dtype, options);
  } else {
    throw new Error(`model "${spec}": no such folder, and not a hub id of the form owner/name`);
  }

  const configPath = join(dir, 'config.json');
  if (!(await exists(configPath))) throw new Error(`model "${spec}": ${configPath} is missing (expected a Hugging Face model folder)`);
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (error) {
    throw new Error(`model "${spec}": ${configPath} is not valid JSON (${(error as Error).message})`);
  }
  const config = validateBertConfig(rawConfig, configPath);
  const tokenizerPath = join(dir, 'tokenizer.json');
  if (!(await exists(tokenizerPath))) throw new Error(`model "${spec}": ${tokenizerPath} is missing`);

  const head = headOf(config);
  const onnxPath = join(dir, ONNX_FILES[dtype]);
  if (!(await exists(onnxPath))) await buildOnnxFromSafetensors(spec, dir, config, head, dtype, onnxPath);
  return { name: spec, dir, config, head, onnxPath, dtype };
}

async function downloadHubModel(modelId: string, dtype: ModelDtype, options: HubOptions): Promise<string> {
  const folder = hubCacheFolder(modelId, options);
  const expected = ['config.json', 'tokenizer.json', `${ONNX_FILES[dtype]} or model.safetensors`];
  try {
    for (const file of ['config.json', 'tokenizer.json']) {
      if (!(await fetchHubFile(modelId, file, options))) throw new HubDownloadError(`the hub has no ${file} for it`, 404);
    }
    await fetchHubFile(modelId, 'tokenizer_config.json', options);
    await fetchHubFile(modelId, 'modules.json', options);
    await fetchHubFile(modelId, '1_Pooling/config.json', options);
    const onnx = await fetchHubFile(modelId, ONNX_FILES[dtype], options);
    if (!onnx && !(await fetchHubFile(modelId, 'model.safetensors', options))) {
      throw new HubDownloadError(`the hub has neither ${ONNX_FILES[dtype]} nor model.safetensors for it`, 404);
    }
  } catch (error) {
    if (!(error instanceof HubDownloadError)) throw error;
    throw new Error(
      `model "${modelId}" is not (completely) in the cache folder ${folder} and could not be downloaded: ${error.message}. ` +
        `Expected files: ${expected.join(', ')}. Put them there or pass a local model folder.`,
    );
  }
  return folder;
}

async function buildOnnxFromSafetensors(
  spec: string,
  dir: string,
  config: BertConfig,
  head: ModelHead,
  dtype: ModelDtype,
  onnxPath: string,
): Promise<void> {
  const weightsPath = join(dir, 'model.safetensors');
  if (!(await exists(weightsPath))) {
    throw new Error(`model "${spec}": neither ${onnxPath} nor ${weightsPath} exists (one of them is needed for dtype ${dtype})`);
  }
  const { tensors } = await readSafetensorsFile(weightsPath);
  await mkdir(dirname(onnxPath), { recursive: true });
  if (config.model_type === 'use-lite') {
    await writeFileAtomic(onnxPath, buildUseLiteOnnx(tensors, dtype, config as unknown as UseLiteConfig, head));
  } else {
    await writeBertOnnx(onnxPath, config, tensors, { head, dtype });
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
