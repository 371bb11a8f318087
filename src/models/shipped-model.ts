/**
 * Models that ship inside the package (`models/<name>/`), stored small - float16 safetensors, config and tokenizer -
 * and made runnable on first use by `materializeShippedModel`: it checks every file against the sha256 that
 * recipe.json records, copies the folder into the model cache, widens float16 weights to float32 and writes
 * onnx/model.onnx and onnx/model_quantized.onnx with our own graph writers. No libtorch, no compiler, no training:
 * nothing here imports src/train.
 *
 * A shipped folder is either one model folder (a cross-encoder: config.json, tokenizer.json, model.safetensors) or a
 * hybrid folder (config.json with model_type "rankwise-hybrid") whose signals point at such subfolders, a bm25.json or
 * a built-in model by name; every subfolder holding a config.json and model.safetensors is made runnable.
 *
 *   recipe.json   {format, name, recipe, files: {"<path>": {sha256, bytes}}, fixedPairs: {..., pairs: [{query,
 *                 document, score}]}} - how the weights were made, the hash of each shipped model file, and the
 *                 scores a fixed set of pairs must get (test/shipped-model.test.ts checks both)
 *   README.md, LICENSE, NOTICE   the model card and licence text; copied along, not hashed
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFolderOnce } from '../util/atomic-write.js';
import { exists } from '../util/fs.js';
import type { BuiltInModels } from './built-in-model.js';
import { familyFor } from './families.js';
import { defaultCacheDir } from './hub.js';
import { readSafetensorsFile, writeSafetensorsFile } from './safetensors.js';
import { InputError, ModelInvalidError } from '../errors.js';

/** Built-in models that ship in the package, by the name `loadRanker` / `CrossEncoder.load` accept. */
export const SHIPPED_MODELS = ['default'] as const;
export type ShippedModelName = (typeof SHIPPED_MODELS)[number];

export const SHIPPED_FORMAT = 'rankwise-shipped-model/1';
export const RECIPE_FILE = 'recipe.json';
/** Written last into a materialised folder; its presence means the folder is complete. */
export const MATERIALIZED_FILE = 'materialized.json';
/** Documentation that travels with the weights but does not change what they compute: copied, never hashed. */
const DOCUMENT_FILES = new Set(['README.md', 'LICENSE', 'NOTICE']);
/**
 * Bumped whenever materialisation writes something different for the same shipped files (the graph writers'
 * output, the files it adds), so that a cache folder made by an older version is not reused.
 */
const MATERIALIZATION = 'materialize-v1';

const PACKAGE_MODELS = fileURLToPath(new URL('../../models/', import.meta.url));

export interface ShippedFileRecord {
  sha256: string;
  bytes: number;
}

export interface FixedPairRecord {
  query: string;
  document: string;
  /** The score `CrossEncoder.predict` gives the pair with the settings recorded beside the pairs. */
  score: number | null;
}

export interface ShippedRecipe {
  format: typeof SHIPPED_FORMAT;
  name: string;
  /** How the weights were made (free-form: base, data and their hashes, losses, settings). */
  recipe: Record<string, unknown>;
  /** Every model file (path relative to the folder, `/`-separated) with its sha256, documentation excepted. */
  files: Record<string, ShippedFileRecord>;
  fixedPairs: {
    /** Which model folder scored them, relative to the shipped folder (`.`: the whole model, as loadRanker runs it). */
    model: string;
    dtype: 'fp32';
    /** `model`: the model's own activation or combination (older files: `sigmoid`, the same for one-logit models). */
    activation: 'model' | 'sigmoid';
    /** How far a score may move (runtime, threads, CPU) and still count as equal. */
    tolerance: number;
    pairs: FixedPairRecord[];
  };
  [key: string]: unknown;
}

/** `models/<name>` inside the installed package (the folder next to `dist/` or `src/`). */
export function shippedModelDir(name: string): string {
  if (!(SHIPPED_MODELS as readonly string[]).includes(name)) {
    throw new InputError(`no shipped model "${name}" (there is ${SHIPPED_MODELS.map((m) => `"${m}"`).join(', ')})`);
  }
  return join(PACKAGE_MODELS, name);
}

export function isShippedModelName(name: string): name is ShippedModelName {
  return (SHIPPED_MODELS as readonly string[]).includes(name);
}

