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
 *   lancedb:after-create-table           open() of a new index: the empty table committed, rankwise manifest not written
 *   lancedb:before-manifest              open() of a new index: the manifest complete in its temporary file, not renamed
 *   lancedb:after-manifest               open() of a new index: the manifest renamed into place, open() not returned
 *   lancedb:after-rows                   add(): the upsert committed, the BM25 index not yet built or brought up to date
 *   lancedb:after-delete                 delete(): the deletion committed, the BM25 index not yet brought up to date
 *   lancedb:after-text-index             add()/delete(): the BM25 index built or updated, the write not yet returned
 *   folder:after-fill                    writeFolderAtomic (model export): the new folder complete under its temporary
 *                                        name, nothing renamed
 *   folder:after-move-aside              writeFolderAtomic: the old folder renamed aside, the new one not yet in place
 *   folder:after-swap                    writeFolderAtomic: the new folder in place, the old one not yet removed
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

/**
 * Points in LanceDbRetriever (src/retrieve/lancedb.ts); the value is the state a reopened index must hold after a
 * crash there. Creating a new index is a write of its own (before: no index; after: an empty one), and so is each
 * add() (one upsert commit) and each delete() (one deletion commit). open() repairs what a crash leaves: an empty
 * table without a manifest is an interrupted creation and is made again, a temporary manifest is removed, and when a
 * BM25 update is owed (the `<table>.rankwise.text-pending` marker a write leaves from before its commit until its
 * index update, or rows the index does not cover) the index is built or updated before open() returns.
 */
export const LANCEDB_INDEX_FAULT_POINTS = {
  'lancedb:after-create-table': 'before',
  'lancedb:before-manifest': 'before',
  'lancedb:after-manifest': 'after',
  'lancedb:after-rows': 'after',
  'lancedb:after-delete': 'after',
  'lancedb:after-text-index': 'after',
} as const satisfies Record<string, 'before' | 'after'>;

/**
 * Points in writeFolderAtomic (every model export); the value is the state the folder must hold after a crash there,
 * once a reader or the next writer has called recoverFolderSwap.
 */
export const FOLDER_SWAP_FAULT_POINTS = {
  'folder:after-fill': 'before',
  'folder:after-move-aside': 'after',
  'folder:after-swap': 'after',
} as const satisfies Record<string, 'before' | 'after'>;

export type FaultPointName =
  | keyof typeof SQLITE_CACHE_FAULT_POINTS
  | keyof typeof TOKEN_INDEX_FAULT_POINTS
  | keyof typeof LANCEDB_INDEX_FAULT_POINTS
  | keyof typeof FOLDER_SWAP_FAULT_POINTS;

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
