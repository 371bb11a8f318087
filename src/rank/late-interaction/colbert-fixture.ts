/**
 * A ColBERT checkpoint folder with seeded random weights, laid out as colbert-ir/colbertv2.0 is on the hub:
 * config.json (architectures ["HF_ColBERT"]), the bert-base-uncased tokenizer, model.safetensors holding the
 * `bert.`-prefixed encoder weights plus `linear.weight` [dim, hidden] (no bias), and `artifact.metadata` with
 * ColBERT's settings. No ONNX file: like a real checkpoint, it is built from the safetensors on first load. No real
 * ColBERT checkpoint can be downloaded here; this one exercises every encoding rule on real ONNX inference.
 */
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createFixtureModel, type FixtureOptions } from '../../models/fixture.js';
import { SeededRandom } from '../../models/random.js';
import { readSafetensorsFile, writeSafetensorsFile } from '../../models/safetensors.js';
import type { TensorMap } from '../../models/tensors.js';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { COLBERT_DEFAULTS } from './colbert.js';
import { InputError } from '../../errors.js';

export interface ColBertFixtureOptions extends Omit<FixtureOptions, 'kind'> {
  /** Output dimension of the projection (default 128, as colbertv2.0). */
  dim?: number;
  queryMaxLength?: number;
  docMaxLength?: number;
  attendToMaskTokens?: boolean;
}

export async function createFixtureColBert(dir: string, options: ColBertFixtureOptions = {}): Promise<void> {
  const dim = options.dim ?? COLBERT_DEFAULTS.dim;
  if (!Number.isInteger(dim) || dim < 1) throw new InputError(`dim: expected a positive integer, got ${dim}`);
  const config = await createFixtureModel(dir, { ...options, kind: 'bi-encoder' });
  const hidden = config.hidden_size;
  const { tensors } = await readSafetensorsFile(join(dir, 'model.safetensors'));
  const weights: TensorMap = new Map();
  for (const [name, tensor] of tensors) weights.set(name.startsWith('bert.') ? name : `bert.${name}`, tensor);
  const rng = new SeededRandom((options.seed ?? 1) + 7919);
  const linear = new Float32Array(dim * hidden);
  for (let i = 0; i < linear.length; i++) linear[i] = rng.normal(0, 1 / Math.sqrt(hidden));
  weights.set('linear.weight', { shape: [dim, hidden], data: linear });
  await writeSafetensorsFile(join(dir, 'model.safetensors'), weights);
  await rm(join(dir, 'onnx'), { recursive: true, force: true });
  const hfConfig = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  await writeFileAtomic(join(dir, 'config.json'), `${JSON.stringify({ ...hfConfig, architectures: ['HF_ColBERT'] }, null, 2)}\n`);
  const metadata = {
    query_token_id: '[unused0]',
    doc_token_id: '[unused1]',
    query_token: '[Q]',
    doc_token: '[D]',
    query_maxlen: options.queryMaxLength ?? COLBERT_DEFAULTS.queryMaxLength,
    doc_maxlen: options.docMaxLength ?? COLBERT_DEFAULTS.docMaxLength,
    dim,
    similarity: 'cosine',
    interaction: 'colbert',
    mask_punctuation: true,
    attend_to_mask_tokens: options.attendToMaskTokens ?? COLBERT_DEFAULTS.attendToMaskTokens,
    checkpoint: 'rankwise-fixture',
  };
  await writeFileAtomic(join(dir, 'artifact.metadata'), `${JSON.stringify(metadata, null, 2)}\n`);
}
