import { mkdir, writeFile } from 'node:fs/promises';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { existsSync } from 'node:fs';
import { table } from '../src/present/table.js';
import { createFixtureModel, MINILM_L6_SHAPE } from '../src/models/fixture.js';

export interface BenchRow {
  [column: string]: string | number;
}

/** Prints the table and writes `{machine, rows, ...extra}` to bench/results/NAME.json. */
export async function report(name: string, rows: BenchRow[], extra: Record<string, unknown> = {}): Promise<void> {
  const headers = Object.keys(rows[0] ?? {});
  process.stdout.write(`${table(headers, rows.map((r) => headers.map((h) => r[h])))}\n`);
  process.stdout.write(`wrote ${await writeResult(name, rows, extra)}\n`);
}

/** Writes `{machine, rows, ...extra}` to bench/results/NAME.json, printing nothing; returns the file's path. */
export async function writeResult(name: string, rows: BenchRow[], extra: Record<string, unknown> = {}): Promise<string> {
  const dir = join(import.meta.dirname, 'results');
  await mkdir(dir, { recursive: true });
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, node: process.version, date: new Date().toISOString() };
  const path = join(dir, `${name}.json`);
  await writeFile(path, JSON.stringify({ machine, rows, ...extra }, null, 2) + '\n');
  return path;
}

export { percentile } from '../src/eval/latency.js';

export async function timeRuns(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b);
}

/** The MiniLM-L6-H384-shaped cross-encoder the benchmarks share: built once into `.cache/bench/`, or BENCH_MODEL. */
export const BENCH_CROSS_ENCODER_DIR = resolve(process.env.BENCH_MODEL ?? '.cache/bench/minilm-l6-cross-encoder');

export async function benchCrossEncoder(): Promise<string> {
  const dir = BENCH_CROSS_ENCODER_DIR;
  if (!existsSync(join(dir, 'onnx', 'model.onnx'))) {
    process.stdout.write(`building the MiniLM-L6-H384-shaped fixture in ${dir}\n`);
    await createFixtureModel(dir, { kind: 'cross-encoder', ...MINILM_L6_SHAPE, seed: 1, overwrite: true });
  }
  return dir;
}
