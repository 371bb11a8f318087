import type { FunnelResult } from './funnel.js';
import type { Candidate } from './stage.js';

/** Ground-truth relevance labels of a funnel corpus, best first. `high` is what counts as relevant. */
export const RELEVANCE_TIERS = ['high', 'partial', 'distractor', 'noise'] as const;
export type RelevanceTier = (typeof RELEVANCE_TIERS)[number];

export interface TierCounts {
  high: number;
  partial: number;
  distractor: number;
  noise: number;
  /** Kept documents with no (or an unknown) `metadata.tier`. */
  unlabelled: number;
  /** high / kept: only highly relevant documents count as relevant. NaN when nothing was kept. */
  precision: number;
  /** (high + partial) / kept: the article's "precision", where partial matches count too. */
  lenientPrecision: number;
}

export function tierOf(candidate: Candidate): RelevanceTier | undefined {
  const tier = candidate.metadata?.tier;
  return (RELEVANCE_TIERS as readonly unknown[]).includes(tier) ? (tier as RelevanceTier) : undefined;
}

export function countTiers(kept: readonly Candidate[]): TierCounts {
  const counts = { high: 0, partial: 0, distractor: 0, noise: 0, unlabelled: 0 };
  for (const candidate of kept) counts[tierOf(candidate) ?? 'unlabelled']++;
  const n = kept.length;
  return { ...counts, precision: n === 0 ? NaN : counts.high / n, lenientPrecision: n === 0 ? NaN : (counts.high + counts.partial) / n };
}

/**
 * Tier counts of what each stage kept, when every kept candidate carries a `metadata.tier` label (the article's
 * labelled corpora); undefined for unlabelled documents. The funnel itself knows nothing of tiers.
 */
export function stageTiers(result: Pick<FunnelResult, 'stages'>): TierCounts[] | undefined {
  const labelled = result.stages.every((stage) => stage.kept.every((c) => tierOf(c) !== undefined));
  return labelled ? result.stages.map((stage) => countTiers(stage.kept)) : undefined;
}
