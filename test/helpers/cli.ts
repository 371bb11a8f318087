import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const run = promisify(execFile);

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI from source, as `rankwise ARGS`, and never throws: the exit code is part of the outcome. */
export async function rankwise(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
      cwd: ROOT,
      maxBuffer: 16 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** `rankwise ARGS` that must succeed; returns its standard output. */
export async function ok(...args: string[]): Promise<string> {
  const out = await rankwise(...args);
  assert.equal(out.code, 0, `rankwise ${args.join(' ')} failed: ${out.stderr}`);
  return out.stdout;
}
