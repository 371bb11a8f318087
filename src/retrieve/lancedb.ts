import './lance-log.js'; // must run before LanceDB's native module sets up its logger
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type * as lancedb from '@lancedb/lancedb';
import type { Schema } from 'apache-arrow';
import type { SentenceEncoder } from '../models/sentence-encoder.js';
import { l2normalize } from '../models/vectors.js';
import { faultPoint, rendezvousPoint } from '../util/fault.js';
import { exists } from '../util/fs.js';
import { withWriteLock, type WriteLockOptions } from '../util/write-lock.js';
import { checkDocuments, checkIds, checkSearch } from './checks.js';
import type { IndexedDocument, RetrievedDocument, Retriever, SearchMode, SearchOptions } from './retriever.js';
import {
  DEFAULT_LANCE_TABLE,
  lanceLockPath,
  lanceManifestPath,
  lanceTextPendingPath,
  MANIFEST_FORMAT,
  readLanceManifest,
  temporaryManifests,
  writeLanceManifest,
  type LanceIndexManifest,
} from './lance-manifest.js';
import { DEFAULT_RRF_K, reciprocalRankFusion } from './rrf.js';
import { InputError, StoreError, requireOptional } from '../errors.js';

export { DEFAULT_LANCE_TABLE, lanceLockPath, lanceManifestPath, readLanceManifest, type LanceIndexManifest };

/** Documents embedded per encoder call while adding (also the progress granularity). */
const EMBED_BATCH = 64;

export interface LanceDbOpenOptions {
  /** Embeds documents on add and queries on search; enables `vector` and `hybrid`. Fixed for the life of the index. */
  encoder?: SentenceEncoder;
  /** Table inside the folder (default `documents`); letters, digits, `_`, `-` and `.`. */
  table?: string;
  /** RRF constant for hybrid search (default 60). */
  rrfK?: number;
  /** How long a write waits for another process writing the same table (see src/util/write-lock.ts). */
  lock?: WriteLockOptions;
}

export interface LanceDbSearchOptions extends SearchOptions {
  /** Hybrid only: hits taken from each of the text and vector lists before fusing (default max(k, 50)). */
  fusionDepth?: number;
}

export interface AddProgress {
  /** Called after each embedded batch with documents embedded so far and the total. */
  onProgress?: (done: number, total: number) => void;
}

interface Row {
  id: string;
  text: string;
  metadata: string | null;
  vector?: Float32Array;
}

/**
 * A first-stage index in a LanceDB folder: BM25 full-text search over `text`, exact cosine nearest neighbours over
 * the encoder's vectors, and hybrid search fusing the two by reciprocal rank.
 *
 * Scores by mode (higher is better in all three):
 * - `text`: LanceDB's BM25 score (unbounded, comparable only within one query);
 * - `vector`: cosine similarity of query and document vectors, in [-1, 1];
 * - `hybrid`: RRF score, sum over the text and vector lists of 1 / (rrfK + rank), rank 1-based; at most 2 / (rrfK + 1).
 *
 * Writes are upserts by id; after every write the FTS index is brought up to date (LanceDB's full-text search does
 * not see rows added after the index was built until `optimize()` folds them in).
 *
 * Several processes may write one index: each write (and the creation of the table) holds the table's lock file
 * (`<table>.rankwise.lock`), and starts from the latest committed version, so that concurrent upserts of the same ids
 * run one after the other and the second one replaces the rows of the first instead of adding copies.
 *
 * Crash consistency (fault points and the state each leaves: LANCEDB_INDEX_FAULT_POINTS in src/util/fault.ts): a
 * new index is the table, committed empty, then the manifest renamed into place, so an empty table without a
 * manifest is a creation that never finished; each add() is one upsert commit and each delete() one deletion commit,
 * followed by the BM25 update. open() finishes or undoes what a crashed writer left, under the lock: it drops an
 * unfinished creation (and makes the index again), removes temporary manifests, and finishes a BM25 update a write
 * owed (the text-pending marker, see lanceTextPendingPath) or rows the index does not cover, so that text search never
 * silently misses committed rows nor scores with the statistics of deleted ones.
 */
