import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exists } from '../util/fs.js';

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

/** The manifest of an existing index, or undefined when the folder holds no such table. Lets a CLI pick the encoder. */
export async function readLanceManifest(dir: string, table = DEFAULT_LANCE_TABLE): Promise<LanceIndexManifest | undefined> {
  const path = lanceManifestPath(dir, table);
  if (!(await exists(path))) return undefined;
  let value: LanceIndexManifest;
  try {
    value = JSON.parse(await readFile(path, 'utf8')) as LanceIndexManifest;
  } catch (error) {
    throw new Error(`${path}: not valid JSON (${(error as Error).message})`);
  }
  if (value?.format !== MANIFEST_FORMAT) throw new Error(`${path}: "format": expected ${MANIFEST_FORMAT}, got ${JSON.stringify(value?.format)}`);
  const encoder = value.encoder;
  if (encoder !== null && (typeof encoder?.name !== 'string' || !Number.isInteger(encoder?.dimension) || encoder.dimension < 1)) {
    throw new Error(`${path}: "encoder": expected null or {"name": string, "dimension": positive integer}`);
  }
  return value;
}
