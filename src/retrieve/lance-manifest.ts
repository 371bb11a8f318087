import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { faultPoint } from '../util/fault.js';
import { exists } from '../util/fs.js';
import { InputError, StoreError } from '../errors.js';

export const DEFAULT_LANCE_TABLE = 'documents';
export const MANIFEST_FORMAT = 1;
/** What the index folder records about how its vectors were made, so that queries are embedded the same way. */
export interface LanceIndexManifest {
  format: number;
  table: string;
  /** null for a lexical-only index (no vector column). */
  encoder: { name: string; dimension: number } | null;
  createdAt: string;
}

/** The manifest's path for a table in an index folder. */
export function lanceManifestPath(dir: string, table = DEFAULT_LANCE_TABLE): string {
  return join(dir, `${table}.rankwise.json`);
}

/** The lock file writers of a table hold while they write (see src/util/write-lock.ts). */
export function lanceLockPath(dir: string, table = DEFAULT_LANCE_TABLE): string {
  return join(dir, `${table}.rankwise.lock`);
}

/**
 * Present while a write's BM25 update is owed: written before the rows are committed and removed once the text index
 * covers them, so that open() knows to finish the update after a crash in between. (LanceDB's index statistics do
 * not show it after a delete: the index still counts the deleted rows in its term statistics, so scores are off.)
 */
export function lanceTextPendingPath(dir: string, table = DEFAULT_LANCE_TABLE): string {
  return join(dir, `${table}.rankwise.text-pending`);
}

/** The manifest of an existing index, or undefined when the folder holds no such table. Lets a CLI pick the encoder. */
export async function readLanceManifest(dir: string, table = DEFAULT_LANCE_TABLE): Promise<LanceIndexManifest | undefined> {
  const path = lanceManifestPath(dir, table);
  if (!(await exists(path))) return undefined;
  let value: LanceIndexManifest;
  try {
    value = JSON.parse(await readFile(path, 'utf8')) as LanceIndexManifest;
  } catch (error) {
    throw new StoreError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (value?.format !== MANIFEST_FORMAT) throw new StoreError(`${path}: "format": expected ${MANIFEST_FORMAT}, got ${JSON.stringify(value?.format)}`);
  const encoder = value.encoder;
  if (encoder !== null && (typeof encoder?.name !== 'string' || !Number.isInteger(encoder?.dimension) || encoder.dimension < 1)) {
    throw new InputError(`${path}: "encoder": expected null or {"name": string, "dimension": positive integer}`);
  }
  return value;
}

/** Temporary names of a manifest being written: `.<table>.rankwise.json.<pid>.<random>.tmp`. */
function isTemporaryManifest(name: string, table: string): boolean {
  return name.startsWith(`.${table}.rankwise.json.`) && name.endsWith('.tmp');
}

/**
 * Writes the manifest under a temporary name and renames it into place, so that readers see no manifest or a
 * complete one. A crash in between leaves the temporary file, which `removeTemporaryManifests` takes away.
 */
export async function writeLanceManifest(dir: string, manifest: LanceIndexManifest): Promise<void> {
  const path = lanceManifestPath(dir, manifest.table);
  const temp = join(dir, `.${manifest.table}.rankwise.json.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, `${JSON.stringify(manifest, null, 2)}\n`);
    faultPoint('lancedb:before-manifest');
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** Temporary manifests a crashed writer left in `dir`; only the holder of the table's write lock may remove them. */
export async function temporaryManifests(dir: string, table = DEFAULT_LANCE_TABLE): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((name) => isTemporaryManifest(name, table)).map((name) => join(dir, name));
}
