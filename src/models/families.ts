/**
 * The model-family registry: config.json's `model_type` -> the family that reads, writes, runs and trains it (as
 * transformers.js maps model types to per-family folders). A new family is one entry here.
 */
import { bertFamily } from './bert/family.js';
import type { ModelFamily } from './family.js';
import { robertaFamily } from './roberta/family.js';
import { useLiteFamily } from './use-lite/family.js';
import { ModelInvalidError } from '../errors.js';

export const MODEL_FAMILIES: readonly ModelFamily[] = [bertFamily, useLiteFamily, robertaFamily];

/** Hugging Face BERT exports sometimes omit model_type; such configs have always been read as BERT. */
const DEFAULT_MODEL_TYPE = 'bert';

const BY_MODEL_TYPE = new Map(MODEL_FAMILIES.flatMap((family) => family.modelTypes.map((type) => [type, family] as const)));

/** Every model_type some family serves. */
export function knownModelTypes(): string[] {
  return [...BY_MODEL_TYPE.keys()];
}

/**
 * The family for a config (or a bare model_type). `source` names the config file in the error an unknown
 * model_type gives, along with the model types rankwise knows.
 */
export function familyFor(configOrModelType: { model_type?: unknown } | string | undefined, source = 'config.json'): ModelFamily {
  const type = typeof configOrModelType === 'string' ? configOrModelType : configOrModelType?.model_type ?? DEFAULT_MODEL_TYPE;
  const family = typeof type === 'string' ? BY_MODEL_TYPE.get(type) : undefined;
  if (!family) {
    throw new ModelInvalidError(`${source}: model_type ${JSON.stringify(type)} is not supported; known model types: ${knownModelTypes().join(', ')}`);
  }
  return family;
}
