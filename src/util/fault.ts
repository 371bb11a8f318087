/**
 * Fault injection for crash tests: a writer calls `faultPoint(name)` between two steps of a multi-step write, and a
 * test that runs the writer with RANKWISE_FAULT=<name> (or a comma list that contains it) gets the process killed
 * right there with SIGKILL: no exit handlers, no flush, exactly what a crash or an OOM kill leaves behind. The child's
 * exit signal (SIGKILL) proves the write was interrupted at that point; the test then reopens the store and checks
 * that it holds exactly the state before the write or exactly the state after it.
 *
 * Without RANKWISE_FAULT a call is one environment read and a comparison.
 *
 * Named points (see the lists below for the expected state after a crash at each):
 *   sqlite-cache:put-after-delete        put(): old row of a replaced key deleted, replacement not inserted, uncommitted
 *   sqlite-cache:put-after-insert        put(): a row inserted, the rest of the batch not, uncommitted
 *   sqlite-cache:put-after-commit        put(): the batch committed, put() not yet returned
 *   sqlite-cache:remove-after-delete     removeKey/clear/purgeExpired/evictLeastRecentlyUsed: rows deleted, uncommitted
 *   sqlite-cache:meta-after-encoder      setMeta(): the encoder row written, the dimension row not, uncommitted
 *   sqlite-cache:counters-after-first    addCounters(): the first counter added, the others not, uncommitted
 *   token-index:after-segment            add/compact: the new segment file renamed into place, manifest not written
 *   token-index:after-codes              add/compact/trainCentroids: a centroid-codes file in place, manifest not written
 *   token-index:after-centroids          trainCentroids: the centroids file in place, codes and manifest not written
 *   token-index:before-manifest          every write: the new manifest complete in its temporary file, not renamed
 *   token-index:after-manifest           every write: the new manifest renamed into place, memory and cleanup not updated
 *   token-index:during-cleanup           compact/trainCentroids: the first unreferenced file removed, others not yet
 */

export const FAULT_ENV = 'RANKWISE_FAULT';
/**
 * For concurrency tests: RANKWISE_RENDEZVOUS=<point>:<count>:<folder> makes every process that reaches
 * `rendezvousPoint(point)` leave a file in <folder> and wait until <count> processes have arrived (at most 60 s), so
 * that the steps after it start at the same moment in every one of them. Without it a call is one environment read.
 */
export const RENDEZVOUS_ENV = 'RANKWISE_RENDEZVOUS';

/** Points in SqliteCacheStore; the value is the state a reopened store must hold after a crash there. */
export const SQLITE_CACHE_FAULT_POINTS = {
  'sqlite-cache:put-after-delete': 'before',
  'sqlite-cache:put-after-insert': 'before',
  'sqlite-cache:put-after-commit': 'after',
  'sqlite-cache:remove-after-delete': 'before',
  'sqlite-cache:meta-after-encoder': 'before',
  'sqlite-cache:counters-after-first': 'before',
} as const satisfies Record<string, 'before' | 'after'>;

/**
 * Points in TokenIndex; the value is the state a reopened index must hold after a crash there. Files a crashed write
 * leaves (a segment, codes or centroids the manifest does not name, a temporary manifest) are ignored by open() and
 * removed by the next compact() or trainCentroids().
 */
export const TOKEN_INDEX_FAULT_POINTS = {
  'token-index:after-segment': 'before',
  'token-index:after-codes': 'before',
  'token-index:after-centroids': 'before',
  'token-index:before-manifest': 'before',
  'token-index:after-manifest': 'after',
  'token-index:during-cleanup': 'after',
} as const satisfies Record<string, 'before' | 'after'>;

export type FaultPointName = keyof typeof SQLITE_CACHE_FAULT_POINTS | keyof typeof TOKEN_INDEX_FAULT_POINTS;

/** Kills this process at once with SIGKILL when RANKWISE_FAULT names `name`; otherwise does nothing. */
export function faultPoint(name: FaultPointName): void {
  const wanted = process.env[FAULT_ENV];
  if (!wanted) return;
  if (wanted === name || wanted.split(',').some((w) => w.trim() === name)) {
    process.kill(process.pid, 'SIGKILL');
  }
}

/** Points where concurrent writers can be lined up by RANKWISE_RENDEZVOUS. */
export type RendezvousPointName = 'lancedb:before-open' | 'lancedb:before-write' | 'token-index:before-write';

/** Waits here until the number of processes RANKWISE_RENDEZVOUS names have arrived, when it names `name`. */
export async function rendezvousPoint(name: RendezvousPointName): Promise<void> {
  const wanted = process.env[RENDEZVOUS_ENV];
  if (!wanted) return;
  const match = /^([^:]+:[^:]+):(\d+):(.+)$/.exec(wanted);
  if (!match || match[1] !== name) return;
  const [, , count, folder] = match;
  const { mkdir, readdir, writeFile } = await import('node:fs/promises');
  await mkdir(folder, { recursive: true });
  await writeFile(`${folder}/${process.pid}`, '');
  const deadline = Date.now() + 60_000;
  while ((await readdir(folder)).length < Number(count) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
}
