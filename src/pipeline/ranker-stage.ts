import type { LlmRankedResults } from '../rank/llm/listwise-ranker.js';
import type { FusionOptions } from '../rank/fusion.js';
import type { RankedResults, Ranker } from '../rank/results.js';
import { checkStageK, type Candidate, type FunnelStage, type StageRun } from './stage.js';
import { InputError } from '../errors.js';

export interface RankerStageOptions {
  k: number;
  /** Default: the ranker's name. */
  name?: string;
  /** Fuse this stage's scores with the previous stage's (which must be scores, higher better), so a weak ranker cannot undo it. */
  fuse?: FusionOptions;
}

/** Reorders the previous stage's candidates with any `Ranker` (bi-encoder, cross-encoder, LLM) and keeps the best `k`. */
export class RankerStage implements FunnelStage {
  readonly name: string;
  readonly k: number;
  readonly fuse?: FusionOptions;

  constructor(
    readonly ranker: Ranker,
    options: RankerStageOptions,
  ) {
    this.k = options.k;
    this.fuse = options.fuse;
    this.name = options.name ?? ranker.name;
    checkStageK(this.k, this.name);
  }

  async run(query: string, candidates: readonly Candidate[] | undefined, signal?: AbortSignal): Promise<StageRun> {
    if (candidates === undefined) throw new InputError(`stage "${this.name}": a ranker needs candidates: put a retriever first or give the funnel documents`);
    if (candidates.length === 0) return { kept: [] };
    const ranked: RankedResults = await this.ranker.rank(query, candidates, {
      topK: this.k,
      returnDocuments: false,
      signal,
      ...(this.fuse ? { fuse: { ...this.fuse, firstStageScores: candidates.map((c) => c.score) } } : {}),
    });
    const kept = ranked.results.map((r) => ({ ...candidates[r.index], score: r.score }));
    const llm = (ranked as Partial<LlmRankedResults>).llm;
    return { kept, ...(llm ? { llm } : {}) };
  }
}
