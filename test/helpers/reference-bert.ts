/**
 * A deliberately naive BERT forward pass (float64, plain loops, straight from the Hugging Face modelling code) that
 * tests use as ground truth for the ONNX graphs. Only for tiny configs: it is O(layers * T^2 * H) per sequence with
 * no attempt at speed.
 */
import type { BertConfig, ModelHead } from '../../src/models/config.js';
import { numLabels } from '../../src/models/config.js';
import type { TensorMap } from '../../src/models/tensors.js';

export interface ReferenceBatch {
  inputIds: number[][];
  attentionMask: number[][];
  tokenTypeIds: number[][];
}

export interface ReferenceOutput {
  /** [batch][seq][hidden] */
  lastHiddenState: number[][][];
  /** [batch][labels], only for the sequence-classification head. */
  logits?: number[][];
}

/** erfc from Numerical Recipes (Chebyshev fit, fractional error < 1.2e-7), far below the test tolerances. */
export function erf(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const ans = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
    t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - ans : ans - 1;
}

function activation(name: string): (x: number) => number {
  switch (name) {
    case 'gelu':
      return (x) => 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_new':
    case 'gelu_pytorch_tanh':
      return (x) => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
    case 'relu':
      return (x) => Math.max(0, x);
    default:
      throw new Error(`reference: unsupported hidden_act ${name}`);
  }
}

export function referenceBert(config: BertConfig, weights: TensorMap, head: ModelHead, batch: ReferenceBatch): ReferenceOutput {
  const get = (name: string): Float32Array => {
    const t = weights.get(`bert.${name}`) ?? weights.get(name);
    if (!t) throw new Error(`reference: missing ${name}`);
    return t.data;
  };
  const H = config.hidden_size;
  const nHeads = config.num_attention_heads;
  const d = H / nHeads;
  const eps = config.layer_norm_eps;
  const act = activation(config.hidden_act ?? 'gelu');

  /** torch Linear: y = x W^T + b with W [out, in]. */
  const linear = (x: number[], w: Float32Array, b: Float32Array, out: number): number[] => {
    const inp = x.length;
    const y = new Array<number>(out);
    for (let o = 0; o < out; o++) {
      let s = b[o];
      for (let i = 0; i < inp; i++) s += w[o * inp + i] * x[i];
      y[o] = s;
    }
    return y;
  };
  const layerNorm = (x: number[], g: Float32Array, b: Float32Array): number[] => {
    const mean = x.reduce((a, v) => a + v, 0) / x.length;
    const variance = x.reduce((a, v) => a + (v - mean) ** 2, 0) / x.length;
    const inv = 1 / Math.sqrt(variance + eps);
    return x.map((v, i) => (v - mean) * inv * g[i] + b[i]);
  };

  const lastHiddenState: number[][][] = [];
  const logits: number[][] = [];
  for (let bi = 0; bi < batch.inputIds.length; bi++) {
    const ids = batch.inputIds[bi];
    const mask = batch.attentionMask[bi];
    const types = batch.tokenTypeIds[bi];
    const T = ids.length;
    const word = get('embeddings.word_embeddings.weight');
    const pos = get('embeddings.position_embeddings.weight');
    const typ = get('embeddings.token_type_embeddings.weight');
    let h: number[][] = [];
    for (let t = 0; t < T; t++) {
      const e = new Array<number>(H);
      for (let j = 0; j < H; j++) e[j] = word[ids[t] * H + j] + pos[t * H + j] + typ[types[t] * H + j];
      h.push(layerNorm(e, get('embeddings.LayerNorm.weight'), get('embeddings.LayerNorm.bias')));
    }
    for (let l = 0; l < config.num_hidden_layers; l++) {
      const p = `encoder.layer.${l}`;
      const q = h.map((x) => linear(x, get(`${p}.attention.self.query.weight`), get(`${p}.attention.self.query.bias`), H));
      const k = h.map((x) => linear(x, get(`${p}.attention.self.key.weight`), get(`${p}.attention.self.key.bias`), H));
      const v = h.map((x) => linear(x, get(`${p}.attention.self.value.weight`), get(`${p}.attention.self.value.bias`), H));
      const ctx: number[][] = h.map(() => new Array<number>(H).fill(0));
      for (let n = 0; n < nHeads; n++) {
        for (let i = 0; i < T; i++) {
          const scores = new Array<number>(T);
          for (let j = 0; j < T; j++) {
            let s = 0;
            for (let c = 0; c < d; c++) s += q[i][n * d + c] * k[j][n * d + c];
            // HF adds (1 - mask) * finfo(float32).min to the scaled scores.
            scores[j] = s / Math.sqrt(d) + (1 - mask[j]) * -3.4028234663852886e38;
          }
          const m = Math.max(...scores);
          const ex = scores.map((s) => Math.exp(s - m));
          const z = ex.reduce((a, b) => a + b, 0);
          for (let j = 0; j < T; j++) {
            const pj = ex[j] / z;
            for (let c = 0; c < d; c++) ctx[i][n * d + c] += pj * v[j][n * d + c];
          }
        }
      }
      const h1 = h.map((x, t) => {
        const a = linear(ctx[t], get(`${p}.attention.output.dense.weight`), get(`${p}.attention.output.dense.bias`), H);
        return layerNorm(a.map((val, j) => val + x[j]), get(`${p}.attention.output.LayerNorm.weight`), get(`${p}.attention.output.LayerNorm.bias`));
      });
      h = h1.map((x) => {
        const inter = linear(x, get(`${p}.intermediate.dense.weight`), get(`${p}.intermediate.dense.bias`), config.intermediate_size).map(act);
        const o = linear(inter, get(`${p}.output.dense.weight`), get(`${p}.output.dense.bias`), H);
        return layerNorm(o.map((val, j) => val + x[j]), get(`${p}.output.LayerNorm.weight`), get(`${p}.output.LayerNorm.bias`));
      });
    }
    lastHiddenState.push(h);
    if (head === 'sequence-classification') {
      const pooled = linear(h[0], get('pooler.dense.weight'), get('pooler.dense.bias'), H).map(Math.tanh);
      const cw = weights.get('classifier.weight')!.data;
      const cb = weights.get('classifier.bias')!.data;
      logits.push(linear(pooled, cw, cb, numLabels(config)));
    }
  }
  return head === 'sequence-classification' ? { lastHiddenState, logits } : { lastHiddenState };
}
