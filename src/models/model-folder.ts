import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { BertConfig, ModelHead } from './config.js';
import { exists } from '../util/fs.js';
import { recoverFolderSwap } from '../util/atomic-write.js';
import { builtInModel, type BuiltInModel } from './built-in-model.js';
import type { ModelFamily } from './family.js';
import { familyFor } from './families.js';
import { fetchHubFile, hubCacheFolder, HubDownloadError, isHubId, type HubOptions } from './hub.js';
import { readSafetensorsFile } from './safetensors.js';

export type ModelDtype = 'fp32' | 'int8';

/** A model laid out as transformers.js expects: config.json + tokenizer.json + onnx/, optionally model.safetensors. */
export interface ModelFolder {
  /** What the user asked for: a hub id, a path or a built-in name. */
  name: string;
  dir: string;
  /** The fields every family's config shares with BERT's (sizes, architectures, labels); the family knows the rest. */
  config: BertConfig;
  /** The family its config.json's model_type selects: tokenizer, graph writer, sentence encoder. */
  family: ModelFamily;
  /** Set when `name` is a built-in name (`default`, `use-lite`). */
  builtIn?: BuiltInModel;
  head: ModelHead;
  /** The ONNX file for the requested dtype; built from model.safetensors when the folder had none. */
  onnxPath: string;
  dtype: ModelDtype;
}

export interface ResolveModelOptions extends HubOptions {
  dtype?: ModelDtype;
  /** Called when a built-in model was made runnable just now (the first use on this machine). */
  onPrepared?: (name: string, prepared: { dir: string; seconds: number }) => void;
}

/** Where a model argument points, before its config is read. */
export interface LocatedModel {
  name: string;
  dir: string;
  builtIn?: BuiltInModel;
}

export const ONNX_FILES: Record<ModelDtype, string> = {
  fp32: 'onnx/model.onnx',
  int8: 'onnx/model_quantized.onnx',
};

/**
 * Where a model argument (a built-in name, a local folder or a hub id) lives on disk. A built-in is made runnable in
 * the model cache on first use; a hub model is downloaded once into the cache folder and reused; when the hub cannot
 * be reached and the cache lacks files, the error names the model, the cache folder and the files expected.
 */
export async function locateModel(spec: string, options: ResolveModelOptions = {}): Promise<LocatedModel> {
  const dtype = options.dtype ?? 'fp32';
  if (dtype !== 'fp32' && dtype !== 'int8') throw new Error(`dtype must be "fp32" or "int8", got ${JSON.stringify(dtype)}`);
  if (!spec || typeof spec !== 'string') throw new Error('model: expected a folder path, a hub id such as "cross-encoder/ms-marco-MiniLM-L6-v2" or a built-in name');
  const builtIn = builtInModel(spec);
  if (builtIn) {
    const prepared = await builtIn.prepare({ cacheDir: options.cacheDir });
    if (prepared.created) options.onPrepared?.(spec, prepared);
    return { name: spec, dir: prepared.dir, builtIn };
  }
  const local = resolve(spec);
  // An export that crashed between its two renames left the new folder beside the path: finish it before reading.
  await recoverFolderSwap(local);
  if (await isDirectory(local)) return { name: spec, dir: local };
  if (isHubId(spec)) return { name: spec, dir: await downloadHubModel(spec, dtype, options) };
  throw new Error(`model "${spec}": no such folder, and not a hub id of the form owner/name`);
}

/**
 * A model argument resolved once into a runnable folder: located (see locateModel), its config.json read by the
 * family its model_type selects, and the ONNX graph for the requested dtype built from model.safetensors when absent.
 * Loaders take the result and hand it on, so no later step looks at the name again.
 */
export async function resolveModel(spec: string | LocatedModel, options: ResolveModelOptions = {}): Promise<ModelFolder> {
  const dtype = options.dtype ?? 'fp32';
  const { name, dir, builtIn } = typeof spec === 'string' ? await locateModel(spec, options) : spec;
  const configPath = join(dir, 'config.json');
  if (!(await exists(configPath))) throw new Error(`model "${name}": ${configPath} is missing (expected a Hugging Face model folder)`);
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (error) {
    throw new Error(`model "${name}": ${configPath} is not valid JSON (${(error as Error).message})`);
  }
  const family = familyFor(rawConfig as { model_type?: unknown }, configPath);
  const config = family.validateConfig(rawConfig, configPath) as unknown as BertConfig;
  const tokenizerPath = join(dir, 'tokenizer.json');
  if (!(await exists(tokenizerPath))) throw new Error(`model "${name}": ${tokenizerPath} is missing`);

  const head = family.headOf(config);
  const onnxPath = join(dir, ONNX_FILES[dtype]);
  if (!(await exists(onnxPath))) await buildOnnxFromSafetensors(name, dir, family, config, head, dtype, onnxPath);
  return { name, dir, config, family, builtIn, head, onnxPath, dtype };
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
  family: ModelFamily,
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
  await family.writeOnnx(onnxPath, config, tensors, { head, dtype });
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
