/** Reading README.md's fenced code blocks and running its command blocks, for the tests that run the README as written. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ROOT } from './cli.js';
import { scratchDir } from './fixtures.js';
import { portOpen } from './processes.js';

export interface FencedBlock {
  /** The fence's info string (`sh`, `ts`, `text masked`, or '' for a bare fence). */
  info: string;
  /** The lines between the fences, with a final newline. */
  body: string;
  /** Offset of the opening fence in the text the block was cut from. */
  start: number;
  /** Offset just after the closing fence's line. */
  end: number;
}

export function readReadme(): Promise<string> {
  return readFile(join(ROOT, 'README.md'), 'utf8');
}

/** The text from the `## FROM` heading up to (not including) the `## TO` heading. */
export function section(readme: string, from: string, to: string): string {
  const start = readme.indexOf(`\n## ${from}\n`);
  assert.ok(start >= 0, `README.md has no "## ${from}" heading`);
  const end = readme.indexOf(`\n## ${to}\n`, start);
  assert.ok(end > start, `README.md has no "## ${to}" heading after "## ${from}"`);
  return readme.slice(start + 1, end + 1);
}

/** Every ``` fenced block at the start of a line, in order (fences are not nested in the README). */
export function fencedBlocks(text: string): FencedBlock[] {
  const blocks: FencedBlock[] = [];
  const fence = /^```(.*)\n([\s\S]*?)^```[ \t]*$\n?/gm;
  for (let m = fence.exec(text); m; m = fence.exec(text)) {
    blocks.push({ info: m[1].trim(), body: m[2], start: m.index, end: m.index + m[0].length });
  }
  return blocks;
}

/*
 * Running a README section as written (test/readme-cli.test.ts, test/readme-guides.test.ts). The section's ```sh
 * blocks run in order, with bash, in one fresh folder where `rankwise` is this checkout's CLI from source and
 * `datasets/` is the repository's, and each must exit 0. Where a ``` or ```text block follows a ```sh block directly,
 * it is what the block prints, and it must match the real standard output (see `normalise` for the one masking
 * rule). A block with a `# needs: ...` line needs what the test machine lacks (a service, root) and is skipped,
 * reported as such.
 */

export interface Step {
  script: FencedBlock;
  output?: FencedBlock;
}

/** Each ```sh block with the output block right after it (nothing but blank lines between), if there is one. */
export function steps(text: string): Step[] {
  const blocks = fencedBlocks(text);
  const out: Step[] = [];
  blocks.forEach((block, i) => {
    if (block.info !== 'sh') return;
    const next = blocks[i + 1];
    const adjacent = next && text.slice(block.end, next.start).trim() === '' && /^(text\b.*)?$/.test(next.info);
    out.push({ script: block, output: adjacent ? next : undefined });
  });
  return out;
}

const ELLIPSIS = '...';
const UNIT = String.raw`(?:ms|s|[\w-]+/s)`;
/** A column of times or rates: headed by a unit (`ms`, `s`, `docs/s`) or `seconds`. */
const TIMED_HEADER = new RegExp(String.raw`^(?:${UNIT}|seconds)$`);

/**
 * The one masking rule. A shown output whose fence reads ```text masked holds values that change from run to run;
 * in such a block only, on both sides:
 * - a number right before a time unit or a rate (`12.3 s`, `40.5ms`, `97.9 docs/s`) becomes `#`;
 * - in a table (a header line, then a line of dashes), each cell under a column headed `ms`, `s`, `.../s` or
 *   `seconds` becomes `#`;
 * - a UUID (a server's request id) becomes `<uuid>`;
 * - since column widths follow the values, each line becomes its cells (split at two or more spaces), a run of
 *   dashes becoming `-`.
 * Everything else is compared exactly, in masked blocks too. In any shown output, a line `...` stands for any
 * number of lines (the README leaves long tables out).
 */
