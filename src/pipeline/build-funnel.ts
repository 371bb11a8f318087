import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ENCODER, loadSentenceEncoder } from '../models/load-encoder.js';
import type { SentenceEncoder } from '../models/sentence-encoder.js';
import { EncoderRanker } from '../rank/encoder-ranker.js';
import type { ChatProvider } from '../rank/llm/chat-provider.js';
import { LlmListwiseRanker, type LlmListwiseOptions } from '../rank/llm/listwise-ranker.js';
import { LlamaCppProvider } from '../rank/llm/llama-cpp.js';
import { createChatProvider, type LlmSpec } from '../rank/llm/provider-spec.js';
import { DEFAULT_RERANKER, loadRanker } from '../rank/load-ranker.js';
import type { Ranker } from '../rank/results.js';
import { LanceDbRetriever } from '../retrieve/lancedb.js';
import { MemoryBm25Retriever } from '../retrieve/memory-bm25.js';
import type { SearchMode } from '../retrieve/retriever.js';
import type { Document } from '../documents.js';
import { Funnel } from './funnel.js';
import type { FusionOptions } from '../rank/fusion.js';
import { RankerStage } from './ranker-stage.js';
import { RetrieverStage } from './retriever-stage.js';
import type { FunnelStage } from './stage.js';
import type { StageSpec } from './stage-spec.js';
import { InputError } from '../errors.js';

export interface BuildFunnelOptions {
  /** Indexed for a retriever first stage; handed to a ranker first stage as its candidates. */
  corpus: readonly Document[];
  stages: readonly StageSpec[];
  /** Cross-encoder stage model (default `DEFAULT_RERANKER`). */
  reranker?: string;
  /** Sentence encoder for `vector`, `hybrid` and `bi-encoder` (default USE Lite). */
  encoder?: string;
  /** The LLM stage's backend: a spec (`parseLlmSpec`) or a ready provider. Required when an `llm` stage is listed. */
  llm?: LlmSpec | ChatProvider;
  llmOptions?: LlmListwiseOptions;
  /** A LanceDB folder to keep the index in (reused when it already holds the corpus); default a temporary one. */
  indexDir?: string;
  /**
   * Where a `bm25` first stage searches: LanceDB's full-text index (default) or `memory`, an in-process BM25 index of
   * the corpus that needs no native package and no folder (for small corpora; `vector` and `hybrid` still use LanceDB).
   */
  textIndex?: 'lancedb' | 'memory';
  /** Fuse the cross-encoder and bi-encoder stages' scores with the stage before them (not the LLM's: it gives no scores). */
  fuse?: FusionOptions;
}

export interface FunnelSetup {
  funnel: Funnel;
  /** What to pass as `documents` to `funnel.run` (set when the first stage is a ranker). */
  documents?: readonly Document[];
  /** Releases models, the index and a temporary index folder. */
  close(): Promise<void>;
}

/**
 * Window for an in-process model unless told otherwise: small local models have small contexts (the 2,048 tokens of
 * the shared test model hold about four of our documents with its 512-token vocabulary).
 */
const LOCAL_WINDOW = { windowSize: 4, windowStep: 2 };

const SEARCH_MODES: Partial<Record<StageSpec['kind'], SearchMode>> = { bm25: 'text', vector: 'vector', hybrid: 'hybrid' };

/** Builds a funnel from stage specs (`parseStageSpecs`): indexes the corpus in LanceDB when the first stage searches. */
export async function buildFunnel(options: BuildFunnelOptions): Promise<FunnelSetup> {
  if (options.textIndex !== undefined && options.textIndex !== 'lancedb' && options.textIndex !== 'memory') {
    throw new InputError(`textIndex: expected "lancedb" or "memory", got ${JSON.stringify(options.textIndex)}`);
  }
  const cleanups: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  };
  try {
    let encoder: SentenceEncoder | undefined;
    const getEncoder = async () => {
      if (!encoder) {
        const loaded = await loadSentenceEncoder(options.encoder ?? DEFAULT_ENCODER);
        encoder = loaded;
        cleanups.push(() => loaded.dispose());
      }
      return encoder;
    };
    const stages: FunnelStage[] = [];
    for (const spec of options.stages) {
      const mode = SEARCH_MODES[spec.kind];
      if (mode) {
        const retriever =
          mode === 'text' && options.textIndex === 'memory'
            ? new MemoryBm25Retriever(options.corpus)
            : await openIndex(options, mode === 'text' ? undefined : await getEncoder(), cleanups);
        stages.push(new RetrieverStage(retriever, { k: spec.k, mode, name: spec.kind }));
        continue;
      }
      const ranker = await createRanker(spec.kind, options, getEncoder);
      if (!(ranker instanceof EncoderRanker && ranker.encoder === encoder)) cleanups.push(() => ranker.dispose());
      const fuse = options.fuse && stages.length > 0 && spec.kind !== 'llm' ? options.fuse : undefined;
      stages.push(new RankerStage(ranker, { k: spec.k, name: spec.kind, ...(fuse ? { fuse } : {}) }));
    }
    const firstSearches = SEARCH_MODES[options.stages[0]?.kind] !== undefined;
    return { funnel: new Funnel(stages), ...(firstSearches ? {} : { documents: options.corpus }), close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function createRanker(kind: StageSpec['kind'], options: BuildFunnelOptions, getEncoder: () => Promise<SentenceEncoder>): Promise<Ranker> {
  if (kind === 'bi-encoder') return new EncoderRanker(await getEncoder());
  if (kind === 'cross-encoder') return loadRanker(options.reranker ?? DEFAULT_RERANKER);
  if (!options.llm) throw new InputError('llm: an llm stage needs an LLM (a local GGUF file or an OpenAI-compatible endpoint)');
  const provider = 'complete' in options.llm ? options.llm : createChatProvider(options.llm);
  const local = provider instanceof LlamaCppProvider;
  return new LlmListwiseRanker(provider, { ...(local ? LOCAL_WINDOW : {}), ...options.llmOptions });
}

async function openIndex(options: BuildFunnelOptions, encoder: SentenceEncoder | undefined, cleanups: Array<() => Promise<void>>): Promise<LanceDbRetriever> {
  let dir = options.indexDir;
  if (!dir) {
    const temp = await mkdtemp(join(tmpdir(), 'rankwise-funnel-'));
    cleanups.push(() => rm(temp, { recursive: true, force: true }));
    dir = temp;
  }
  const retriever = await LanceDbRetriever.open(dir, encoder ? { encoder } : {});
  cleanups.push(() => retriever.close());
  if ((await retriever.count()) !== options.corpus.length) await retriever.add(options.corpus);
  return retriever;
}
