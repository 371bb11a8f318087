/**
 * A persistent, incremental index of per-token document vectors for late interaction.
 *
 * Layout of the index folder:
 *   manifest.json            the one source of truth: segments, their tombstones, the centroids in use
 *   seg-<n>.bin              an immutable segment: a header (ids, token counts) and the encoded token vectors
 *   seg-<n>.c<g>.codes       each token's centroid number under centroid generation g (when centroids exist)
 *   centroids-<g>.bin        float32 centroids of generation g
 * Every file is written to a temporary name and renamed; a segment becomes part of the index only when the manifest
 * that names it is renamed into place. A crash at any point therefore leaves the last good manifest, and files it
 * does not name are ignored (and removed by the next compaction). Deletes are tombstones in the manifest;
 * re-adding an id tombstones the old copy in the same manifest write. One writer at a time per folder: every write
 * holds `manifest.lock` (src/util/write-lock.ts) and first reloads the manifest if another process has written since,
 * so writers in several processes take turns and none overwrites the other's segment or manifest. The
 * `faultPoint` calls between the steps of a write let test/crash-points.test.ts kill a writer exactly there
 * (see src/util/fault.ts).
 */
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ScoredDocument } from '../../documents.js';
import type { DisposableResource } from '../../util/disposable.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { faultPoint, rendezvousPoint } from '../../util/fault.js';
import { withWriteLock } from '../../util/write-lock.js';
import { exists } from '../../util/fs.js';
import {
  centroidInteractionScores,
  invertedLists,
  largest,
  nearestCentroids,
  probedCentroids,
  queryCentroidSimilarities,
  trainCentroids,
} from './centroids.js';
import { checkEncoding, decodeTokens, encodedSize, encodeTokens, type TokenEncoding } from './compact-vectors.js';
import { createDotEngine, type DotEngine, type DotEngineName } from './dot-engine.js';
import { MaxSimScorer, ONNX_MIN_WORK, type MaxSimKernel, type TokenMatrix } from './maxsim.js';
import { InputError, StoreError } from '../../errors.js';

export interface IndexDocument {
  id: string;
  tokens: TokenMatrix;
  /** Kept beside the vectors so that search results can show it. */
  text?: string;
}

export interface TokenIndexOptions {
  dimension: number;
  /** How vectors are stored on disk (default float16). */
  encoding?: TokenEncoding;
  /** The encoder that produced the vectors; checked when documents or queries are encoded for this index. */
  model?: string;
}

export interface CandidateOptions {
  /** Centroids probed per query token (PLAID's nprobe; default 4). */
  probe?: number;
  /**
   * Documents kept for exact MaxSim after ranking the probed ones by centroid interaction (MaxSim with each token
   * replaced by its centroid). Default 256; Infinity scores every probed document exactly.
   */
  keep?: number;
}

export interface SearchOptions {
  /** Best k documents (default 10). */
  k?: number;
  /** Score only documents near the query in centroid space (needs {@link TokenIndex.trainCentroids}); default off. */
  candidates?: CandidateOptions | false;
  /** js: fused Float32Array kernel; onnx: onnxruntime Gemm then per-document max; auto (default): by amount of work. */
  kernel?: MaxSimKernel;
}

/** A scored {@link ScoredDocument}; `text` only when it was added with the vectors (the index stores no metadata). */
export type SearchHit = Omit<ScoredDocument, 'text' | 'metadata'> & { text?: string };

export interface SearchResult {
  hits: SearchHit[];
  /** Documents scored exactly (all live documents without the candidate step). */
  scored: number;
}

export interface CentroidOptions {
  count: number;
  seed?: number;
  iterations?: number;
  sample?: number;
  /** Engine for k-means and assignment (default: by amount of work). */
  kernel?: DotEngineName;
}

interface SegmentEntry {
  file: string;
  docs: number;
  tokens: number;
  /** Positions (within the segment) of deleted documents. */
  deleted: number[];
  codes: string | null;
}

