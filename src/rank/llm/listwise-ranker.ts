import type { DocumentInput } from '../../documents.js';
import { checkRankInput, resultsInOrder, type RankedResults, type Ranker, type RankOptions } from '../results.js';
import type { ChatProvider } from './chat-provider.js';
import { parseRankingAnswer, validateRanking, type RankingRepairs } from './ranking-answer.js';
import { buildRankingPrompt } from './ranking-prompt.js';
import { RANKING_SCHEMA_NAME, rankingSchema } from './ranking-schema.js';
import { Retrier, type AttemptFailure, type RetryOptions } from './retry.js';
import { rankWithSlidingWindow, slidingWindows, type Window } from './sliding-window.js';

export interface LlmListwiseOptions extends RetryOptions {
  /** Most documents in one prompt (default 20); longer lists go through a sliding window. */
  windowSize?: number;
  /** How far each window moves towards the front (default half the window). */
  windowStep?: number;
  /** Documents are cut to this many characters in the prompt (default 600). */
  maxDocumentChars?: number;
}

/** How one window went. Document positions are indices into the caller's `documents` (0-based, like `RankedResult.index`). */
export interface LlmWindowReport {
  start: number;
  end: number;
  /** `ranked`: a valid permutation came back; `repaired`: it had to be fixed; `failed`: no usable answer, order kept. */
  outcome: 'ranked' | 'repaired' | 'failed';
  attempts: number;
  failures: AttemptFailure[];
  /** Present when the answer was parsed: invalid entries as given, duplicates and missing as document indices. */
  repairs?: RankingRepairs;
}

export interface LlmRankReport {
  provider: string;
  windows: LlmWindowReport[];
  /** Provider calls made, retries included. */
  attempts: number;
  retries: number;
  repairedWindows: number;
  failedWindows: number;
  /** The first failure's message when any window failed (its slice kept the previous stage's order). */
  failure?: string;
}

export interface LlmRankedResults extends RankedResults {
  llm: LlmRankReport;
}

/**
 * List-wise reranking by an LLM: the model reads all candidates at once and answers `{"ranking": [...]}`. Whatever
 * it answers, the result is a permutation of the input; when it cannot answer at all, the input order (the previous
 * stage's ranking) is kept and the report says why. Scores are derived from positions: 1 for the first of n,
 * falling by 1/n per place.
 */
export class LlmListwiseRanker implements Ranker {
  private readonly retrier: Retrier;
  readonly windowSize: number;
  readonly windowStep: number;
  readonly maxDocumentChars: number;

  constructor(
    readonly provider: ChatProvider,
    options: LlmListwiseOptions = {},
  ) {
    this.windowSize = options.windowSize ?? 20;
    this.windowStep = options.windowStep ?? Math.max(1, Math.floor(this.windowSize / 2));
    this.maxDocumentChars = options.maxDocumentChars ?? 600;
    slidingWindows(0, this.windowSize, this.windowStep); // checks both now rather than at the first long list
    this.retrier = new Retrier(options);
  }

  get name(): string {
    return `llm:${this.provider.name}`;
  }

  async rank(query: string, inputs: readonly DocumentInput[], options: RankOptions = {}): Promise<LlmRankedResults> {
    const checked = checkRankInput(query, inputs, options);
    const documents = checked.map((d) => d.text);
    const windows: LlmWindowReport[] = [];
    const indices = documents.map((_, i) => i);
    // One document, or none, has only one order: no call needed.
    const order =
      documents.length < 2
        ? indices
        : await rankWithSlidingWindow(indices, this.windowSize, this.windowStep, async (slice, position) => {
            const { order: windowOrder, report } = await this.rankWindow(query, documents, slice, position, options.signal);
            windows.push(report);
            return windowOrder;
          });
    const n = order.length;
    const ranked = resultsInOrder(query, checked, order, (_, position) => (n - position) / n, this.name, options);
    return { ...ranked, llm: summarize(this.provider.name, windows) };
  }

  private async rankWindow(
    query: string,
    documents: readonly string[],
    slice: readonly number[],
    position: Window,
    signal?: AbortSignal,
  ): Promise<{ order: readonly number[]; report: LlmWindowReport }> {
    const prompt = buildRankingPrompt(
      query,
      slice.map((i) => documents[i]),
      { maxDocumentChars: this.maxDocumentChars },
    );
    const outcome = await this.retrier.run(async (attemptSignal) => {
      const answer = await this.provider.complete({
        system: prompt.system,
        user: prompt.user,
        schema: rankingSchema(slice.length),
        schemaName: RANKING_SCHEMA_NAME,
        signal: attemptSignal,
      });
      return parseRankingAnswer(answer);
    }, signal);
    const base = { start: position.start, end: position.end, attempts: outcome.attempts, failures: outcome.failures };
    if (!outcome.ok) return { order: slice, report: { ...base, outcome: 'failed' } };
    const checked = validateRanking(outcome.value, slice.length);
    const repairs: RankingRepairs = {
      invalid: checked.repairs.invalid,
      duplicates: checked.repairs.duplicates.map((number) => slice[number - 1]),
      missing: checked.repairs.missing.map((number) => slice[number - 1]),
    };
    return {
      order: checked.order.map((i) => slice[i]),
      report: { ...base, outcome: checked.repaired ? 'repaired' : 'ranked', repairs },
    };
  }

  async dispose(): Promise<void> {
    await this.provider.dispose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

function summarize(provider: string, windows: LlmWindowReport[]): LlmRankReport {
  const attempts = windows.reduce((sum, w) => sum + w.attempts, 0);
  const failed = windows.filter((w) => w.outcome === 'failed');
  return {
    provider,
    windows,
    attempts,
    retries: attempts - windows.length,
    repairedWindows: windows.filter((w) => w.outcome === 'repaired').length,
    failedWindows: failed.length,
    ...(failed.length > 0 ? { failure: failed[0].failures.at(-1)?.message ?? 'no answer' } : {}),
  };
}
