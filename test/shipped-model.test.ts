/**
 * The built-in reranker ships in the package (models/default: float16 safetensors, recipe.json) and is made runnable
 * on first use without libtorch or training: the shipped bytes match the recipe's hashes, the fixed pairs score what
 * the recipe records, materialisation happens in a process that never imports src/train nor loads the addon, racing
 * materialisations share one folder, damaged weights are refused by name, and hybrid folders are handled.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parseSafetensors } from '../src/models/safetensors.js';
import {
  builtInModelFolder,
  crossEncoderFolderOf,
  MATERIALIZED_FILE,
  materializeShippedModel,
  readShippedRecipe,
  shippedModelDir,
  verifyShippedModel,
} from '../src/models/shipped-model.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { HybridRanker } from '../src/rank/hybrid-ranker.js';
import { DEFAULT_RERANKER, loadRanker } from '../src/rank/load-ranker.js';
import { scoresOf } from '../src/rank/results.js';
import { DEFAULT_FIXED_PAIRS, writeShippedModel } from '../src/rank/shipped-reranker.js';
import { ROOT } from './helpers/cli.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';

const run = promisify(execFile);
const SHIPPED = shippedModelDir(DEFAULT_RERANKER);

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** The one weights file of a shipped model (model.safetensors, or inside the hybrid's model subfolder). */
function shippedWeights(files: Record<string, unknown>): string {
  const weights = Object.keys(files).filter((f) => f === 'model.safetensors' || f.endsWith('/model.safetensors'));
  assert.equal(weights.length, 1, `one weights file, found ${weights.join(', ')}`);
  return weights[0];
}

/** A copy of the shipped folder that a test may damage. */
async function shippedCopy(): Promise<string> {
  const dir = join(await scratchDir(), 'default');
  await cp(SHIPPED, dir, { recursive: true });
  return dir;
}

test('the shipped weights are float16, match recipe.json\'s hashes, and the fixed pairs score the recorded values', { timeout: 300_000 }, async () => {
  const recipe = await readShippedRecipe(SHIPPED);
  const weightsFile = shippedWeights(recipe.files);
  for (const [file, record] of Object.entries(recipe.files)) {
    assert.equal(await sha256(join(SHIPPED, file)), record.sha256, file);
  }
  const weights = await readFile(join(SHIPPED, weightsFile));
  assert.ok(weights.byteLength < 16e6, `${weightsFile} is ${weights.byteLength} bytes`);
  const { dtypes } = parseSafetensors(new Uint8Array(weights.buffer, weights.byteOffset, weights.byteLength));
  assert.deepEqual([...new Set(dtypes.values())], ['F16']);
  assert.match(await readFile(join(SHIPPED, 'LICENSE'), 'utf8'), /Apache License\s+Version 2\.0/);
  assert.match(await readFile(join(SHIPPED, 'NOTICE'), 'utf8'), /Universal Sentence Encoder Lite/);
  const card = await readFile(join(SHIPPED, 'README.md'), 'utf8');
  for (const section of ['Model', 'Intended use', 'Training data', 'Recipe', 'Quality', 'Calibration', 'Limits', 'Licence']) {
    assert.match(card, new RegExp(`^## ${section}$`, 'm'), `model card section ${section}`);
  }
  assert.doesNotMatch(card, /TODO/, 'the model card is filled in');

  const pairs = recipe.fixedPairs.pairs;
  assert.deepEqual(pairs.map((p) => [p.query, p.document]), DEFAULT_FIXED_PAIRS.map((p) => [...p]));
  const cacheDir = await scratchDir();
  const ranker = await loadRanker(DEFAULT_RERANKER, { cacheDir });
  try {
    for (const [i, pair] of pairs.entries()) {
      const [ranked] = await scoresOf(ranker, pair.query, [pair.document]);
      assert.ok(Math.abs(ranked - pair.score!) <= 1e-5, `pair ${i}: loadRanker gives ${ranked}, recipe.json records ${pair.score}`);
    }
    // The recorded scores are probabilities of their own: the same whatever else is in the list.
    const [alone] = await scoresOf(ranker, pairs[0].query, [pairs[0].document]);
    const inList = await scoresOf(ranker, pairs[0].query, [pairs[1].document, pairs[0].document, pairs[2].document]);
    assert.ok(Math.abs(alone - inList[1]) <= 1e-6, `${alone} alone, ${inList[1]} in a list`);
  } finally {
    await ranker.dispose?.();
  }
  // A built-in without a cross-encoder inside says so, and how to load it.
  const config = JSON.parse(await readFile(join(SHIPPED, 'config.json'), 'utf8')) as { model_type?: string; signals?: Array<{ kind: string }> };
  if (config.model_type === 'rankwise-hybrid' && !config.signals?.some((s) => s.kind === 'reranker')) {
    await assert.rejects(CrossEncoder.load(DEFAULT_RERANKER, { cacheDir }), /hybrid \(bm25 \+ encoder\) with no cross-encoder inside; load it with loadRanker/);
  }
});

