/**
 * A child process for crash tests: it imports an operation module (exporting `run(target)`), runs it on a store with
 * RANKWISE_FAULT set, and prints "done" when the write returned; the test checks it died by SIGKILL at the point.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FAULT_ENV } from '../../src/util/fault.js';
import { ROOT } from './cli.js';
import { scratchDir } from './fixtures.js';

/** A module specifier (file URL, quoted) for a file under src/, to import from an operation module. */
export const src = (path: string) => JSON.stringify(pathToFileURL(join(ROOT, 'src', path)).href);

/** Writes `source` (a module exporting `run(target)`) to a file; returns its path. */
export async function operationModule(name: string, source: string): Promise<string> {
  const file = join(await scratchDir(), `${name}.mts`);
  await writeFile(file, source);
  return file;
}

let runnerFile: Promise<string> | undefined;
/** A child that imports the operation module and runs it on the target; prints "done" when the write returned. */
function runner(): Promise<string> {
  runnerFile ??= operationModule(
    'runner',
    `import { pathToFileURL } from 'node:url';
const [operation, target] = process.argv.slice(2);
const { run } = await import(pathToFileURL(operation).href);
await run(target);
process.stdout.write('done\\n');
`,
  );
  return runnerFile;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export async function runChild(operation: string, target: string, fault: string | undefined): Promise<ChildResult> {
  const env = { ...process.env };
  delete env[FAULT_ENV];
  if (fault !== undefined) env[FAULT_ENV] = fault;
  const child = spawn(process.execPath, ['--import', 'tsx', await runner(), operation, target], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('close', (c, s) => resolve([c, s])));
  return { code, signal, stdout, stderr };
}

/** The child stopped at the point: killed by SIGKILL before the write returned. */
export function assertInterrupted(result: ChildResult, point: string): void {
  assert.equal(result.signal, 'SIGKILL', `the writer must die by SIGKILL at ${point}; exit code ${result.code}, stderr: ${result.stderr}`);
  assert.ok(!result.stdout.includes('done'), `the write returned before ${point}`);
}

export async function runInProcess(operation: string, target: string): Promise<void> {
  const { run } = (await import(pathToFileURL(operation).href)) as { run(target: string): Promise<void> };
  await run(target);
}
