/**
 * LangChain.js: rankwise as a document compressor, the slot LangChain's `CohereRerank` fills, so it drops into a
 * `ContextualCompressionRetriever` or any chain that post-processes retrieved documents. Imported as
 * `rankwise/langchain`; `@langchain/core` is an optional peer dependency, loaded only by this module.
 */
import { Document, type DocumentInterface } from '@langchain/core/documents';
import { BaseDocumentCompressor } from '@langchain/core/retrievers/document_compressors';
import { InputError } from '../errors.js';
import { AdapterRanker, textAt, type AdapterOptions } from './adapter-ranker.js';

export type RankwiseDocumentCompressorOptions = AdapterOptions;

/**
 * Reorders documents by the ranker's score, best first, keeping each one's `pageContent`, `id` and `metadata`, and
 * adds the score as `metadata.relevanceScore` (the key `CohereRerank` uses). Unlike `CohereRerank` it returns new
 * Document objects rather than writing into the caller's metadata, and keeps every document unless `topN` is set.
 */
export class RankwiseDocumentCompressor extends BaseDocumentCompressor {
  private readonly scorer: AdapterRanker;

  constructor(options: RankwiseDocumentCompressorOptions = {}) {
    super();
    this.scorer = new AdapterRanker(options);
  }

  get topN(): number | undefined {
    return this.scorer.topN;
  }

  async compressDocuments(documents: DocumentInterface[], query: string): Promise<DocumentInterface[]> {
    if (!Array.isArray(documents)) throw new InputError('documents: expected an array of LangChain Documents');
    const texts = documents.map((document, i) => textAt(document?.pageContent, `documents[${i}].pageContent`));
    const { results } = await this.scorer.rank(query, texts);
    return results.map(({ index, score }) => {
      const original = documents[index];
      return new Document({
        pageContent: original.pageContent,
        metadata: { ...original.metadata, relevanceScore: score },
        ...(original.id !== undefined ? { id: original.id } : {}),
      });
    });
  }

  /** Frees the model when the compressor loaded it from a name. */
  dispose(): Promise<void> {
    return this.scorer.dispose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