/**
 * Flags for a child process that refuses any module under src/train/ (an ESM resolve hook, registered after tsx so
 * that it runs first and sees tsx's answer) and, with `addon`, any native library of the training engine
 * (process.dlopen, which require() of a .node file goes through). The CLI as a whole still registers the training
 * commands (train, adapt, mine import src/train modules, which load the addon only when they train), so its check
 * uses the addon guard alone.
 */
async function guards(dir: string): Promise<{ noTrain: string[]; noAddon: string[] }> {
  await writeFile(join(dir, 'no-train-hooks.mjs'), `
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result.url.includes('/src/train/')) throw new Error('training module imported: ' + result.url);
  return result;
}
`);
  await writeFile(join(dir, 'no-addon.mjs'), `
const dlopen = process.dlopen;
process.dlopen = function (module, filename, ...rest) {
  if (/rankwise_torch|libtorch/.test(filename)) throw new Error('training engine loaded: ' + filename);
  return dlopen.call(this, module, filename, ...rest);
};
`);
  await writeFile(join(dir, 'no-train.mjs'), `
import { register } from 'node:module';
import './no-addon.mjs';
register('./no-train-hooks.mjs', import.meta.url);
`);
  return {
    noTrain: ['--import', 'tsx', '--import', join(dir, 'no-train.mjs')],
    noAddon: ['--import', 'tsx', '--import', join(dir, 'no-addon.mjs')],
  };
}

const CHILD = `
import { materializeShippedModel } from ${JSON.stringify(join(ROOT, 'src/models/shipped-model.ts'))};
import { loadRanker } from ${JSON.stringify(join(ROOT, 'src/rank/load-ranker.ts'))};
import { builtInModelFolder } from ${JSON.stringify(join(ROOT, 'src/models/shipped-model.ts'))};
import { scoresOf } from ${JSON.stringify(join(ROOT, 'src/rank/results.ts'))};
import { loadRankerForCommand } from ${JSON.stringify(join(ROOT, 'src/cli/load-models.ts'))};
import ${JSON.stringify(join(ROOT, 'src/serve/server.ts'))};
const [source, cacheDir, mode] = process.argv.slice(2);
const made = await materializeShippedModel(source, { cacheDir });
const out = { dir: made.dir, created: made.created };
if (mode === 'full') {
  const model = await loadRanker(made.dir);
  const pairs = ${JSON.stringify(DEFAULT_FIXED_PAIRS)};
  out.scores = [];
  for (const [q, d] of pairs) out.scores.push((await scoresOf(model, q, [d]))[0]);
  await model.dispose();
  const builtIn = await loadRanker('default');
  out.builtIn = await builtInModelFolder('default');
  await builtIn.dispose();
  const command = await loadRankerForCommand('default', { quiet: true });
  await command.dispose();
  out.sharedObjects = process.report.getReport().sharedObjects;
}
process.stdout.write(JSON.stringify(out));
`;

