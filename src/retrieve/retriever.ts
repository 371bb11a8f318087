import type { Document, ScoredDocument } from '../documents.js';
import type { DisposableResource } from '../util/disposable.js';

/** A document as a first-stage index stores it: the one {@link Document} type (adding an existing id replaces it). */
export type IndexedDocument = Document;

/** One search hit: the stored document, its score under the search mode, and its 1-based rank. */
export interface RetrievedDocument extends ScoredDocument {
  rank: number;
}

/** `text`: lexical (BM25-like) search; `vector`: nearest neighbours by cosine; `hybrid`: both, fused by reciprocal rank. */
export type SearchMode = 'text' | 'vector' | 'hybrid';

export interface SearchOptions {
  /** How many hits to return (default 10). */
  k?: number;
  /** Default: `hybrid` when the retriever can embed, else `text`. */
  mode?: SearchMode;
  /** A precomputed query vector for `vector`/`hybrid`; otherwise the retriever embeds the query text itself. */
  vector?: Float32Array;
}

/**
 * The first stage of a funnel: persistent, incremental, searched by text, by vector or both. `dispose()` (and
 * `await using`) is `close()`: it releases the connection or pool.
 */
export interface Retriever extends DisposableResource {
  readonly name: string;
  /** The search modes this retriever supports (a lexical-only store has just `text`). */
  readonly modes: readonly SearchMode[];
  add(documents: readonly IndexedDocument[]): Promise<void>;
  delete(ids: readonly string[]): Promise<void>;
  search(query: string, options?: SearchOptions): Promise<RetrievedDocument[]>;
  count(): Promise<number>;
  close(): Promise<void>;
}
