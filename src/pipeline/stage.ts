import type { ScoredDocument } from '../documents.js';
import type { LlmRankReport } from '../rank/llm/listwise-ranker.js';
import { InputError } from '../errors.js';

/** A document moving through the funnel, id and metadata (e.g. `tier` labels) unchanged, with the last stage's score. */
export type Candidate = ScoredDocument;

export interface StageRun {
  /** What the stage keeps, best first: at most its `k`. */
  kept: Candidate[];
  /** For an LLM stage: windows, retries, repairs and any failure. */
  llm?: LlmRankReport;
}

/** One step of a funnel: narrows the previous stage's candidates (or, first, finds them) to its `k` best. */
export interface FunnelStage {
  readonly name: string;
  readonly k: number;
  /** `candidates` is undefined for the first stage when the funnel was given no documents. */
  run(query: string, candidates: readonly Candidate[] | undefined, signal?: AbortSignal): Promise<StageRun>;
}

export function checkStageK(k: number, name: string): void {
  if (!Number.isInteger(k) || k < 1) throw new InputError(`stage "${name}": k: expected a positive integer, got ${k}`);
}
