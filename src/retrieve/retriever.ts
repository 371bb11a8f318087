/** A document as a first-stage index stores it. `id` is the caller's key: adding an existing id replaces it. */
export interface IndexedDocument {
  id: string;
  text: string;
  /** Free-form fields kept with the document and returned with it (tier labels, titles, URLs). */
  metadata?: Record<string, unknown>;
}

/** One search hit: the stored document, its score under the search mode, and its 1-based rank. */
export interface RetrievedDocument extends IndexedDocument {
  score: number;
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

/** The first stage of a funnel: persistent, incremental, searched by text, by vector or both. */
export interface Retriever {
  readonly name: string;
  /** The search modes this retriever supports (a lexical-only store has just `text`). */
  readonly modes: readonly SearchMode[];
  add(documents: readonly IndexedDocument[]): Promise<void>;
  delete(ids: readonly string[]): Promise<void>;
  search(query: string, options?: SearchOptions): Promise<RetrievedDocument[]>;
  count(): Promise<number>;
  close(): Promise<void>;
}
