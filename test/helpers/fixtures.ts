import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createFixtureModel, type FixtureOptions } from '../../src/models/fixture.js';

let root: Promise<string> | undefined;
const built = new Map<string, Promise<string>>();

// Registered at load time so that it belongs to the whole file, not to whichever test first asks for a folder.
after(async () => {
  if (root) await rm(await root, { recursive: true, force: true });
});

/** A temporary folder removed when the test file ends. */
export async function scratchDir(): Promise<string> {
  root ??= mkdtemp(join(tmpdir(), 'rankwise-test-'));
  return mkdtemp(join(await root, 'x-'));
}

/** A fixture model folder built once per test file for the given options. */
export function fixtureModel(options: FixtureOptions): Promise<string> {
  const key = JSON.stringify(options);
  let dir = built.get(key);
  if (!dir) {
    dir = scratchDir().then(async (parent) => {
      const out = join(parent, options.kind);
      await createFixtureModel(out, options);
      return out;
    });
    built.set(key, dir);
  }
  return dir;
}
