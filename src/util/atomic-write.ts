import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { exists } from './fs.js';

/**
 * Writes beside the destination, then renames over it: a reader, or a run after a crash, sees the old file or the
 * new one, never half of one.
 */
export async function writeFileAtomic(path: string, content: string | Uint8Array): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, content);
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Builds a folder under a temporary sibling name with `fill`, then swaps it into place: readers see the old folder
 * or the new one, never a partial one. An existing folder is moved aside, not deleted, until the new one is in
 * place, so a failed swap leaves the old folder. Callers decide beforehand whether replacing is allowed.
 */
export async function writeFolderAtomic(path: string, fill: (staging: string) => Promise<void>): Promise<void> {
  const target = resolve(path);
  await mkdir(dirname(target), { recursive: true });
  const staging = join(dirname(target), `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const old = `${staging}.old`;
  try {
    await mkdir(staging);
    await fill(staging);
    if (await exists(target)) {
      await rename(target, old);
      try {
        await rename(staging, target);
      } catch (error) {
        await rename(old, target);
        throw error;
      }
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
