/**
 * onnxruntime-node's telemetry left an empty /tmp/mat-debug-<pid>.log behind every process that created a session
 * (issue 16, item 7). src/models/ort-env.ts turns it off before the runtime loads; this runs a real rerank in a child
 * and checks that the child left no such file.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT } from './helpers/cli.js';
import { fixtureModel } from './helpers/fixtures.js';

test('rankwise rerank leaves no /tmp/mat-debug-<pid>.log', { timeout: 120_000 }, async () => {
  const model = await fixtureModel({ kind: 'cross-encoder', seed: 2 });
  const env = { ...process.env };
  delete env.ORT_DISABLE_TELEMETRY;
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'rerank', '--model', model, '--query', 'owls', '--doc', 'owls hunt at night', '--doc', 'bats', '--json'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = `/tmp/mat-debug-${child.pid}.log`;
  // A file of an earlier process with the same pid (pids are reused) is not this child's: the child makes its
  // session seconds from now, long after this.
  await rm(log, { force: true });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  assert.equal(code, 0, stderr);
  assert.equal((JSON.parse(stdout) as { results: unknown[] }).results.length, 2, 'the rerank ran a session');
  await assert.rejects(stat(log), { code: 'ENOENT' }, `${log} was left behind`);
});
