/**
 * LlamaIndex.TS: rankwise as a node postprocessor, for a query engine's `nodePostprocessors` or a retriever's output.
 * Imported as `rankwise/llamaindex`; `@llamaindex/core` (which `llamaindex` re-exports) is an optional peer
 * dependency, loaded only by this module.
 */
import type { MessageContent } from '@llamaindex/core/llms';
import type { BaseNodePostprocessor } from '@llamaindex/core/postprocessor';
import { MetadataMode, type NodeWithScore } from '@llamaindex/core/schema';
import { extractText } from '@llamaindex/core/utils';
import { InputError } from '../errors.js';
import { AdapterRanker, textAt, type AdapterOptions } from './adapter-ranker.js';

export interface RankwiseNodePostprocessorOptions extends AdapterOptions {
  /**
   * Which node text is scored: `NONE` (default) the content alone, as the ranker scores plain documents; `LLM` or
   * `ALL` put the node's metadata in front of it, as LlamaIndex formats it for those readers.
   */
  metadataMode?: MetadataMode;
}

/** Reorders nodes by the ranker's score, best first, and sets each `NodeWithScore.score` to it; topN keeps the best. */
export class RankwiseNodePostprocessor implements BaseNodePostprocessor {
  readonly metadataMode: MetadataMode;
  private readonly scorer: AdapterRanker;

  constructor(options: RankwiseNodePostprocessorOptions = {}) {
    const { metadataMode = MetadataMode.NONE, ...adapter } = options;
    if (!Object.values(MetadataMode).includes(metadataMode)) {
      throw new InputError(`metadataMode: expected one of ${Object.values(MetadataMode).join(', ')}, got ${String(metadataMode)}`);
    }
    this.metadataMode = metadataMode;
    this.scorer = new AdapterRanker(adapter);
  }

  get topN(): number | undefined {
    return this.scorer.topN;
  }

  async postprocessNodes(nodes: NodeWithScore[], query?: MessageContent): Promise<NodeWithScore[]> {
    if (!Array.isArray(nodes)) throw new InputError('nodes: expected an array of NodeWithScore');
    if (query === undefined) throw new InputError('query: expected the query to rerank against, got undefined');
    const texts = nodes.map((n, i) => {
      if (typeof n?.node?.getContent !== 'function') throw new InputError(`nodes[${i}].node: expected a LlamaIndex node`);
      return textAt(n.node.getContent(this.metadataMode), `nodes[${i}].node content`);
    });
    const { results } = await this.scorer.rank(extractText(query), texts);
    // New NodeWithScore wrappers around the caller's nodes: the retriever's scores stay in its own list.
    return results.map(({ index, score }) => ({ node: nodes[index].node, score }));
  }

  /** Frees the model when the postprocessor loaded it from a name. */
  dispose(): Promise<void> {
    return this.scorer.dispose();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