test('materialising a copy into an empty cache imports nothing from src/train and never loads libtorch', { timeout: 300_000 }, async () => {
  const work = await scratchDir();
  const copy = await shippedCopy();
  const cacheDir = join(work, 'cache');
  const { noTrain: flags, noAddon } = await guards(work);
  await writeFile(join(work, 'child.mts'), CHILD);
  const env = { ...process.env, RANKWISE_CACHE: cacheDir };

  // The guards work: importing the trainer through them fails, and so does loading the addon where it is built.
  await writeFile(join(work, 'control.mts'), `import ${JSON.stringify(join(ROOT, 'src/train/default-reranker.ts'))};\n`);
  await assert.rejects(run(process.execPath, [...flags, join(work, 'control.mts')], { cwd: ROOT, env }), /training module imported: .*\/src\/train\/default-reranker\.ts/);
  const addon = join(ROOT, 'native', 'build', 'Release', 'rankwise_torch.node');
  if (existsSync(addon)) {
    await writeFile(join(work, 'control-addon.mts'), `import { createRequire } from 'node:module';\ncreateRequire(import.meta.url)(${JSON.stringify(addon)});\n`);
    await assert.rejects(run(process.execPath, [...noAddon, join(work, 'control-addon.mts')], { cwd: ROOT, env }), /training engine loaded: .*rankwise_torch\.node/);
  }

  const { stdout } = await run(process.execPath, [...flags, join(work, 'child.mts'), copy, cacheDir, 'full'], { cwd: ROOT, env, maxBuffer: 16 << 20 });
  const out = JSON.parse(stdout) as { dir: string; created: boolean; scores: number[]; builtIn: string; sharedObjects: string[] };
  assert.equal(out.created, true);
  assert.ok(out.dir.startsWith(join(cacheDir, 'rankwise', 'default-')), out.dir);
  assert.match(out.dir, /default-[0-9a-f]{12}$/);
  // The package's folder and its copy hold the same files, so they share one cache folder.
  assert.equal(out.builtIn, out.dir);
  assert.ok(out.sharedObjects.some((so) => /onnxruntime/.test(so)), 'onnxruntime ran in the child');
  assert.deepEqual(out.sharedObjects.filter((so) => /rankwise_torch|libtorch/.test(so)), []);
  const recipe = await readShippedRecipe(copy);
  out.scores.forEach((score, i) => assert.ok(Math.abs(score - recipe.fixedPairs.pairs[i].score!) <= 1e-5, `pair ${i}: ${score}`));
  const files = await readdir(out.dir, { recursive: true });
  const weightsFile = shippedWeights(recipe.files);
  const modelDir = weightsFile.replace(/\/?model\.safetensors$/, '');
  const inside = (f: string) => (modelDir ? `${modelDir}/${f}` : f);
  for (const file of ['config.json', inside('tokenizer.json'), weightsFile, inside('onnx/model.onnx'), inside('onnx/model_quantized.onnx'), 'LICENSE', 'NOTICE', MATERIALIZED_FILE]) {
    assert.ok(files.includes(file), `${file} in ${out.dir}`);
  }
  const widened = await readFile(join(out.dir, weightsFile));
  const { dtypes, metadata } = parseSafetensors(new Uint8Array(widened.buffer, widened.byteOffset, widened.byteLength));
  assert.deepEqual([...new Set(dtypes.values())], ['F32']);
  assert.equal(metadata.rankwise_widened_from, 'F16');

  // The CLI's rerank path, same guard: the built-in reranker ranks from the cache without the addon.
  const cli = await run(process.execPath, [...noAddon, join(ROOT, 'src/cli/main.ts'), 'rerank', '--query', 'change wifi password', '--doc', 'Cats sleep.', '--doc', DEFAULT_FIXED_PAIRS[3][1], '--json'], { cwd: ROOT, env });
  const ranked = JSON.parse(cli.stdout) as { results: Array<{ index: number }> };
  assert.equal(ranked.results[0].index, 1);
});

test('concurrent first loads all succeed and leave one complete folder', { timeout: 300_000 }, async () => {
  const work = await scratchDir();
  const copy = await shippedCopy();
  // In one process: both calls find no folder, both build one, one rename wins.
  const inProcess = join(work, 'cache-a');
  const results = await Promise.all([materializeShippedModel(copy, { cacheDir: inProcess }), materializeShippedModel(copy, { cacheDir: inProcess })]);
  assert.equal(results[0].dir, results[1].dir);
  assert.deepEqual(results.map((r) => r.created).sort(), [false, true]);
  assert.deepEqual(await readdir(join(inProcess, 'rankwise')), [results[0].dir.split('/').pop()]);

  // Two processes started together.
  const shared = join(work, 'cache-b');
  await writeFile(join(work, 'child.mts'), CHILD);
  const child = () => run(process.execPath, ['--import', 'tsx', join(work, 'child.mts'), copy, shared, 'materialize'], { cwd: ROOT, maxBuffer: 1 << 20 });
  const outs = (await Promise.all([child(), child()])).map(({ stdout }) => JSON.parse(stdout) as { dir: string; created: boolean });
  assert.equal(outs[0].dir, outs[1].dir);
  assert.equal(outs.filter((o) => o.created).length, 1, JSON.stringify(outs));
  const entries = await readdir(join(shared, 'rankwise'));
  assert.deepEqual(entries, [outs[0].dir.split('/').pop()], 'no staging folder is left behind');
  const model = await loadRanker(outs[0].dir);
  try {
    const [score] = await scoresOf(model, DEFAULT_FIXED_PAIRS[0][0], [DEFAULT_FIXED_PAIRS[0][1]]);
    const recorded = (await readShippedRecipe(copy)).fixedPairs.pairs[0].score!;
    assert.ok(Math.abs(score - recorded) <= 1e-5);
  } finally {
    await model.dispose?.();
  }
});