interface Manifest {
  format: 'rankwise-token-index';
  version: 1;
  dimension: number;
  encoding: TokenEncoding;
  model: string | null;
  /** Bumped by every write; new file names use it, so a name is never reused. */
  generation: number;
  segments: SegmentEntry[];
  centroids: { file: string; count: number; seed: number } | null;
}

interface Segment {
  entry: SegmentEntry;
  ids: string[];
  texts: Array<string | null>;
  starts: Int32Array;
  vectors: Float32Array;
  alive: Uint8Array;
  codes: Uint16Array | null;
}

const MANIFEST = 'manifest.json';
/** The writers' lock file (see src/util/write-lock.ts); a crashed writer's is stale and taken over by the next one. */
export const TOKEN_INDEX_LOCK = 'manifest.lock';
const LOCK = TOKEN_INDEX_LOCK;
const MAGIC = 0x49545752; // "RWTI" little-endian
const FORMAT_VERSION = 1;

function fail(source: string, message: string): never {
  throw new InputError(`${source}: ${message}`);
}

function checkManifest(raw: unknown, source: string): Manifest {
  if (typeof raw !== 'object' || raw === null) fail(source, 'expected a JSON object');
  const m = raw as Record<string, unknown>;
  if (m.format !== 'rankwise-token-index') fail(source, `"format": expected "rankwise-token-index", got ${JSON.stringify(m.format)}`);
  if (m.version !== 1) fail(source, `"version": expected 1, got ${JSON.stringify(m.version)}`);
  if (!Number.isInteger(m.dimension) || (m.dimension as number) < 1) fail(source, `"dimension": expected a positive integer, got ${JSON.stringify(m.dimension)}`);
  checkEncoding(m.encoding);
  if (!Number.isInteger(m.generation)) fail(source, `"generation": expected an integer, got ${JSON.stringify(m.generation)}`);
  if (!Array.isArray(m.segments)) fail(source, '"segments": expected an array');
  (m.segments as unknown[]).forEach((s, i) => {
    const e = s as Record<string, unknown>;
    if (typeof e?.file !== 'string' || !Number.isInteger(e.docs) || !Number.isInteger(e.tokens) || !Array.isArray(e.deleted)) {
      fail(source, `"segments[${i}]": expected {"file","docs","tokens","deleted","codes"}`);
    }
  });
  return m as unknown as Manifest;
}

/** Segment file: magic, version, header length, JSON header {ids, counts}, padding to 8 bytes, encoded vectors. */
function serializeSegment(ids: string[], counts: number[], texts: Array<string | null>, data: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ ids, counts, texts }));
  const dataStart = Math.ceil((12 + header.length) / 8) * 8;
  const out = new Uint8Array(dataStart + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, MAGIC, true);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, header.length, true);
  out.set(header, 12);
  out.set(data, dataStart);
  return out;
}

