/**
 * THE list of training losses. The CLI's `--loss` choices and help, the engine's checks of a request and the docs'
 * table all derive from it; each loss's name is spelled once, in its own file, and the native addon's table
 * (native/src/losses.cpp) must hold the same names (test/loss-registry.test.ts compares the two).
 */
import { BinaryCrossEntropyLoss } from './binary-cross-entropy.js';
import { CosineSimilarityLoss } from './cosine-similarity.js';
import type { LossSupervision, LossTarget } from './loss.js';
import { MarginMSELoss } from './margin-mse.js';
import { MSELoss } from './mse.js';
import { MultipleNegativesRankingLoss } from './multiple-negatives-ranking.js';
import { InputError } from '../../errors.js';

/** Factories with default settings, in the order help texts and docs list the losses. */
const FACTORIES = [
  () => new BinaryCrossEntropyLoss(),
  () => new MSELoss(),
  () => new MarginMSELoss(),
  () => new CosineSimilarityLoss(),
  () => new MultipleNegativesRankingLoss(),
] as const;

/** Any registered loss, as its factory makes it. */
export type RegisteredLoss = ReturnType<(typeof FACTORIES)[number]>;
export type LossName = RegisteredLoss['name'];
/** What the engine trains on: the request of one of the registered losses. */
export type TrainRequest = ReturnType<RegisteredLoss['request']>;

/** A loss as help texts and docs describe it. */
export interface LossDescription {
  name: LossName;
  target: LossTarget;
  learnsFrom: LossSupervision;
  description: string;
  fields: readonly string[];
  evaluationInputs: readonly string[];
}

interface RegistryEntry extends LossDescription {
  create: () => RegisteredLoss;
}

const REGISTRY: ReadonlyMap<LossName, RegistryEntry> = new Map(
  FACTORIES.map((create) => {
    const { name, target, learnsFrom, description, fields, evaluationInputs } = create();
    return [name, { name, target, learnsFrom, description, fields, evaluationInputs, create }] as const;
  }),
);

/** Every registered loss (or those training `target`), in registry order. */
export function describeLosses(target?: LossTarget): LossDescription[] {
  return [...REGISTRY.values()].filter((e) => !target || e.target === target).map(({ create: _create, ...description }) => description);
}

/** The names of the registered losses (or those training `target`), in registry order. */
export function lossNames(target?: LossTarget): LossName[] {
  return describeLosses(target).map((d) => d.name);
}

export function isLossName(name: unknown): name is LossName {
  return typeof name === 'string' && REGISTRY.has(name as LossName);
}

/** The registered loss called `name`; `field` names the option or field in the error. */
export function describeLoss(name: string, field = 'loss'): LossDescription {
  if (!isLossName(name)) throw new InputError(`${field}: unknown loss ${JSON.stringify(name)} (expected ${lossNames().join(', ')})`);
  return REGISTRY.get(name)!;
}

/** A new loss with default settings; `field` names the option or field in the error. */
export function createLoss(name: string, field = 'loss'): RegisteredLoss {
  describeLoss(name, field);
  return REGISTRY.get(name as LossName)!.create();
}
