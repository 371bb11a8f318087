/**
 * What storing token vectors compactly costs in ranking terms: MaxSim rankings from float16 / int8 document tokens
 * against the same rankings from float32, per query (Kendall's tau, top-3 / top-5 overlap), averaged.
 */
import type { TokenEmbeddings } from '../models/bi-encoder.js';
import { decodeTokens, encodedSize, encodeTokens, type TokenEncoding } from '../rank/late-interaction/compact-vectors.js';
import type { LateInteractionEncoder } from '../rank/late-interaction/encoder.js';
import { maxSimScores, type TokenBlock } from '../rank/late-interaction/maxsim.js';
import { tokenBlock } from '../rank/late-interaction/ranker.js';
import { agreementOfScores, averageAgreement, type RankingAgreement } from './late-interaction-agreement.js';
import { InputError } from '../errors.js';

export interface StorageError {
  encoding: TokenEncoding;
  bytesPerToken: number;
  average: RankingAgreement;
  /** Lowest tau over the queries. */
  worstTau: number;
  /** Largest |score difference| to float32 over every query and document. */
  maxScoreError: number;
}

function compactBlock(block: TokenBlock, encoding: TokenEncoding): TokenBlock {
  const tokens = block.starts[block.starts.length - 1];
  const bytes = encodeTokens(block.vectors, tokens, block.dimension, encoding);
  return { ...block, vectors: decodeTokens(bytes, tokens, block.dimension, encoding) };
}

/** From already-encoded tokens: no model needed, so tests and benchmarks can use any vectors. */
export function storageErrorOfTokens(
  queries: readonly TokenEmbeddings[],
  documents: readonly TokenEmbeddings[],
  encodings: readonly TokenEncoding[] = ['float16', 'int8'],
): StorageError[] {
  if (documents.length < 2) throw new InputError(`documents: need at least 2, got ${documents.length}`);
  const dim = documents[0].dimension;
  const exact = tokenBlock(documents, dim);
  const reference = queries.map((q) => maxSimScores(q, exact));
  return encodings.map((encoding) => {
    const block = compactBlock(exact, encoding);
    let maxScoreError = 0;
    const rows = queries.map((q, i) => {
      const scores = maxSimScores(q, block);
      for (let d = 0; d < scores.length; d++) maxScoreError = Math.max(maxScoreError, Math.abs(scores[d] - reference[i][d]));
      return agreementOfScores(scores, reference[i]);
    });
    return {
      encoding,
      bytesPerToken: encodedSize(encoding, 1, dim),
      average: averageAgreement(rows),
      worstTau: Math.min(...rows.map((r) => r.tau)),
      maxScoreError,
    };
  });
}

export async function storageError(
  encoder: LateInteractionEncoder,
  queries: readonly string[],
  documents: readonly string[],
  encodings: readonly TokenEncoding[] = ['float16', 'int8'],
): Promise<StorageError[]> {
  return storageErrorOfTokens(await encoder.encodeQueries(queries), await encoder.encodeDocuments(documents), encodings);
}
