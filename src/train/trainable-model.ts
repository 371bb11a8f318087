import { join } from 'node:path';
import type { ModelHead } from '../models/config.js';
import type { FamilyConfig } from '../models/family.js';
import { fetchHubFile, isHubId, type HubOptions } from '../models/hub.js';
import { exists } from '../util/fs.js';
import { resolveModel } from '../models/model-folder.js';
import { readSafetensorsFile } from '../models/safetensors.js';
import type { TensorMap } from '../models/tensors.js';
import type { SequenceTokenizer } from '../models/tokenizer/index.js';
import type { LossTarget } from './losses/loss.js';
import { InputError } from '../errors.js';

/** A base model's weights, ready to train for a target: its config and weights reshaped for the head it needs. */
export interface TrainableModel {
  name: string;
  /** The base folder; tokenizer files are copied from it into the trained model. */
  dir: string;
  config: FamilyConfig;
  head: ModelHead;
  weights: TensorMap;
  tokenizer: SequenceTokenizer;
  pooling: 'mean' | 'cls';
}

const HEAD_FOR: Record<LossTarget, ModelHead> = { 'cross-encoder': 'sequence-classification', 'bi-encoder': 'none' };

/**
 * Loads a base model's safetensors weights for training: a built-in name, a folder or a hub id, resolved once. The
 * model's family reshapes it for the target: a plain encoder can become a cross-encoder (a fresh, seeded classifier
 * is added, as sentence-transformers does) and a cross-encoder can become a bi-encoder (its classifier is dropped).
 */
export async function loadTrainableModel(base: string, target: LossTarget, seed: number, hub: HubOptions = {}): Promise<TrainableModel> {
  const folder = await resolveModel(base, hub);
  const inFolder = join(folder.dir, 'model.safetensors');
  // A hub download may land beside the folder that was resolved (the HF cache's snapshot rather than ours): use its path.
  const weightsPath = (await exists(inFolder)) ? inFolder : isHubId(base) ? await fetchHubFile(base, 'model.safetensors', hub) : null;
  if (!weightsPath) {
    throw new InputError(`model "${base}": ${inFolder} is missing; training needs the weights (an ONNX file cannot be trained)`);
  }
  const { tensors } = await readSafetensorsFile(weightsPath);
  // Buffers such as position_ids are not parameters.
  for (const name of [...tensors.keys()]) if (name.endsWith('position_ids')) tensors.delete(name);
  const { family } = folder;
  const head = HEAD_FOR[target];
  const { config, weights } = family.retarget(folder.config, tensors, head, seed);
  return { name: base, dir: folder.dir, config, head, weights, tokenizer: await family.loadTokenizer(folder.dir), pooling: await family.pooling(folder.dir) };
}
