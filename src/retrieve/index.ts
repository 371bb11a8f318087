// rankwise/retrieve: first-stage retrievers. LanceDB (@lancedb/lancedb, apache-arrow) and PostgreSQL (pg) load on
// first use.
export { analyze, bm25Statistics, Bm25Index, Bm25Scorer, DEFAULT_BM25, type Bm25Statistics, type Bm25Parameters } from './bm25.js';
export type { IndexedDocument, RetrievedDocument, Retriever, SearchMode, SearchOptions } from './retriever.js';
export { LanceDbRetriever, type LanceDbOpenOptions, type LanceDbSearchOptions } from './lancedb.js';
export { readLanceManifest, lanceManifestPath, DEFAULT_LANCE_TABLE, type LanceIndexManifest } from './lance-manifest.js';
export { PostgresRetriever, type PostgresRetrieverOptions, type ExistingTable } from './postgres.js';
export { reciprocalRankFusion, DEFAULT_RRF_K, type FusedItem } from './rrf.js';
export { readCorpus, documentFromJson } from './corpus.js';
export { MemoryBm25Retriever } from './memory-bm25.js';
