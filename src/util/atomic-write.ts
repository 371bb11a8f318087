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
