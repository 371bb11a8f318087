import type { LlmRankReport } from '../rank/llm/listwise-ranker.js';
import { toDocuments, type DocumentInput } from '../documents.js';
import { RetrieverStage } from './retriever-stage.js';
import type { Candidate, FunnelStage } from './stage.js';
import { InputError } from '../errors.js';

export interface StageReport {
  name: string;
  k: number;
  /** What the stage kept, best first, with its score under this stage. */
  kept: Candidate[];
  /** Wall time of the stage in milliseconds. */
  ms: number;
  llm?: LlmRankReport;
}

export interface FunnelResult {
  query: string;
  stages: StageReport[];
  /** The last stage's candidates: the funnel's answer. */
  final: Candidate[];
  totalMs: number;
}

export interface FunnelRunOptions {
  /** The candidates of the first stage when it is a ranker (e.g. a bi-encoder over a whole small corpus). */
  documents?: readonly DocumentInput[];
  signal?: AbortSignal;
}

/**
 * Runs stages in order, each narrowing the previous stage's candidates to its own `k`, and reports what every stage
 * kept and how long it took. Only a retriever may find candidates by itself, so it can only come first.
 */
export class Funnel {
  readonly stages: readonly FunnelStage[];

  constructor(stages: readonly FunnelStage[]) {
    if (stages.length === 0) throw new InputError('stages: expected at least one stage');
    stages.forEach((stage, i) => {
      if (i > 0 && stage instanceof RetrieverStage) throw new InputError(`stages[${i}] "${stage.name}": a retriever stage can only be the first stage`);
    });
    this.stages = stages;
  }

  async run(query: string, options: FunnelRunOptions = {}): Promise<FunnelResult> {
    if (typeof query !== 'string' || query.trim() === '') throw new InputError('query: expected a non-empty string');
    const started = performance.now();
    let candidates: Candidate[] | undefined = options.documents && toDocuments(options.documents).map((d) => ({ ...d, score: 0 }));
    const reports: StageReport[] = [];
    for (const stage of this.stages) {
      const t0 = performance.now();
      const run = await stage.run(query, candidates, options.signal);
      const ms = performance.now() - t0;
      // A stage may reorder and cut, never invent: the funnel keeps the promise of "at most k".
      const kept = run.kept.slice(0, stage.k);
      reports.push({ name: stage.name, k: stage.k, kept, ms, ...(run.llm ? { llm: run.llm } : {}) });
      candidates = kept;
    }
    return { query, stages: reports, final: candidates ?? [], totalMs: performance.now() - started };
  }
}
