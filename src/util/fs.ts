import { stat } from 'node:fs/promises';

/** Whether something is at `path`. Only "not there" answers false; any other failure (permissions, I/O) is thrown. */
export async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw error;
  }
}