function parseSegment(bytes: Uint8Array, source: string): { ids: string[]; counts: number[]; texts: Array<string | null>; data: Uint8Array } {
  if (bytes.length < 12) fail(source, 'truncated segment file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== MAGIC) fail(source, 'not a rankwise token segment');
  if (view.getUint32(4, true) !== FORMAT_VERSION) fail(source, `unsupported segment version ${view.getUint32(4, true)}`);
  const headerLength = view.getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as { ids: string[]; counts: number[]; texts?: Array<string | null> };
  const dataStart = Math.ceil((12 + headerLength) / 8) * 8;
  // A fresh aligned copy: typed views over the data need 4-byte alignment.
  const data = new Uint8Array(bytes.byteLength - dataStart);
  data.set(bytes.subarray(dataStart));
  return { ids: header.ids, counts: header.counts, texts: header.texts ?? header.ids.map(() => null), data };
}

function startsFrom(counts: readonly number[]): Int32Array {
  const starts = new Int32Array(counts.length + 1);
  for (let i = 0; i < counts.length; i++) starts[i + 1] = starts[i] + counts[i];
  return starts;
}

async function readBytes(path: string): Promise<Uint8Array> {
  const buffer = await readFile(path);
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

function rawBytes(values: Float32Array | Uint16Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export class TokenIndex implements DisposableResource {
  private segments: Segment[] = [];
  private where = new Map<string, { segment: number; doc: number }>();
  private centroids: Float32Array | null = null;
  private lists: Array<Array<Int32Array>> | null = null;
  private engines = new Map<DotEngineName, Promise<DotEngine>>();
  private scorers = new Map<MaxSimKernel, MaxSimScorer>();
  private writes: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly dir: string,
    private manifest: Manifest,
  ) {}

  /** A new, empty index in `dir`; an index already there is an error (open it instead). */
  static async create(dir: string, options: TokenIndexOptions): Promise<TokenIndex> {
    if (!Number.isInteger(options.dimension) || options.dimension < 1) throw new InputError(`dimension: expected a positive integer, got ${options.dimension}`);
    const encoding = checkEncoding(options.encoding ?? 'float16');
    await mkdir(dir, { recursive: true });
    if (await exists(join(dir, MANIFEST))) throw new InputError(`${dir}: already holds a token index (open it, or choose another folder)`);
    const manifest: Manifest = {
      format: 'rankwise-token-index',
      version: 1,
      dimension: options.dimension,
      encoding,
      model: options.model ?? null,
      generation: 0,
      segments: [],
      centroids: null,
    };
    const index = new TokenIndex(dir, manifest);
    // Under the lock, and checked again there: of two processes creating the same folder at once, one creates it.
    await withWriteLock(join(dir, LOCK), async () => {
      if (await exists(join(dir, MANIFEST))) throw new InputError(`${dir}: already holds a token index (open it, or choose another folder)`);
      await index.writeManifest(manifest);
    });
    return index;
  }

  static async open(dir: string): Promise<TokenIndex> {
    const path = join(dir, MANIFEST);
    if (!(await exists(path))) throw new InputError(`${dir}: no token index here (${MANIFEST} is missing)`);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new StoreError(`${path}: not valid JSON (${(error as Error).message})`);
    }
    const manifest = checkManifest(raw, path);
    const index = new TokenIndex(dir, manifest);
    for (const entry of manifest.segments) index.segments.push(await index.loadSegment(entry));
    if (manifest.centroids) {
      const bytes = await readBytes(join(dir, manifest.centroids.file));
      index.centroids = new Float32Array(bytes.slice().buffer);
      if (index.centroids.length !== manifest.centroids.count * manifest.dimension) fail(manifest.centroids.file, 'wrong size for the centroids in the manifest');
    }
    index.rebuildLookup();
    return index;
  }

  /** Opens the index in `dir`, or creates it; an existing index must have the same dimension. */
  static async openOrCreate(dir: string, options: TokenIndexOptions): Promise<TokenIndex> {
    if (!(await exists(join(dir, MANIFEST)))) {
      try {
        return await TokenIndex.create(dir, options);
      } catch (error) {
        // Another process created it a moment ago: open theirs (and check it as below).
        if (!(await exists(join(dir, MANIFEST)))) throw error;
      }
    }
    const index = await TokenIndex.open(dir);
    if (index.dimension !== options.dimension) {
      throw new InputError(`${dir}: the index holds ${index.dimension}-d vectors, the encoder gives ${options.dimension}-d (use another --index)`);
    }
    if (options.model && index.model && options.model !== index.model) {
      throw new InputError(`${dir}: the index was built with model "${index.model}", not "${options.model}" (use another --index)`);
    }
    return index;
  }

  get dimension(): number {
    return this.manifest.dimension;
  }
  get encoding(): TokenEncoding {
    return this.manifest.encoding;
  }
  get model(): string | null {
    return this.manifest.model;
  }
  /** Live documents. */
  get size(): number {
    return this.where.size;
  }
  /** Live document tokens. */
  get tokenCount(): number {
    let n = 0;
    for (const s of this.segments) for (let d = 0; d < s.ids.length; d++) if (s.alive[d]) n += s.starts[d + 1] - s.starts[d];
    return n;
  }
  get segmentCount(): number {
    return this.segments.length;
  }
  get centroidCount(): number {
    return this.manifest.centroids?.count ?? 0;
  }

  has(id: string): boolean {
    return this.where.has(id);
  }

  ids(): string[] {
    return [...this.where.keys()];
  }

  /** The document's text, when it was stored with it. */
  text(id: string): string | undefined {
    const at = this.where.get(id);
    return at ? (this.segments[at.segment].texts[at.doc] ?? undefined) : undefined;
  }

  /** The stored (decoded) token vectors of a document. */
  tokens(id: string): TokenMatrix | undefined {
    const at = this.where.get(id);
    if (!at) return undefined;
    const s = this.segments[at.segment];
    const dim = this.dimension;
    const from = s.starts[at.doc];
    const to = s.starts[at.doc + 1];
    return { vectors: s.vectors.slice(from * dim, to * dim), count: to - from, dimension: dim };
  }

  /** Adds documents as one new segment; an id already in the index is replaced. */
  add(documents: readonly IndexDocument[]): Promise<void> {
    return this.serialized(() => this.addNow(documents));
  }

  /** Tombstones the ids; returns the ids that were not in the index. */
  delete(ids: readonly string[]): Promise<string[]> {
    return this.serialized(() => this.deleteNow(ids));
  }

  /** Rewrites the live documents into one segment and removes every file the manifest no longer names. */
  compact(): Promise<void> {
    return this.serialized(() => this.compactNow());
  }

  /** Trains centroids over the live tokens (seeded) and records every token's nearest one, for the candidate step. */
  trainCentroids(options: CentroidOptions): Promise<void> {
    return this.serialized(() => this.trainNow(options));
  }

  async search(query: TokenMatrix, options: SearchOptions = {}): Promise<SearchResult> {
    const k = options.k ?? 10;
    if (!Number.isInteger(k) || k < 1) throw new InputError(`k: expected a positive integer, got ${k}`);
    const { ids, scores } = await this.scoreDocuments(query, options);
    const order = Array.from(scores.keys()).sort((a, b) => scores[b] - scores[a] || (ids[a] < ids[b] ? -1 : 1));
    const hits = order.slice(0, k).map((i) => {
      const text = this.text(ids[i]);
      return { id: ids[i], score: scores[i], ...(text !== undefined ? { text } : {}) };
    });
    return { hits, scored: ids.length };
  }

  /** MaxSim of the query against every live document (or the candidates only), unsorted. */
  async scoreDocuments(query: TokenMatrix, options: Pick<SearchOptions, 'candidates' | 'kernel'> = {}): Promise<{ ids: string[]; scores: Float32Array }> {
    if (query.dimension !== this.dimension) throw new InputError(`query: tokens have dimension ${query.dimension}, the index ${this.dimension}`);
    if (query.count < 1) throw new InputError('query: no tokens to score with');
    const scorer = this.scorer(options.kernel ?? 'auto');
    const selected = options.candidates ? await this.candidateDocuments(query, options.candidates) : this.liveDocuments();
    const ids: string[] = [];
    const parts: Float32Array[] = [];
    for (let s = 0; s < this.segments.length; s++) {
      const docs = selected[s];
      if (docs.length === 0) continue;
      const segment = this.segments[s];
      const block = { vectors: segment.vectors, starts: segment.starts, dimension: this.dimension };
      parts.push(await scorer.score(query, block, docs));
      for (const d of docs) ids.push(segment.ids[d]);
    }
    const scores = new Float32Array(ids.length);
    let offset = 0;
    for (const p of parts) {
      scores.set(p, offset);
      offset += p.length;
    }
    return { ids, scores };
  }

  async close(): Promise<void> {
    await this.writes.catch(() => undefined);
    for (const engine of this.engines.values()) await (await engine).dispose();
    this.engines.clear();
    for (const scorer of this.scorers.values()) await scorer.dispose();
    this.scorers.clear();
  }

  /** The same as close(): releases the ONNX engines and scorers (the files need no closing). */
  dispose(): Promise<void> {
    return this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // -------------------------------------------------------------------------------------------------------------

  /** Runs a write after this handle's earlier ones, holding the folder's lock, on the latest manifest on disk. */
  private serialized<T>(job: () => Promise<T>): Promise<T> {
    const locked = async () => {
      await rendezvousPoint('token-index:before-write');
      return withWriteLock(join(this.dir, LOCK), async () => {
        await this.followDisk();
        return job();
      });
    };
    const next = this.writes.then(locked, locked);
    this.writes = next.catch(() => undefined);
    return next;
  }

  private scorer(kernel: MaxSimKernel): MaxSimScorer {
    let scorer = this.scorers.get(kernel);
    if (!scorer) {
      scorer = new MaxSimScorer(kernel);
      this.scorers.set(kernel, scorer);
    }
    return scorer;
  }

  /** onnxruntime once the multiply-adds repay its per-call overhead, as MaxSimScorer decides. */
  private engineFor(work: number): Promise<DotEngine> {
    return this.engine(work >= ONNX_MIN_WORK ? 'onnx' : 'js');
  }

  private engine(name: DotEngineName): Promise<DotEngine> {
    let engine = this.engines.get(name);
    if (!engine) {
      engine = createDotEngine(name);
      this.engines.set(name, engine);
    }
    return engine;
  }

  private liveDocuments(): Int32Array[] {
    return this.segments.map((s) => {
      const docs: number[] = [];
      for (let d = 0; d < s.ids.length; d++) if (s.alive[d]) docs.push(d);
      return Int32Array.from(docs);
    });
  }

  private async candidateDocuments(query: TokenMatrix, options: CandidateOptions): Promise<Int32Array[]> {
    const centroids = this.centroids;
    const meta = this.manifest.centroids;
    if (!centroids || !meta) throw new InputError('candidates: this index has no centroids yet (train them first: trainCentroids / --centroids N)');
    const probe = options.probe ?? 4;
    const keep = options.keep ?? 256;
    if (!Number.isInteger(probe) || probe < 1) throw new InputError(`probe: expected a positive integer, got ${probe}`);
    if (!(keep === Infinity || (Number.isInteger(keep) && keep >= 1))) throw new InputError(`keep: expected a positive integer or Infinity, got ${keep}`);
    const engine = await this.engineFor(query.count * meta.count * this.dimension);
    const sims = await queryCentroidSimilarities(engine, query.vectors, query.count, centroids, meta.count, this.dimension);
    const probed = probedCentroids(sims, query.count, meta.count, probe);
    this.lists ??= this.segments.map((s) => invertedLists(s.codes!, s.starts, meta.count));
    const perSegment = this.segments.map((s, i) => {
      const seen = new Uint8Array(s.ids.length);
      for (const c of probed) for (const d of this.lists![i][c]) if (s.alive[d]) seen[d] = 1;
      const docs: number[] = [];
      for (let d = 0; d < seen.length; d++) if (seen[d]) docs.push(d);
      return Int32Array.from(docs);
    });
    const total = perSegment.reduce((n, docs) => n + docs.length, 0);
    if (total <= keep) return perSegment;
    // Too many: rank all probed documents by centroid interaction and keep the best `keep` across segments.
    const approx = perSegment.map((docs, i) => centroidInteractionScores(sims, query.count, meta.count, this.segments[i].codes!, this.segments[i].starts, docs));
    const flat = new Float32Array(total);
    const owner: Array<[number, number]> = [];
    let at = 0;
    perSegment.forEach((docs, i) => {
      flat.set(approx[i], at);
      at += docs.length;
      for (const d of docs) owner.push([i, d]);
    });
    const kept: number[][] = this.segments.map(() => []);
    for (const j of largest(flat, keep)) kept[owner[j][0]].push(owner[j][1]);
    return kept.map((docs) => Int32Array.from(docs.sort((a, b) => a - b)));
  }

  private rebuildLookup(): void {
    this.where.clear();
    this.segments.forEach((s, segment) => {
      s.alive.fill(1);
      for (const d of s.entry.deleted) s.alive[d] = 0;
      s.ids.forEach((id, doc) => {
        if (s.alive[doc]) this.where.set(id, { segment, doc });
      });
    });
    this.lists = null;
  }

  private async loadSegment(entry: SegmentEntry): Promise<Segment> {
    const path = join(this.dir, entry.file);
    const { ids, counts, texts, data } = parseSegment(await readBytes(path), path);
    if (ids.length !== entry.docs || counts.length !== entry.docs) fail(path, `holds ${ids.length} documents, the manifest says ${entry.docs}`);
    const starts = startsFrom(counts);
    const tokens = starts[counts.length];
    if (tokens !== entry.tokens) fail(path, `holds ${tokens} tokens, the manifest says ${entry.tokens}`);
    const vectors = decodeTokens(data, tokens, this.dimension, this.encoding);
    let codes: Uint16Array | null = null;
    if (entry.codes) {
      const bytes = await readBytes(join(this.dir, entry.codes));
      codes = new Uint16Array(bytes.slice().buffer);
      if (codes.length !== tokens) fail(entry.codes, `holds ${codes.length} codes for ${tokens} tokens`);
    }
    return { entry, ids, texts, starts, vectors, alive: new Uint8Array(ids.length).fill(1), codes };
  }

  /** writeFileAtomic, spelled out so that a crash test can stop between the temporary file and the rename. */
  private async writeManifest(manifest: Manifest): Promise<void> {
    const temp = join(this.dir, `.${MANIFEST}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    try {
      await writeFile(temp, `${JSON.stringify(manifest, null, 1)}\n`);
      faultPoint('token-index:before-manifest');
      await rename(temp, join(this.dir, MANIFEST));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    faultPoint('token-index:after-manifest');
    this.manifest = manifest;
  }

  /** Reloads segments and centroids when another process has written a newer manifest since this handle loaded. */
  private async followDisk(): Promise<void> {
    const path = join(this.dir, MANIFEST);
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(path, 'utf8'));
    } catch (error) {
      throw new StoreError(`${path}: not valid JSON (${(error as Error).message})`);
    }
    if (checkManifest(raw, path).generation === this.manifest.generation) return;
    const fresh = await TokenIndex.open(this.dir);
    this.manifest = fresh.manifest;
    this.segments = fresh.segments;
    this.centroids = fresh.centroids;
    this.where = fresh.where;
    this.lists = null;
    await fresh.close();
  }

  /** A deep copy to edit: the in-memory state changes only after the new manifest is on disk. */
  private draft(): Manifest {
    return JSON.parse(JSON.stringify(this.manifest)) as Manifest;
  }

  private checkDocuments(documents: readonly IndexDocument[]): void {
    const seen = new Set<string>();
    documents.forEach((doc, i) => {
      if (typeof doc?.id !== 'string' || doc.id === '') throw new InputError(`documents[${i}].id: expected a non-empty string`);
      if (seen.has(doc.id)) throw new InputError(`documents[${i}].id: "${doc.id}" appears twice in one batch`);
      seen.add(doc.id);
      const t = doc.tokens;
      if (!t || t.dimension !== this.dimension) throw new InputError(`documents[${i}].tokens: expected dimension ${this.dimension}, got ${t?.dimension}`);
      if (!Number.isInteger(t.count) || t.count < 0 || t.vectors.length !== t.count * this.dimension) {
        throw new InputError(`documents[${i}].tokens: ${t.vectors?.length} values for ${t.count} tokens of dimension ${this.dimension}`);
      }
    });
  }

  private async addNow(documents: readonly IndexDocument[]): Promise<void> {
    this.checkDocuments(documents);
    if (documents.length === 0) return;
    const dim = this.dimension;
    const counts = documents.map((d) => d.tokens.count);
    const starts = startsFrom(counts);
    const all = new Float32Array(starts[counts.length] * dim);
    documents.forEach((d, i) => all.set(d.tokens.vectors, starts[i] * dim));
    const encoded = encodeTokens(all, starts[counts.length], dim, this.encoding);
    const draft = this.draft();
    draft.generation++;
    const file = `seg-${String(draft.generation).padStart(6, '0')}.bin`;
    const texts = documents.map((d) => d.text ?? null);
    await writeFileAtomic(join(this.dir, file), serializeSegment(documents.map((d) => d.id), counts, texts, encoded));
    faultPoint('token-index:after-segment');
    // Scores and centroid codes use what was stored, not what was given.
    const stored = decodeTokens(encoded, starts[counts.length], dim, this.encoding);
    let codes: Uint16Array | null = null;
    let codesFile: string | null = null;
    if (this.centroids && draft.centroids) {
      const work = starts[counts.length] * draft.centroids.count * dim;
      codes = await nearestCentroids(await this.engineFor(work), stored, starts[counts.length], this.centroids, draft.centroids.count, dim);
      codesFile = `${file.replace(/\.bin$/, '')}.c${draft.generation}.codes`;
      await writeFileAtomic(join(this.dir, codesFile), rawBytes(codes));
      faultPoint('token-index:after-codes');
    }
    for (const d of documents) {
      const at = this.where.get(d.id);
      if (at) draft.segments[at.segment].deleted.push(at.doc);
    }
    const entry: SegmentEntry = { file, docs: documents.length, tokens: starts[counts.length], deleted: [], codes: codesFile };
    draft.segments.push(entry);
    await this.writeManifest(draft);
    this.segments.forEach((s, i) => (s.entry = draft.segments[i]));
    this.segments.push({ entry, ids: documents.map((d) => d.id), texts, starts, vectors: stored, alive: new Uint8Array(documents.length).fill(1), codes });
    this.rebuildLookup();
  }

  private async deleteNow(ids: readonly string[]): Promise<string[]> {
    const missing: string[] = [];
    const draft = this.draft();
    let changed = false;
    for (const id of new Set(ids)) {
      const at = this.where.get(id);
      if (!at) {
        missing.push(id);
        continue;
      }
      draft.segments[at.segment].deleted.push(at.doc);
      changed = true;
    }
    if (changed) {
      draft.generation++;
      await this.writeManifest(draft);
      this.segments.forEach((s, i) => (s.entry = draft.segments[i]));
      this.rebuildLookup();
    }
    return missing;
  }

  private async compactNow(): Promise<void> {
    const dim = this.dimension;
    const ids: string[] = [];
    const texts: Array<string | null> = [];
    const counts: number[] = [];
    const pieces: Float32Array[] = [];
    const codePieces: Uint16Array[] = [];
    const withCodes = this.centroids !== null;
    for (const s of this.segments) {
      for (let d = 0; d < s.ids.length; d++) {
        if (!s.alive[d]) continue;
        ids.push(s.ids[d]);
        texts.push(s.texts[d]);
        counts.push(s.starts[d + 1] - s.starts[d]);
        pieces.push(s.vectors.subarray(s.starts[d] * dim, s.starts[d + 1] * dim));
        if (withCodes) codePieces.push(s.codes!.subarray(s.starts[d], s.starts[d + 1]));
      }
    }
    const starts = startsFrom(counts);
    const tokens = starts[counts.length];
    const vectors = new Float32Array(tokens * dim);
    pieces.forEach((p, i) => vectors.set(p, starts[i] * dim));
    const draft = this.draft();
    draft.generation++;
    draft.segments = [];
    let segment: Segment | null = null;
    if (ids.length > 0) {
      const file = `seg-${String(draft.generation).padStart(6, '0')}.bin`;
      // Decoded vectors re-encode to the same bytes: float16 round-trips exactly, int8 keeps each token's scale.
      const encoded = encodeTokens(vectors, tokens, dim, this.encoding);
      await writeFileAtomic(join(this.dir, file), serializeSegment(ids, counts, texts, encoded));
      faultPoint('token-index:after-segment');
      let codes: Uint16Array | null = null;
      let codesFile: string | null = null;
      if (withCodes) {
        codes = new Uint16Array(tokens);
        codePieces.forEach((p, i) => codes!.set(p, starts[i]));
        codesFile = `${file.replace(/\.bin$/, '')}.c${draft.generation}.codes`;
        await writeFileAtomic(join(this.dir, codesFile), rawBytes(codes));
        faultPoint('token-index:after-codes');
      }
      const entry: SegmentEntry = { file, docs: ids.length, tokens, deleted: [], codes: codesFile };
      draft.segments.push(entry);
      segment = { entry, ids, texts, starts, vectors: decodeTokens(encoded, tokens, dim, this.encoding), alive: new Uint8Array(ids.length).fill(1), codes };
    }
    await this.writeManifest(draft);
    this.segments = segment ? [segment] : [];
    this.rebuildLookup();
    await this.removeUnreferencedFiles();
  }

  private async trainNow(options: CentroidOptions): Promise<void> {
    const dim = this.dimension;
    const live = this.liveDocuments();
    let tokens = 0;
    live.forEach((docs, s) => {
      for (const d of docs) tokens += this.segments[s].starts[d + 1] - this.segments[s].starts[d];
    });
    const sample = new Float32Array(tokens * dim);
    let at = 0;
    live.forEach((docs, s) => {
      const seg = this.segments[s];
      for (const d of docs) {
        sample.set(seg.vectors.subarray(seg.starts[d] * dim, seg.starts[d + 1] * dim), at * dim);
        at += seg.starts[d + 1] - seg.starts[d];
      }
    });
    const engine = options.kernel ? await this.engine(options.kernel) : await this.engineFor(tokens * options.count * dim);
    const seed = options.seed ?? 1;
    const centroids = await trainCentroids(engine, sample, tokens, dim, { count: options.count, seed, iterations: options.iterations, sample: options.sample });
    const draft = this.draft();
    draft.generation++;
    const centroidFile = `centroids-${String(draft.generation).padStart(6, '0')}.bin`;
    await writeFileAtomic(join(this.dir, centroidFile), rawBytes(centroids));
    faultPoint('token-index:after-centroids');
    const allCodes: Uint16Array[] = [];
    for (let s = 0; s < this.segments.length; s++) {
      const seg = this.segments[s];
      const codes = await nearestCentroids(engine, seg.vectors, seg.starts[seg.ids.length], centroids, options.count, dim);
      const codesFile = `${seg.entry.file.replace(/\.bin$/, '')}.c${draft.generation}.codes`;
      await writeFileAtomic(join(this.dir, codesFile), rawBytes(codes));
      faultPoint('token-index:after-codes');
      draft.segments[s].codes = codesFile;
      allCodes.push(codes);
    }
    draft.centroids = { file: centroidFile, count: options.count, seed };
    await this.writeManifest(draft);
    this.centroids = centroids;
    this.segments.forEach((s, i) => {
      s.entry = draft.segments[i];
      s.codes = allCodes[i];
    });
    this.lists = null;
    await this.removeUnreferencedFiles();
  }

  /** Files of ours that the manifest does not name: superseded segments, old codes, leftovers of a crashed write. */
  private async removeUnreferencedFiles(): Promise<void> {
    const keep = new Set<string>([MANIFEST]);
    for (const s of this.manifest.segments) {
      keep.add(s.file);
      if (s.codes) keep.add(s.codes);
    }
    if (this.manifest.centroids) keep.add(this.manifest.centroids.file);
    for (const name of await readdir(this.dir)) {
      const ours = /^seg-\d+\.(bin|c\d+\.codes)$/.test(name) || /^centroids-\d+\.bin$/.test(name) || /^\.(seg-|centroids-|manifest\.json).*\.tmp$/.test(name);
      if (ours && !keep.has(name)) {
        await rm(join(this.dir, name), { force: true });
        faultPoint('token-index:during-cleanup');
      }
    }
  }
}

/** Bytes a document's tokens take in an encoding (for reports). */
export { encodedSize };
