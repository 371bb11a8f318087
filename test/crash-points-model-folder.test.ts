/**
 * Crash points of a model export (issue 16, item 2): writeFolderAtomic builds the new folder beside the old one and
 * swaps them with two renames. A child re-exports a fixture cross-encoder over an existing one with RANKWISE_FAULT at
 * each point and dies there by SIGKILL; the folder then holds the old model or the new one, whole, once a reader has
 * opened it (CrossEncoder.load recovers an unfinished swap), and no temporary folder is left.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { cp, readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { createFixtureModel } from '../src/models/fixture.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { FOLDER_SWAP_FAULT_POINTS } from '../src/util/fault.js';
import { assertInterrupted, operationModule, runChild, src } from './helpers/crash-child.js';
import { scratchDir } from './helpers/fixtures.js';

const OLD_SEED = 1;
const NEW_SEED = 2;

/** Every file of a folder with its sha256, so that two folders compare whole. */
async function fingerprint(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile())) {
    const path = join(entry.parentPath ?? entry.path, entry.name);
    out[path.slice(dir.length + 1)] = createHash('sha256').update(await readFile(path)).digest('hex');
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

async function scores(dir: string): Promise<number[]> {
  await using model = await CrossEncoder.load(dir, { threads: 1 });
  return Array.from(await model.predict([['owls at night', 'owls hunt mice at night'], ['owls at night', 'bats hear echoes']]));
}

describe('crash points: model export (folder swap)', { timeout: 180_000 }, () => {
  it('every folder-swap fault point has a case', async () => {
    const work = await scratchDir();
    const before = join(work, 'before', 'model');
    const after = join(work, 'after', 'model');
    await createFixtureModel(before, { kind: 'cross-encoder', seed: OLD_SEED });
    await createFixtureModel(after, { kind: 'cross-encoder', seed: NEW_SEED });
    const expected = { before: await fingerprint(before), after: await fingerprint(after) };
    const expectedScores = { before: await scores(before), after: await scores(after) };
    assert.notDeepEqual(expected.before, expected.after);

    const operation = await operationModule(
      'export',
      `import { createFixtureModel } from ${src('models/fixture.ts')};
export async function run(target) { await createFixtureModel(target, { kind: 'cross-encoder', seed: ${NEW_SEED}, overwrite: true }); }`,
    );
    for (const [point, state] of Object.entries(FOLDER_SWAP_FAULT_POINTS)) {
      const target = join(work, point.replace(/\W/g, '-'), 'model');
      await cp(before, target, { recursive: true });
      assertInterrupted(await runChild(operation, target, point), point);

      // The reader repairs what the crash left, then sees one whole model.
      assert.deepEqual(await scores(target), expectedScores[state], `${point}: scores of the ${state} model`);
      assert.deepEqual(await fingerprint(target), expected[state], `${point}: the folder holds the ${state} model`);
      assert.deepEqual(await readdir(dirname(target)), ['model'], `${point}: no temporary folder is left`);

      // The same export run again from there reaches the new model.
      const rerun = await runChild(operation, target, undefined);
      assert.equal(rerun.code, 0, rerun.stderr);
      assert.deepEqual(await fingerprint(target), expected.after, `${point}: a rerun writes the new model`);
    }
  });
});