test('damaged, missing or unrecorded files are refused, naming the file and the expected hash', { timeout: 300_000 }, async () => {
  const cacheDir = await scratchDir();
  const damaged = await shippedCopy();
  const weightsFile = shippedWeights((await readShippedRecipe(damaged)).files);
  const expected = (await readShippedRecipe(damaged)).files[weightsFile].sha256;
  const weights = await readFile(join(damaged, weightsFile));
  weights[weights.byteLength - 3] ^= 0x40;
  await writeFile(join(damaged, weightsFile), weights);
  await assert.rejects(
    materializeShippedModel(damaged, { cacheDir }),
    (error: Error) => {
      assert.match(error.message, new RegExp(`${weightsFile.replace(/[./]/g, '\\$&')} has sha256 [0-9a-f]{64}, but recipe\\.json records ${expected}`));
      return true;
    },
  );
  assert.deepEqual(await readdir(cacheDir), [], 'nothing was written to the cache');

  const missing = await shippedCopy();
  await writeFile(join(missing, 'extra.bin'), 'x');
  await assert.rejects(verifyShippedModel(missing), /extra\.bin is not recorded in recipe\.json/);
  const noRecipe = join(await scratchDir(), 'empty');
  await mkdir(noRecipe);
  await assert.rejects(materializeShippedModel(noRecipe, { cacheDir }), /recipe\.json is missing/);
});

test('the writer ships float16 and a hybrid folder materialises its cross-encoder subfolder (BERT-family too)', { timeout: 300_000 }, async () => {
  const work = await scratchDir();
  const trained = join(work, 'trained');
  await mkdir(trained);
  await cp(await fixtureModel({ kind: 'cross-encoder', seed: 4 }), join(trained, 'reranker'), { recursive: true });
  await writeFile(
    join(trained, 'config.json'),
    JSON.stringify({ model_type: 'rankwise-hybrid', signals: [{ kind: 'bm25', path: 'bm25.json', weight: 0.5 }, { kind: 'reranker', path: 'reranker', weight: 0.5 }] }),
  );
  await writeFile(join(trained, 'bm25.json'), JSON.stringify({ format: 'rankwise-bm25/1', documents: 3, averageLength: 6, df: { router: 1, reset: 1 }, k1: 1.2, b: 0.75 }));
  const out = join(work, 'shipped');
  const pairs = [['reset router', 'Hold the reset button.'], ['reset router', 'Cats sleep.']] as const;
  const written = await writeShippedModel(trained, out, { fixedPairs: pairs, recipe: { note: 'test' }, name: 'hybrid-test' });
  for (const file of ['config.json', 'bm25.json', 'reranker/config.json', 'reranker/model.safetensors']) assert.ok(written.files[file], file);
  const half = await readFile(join(out, 'reranker', 'model.safetensors'));
  assert.deepEqual([...new Set(parseSafetensors(new Uint8Array(half.buffer, half.byteOffset, half.byteLength)).dtypes.values())], ['F16']);
  assert.ok(written.maxRoundingError > 0 && written.maxRoundingError < 1e-2, `float16 rounding ${written.maxRoundingError}`);
  assert.ok(!(await readdir(join(out, 'reranker'))).includes('onnx'), 'ONNX is derived at load time, not shipped');
  const recipe = await readShippedRecipe(out);
  assert.equal(recipe.fixedPairs.model, '.');
  assert.deepEqual(recipe.recipe, { note: 'test' });

  const cacheDir = join(work, 'cache');
  const { dir } = await materializeShippedModel(out, { cacheDir });
  assert.match(dir, /hybrid-test-[0-9a-f]{12}$/);
  const ceDir = await crossEncoderFolderOf(dir);
  assert.equal(ceDir, join(dir, 'reranker'));
  const cross = await CrossEncoder.load(ceDir);
  const hybrid = await loadRanker(dir);
  try {
    // Recorded: the whole hybrid, each pair alone (a one-document list standardises to 0 in a z-score mix).
    const scores = await Promise.all(pairs.map(async ([q, d]) => (await scoresOf(hybrid, q, [d]))[0]));
    recipe.fixedPairs.pairs.forEach((p, i) => assert.ok(Math.abs(scores[i] - p.score!) <= 1e-5, `pair ${i}`));
    assert.ok((await cross.predict(pairs)).every(Number.isFinite));
    assert.ok(hybrid instanceof HybridRanker);
    assert.equal((await hybrid.rank('reset router', ['Cats sleep.', 'Hold the reset button.'])).results.length, 2);
  } finally {
    await cross.dispose();
    await hybrid.dispose?.();
  }
});
