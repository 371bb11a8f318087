import type { Retriever, SearchMode } from '../retrieve/retriever.js';
import { checkStageK, type Candidate, type FunnelStage, type StageRun } from './stage.js';
import { InputError } from '../errors.js';

export interface RetrieverStageOptions {
  k: number;
  /** Default: the retriever's own default. */
  mode?: SearchMode;
  /** Default: the mode's name (`bm25` for text search, `vector`, `hybrid`), else the retriever's. */
  name?: string;
}

const MODE_NAMES: Record<SearchMode, string> = { text: 'bm25', vector: 'vector', hybrid: 'hybrid' };

/** A first stage that searches an index (any `Retriever`: LanceDB BM25, vectors or both). */
export class RetrieverStage implements FunnelStage {
  readonly name: string;
  readonly k: number;
  readonly mode?: SearchMode;

  constructor(
    readonly retriever: Retriever,
    options: RetrieverStageOptions,
  ) {
    this.k = options.k;
    this.mode = options.mode;
    this.name = options.name ?? (options.mode ? MODE_NAMES[options.mode] : retriever.name);
    checkStageK(this.k, this.name);
    if (options.mode && !retriever.modes.includes(options.mode)) {
      throw new InputError(`stage "${this.name}": mode: the retriever supports ${retriever.modes.join(', ')}, not ${options.mode}`);
    }
  }

  async run(query: string, candidates: readonly Candidate[] | undefined): Promise<StageRun> {
    if (candidates !== undefined) throw new InputError(`stage "${this.name}": a retriever searches its own index, so it must be the first stage`);
    const hits = await this.retriever.search(query, { k: this.k, ...(this.mode ? { mode: this.mode } : {}) });
    return { kept: hits.map(({ rank: _rank, ...candidate }) => candidate) };
  }
}
