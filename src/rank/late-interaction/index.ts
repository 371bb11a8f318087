// rankwise/late-interaction: ColBERT-like token vectors, MaxSim and the token index.
export { TokenIndex, type IndexDocument, type TokenIndexOptions, type SearchOptions as TokenSearchOptions, type SearchHit as TokenSearchHit, type SearchResult as TokenSearchResult } from './token-index.js';
export { maxSim, maxSimScores, maxSimScoresWith, MaxSimScorer, type MaxSimKernel, type TokenMatrix, type TokenBlock } from './maxsim.js';
export { createDotEngine, type DotEngine, type DotEngineName } from './dot-engine.js';
export { encodeTokens as encodeTokenVectors, decodeTokens as decodeTokenVectors, toFloat16Bits, type TokenEncoding } from './compact-vectors.js';
export { loadLateInteractionEncoder, SentenceTokenEncoder, isColBertFolder, DEFAULT_LATE_INTERACTION_ENCODER, type LateInteractionEncoder } from './encoder.js';
export { ColBertEncoder, readColBertSettings, type ColBertSettings } from './colbert.js';
export { createFixtureColBert, type ColBertFixtureOptions } from './colbert-fixture.js';
export { LateInteractionRanker } from './ranker.js';
export { loadRankerOrLateInteraction } from './load.js';
export { compareRankings, agreementOfScores, type AgreementReport } from '../../eval/late-interaction-agreement.js';
export { storageError, storageErrorOfTokens, type StorageError } from '../../eval/compact-storage-error.js';