export async function readShippedRecipe(dir: string): Promise<ShippedRecipe> {
  const path = join(dir, RECIPE_FILE);
  let value: Partial<ShippedRecipe>;
  try {
    value = JSON.parse(await readFile(path, 'utf8')) as Partial<ShippedRecipe>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ModelInvalidError(
      code === 'ENOENT'
        ? `shipped model ${dir}: ${RECIPE_FILE} is missing (not a shipped model folder; rankwise build-default-reranker writes one)`
        : `shipped model ${dir}: cannot read ${RECIPE_FILE} (${(error as Error).message})`,
    );
  }
  if (value.format !== SHIPPED_FORMAT) throw new ModelInvalidError(`${path}: "format": expected ${JSON.stringify(SHIPPED_FORMAT)}, got ${JSON.stringify(value.format)}`);
  if (typeof value.files !== 'object' || value.files === null || Object.keys(value.files).length === 0) {
    throw new ModelInvalidError(`${path}: "files": expected the sha256 of each model file`);
  }
  for (const [file, record] of Object.entries(value.files)) {
    if (!/^[0-9a-f]{64}$/.test(record?.sha256 ?? '')) throw new ModelInvalidError(`${path}: "files.${file}.sha256": expected 64 hex digits`);
  }
  return value as ShippedRecipe;
}

