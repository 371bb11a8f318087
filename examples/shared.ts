/** Helpers the examples share: argument parsing, a default base model, and reading our data sets. */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtInModelFolder, createFixtureModel, type FixtureKind, type JsonLine, readJsonLines } from 'rankwise';
import { type PairwiseCase, readPairwiseCases } from 'rankwise/eval';

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
 * The model an example starts from, in the role the article gave a pretrained MiniLM model: `--base MODEL` when given;
 * otherwise real pretrained weights that work offline, the built-in USE Lite cross-encoder (shipped in the package) for a
 * cross-encoder and USE Lite itself for a bi-encoder. `--base fixture` starts from a small seeded random model instead.
 */
export async function baseModel(kind: FixtureKind, flag = 'base'): Promise<string> {
  const given = arg(flag);
  if (given === 'fixture') {
    const dir = join(await scratch(), `${kind}-base`);
    await createFixtureModel(dir, { kind, layers: 2, hidden: 128, heads: 4, intermediate: 512, seed: 1 });
    return dir;
  }
  if (given) return given;
  return kind === 'cross-encoder' ? builtInModelFolder('default') : 'use-lite';
}

export async function readLines(file: string): Promise<JsonLine[]> {
  return readJsonLines(join(DATASETS, file), file);
}

export async function readCases(file: string): Promise<PairwiseCase[]> {
  return readPairwiseCases(join(DATASETS, file), file);
}

/**
 * Epochs and learning rate: a pretrained base is fine-tuned for 4 epochs, as the article did, at the rate the built-in
 * reranker was trained with (USE Lite's small model moves too little at the article's 2e-5 in ~20 steps); the random
 * fixture base has everything to learn and needs a larger rate and more passes.
 */
export function schedule(flag = 'base'): { epochs: number; learningRate: number } {
  const fromScratch = arg(flag) === 'fixture';
  return {
    epochs: Number(arg('epochs', fromScratch ? '20' : '4')),
    learningRate: Number(arg('lr', fromScratch ? '5e-4' : '1e-4')),
  };
}
