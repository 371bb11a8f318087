/**
 * What `npm install rankwise` costs a user: install size, install time and `import` time, for the core alone and with
 * every optional backend, from the packed tarball into empty projects, side by side in one run.
 * Run: `npm run bench:package`. Env: BENCH_IMPORT_RUNS (default 7).
 *
 * Installs prefer npm's cache (`--prefer-offline`), as a second install on a developer machine or a CI cache would;
 * a cold download adds the network. The CUDA binaries of onnxruntime-node are skipped (ONNXRUNTIME_NODE_INSTALL_CUDA=skip,
 * as the README's install section says). The "everything" project also installs node-llama-cpp, whose prebuilt
 * binaries for every GPU backend are most of its size (NODE_LLAMA_CPP_SKIP_DOWNLOAD does not prune them).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import pkg from '../package.json' with { type: 'json' };
import { percentile, report, type BenchRow } from './report.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '..');
const IMPORT_RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 7);
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip', npm_config_fund: 'false', npm_config_audit: 'false' };

/** Every optional peer, pinned to the version the repository tests with. */
const OPTIONAL = Object.keys(pkg.peerDependencies).map((name) => `${name}@${(pkg.devDependencies as Record<string, string>)[name]}`);
const SUBPATHS = Object.keys(pkg.exports).filter((k) => k !== './package.json').map((k) => (k === '.' ? 'rankwise' : `rankwise/${k.slice(2)}`));

async function duBytes(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sb', dir]);
  return Number(stdout.split('\t')[0]);
}

/** Wall time of a fresh `node` that imports `specifiers` (the process a CLI or a serverless cold start pays), and the in-process import alone. */
async function importTimes(project: string, specifiers: string[]): Promise<{ processMs: number; importMs: number }> {
  const script = `const t = performance.now(); ${specifiers.map((s) => `await import(${JSON.stringify(s)});`).join(' ')} console.log(performance.now() - t);`;
  const processMs: number[] = [];
  const importMs: number[] = [];
  for (let i = 0; i < IMPORT_RUNS; i++) {
    const start = performance.now();
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: project, env });
    processMs.push(performance.now() - start);
    importMs.push(Number(stdout.trim()));
  }
  const median = (xs: number[]) => percentile([...xs].sort((a, b) => a - b), 50);
  return { processMs: median(processMs), importMs: median(importMs) };
}

async function install(project: string, packages: string[]): Promise<{ seconds: number; bytes: number; packages: number }> {
  await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'bench-project', version: '1.0.0', private: true }));
  const start = performance.now();
  await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...packages], { cwd: project, env, maxBuffer: 64 << 20 });
  const seconds = (performance.now() - start) / 1000;
  const { stdout } = await run('npm', ['ls', '--all', '--parseable'], { cwd: project, env, maxBuffer: 64 << 20 }).catch((e: { stdout: string }) => e);
  return { seconds, bytes: await duBytes(join(project, 'node_modules')), packages: new Set(stdout.trim().split('\n').slice(1)).size };
}

const work = await mkdtemp(join(tmpdir(), 'rankwise-bench-package-'));
try {
  await run('npm', ['run', 'build'], { cwd: ROOT, env, maxBuffer: 16 << 20 });
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, env, maxBuffer: 64 << 20 });
  const [{ filename, size, unpackedSize }] = JSON.parse(packed.stdout) as Array<{ filename: string; size: number; unpackedSize: number }>;
  const tarball = join(work, filename);
  const rows: BenchRow[] = [];
  const cases: Array<[string, string[], string[]]> = [
    ['core (rankwise)', [tarball], ['rankwise']],
    ['everything (all optional peers)', [tarball, ...OPTIONAL], SUBPATHS],
  ];
  for (const [name, packages, specifiers] of cases) {
    const project = await mkdtemp(join(work, 'project-'));
    const installed = await install(project, packages);
    const imported = await importTimes(project, specifiers);
    rows.push({
      install: name,
      packages: installed.packages,
      'node_modules MB': Math.round(installed.bytes / 1e6),
      'install s': Number(installed.seconds.toFixed(1)),
      'import ms': Math.round(imported.importMs),
      'node + import ms': Math.round(imported.processMs),
    });
  }
  await report('package', rows, { tarball: { file: filename, packedBytes: size, unpackedBytes: unpackedSize }, importedSubpaths: SUBPATHS, importRuns: IMPORT_RUNS });
} finally {
  await rm(work, { recursive: true, force: true });
}
