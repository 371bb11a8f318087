/** Stage kinds a funnel can be built from on the command line. */
import { InputError } from '../errors.js';
export const STAGE_KINDS = ['bm25', 'vector', 'hybrid', 'bi-encoder', 'cross-encoder', 'llm'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];

/** Kinds that search an index and so can only come first. */
export const RETRIEVER_KINDS: readonly StageKind[] = ['bm25', 'vector', 'hybrid'];

export interface StageSpec {
  kind: StageKind;
  k: number;
}

/** Parses `"bm25:20,cross-encoder:10,llm:5"`. */
export function parseStageSpecs(spec: string, what = '--stages'): StageSpec[] {
  const parts = spec.split(',').map((p) => p.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new InputError(`${what}: expected NAME:K[,NAME:K...], got "${spec}"`);
  return parts.map((part, i) => {
    const match = /^([a-z0-9-]+):(\d+)$/.exec(part);
    if (!match) throw new InputError(`${what}: "${part}": expected NAME:K, e.g. bm25:20`);
    const kind = match[1] as StageKind;
    if (!STAGE_KINDS.includes(kind)) throw new InputError(`${what}: "${part}": NAME must be one of ${STAGE_KINDS.join(', ')}`);
    const k = Number(match[2]);
    if (k < 1) throw new InputError(`${what}: "${part}": K must be a positive integer`);
    if (i > 0 && RETRIEVER_KINDS.includes(kind)) throw new InputError(`${what}: "${part}": ${kind} searches the index, so it can only be the first stage`);
    return { kind, k };
  });
}
