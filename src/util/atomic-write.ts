import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { exists } from './fs.js';
import { faultPoint } from './fault.js';
import { pidRuns } from './write-lock.js';

/**
 * Writes beside the destination, then renames over it: a reader, or a run after a crash, sees the old file or the
 * new one, never half of one.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  await replaceAtomic(path, (temp) => writeFile(temp, content));
}

/** {@link writeFileAtomic} for any entry `make` can create at a temporary path (a file, a symbolic link). */
export async function replaceAtomic(path: string, make: (temp: string) => Promise<void>): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await make(temp);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** `.<name>.<pid>.<hex>.tmp`: where writeFolderAtomic builds the new folder; `<that>.old` holds the old one aside. */
function stagingPattern(target: string): RegExp {
  const name = basename(target).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\.${name}\\.(\\d+)\\.[0-9a-f]{8}\\.tmp(\\.old)?$`);
}

/**
 * Finishes or undoes a folder swap that a crashed writeFolderAtomic left, so that `path` holds the old folder or the
 * new one. The old folder is moved aside only once the new one is complete, so an `.old` sibling means the new one
 * is whole: with nothing at `path`, the new one is moved in (the write is finished). Leftovers of dead writers are
 * removed; those of a writer still running (its pid alive) are left to it. Readers of a model folder call this
 * before opening it, and every write calls it first.
 */
export async function recoverFolderSwap(path: string): Promise<void> {
  const target = resolve(path);
  const parent = dirname(target);
  let names: string[];
  try {
    names = await readdir(parent);
  } catch {
    return;
  }
  const pattern = stagingPattern(target);
  const leftovers = names.map((name) => ({ name, match: pattern.exec(name) })).filter((e) => e.match && !pidRuns(Number(e.match[1])));
  for (const { name, match } of leftovers) {
    if (!match![2]) continue;
    const staging = join(parent, name.slice(0, -'.old'.length));
    if (!(await exists(target)) && (await exists(staging))) await rename(staging, target);
  }
  for (const { name } of leftovers) await rm(join(parent, name), { recursive: true, force: true });
}

/**
 * Builds a folder under a temporary sibling name with `fill`, then swaps it into place: readers see the old folder
 * or the new one, never a partial one. An existing folder is moved aside, not deleted, until the new one is in
 * place, so a failed swap leaves the old folder, and a crash between the two renames is finished by
 * recoverFolderSwap. Callers decide beforehand whether replacing is allowed.
 */
export async function writeFolderAtomic(path: string, fill: (staging: string) => Promise<void>): Promise<void> {
  const target = resolve(path);
  await mkdir(dirname(target), { recursive: true });
  await recoverFolderSwap(target);
  const staging = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const old = `${staging}.old`;
  try {
    await mkdir(staging);
    await fill(staging);
    faultPoint('folder:after-fill');
    if (await exists(target)) {
      await rename(target, old);
      faultPoint('folder:after-move-aside');
      try {
        await rename(staging, target);
      } catch (error) {
        await rename(old, target);
        throw error;
      }
      faultPoint('folder:after-swap');
    } else {
      await rename(staging, target);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(old, { recursive: true, force: true });
  }
}

/**
 * Builds a folder under a temporary sibling name with `fill` and renames it into place, unless a complete one is
 * already there: the first writer wins, later ones (another process that raced it) keep the winner's folder and
 * discard their own, and every caller returns only once a complete folder is at `path`. Never replaces a complete
 * folder, so a reader of the winner's files is never disturbed. An incomplete folder at `path` (`isComplete` false;
 * something other than this function made it) is moved aside and replaced. Returns whether this call wrote it.
 */
export async function writeFolderOnce(
  path: string,
  fill: (staging: string) => Promise<void>,
  isComplete: (dir: string) => Promise<boolean>,
): Promise<boolean> {
  const target = resolve(path);
  if (await isComplete(target)) return false;
  await mkdir(dirname(target), { recursive: true });
  const tag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  const staging = join(dirname(target), `.${basename(target)}.${tag}.tmp`);
  const stale = `${staging}.stale`;
  try {
    await mkdir(staging);
    await fill(staging);
    for (let attempt = 0; ; attempt++) {
      try {
        await rename(staging, target);
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
        if (await isComplete(target)) return false;
        if (attempt > 0) throw error;
        // Not ours and not complete: set it aside (another process may do the same; then our rename retries).
        await rename(target, stale).catch(() => {});
      }
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
    await rm(stale, { recursive: true, force: true });
  }
}
