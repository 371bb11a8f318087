// rankwise/cache: the semantic query cache. Its stores load their packages on first use (better-sqlite3 and
// hnswlib-node for SQLite, redis for Redis).
export {
  SemanticCache,
  DEFAULT_CACHE_THRESHOLD,
  cacheKey,
  type SemanticCacheOptions,
  type LookupResult,
  type LookupStrategy,
  type LookupTimings,
  type CacheMatch,
  type CacheStats,
  type StoreOptions,
  type VetoedCandidate,
} from './semantic-cache.js';
export type { CacheStore, CacheCounters, StoredEntry, NewEntry, StoreMeta } from './store.js';
export { SqliteCacheStore } from './sqlite-store.js';
export { RedisCacheStore, type RedisStoreOptions } from './redis-store.js';
export { VectorIndex, type VectorIndexOptions, type Neighbour } from './vector-index.js';
export { CosineVerifier, CrossEncoderVerifier, type Verifier, type VerifyItem } from './verifier.js';
export { contradiction, type Guard, type GuardVeto, type GuardRule } from './guards.js';
export {
  calibrateThreshold,
  scorePairs,
  evaluateThreshold,
  sweepThresholds,
  parseLabelledPair,
  type LabelledPair,
  type ScoredPair,
  type ThresholdPoint,
  type Calibration,
  type CalibrationObjective,
} from './calibrate.js';
export {
  simulateCache,
  sweepSimulation,
  parseSimulationQueries,
  memoizeEncoder,
  type SimulationQuery,
  type SimulationResult,
  type SimulationRow,
  type SimulationSummary,
  type SweepRow,
} from './simulate.js';