export class LanceDbRetriever implements Retriever {
  readonly name: string;
  readonly modes: readonly SearchMode[];
  /** Serialises writes from this instance: LanceDB commits are versioned and concurrent ones would conflict. */
  private writing: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** The table version this handle last looked at, and a refresh in flight that concurrent callers share. */
  private seenVersion: number | undefined;
  private refreshing: Promise<string> | undefined;

  private constructor(
    private readonly db: lancedb.Connection,
    private readonly table: lancedb.Table,
    readonly manifest: LanceIndexManifest,
    private readonly encoder: SentenceEncoder | undefined,
    private readonly rrfK: number,
    private hasTextIndex: boolean,
    private readonly lockPath: string,
    private readonly lockOptions: WriteLockOptions,
    private readonly textPendingPath: string,
  ) {
    this.name = `lancedb:${manifest.table}${manifest.encoder ? `+${manifest.encoder.name}` : ''}`;
    this.modes = manifest.encoder ? ['text', 'vector', 'hybrid'] : ['text'];
  }

  /**
   * Opens the index in `dir`, creating folder and table on first use. An existing index must be opened with the
   * encoder it was built with (same name and dimension), or with none to search by text and by caller-given vectors.
   */
  static async open(dir: string, options: LanceDbOpenOptions = {}): Promise<LanceDbRetriever> {
    const table = options.table ?? DEFAULT_LANCE_TABLE;
    if (typeof table !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(table)) {
      throw new InputError(`table: expected letters, digits, "_", "-" or "." (at most 128, not starting with "-" or "."), got ${JSON.stringify(table)}`);
    }
    const rrfK = options.rrfK ?? DEFAULT_RRF_K;
    if (!Number.isFinite(rrfK) || rrfK < 0) throw new InputError(`rrfK: expected a non-negative number, got ${rrfK}`);
    const encoder = options.encoder;
    const folder = resolve(dir);
    await mkdir(folder, { recursive: true });
    const db = await lanceDb().connect(folder);
    const lockPath = lanceLockPath(folder, table);
    const lockOptions = options.lock ?? {};
    try {
      // Outside the lock a table without its manifest may be one another process is creating right now: look again
      // under the lock (`strict`), where it is a table rankwise did not make.
      const openExisting = async (strict: boolean): Promise<{ manifest: LanceIndexManifest; lanceTable: lancedb.Table } | undefined> => {
        if (!(await db.tableNames()).includes(table)) return undefined;
        const manifest = await readLanceManifest(folder, table);
        if (!manifest && !strict) return undefined;
        if (!manifest) {
          if (!(await isUnfinishedCreation(db, table))) {
            throw new StoreError(`${folder}: table "${table}" has no ${table}.rankwise.json manifest; it was not made by rankwise`);
          }
          // A creation killed before its manifest: nothing was ever added, so it is made again from the start.
          await db.dropTable(table);
          return undefined;
        }
        checkEncoder(folder, manifest, encoder);
        return { manifest, lanceTable: await db.openTable(table) };
      };
      // Creating is a write: under the lock, and checked again there, so that two processes opening a new folder at
      // once create the table once (the second one opens what the first made).
      await rendezvousPoint('lancedb:before-open');
      const opened =
        (await openExisting(false)) ??
        (await withWriteLock(
          lockPath,
          async () => {
            const existing = await openExisting(true);
            if (existing) return existing;
            if (await readLanceManifest(folder, table)) throw new StoreError(`${lanceManifestPath(folder, table)}: manifest present but table "${table}" is missing from ${folder}`);
            const manifest: LanceIndexManifest = {
              format: MANIFEST_FORMAT,
              table,
              encoder: encoder ? { name: encoder.name, dimension: encoder.dimension } : null,
              createdAt: new Date().toISOString(),
            };
            const lanceTable = await db.createEmptyTable(table, tableSchema(manifest.encoder?.dimension), { mode: 'create' });
            faultPoint('lancedb:after-create-table');
            await writeLanceManifest(folder, manifest);
            faultPoint('lancedb:after-manifest');
            return { manifest, lanceTable };
          },
          lockOptions,
        ));
      const { manifest, lanceTable } = opened;
      const retriever = new LanceDbRetriever(db, lanceTable, manifest, encoder, rrfK, false, lockPath, lockOptions, lanceTextPendingPath(folder, table));
      try {
        await retriever.repair(folder);
      } catch (error) {
        lanceTable.close();
        throw error;
      }
      return retriever;
    } catch (error) {
      db.close();
      throw error;
    }
  }

