/**
 * The README's first library example runs as written: the block is cut out of README.md, pointed at this checkout
 * instead of the `rankwise` package, and run in a fresh process with the built-in reranker.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { ROOT } from './helpers/cli.js';
import { scratchDir } from './helpers/fixtures.js';
import { fencedBlocks, readReadme } from './helpers/readme.js';

const FIRST_LINE = "import { loadRanker, resultById, topResults } from 'rankwise';";

test('the README library example with ids and metadata runs and prints what its comments say', { timeout: 300_000 }, async () => {
  const found = fencedBlocks(await readReadme()).find((b) => b.body.startsWith(FIRST_LINE));
  assert.ok(found, `README.md has no block starting with ${FIRST_LINE}`);
  const block = found.body;
  const script = join(await scratchDir(), 'readme-example.mts');
  await writeFile(script, block.replace("from 'rankwise'", `from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)}`));
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, timeout: 240_000 });
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 3, stdout);
  assert.match(lines[0], /^1 berlin \d\.\d{3} \{ source: 'census 2023' \}$/);
  assert.match(lines[1], /^2 (paris|2) \d\.\d{3} \{\}$/);
  assert.equal(lines[2], '1');
});
