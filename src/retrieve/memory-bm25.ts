/**
 * A lexical first stage that lives in the process: {@link Bm25Index} behind the {@link Retriever} interface, so a
 * funnel can search a collection that fits in memory without LanceDB's native package or a folder on disk (the
 * quick start installs only rankwise's core). Nothing persists: the index is rebuilt from the documents held here.
 */
import { Bm25Index, DEFAULT_BM25, type Bm25Parameters } from './bm25.js';
import { checkDocuments, checkIds, checkSearch } from './checks.js';
import type { IndexedDocument, RetrievedDocument, Retriever, SearchMode, SearchOptions } from './retriever.js';
import { InputError } from '../errors.js';

export class MemoryBm25Retriever implements Retriever {
  readonly name = 'memory-bm25';
  readonly modes: readonly SearchMode[] = ['text'];
  private readonly documents = new Map<string, IndexedDocument>();
  /** Built on the first search after a change: a batch of adds costs one rebuild, not one per call. */
  private index: Bm25Index | undefined;
  private closed = false;

  constructor(
    documents: readonly IndexedDocument[] = [],
    private readonly parameters: Bm25Parameters = DEFAULT_BM25,
  ) {
    for (const document of checkDocuments(documents)) this.documents.set(document.id, document);
  }

  async add(documents: readonly IndexedDocument[]): Promise<void> {
    this.checkOpen();
    for (const document of checkDocuments(documents)) {
      this.documents.delete(document.id); // a replaced document moves to the end, as if newly added
      this.documents.set(document.id, document);
    }
    this.index = undefined;
  }

  async delete(ids: readonly string[]): Promise<void> {
    this.checkOpen();
    for (const id of checkIds(ids)) this.documents.delete(id);
    this.index = undefined;
  }

  async search(query: string, options: SearchOptions = {}): Promise<RetrievedDocument[]> {
    this.checkOpen();
    const { k } = checkSearch(query, options, this.modes, 'text', () => 'an in-memory BM25 index searches by text only; use LanceDbRetriever with an encoder');
    this.index ??= new Bm25Index([...this.documents.values()], this.parameters);
    const documents = this.index.documents as readonly IndexedDocument[];
    return this.index.search(query, k).map((hit, i) => ({ ...documents[hit.index], score: hit.score, rank: i + 1 }));
  }

  async count(): Promise<number> {
    this.checkOpen();
    return this.documents.size;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.documents.clear();
    this.index = undefined;
  }

  dispose(): Promise<void> {
    return this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new InputError(`${this.name}: the retriever is closed`);
  }
}