  async add(documents: readonly IndexedDocument[], options: AddProgress = {}): Promise<void> {
    this.checkOpen();
    const batch = checkDocuments(documents);
    if (batch.length === 0) return;
    if (this.manifest.encoder && !this.encoder) {
      throw new InputError(`this index stores ${this.manifest.encoder.name} vectors: open it with that encoder to add documents`);
    }
    const vectors = this.encoder ? await this.embedAll(batch.map((d) => d.text), options.onProgress) : undefined;
    const rows: Row[] = batch.map((d, i) => ({
      id: d.id,
      text: d.text,
      metadata: d.metadata === undefined ? null : JSON.stringify(d.metadata),
      ...(vectors ? { vector: vectors[i] } : {}),
    }));
    await rendezvousPoint('lancedb:before-write');
    await this.write(async () => {
      const data = lanceDb().makeArrowTable(rows as unknown as Array<Record<string, unknown>>, { schema: tableSchema(this.manifest.encoder?.dimension) });
      await writeFile(this.textPendingPath, '');
      await this.table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll().execute(data);
      faultPoint('lancedb:after-rows');
      await this.refreshTextIndex();
      faultPoint('lancedb:after-text-index');
    });
  }

  async delete(ids: readonly string[]): Promise<void> {
    this.checkOpen();
    const unique = checkIds(ids);
    if (unique.length === 0) return;
    await this.write(async () => {
      // One predicate, so one commit: a crash leaves all of the ids deleted or none of them.
      await writeFile(this.textPendingPath, '');
      await this.table.delete(`id IN (${unique.map(sqlString).join(', ')})`);
      faultPoint('lancedb:after-delete');
      await this.refreshTextIndex();
      faultPoint('lancedb:after-text-index');
    });
  }

  async search(query: string, options: LanceDbSearchOptions = {}): Promise<RetrievedDocument[]> {
    this.checkOpen();
    const canEmbed = this.encoder !== undefined;
    const { k, mode, vector } = checkSearch(query, options, this.modes, canEmbed ? 'hybrid' : 'text', () =>
      `the index was built without an encoder (lexical only); rebuild it with one for vector or hybrid search`,
    );
    await this.writing; // a search issued after an add sees that add
    if (mode === 'text') return this.textSearch(query, k);
    const queryVector = await this.queryVector(query, vector);
    if (mode === 'vector') return this.vectorSearch(queryVector, k);
    const depth = options.fusionDepth ?? Math.max(k, 50);
    if (!Number.isInteger(depth) || depth < 1) throw new InputError(`fusionDepth: expected a positive integer, got ${depth}`);
    const [textHits, vectorHits] = await Promise.all([this.textSearch(query, depth), this.vectorSearch(queryVector, depth)]);
    const byId = new Map<string, RetrievedDocument>([...vectorHits, ...textHits].map((hit) => [hit.id, hit]));
    return reciprocalRankFusion([textHits.map((h) => h.id), vectorHits.map((h) => h.id)], this.rrfK)
      .slice(0, k)
      .map((item, i) => ({ ...withoutScore(byId.get(item.id)!), score: item.score, rank: i + 1 }));
  }

  /**
   * Moves this handle to the latest committed version of the table, so that documents another process added or
   * deleted since are seen (a handle otherwise keeps reading the version it opened), and returns an identity of that
   * version: the index's creation time and LanceDB's version number, which change with every committed write and
   * are the same for every process reading the folder. Concurrent calls share one check.
   */
  refresh(): Promise<string> {
    this.checkOpen();
    this.refreshing ??= (async () => {
      try {
        await this.writing;
        await this.table.checkoutLatest();
        const version = await this.table.version();
        if (version !== this.seenVersion) {
          this.hasTextIndex = await hasTextIndex(this.table);
          this.seenVersion = version;
        }
        return `${this.manifest.createdAt}#${version}`;
      } finally {
        this.refreshing = undefined;
      }
    })();
    return this.refreshing;
  }

  async count(): Promise<number> {
    this.checkOpen();
    await this.writing;
    return this.table.countRows();
  }

