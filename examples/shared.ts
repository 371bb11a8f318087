/** Helpers the examples share: argument parsing, a default base model, and reading our data sets. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parsePairwiseCase, type PairwiseCase } from '../src/eval/pairwise.js';
import { createFixtureModel, type FixtureKind } from '../src/models/fixture.js';
import { readJsonLines, type JsonLine } from '../src/util/jsonl.js';

export const DATASETS = fileURLToPath(new URL('../datasets/', import.meta.url));

/** `--name value` from the command line, or the fallback. */
export function arg(name: string, fallback?: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
}

export async function scratch(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'rankwise-example-'));
}

/**
 * The model an example starts from: `--base` when given; otherwise a small seeded random model, since no pretrained
 * reranker can be downloaded here (the USE Lite backbone of a later release replaces it).
 */
export async function baseModel(kind: FixtureKind, flag = 'base'): Promise<string> {
  const given = arg(flag);
  if (given) return given;
  const dir = join(await scratch(), `${kind}-base`);
  await createFixtureModel(dir, { kind, layers: 2, hidden: 128, heads: 4, intermediate: 512, seed: 1 });
  return dir;
}

export async function readLines(file: string): Promise<JsonLine[]> {
  return readJsonLines(join(DATASETS, file), file);
}

export async function readCases(file: string): Promise<PairwiseCase[]> {
  return (await readLines(file)).map(({ value }) => parsePairwiseCase(value));
}

/**
 * Epochs and learning rate: a pretrained base is fine-tuned gently (4 epochs at 2e-5, as the article did); the
 * random default base has everything to learn and needs a larger rate and more passes.
 */
export function schedule(flag = 'base'): { epochs: number; learningRate: number } {
  const fromScratch = arg(flag) === undefined;
  return {
    epochs: Number(arg('epochs', fromScratch ? '20' : '4')),
    learningRate: Number(arg('lr', fromScratch ? '5e-4' : '2e-5')),
  };
}