/** Files under `dir`, relative, `/`-separated, sorted; hidden ones (`.DS_Store`, editors' files) left out. */
async function listFiles(dir: string, under = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, under), { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const rel = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/** The files recipe.json must record: everything but itself and the documentation. */
export async function shippedModelFiles(dir: string): Promise<string[]> {
  return (await listFiles(dir)).filter((f) => f !== RECIPE_FILE && !DOCUMENT_FILES.has(f));
}

export async function sha256File(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** sha256 and size of each model file of a shipped folder, as recipe.json records them. */
export async function hashShippedFiles(dir: string): Promise<Record<string, ShippedFileRecord>> {
  const files: Record<string, ShippedFileRecord> = {};
  for (const file of await shippedModelFiles(dir)) {
    const bytes = await readFile(join(dir, file));
    files[file] = { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength };
  }
  return files;
}

/**
 * Checks every model file of a shipped folder against recipe.json: same set of files, same sha256. The error names
 * the file and both hashes. Returns the recipe and the verified hashes.
 */
export async function verifyShippedModel(dir: string): Promise<{ recipe: ShippedRecipe; files: Record<string, ShippedFileRecord> }> {
  const recipe = await readShippedRecipe(dir);
  const files = await hashShippedFiles(dir);
  for (const [file, expected] of Object.entries(recipe.files)) {
    const actual = files[file];
    if (!actual) {
      throw new ModelInvalidError(`shipped model ${dir}: ${file} is missing (${RECIPE_FILE} records sha256 ${expected.sha256})`);
    }
    if (actual.sha256 !== expected.sha256) {
      throw new ModelInvalidError(
        `shipped model ${dir}: ${file} has sha256 ${actual.sha256}, but ${RECIPE_FILE} records ${expected.sha256} ` +
          '(the file is damaged, or was replaced without re-running the writer: rankwise build-default-reranker)',
      );
    }
  }
  for (const file of Object.keys(files)) {
    if (!recipe.files[file]) throw new ModelInvalidError(`shipped model ${dir}: ${file} is not recorded in ${RECIPE_FILE} (re-run the writer, or remove it)`);
  }
  return { recipe, files };
}

export interface MaterializeOptions {
  /** Model cache root (default `defaultCacheDir()`: RANKWISE_CACHE, else XDG_CACHE_HOME or ~/.cache, /rankwise/models). */
  cacheDir?: string;
  /** Cache folder prefix (default the shipped folder's recipe name). */
  name?: string;
}

export interface Materialized {
  /** The runnable folder in the cache. */
  dir: string;
  /** False when an earlier call (this process or another) had already made it. */
  created: boolean;
  seconds: number;
}

/** Whole-file hashing costs tens of milliseconds; a process loading the same model again skips it while no file changed. */
const verified = new Map<string, { signature: string; dir: string }>();

async function statSignature(dir: string): Promise<string> {
  const parts: string[] = [];
  for (const file of await listFiles(dir)) {
    const s = await stat(join(dir, file));
    parts.push(`${file}:${s.size}:${s.mtimeMs}:${s.ino}`);
  }
  return parts.join('\n');
}

/**
 * Makes a shipped folder runnable: verifies it (see `verifyShippedModel`), then, unless the cache already holds it,
 * copies it into `<cacheDir>/rankwise/<name>-<12 hex>` (named by a hash of the verified files and the materialisation
 * version) with float32 weights and ONNX files. The folder is built under a temporary name and renamed into place,
 * so it appears complete or not at all; processes that race to make it all succeed and share one folder.
 */
export async function materializeShippedModel(shippedDir: string, options: MaterializeOptions = {}): Promise<Materialized> {
  const started = performance.now();
  const source = resolve(shippedDir);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const memoKey = `${source}\0${resolve(cacheDir)}\0${options.name ?? ''}`;
  const signature = await statSignature(source);
  const known = verified.get(memoKey);
  if (known && known.signature === signature && (await isMaterialized(known.dir))) {
    return { dir: known.dir, created: false, seconds: (performance.now() - started) / 1000 };
  }

  const { recipe, files } = await verifyShippedModel(source);
  const key = createHash('sha256')
    .update(MATERIALIZATION)
    .update(JSON.stringify(Object.entries(files).map(([file, record]) => [file, record.sha256])))
    .digest('hex')
    .slice(0, 12);
  const name = options.name ?? recipe.name;
  if (!/^[\w.-]+$/.test(name)) throw new InputError(`shipped model ${source}: name ${JSON.stringify(name)} cannot name a cache folder`);
  const dir = join(cacheDir, 'rankwise', `${name}-${key}`);
  const created = await writeFolderOnce(
    dir,
    async (staging) => {
      for (const file of await listFiles(source)) {
        await mkdir(dirname(join(staging, file)), { recursive: true });
        await copyFile(join(source, file), join(staging, file));
      }
      const models: string[] = [];
      for (const file of Object.keys(files)) {
        if (file === 'model.safetensors' || file.endsWith('/model.safetensors')) {
          const folder = file === 'model.safetensors' ? '.' : file.slice(0, -'/model.safetensors'.length);
          if (await exists(join(staging, folder, 'config.json'))) {
            await makeRunnable(join(staging, folder));
            models.push(folder);
          }
        }
      }
      const record = { materialization: MATERIALIZATION, source, key, models, files };
      await writeFile(join(staging, MATERIALIZED_FILE), JSON.stringify(record, null, 2) + '\n');
    },
    isMaterialized,
  );
  verified.set(memoKey, { signature, dir });
  return { dir, created, seconds: (performance.now() - started) / 1000 };
}

async function isMaterialized(dir: string): Promise<boolean> {
  return exists(join(dir, MATERIALIZED_FILE));
}

/**
 * One model folder: float16 (or any other) safetensors widened to float32 in place, and the fp32 and int8 ONNX
 * graphs written from them, exactly what `writeModelFolder` writes for a freshly trained model.
 */
async function makeRunnable(folder: string): Promise<void> {
  const configPath = join(folder, 'config.json');
  const raw = JSON.parse(await readFile(configPath, 'utf8')) as { model_type?: unknown };
  const family = familyFor(raw, configPath);
  const config = family.validateConfig(raw, configPath);
  const head = family.headOf(config);
  const weightsPath = join(folder, 'model.safetensors');
  const { tensors, metadata, dtypes } = await readSafetensorsFile(weightsPath);
  const stored = [...new Set(dtypes.values())].sort().join(',');
  await writeSafetensorsFile(weightsPath, tensors, { ...metadata, rankwise_widened_from: stored });
  await mkdir(join(folder, 'onnx'), { recursive: true });
  await family.writeOnnx(join(folder, 'onnx', 'model.onnx'), config, tensors, { head, dtype: 'fp32' });
  await family.writeOnnx(join(folder, 'onnx', 'model_quantized.onnx'), config, tensors, { head, dtype: 'int8' });
}

/** The shipped models as built-in names (`default`). */
export const SHIPPED_BUILT_INS: BuiltInModels = Object.fromEntries(
  SHIPPED_MODELS.map((name) => [name, { kind: 'reranker', prepare: (options) => materializeShippedModel(shippedModelDir(name), options) }]),
);

/** The runnable folder of a built-in shipped model (`default`), materialised into the cache on first use. */
export async function builtInModelFolder(name: string = 'default', options: Omit<MaterializeOptions, 'name'> = {}): Promise<string> {
  return (await materializeShippedModel(shippedModelDir(name), options)).dir;
}

/**
 * The cross-encoder inside a runnable folder: the folder itself, or for a hybrid folder the subfolder of its one
 * reranker signal (where the fixed pairs were scored, too).
 */
export async function crossEncoderFolderOf(dir: string): Promise<string> {
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as { model_type?: string; signals?: Array<{ kind?: string; path?: string }> };
  if (config.model_type !== 'rankwise-hybrid') return dir;
  const rerankers = (config.signals ?? []).filter((s) => s.kind === 'reranker' && typeof s.path === 'string');
  if (rerankers.length !== 1) {
    const kinds = (config.signals ?? []).map((s) => s.kind).join(' + ');
    throw new ModelInvalidError(
      `${join(dir, 'config.json')}: this built-in model is a hybrid (${kinds}) with ${rerankers.length === 0 ? 'no cross-encoder' : `${rerankers.length} cross-encoders`} inside; ` +
        'load it with loadRanker(name), which runs every signal, or pass a cross-encoder folder or hub id to CrossEncoder.load',
    );
  }
  const sub = resolve(dir, rerankers[0].path!);
  if (!sub.startsWith(resolve(dir) + sep)) throw new ModelInvalidError(`${join(dir, 'config.json')}: reranker path ${rerankers[0].path} leaves the folder`);
  return sub;
}

