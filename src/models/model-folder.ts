import { mkdir, readFile, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { BertConfig, ModelHead } from './config.js';
import { exists } from '../util/fs.js';
import { recoverFolderSwap } from '../util/atomic-write.js';
import { builtInModel, type BuiltInModel } from './built-in-model.js';
import type { ModelFamily } from './family.js';
import { familyFor } from './families.js';
import { defaultCacheDir, ensureHubModel, hfSnapshotOf, isHubId, type HubOptions } from './hub.js';
import { InputError, ModelInvalidError, ModelNotFoundError } from '../errors.js';
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
 * Where a model argument (a built-in name, a local folder or a hub id, `owner/name` or `owner/name@revision`) lives
 * on disk. A built-in is made runnable in the model cache on first use; a hub model is taken from the Hugging Face
 * hub cache or rankwise's cache, else downloaded once (see ensureHubModel); when the hub cannot be reached, or offline
 * mode is on, and the caches lack files, the error names the model, the folders looked in and the files expected.
 */
export async function locateModel(spec: string, options: ResolveModelOptions = {}): Promise<LocatedModel> {
  const dtype = options.dtype ?? 'fp32';
  if (dtype !== 'fp32' && dtype !== 'int8') throw new InputError(`dtype must be "fp32" or "int8", got ${JSON.stringify(dtype)}`, { field: 'dtype' });
  if (!spec || typeof spec !== 'string') throw new InputError('model: expected a folder path, a hub id such as "cross-encoder/ms-marco-MiniLM-L6-v2" or a built-in name');
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
  throw new ModelNotFoundError(`model "${spec}": no such folder, and not a hub id of the form owner/name`, { field: 'model' });
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
  if (!(await exists(configPath))) throw new ModelInvalidError(`model "${name}": ${configPath} is missing (expected a Hugging Face model folder)`);
  let rawConfig: unknown;
  try {
    rawConfig = JSON.parse(await readFile(configPath, 'utf8'));
  } catch (error) {
    throw new ModelInvalidError(`model "${name}": ${configPath} is not valid JSON (${(error as Error).message})`);
  }
  const family = familyFor(rawConfig as { model_type?: unknown }, configPath);
  const config = family.validateConfig(rawConfig, configPath) as unknown as BertConfig;
  const tokenizerPath = join(dir, 'tokenizer.json');
  if (!(await exists(tokenizerPath))) throw new ModelInvalidError(`model "${name}": ${tokenizerPath} is missing`);

  const head = family.headOf(config);
  let onnxPath = join(dir, ONNX_FILES[dtype]);
  if (!(await exists(onnxPath))) {
    onnxPath = builtOnnxPath(dir, dtype, options);
    if (!(await exists(onnxPath))) await buildOnnxFromSafetensors(name, dir, family, config, head, dtype, onnxPath);
  }
  return { name, dir, config, family, builtIn, head, onnxPath, dtype };
}

function downloadHubModel(spec: string, dtype: ModelDtype, options: HubOptions): Promise<string> {
  return ensureHubModel(
    spec,
    {
      required: ['config.json', 'tokenizer.json'],
      oneOf: [ONNX_FILES[dtype], 'model.safetensors'],
      optional: ['tokenizer_config.json', 'modules.json', '1_Pooling/config.json'],
    },
    options,
  );
}

/**
 * Where the ONNX graph written from model.safetensors goes. Beside the weights, except in a Hugging Face cache
 * snapshot: a file there must be a link to a blob the hub served (a Python tool asking for onnx/model.onnx at that
 * commit would take ours for the hub's), so it goes to rankwise's cache, keyed by repository and commit.
 */
function builtOnnxPath(dir: string, dtype: ModelDtype, options: HubOptions): string {
  const snapshot = hfSnapshotOf(dir);
  if (!snapshot) return join(dir, ONNX_FILES[dtype]);
  return join(options.cacheDir ?? defaultCacheDir(), 'hf-onnx', snapshot.repo, snapshot.commit, ONNX_FILES[dtype]);
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
    throw new ModelInvalidError(`model "${spec}": neither ${onnxPath} nor ${weightsPath} exists (one of them is needed for dtype ${dtype})`);
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