  /** Ends this handle (the encoder belongs to the caller and stays loaded). Pending writes finish first. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.writing.catch(() => undefined);
    this.closed = true;
    this.table.close();
    this.db.close();
  }

  /** The same as close(), for code that disposes any resource (and `await using`). */
  dispose(): Promise<void> {
    return this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async textSearch(query: string, k: number): Promise<RetrievedDocument[]> {
    if (!this.hasTextIndex) {
      if ((await this.table.countRows()) === 0) return [];
      // Rows without a BM25 index: a writer crashed (or is still running) between its commit and the index build.
      // Build it (after that writer, under the lock) rather than answer nothing.
      await this.write(async () => {
        if (await textIndexBehind(this.table)) await this.refreshTextIndex();
      });
    }
    // A plain string becomes a match query over the indexed column (terms OR-ed, BM25), not a query language:
    // quotes, operators and SQL-looking text in user input are just words.
    const rows = await this.table.query().fullTextSearch(query, { columns: ['text'] }).select(['id', 'text', 'metadata', '_score']).limit(k).toArray();
    return rows.map((row, i) => toHit(row, Number(row._score), i));
  }

  private async vectorSearch(vector: Float32Array, k: number): Promise<RetrievedDocument[]> {
    const dimension = this.manifest.encoder!.dimension;
    if (vector.length !== dimension) throw new InputError(`vector: expected ${dimension} numbers (the index's dimension), got ${vector.length}`);
    // Stored vectors are unit length, so with a unit query the dot product is the cosine similarity, and LanceDB's
    // dot scan was twice as fast as its cosine scan (10k x 512: 64 vs 133 ms). No ANN index: an exact scan;
    // `_distance` under `dot` is 1 - dot.
    const unit = l2normalize(vector);
    const rows = await this.table.query().nearestTo(unit).distanceType('dot').select(['id', 'text', 'metadata', '_distance']).limit(k).toArray();
    return rows.map((row, i) => toHit(row, 1 - Number(row._distance), i));
  }

  private async queryVector(query: string, given: Float32Array | undefined): Promise<Float32Array> {
    if (given) return given;
    if (!this.encoder) throw new InputError(`vector: this index was opened without an encoder; pass options.vector or open it with ${this.manifest.encoder!.name}`);
    return (await this.encoder.encode([query], { normalize: true }))[0];
  }

  private async embedAll(texts: string[], onProgress?: (done: number, total: number) => void): Promise<Float32Array[]> {
    const out: Float32Array[] = [];
    for (let i = 0; i < texts.length; i += EMBED_BATCH) {
      out.push(...(await this.encoder!.encode(texts.slice(i, i + EMBED_BATCH), { normalize: true })));
      onProgress?.(out.length, texts.length);
    }
    const dimension = this.manifest.encoder!.dimension;
    const bad = out.find((v) => v.length !== dimension);
    if (bad) throw new InputError(`encoder ${this.encoder!.name} returned ${bad.length}-d vectors; the index stores ${dimension}-d`);
    // Vector search relies on unit vectors (dot = cosine); normalise again in case an encoder ignores the option.
    return out.map((v) => l2normalize(v));
  }

  /**
   * Finishes what a crashed writer left (see the class comment), holding the write lock only when there is something
   * to do; then records whether the table has its BM25 index.
   */
  private async repair(folder: string): Promise<void> {
    const temporary = await temporaryManifests(folder, this.manifest.table);
    if (temporary.length > 0 || (await exists(this.textPendingPath)) || (await textIndexBehind(this.table))) {
      await this.write(async () => {
        for (const path of await temporaryManifests(folder, this.manifest.table)) await rm(path, { force: true });
        if ((await exists(this.textPendingPath)) || (await textIndexBehind(this.table))) await this.refreshTextIndex();
      });
    }
    this.hasTextIndex = await hasTextIndex(this.table);
  }

  /** Builds the BM25 index on the first write, and folds new rows into it (and drops deleted ones) on later writes. */
  private async refreshTextIndex(): Promise<void> {
    if (!this.hasTextIndex) {
      if ((await this.table.countRows()) > 0) {
        await this.table.createIndex('text', { config: lanceDb().Index.fts(), replace: true });
        this.hasTextIndex = true;
      }
    } else {
      await this.table.optimize();
    }
    await rm(this.textPendingPath, { force: true });
  }

  /**
   * Runs a write after the earlier writes of this instance, holding the table's cross-process lock, on the latest
   * committed version (another process may have committed since this handle last looked).
   */
  private write<T>(job: () => Promise<T>): Promise<T> {
    const locked = () =>
      withWriteLock(
        this.lockPath,
        async () => {
          await this.table.checkoutLatest();
          this.hasTextIndex = await hasTextIndex(this.table);
          return job();
        },
        this.lockOptions,
      );
    const next = this.writing.then(locked);
    this.writing = next.catch(() => undefined);
    return next;
  }

  private checkOpen(): void {
    if (this.closed) throw new InputError(`${this.name}: the retriever is closed`);
  }
}

async function textIndexOf(table: lancedb.Table): Promise<string | undefined> {
  return (await table.listIndices()).find((index) => index.columns.includes('text'))?.name;
}

async function hasTextIndex(table: lancedb.Table): Promise<boolean> {
  return (await textIndexOf(table)) !== undefined;
}

/**
 * Whether committed rows are missing from the BM25 index, or deleted ones still counted in it: no index over a
 * non-empty table, or one that does not cover exactly the table's rows. LanceDB's text search scans uncovered rows
 * too, but with the index's (stale) term statistics, so scores would differ from those of an up-to-date index.
 */
async function textIndexBehind(table: lancedb.Table): Promise<boolean> {
  const rows = await table.countRows();
  const name = await textIndexOf(table);
  if (name === undefined) return rows > 0;
  const stats = await table.indexStats(name);
  return stats !== undefined && (stats.numUnindexedRows > 0 || stats.numIndexedRows !== rows);
}

/** An empty table with exactly the columns rankwise creates: what a creation killed before its manifest leaves. */
async function isUnfinishedCreation(db: lancedb.Connection, name: string): Promise<boolean> {
  const table = await db.openTable(name);
  try {
    const columns = (await table.schema()).fields.map((field) => field.name).join(',');
    return (columns === 'id,text,metadata' || columns === 'id,text,metadata,vector') && (await table.countRows()) === 0;
  } finally {
    table.close();
  }
}

function checkEncoder(folder: string, manifest: LanceIndexManifest, encoder: SentenceEncoder | undefined): void {
  if (!encoder) return;
  const recorded = manifest.encoder;
  if (!recorded) {
    throw new InputError(`${folder}: index "${manifest.table}" was built without an encoder (lexical only); cannot open it with encoder ${encoder.name} (${encoder.dimension}-d)`);
  }
  if (recorded.name !== encoder.name || recorded.dimension !== encoder.dimension) {
    throw new InputError(
      `${folder}: index "${manifest.table}" was built with encoder ${recorded.name} (${recorded.dimension}-d); cannot open it with encoder ${encoder.name} (${encoder.dimension}-d)`,
    );
  }
}

const lanceDb = () => requireOptional<typeof import('@lancedb/lancedb')>('@lancedb/lancedb', 'LanceDbRetriever');

function tableSchema(dimension: number | undefined): Schema {
  const { Field, FixedSizeList, Float32, Schema, Utf8 } = requireOptional<typeof import('apache-arrow')>('apache-arrow', 'LanceDbRetriever');
  const fields: InstanceType<typeof Field>[] = [new Field('id', new Utf8(), false), new Field('text', new Utf8(), false), new Field('metadata', new Utf8(), true)];
  if (dimension !== undefined) fields.push(new Field('vector', new FixedSizeList(dimension, new Field('item', new Float32(), true)), false));
  return new Schema(fields);
}

/** A SQL string literal: single quotes doubled, which is the only escape DataFusion's parser applies in '...'. */
export function sqlString(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

function toHit(row: Record<string, unknown>, score: number, index: number): RetrievedDocument {
  const metadata = typeof row.metadata === 'string' ? (JSON.parse(row.metadata) as Record<string, unknown>) : undefined;
  return { id: String(row.id), text: String(row.text), ...(metadata ? { metadata } : {}), score, rank: index + 1 };
}

function withoutScore(hit: RetrievedDocument): IndexedDocument {
  return hit.metadata ? { id: hit.id, text: hit.text, metadata: hit.metadata } : { id: hit.id, text: hit.text };
}
