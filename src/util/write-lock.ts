import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { link, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { InputError, StoreError } from '../errors.js';

/**
 * A cross-process write lock: a file created exclusively beside the store it guards, holding the owner's pid, its
 * start time and host. Writers of one store (two `rankwise index add` runs, a server and a CLI) take it around each
 * write, so their writes run one after the other; a writer that cannot get it within the timeout fails with an error
 * that names the file and the pid holding it.
 *
 * The file appears complete or not at all: it is written under a temporary name and hard-linked to the lock name,
 * and link() fails when the name exists, which is the atomic test-and-set (O_EXCL semantics, also on NFS).
 *
 * A lock whose owner is gone (same host, and the pid no longer runs or now belongs to a process started at another
 * time) is stale: it is moved aside and the wait goes on. A crashed writer therefore never blocks its store for good.
 */

export const LOCK_TIMEOUT_ENV = 'RANKWISE_LOCK_TIMEOUT_MS';
/** How long a writer waits for another one by default: long enough for a large `index add` to commit. */
export const DEFAULT_LOCK_TIMEOUT_MS = 120_000;

export interface WriteLockOptions {
  /** Most time to wait for the lock, in ms (default RANKWISE_LOCK_TIMEOUT_MS, else 120 s); 0 tries once. */
  timeoutMs?: number;
  /** Time between two tries while waiting, in ms (default 50). */
  pollMs?: number;
  /** Called once when the lock is found held by another writer, with a line saying by whom and for how long we wait. */
  onWait?: (message: string) => void;
}

interface LockOwner {
  pid: number;
  /** The owner's start time as the OS records it (Linux: clock ticks after boot), to tell a reused pid apart. */
  start: string | null;
  host: string;
  acquiredAt: string;
}

/** Thrown when the lock stays held past the timeout; `owner` is the holder as recorded in the lock file. */
export class StoreLockedError extends StoreError {
  constructor(
    readonly lockPath: string,
    readonly owner: LockOwner | null,
    waitedMs: number,
  ) {
    super(
      `${lockPath}: locked by ${owner ? `pid ${owner.pid} on ${owner.host} since ${owner.acquiredAt}` : 'another process'}; ` +
        `waited ${waitedMs} ms for it (another writer is working on this store: retry when it has finished, or raise ${LOCK_TIMEOUT_ENV}). ` +
        `If that process no longer exists, delete the lock file.`,
    );
  }
}

/** The start time of a process as the OS records it, or null where it cannot be read (not Linux, no such pid). */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime); the command name in field 2 may hold spaces and parentheses, so count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** Whether a process with this pid exists (EPERM: it does, owned by someone else). */
export function pidRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when the recorded owner is certainly gone: same host, and its pid is not running or is another process now. */
function isStale(owner: LockOwner): boolean {
  if (owner.host !== hostname()) return false;
  if (!pidRuns(owner.pid)) return true;
  const start = processStartTime(owner.pid);
  return owner.start !== null && start !== null && start !== owner.start;
}

async function readOwner(path: string): Promise<LockOwner | null | 'gone'> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  try {
    const value = JSON.parse(text) as LockOwner;
    return Number.isInteger(value?.pid) ? value : null;
  } catch {
    return null;
  }
}

const ownStart = processStartTime(process.pid);

function lockTimeout(options: WriteLockOptions): number {
  if (options.timeoutMs !== undefined) return options.timeoutMs;
  const fromEnv = process.env[LOCK_TIMEOUT_ENV];
  if (fromEnv !== undefined && fromEnv !== '') {
    const n = Number(fromEnv);
    if (!Number.isFinite(n) || n < 0) throw new InputError(`${LOCK_TIMEOUT_ENV}: expected a non-negative number of ms, got ${JSON.stringify(fromEnv)}`);
    return n;
  }
  return DEFAULT_LOCK_TIMEOUT_MS;
}

/** Takes the lock at `lockPath` (waiting up to the timeout), runs `job`, and releases the lock however `job` ends. */
export async function withWriteLock<T>(lockPath: string, job: () => Promise<T>, options: WriteLockOptions = {}): Promise<T> {
  const release = await acquireWriteLock(lockPath, options);
  try {
    return await job();
  } finally {
    await release();
  }
}

/** Takes the lock; resolves to the function that releases it. */
export async function acquireWriteLock(lockPath: string, options: WriteLockOptions = {}): Promise<() => Promise<void>> {
  const timeoutMs = lockTimeout(options);
  const pollMs = options.pollMs ?? 50;
  const token = randomBytes(6).toString('hex');
  const owner: LockOwner = { pid: process.pid, start: ownStart, host: hostname(), acquiredAt: new Date().toISOString() };
  const temp = join(dirname(lockPath), `.${basename(lockPath)}.${process.pid}.${token}.tmp`);
  const started = Date.now();
  let told = false;
  await writeFile(temp, `${JSON.stringify({ ...owner, token })}\n`);
  try {
    for (;;) {
      try {
        await link(temp, lockPath);
        return async () => {
          // Remove only our own lock: compare the token, in case it was judged stale and taken over meanwhile.
          try {
            if ((JSON.parse(await readFile(lockPath, 'utf8')) as { token?: string }).token === token) await rm(lockPath, { force: true });
          } catch {
            // Already gone or unreadable: nothing of ours to remove.
          }
        };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new StoreError(`${lockPath}: cannot create the lock file (${(error as Error).message})`);
      }
      const held = await readOwner(lockPath);
      if (held === 'gone') continue;
      if (held && isStale(held)) {
        await breakStaleLock(lockPath, held);
        continue;
      }
      const waited = Date.now() - started;
      if (waited >= timeoutMs) throw new StoreLockedError(lockPath, held, waited);
      if (!told) {
        told = true;
        options.onWait?.(`${lockPath}: locked by ${held ? `pid ${held.pid} on ${held.host}` : 'another process'}; waiting up to ${timeoutMs >= 10_000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`} for it`);
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(1, timeoutMs - waited))));
    }
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Moves a stale lock aside. Two waiters may both judge it stale: the rename succeeds for one of them; if the file
 * renamed turns out to be a fresh lock that another waiter took meanwhile, it is linked back into place.
 */
async function breakStaleLock(lockPath: string, stale: LockOwner): Promise<void> {
  const aside = `${lockPath}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    await rename(lockPath, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  const moved = await readOwner(aside);
  if (moved !== 'gone' && moved && (moved.pid !== stale.pid || moved.acquiredAt !== stale.acquiredAt)) {
    await link(aside, lockPath).catch(() => undefined);
  }
  await rm(aside, { force: true });
}