export function normalise(lines: string[], masked: boolean): string[] {
  if (!masked) return lines;
  let timedColumns = new Set<number>();
  return lines.map((line, i) => {
    let cells = line.trim().split(/ {2,}/);
    const isRule = line.trim() !== '' && cells.every((c) => /^-+$/.test(c));
    if (isRule) {
      const header = (lines[i - 1] ?? '').trim().split(/ {2,}/);
      timedColumns = new Set(header.flatMap((h, c) => (TIMED_HEADER.test(h) ? [c] : [])));
      return cells.map(() => '-').join('  ');
    }
    if (line.trim() === '') timedColumns = new Set();
    cells = cells.map((cell, c) => (timedColumns.has(c) && /^[\d.]+$/.test(cell) ? '#' : cell));
    return cells
      .join('  ')
      .replace(new RegExp(String.raw`\d+(?:\.\d+)?(?:e-?\d+)?( ?${UNIT})\b`, 'g'), '#$1')
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>');
  });
}

/** Whether `actual` matches `expected` line for line, an `...` line in `expected` standing for any lines. */
export function matches(expected: string[], actual: string[]): boolean {
  if (expected.length === 0) return actual.length === 0;
  const [head, ...rest] = expected;
  if (head.trim() === ELLIPSIS) return actual.some((_, skip) => matches(rest, actual.slice(skip))) || matches(rest, []);
  return actual.length > 0 && head === actual[0] && matches(rest, actual.slice(1));
}

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs one block with bash -e; whatever it left running in the background (a server) is ended with it. */
function runBlock(file: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-e', '-o', 'pipefail', file], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const killGroup = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is already gone
      }
    };
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      killGroup();
    }, timeoutMs);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      killGroup();
      child.on('close', () => resolve({ code, stdout, stderr }));
    });
  });
}

/** A fresh folder with `bin/rankwise` (this checkout's CLI from source) and the repository's `datasets/`. */
async function sandbox(): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await scratchDir();
  await mkdir(join(dir, 'bin'));
  const wrapper = join(dir, 'bin', 'rankwise');
  const tsx = import.meta.resolve('tsx');
  await writeFile(wrapper, `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} --import ${JSON.stringify(tsx)} ${JSON.stringify(join(ROOT, 'src/cli/main.ts'))} "$@"\n`);
  await chmod(wrapper, 0o755);
  await symlink(join(ROOT, 'datasets'), join(dir, 'datasets'));
  return { dir, env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` } };
}

/**
 * Runs the ```sh blocks of README.md's `## from` section (up to `## to`) as described above, one subtest per block,
 * each timed; fails when the section has fewer than `minBlocks` of them (a renamed fence must not pass silently).
 */
export async function runReadmeSection(t: TestContext, from: string, to: string, minBlocks: number): Promise<void> {
  const text = section(await readReadme(), from, to);
  const all = steps(text);
  assert.ok(all.length >= minBlocks, `expected at least ${minBlocks} sh blocks in the ${from} section, found ${all.length}`);
  const { dir, env } = await sandbox();
  for (const [i, step] of all.entries()) {
    const body = step.script.body;
    const heading = [...text.slice(0, step.script.start).matchAll(/^#{2,4} (.+)$/gm)].at(-1)?.[1] ?? from;
    const name = `block ${i + 1} (under ${heading})`;
    const needs = /^# needs: (.+)$/m.exec(body);
    const port = /--port (\d+)/.exec(body);
    const skip = needs ? `needs ${needs[1]}` : port && (await portOpen(Number(port[1]))) ? `port ${port[1]} is taken` : undefined;
    await t.test(name, { skip }, async (st) => {
      const file = join(dir, `block-${i + 1}.sh`);
      await writeFile(file, body);
      const started = Date.now();
      const result = await runBlock(file, dir, env, 240_000);
      st.diagnostic(`${name}: ${Date.now() - started} ms`);
      assert.equal(result.code, 0, `${name} exited ${result.code}\n--- stderr\n${result.stderr}\n--- stdout\n${result.stdout}`);
      if (!step.output) return;
      const masked = /\bmasked\b/.test(step.output.info);
      const expected = normalise(step.output.body.replace(/\n$/, '').split('\n'), masked);
      const actual = normalise(result.stdout.replace(/\n$/, '').split('\n'), masked);
      assert.ok(matches(expected, actual), `${name}: output differs from the README${masked ? ' (masked)' : ''}\n--- README\n${expected.join('\n')}\n--- real\n${actual.join('\n')}`);
    });
  }
}
