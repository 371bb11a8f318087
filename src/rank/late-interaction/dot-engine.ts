/**
 * Dot products between two sets of row vectors, C[i][j] = a_i . b_j (a GEMM with B transposed): the one heavy
 * operation behind MaxSim, k-means and centroid probing. Two engines, measured against each other in
 * bench/late-interaction.ts: a register-blocked Float32Array loop, and onnxruntime's Gemm (multi-threaded, SIMD).
 */
import { ort } from '../../models/session.js';
import { defaultThreads } from '../../models/session.js';
import { DataType, makeNode, makeValueInfo, serializeModel } from '../../models/onnx/proto.js';
import { InputError } from '../../errors.js';

export type DotEngineName = 'js' | 'onnx';
export interface DotEngine {
  readonly name: DotEngineName;
  /** `a` is m x dim, `b` is n x dim (row-major); returns m x n. */
  dotsNT(a: Float32Array, m: number, b: Float32Array, n: number, dim: number): Promise<Float32Array>;
  dispose(): Promise<void>;
}

function checkShapes(a: Float32Array, m: number, b: Float32Array, n: number, dim: number): void {
  if (a.length < m * dim) throw new InputError(`dotsNT: a holds ${a.length} values, ${m} x ${dim} needed`);
  if (b.length < n * dim) throw new InputError(`dotsNT: b holds ${b.length} values, ${n} x ${dim} needed`);
}

/**
 * Four rows of `a` against one row of `b` per pass: each loaded b value feeds four multiply-adds, which is what
 * keeps a scalar JIT loop from being load-bound.
 */
export function dotsNTJs(a: Float32Array, m: number, b: Float32Array, n: number, dim: number, out = new Float32Array(m * n)): Float32Array {
  checkShapes(a, m, b, n, dim);
  const m4 = m - (m % 4);
  for (let j = 0; j < n; j++) {
    const bo = j * dim;
    for (let i = 0; i < m4; i += 4) {
      const a0 = i * dim;
      const a1 = a0 + dim;
      const a2 = a1 + dim;
      const a3 = a2 + dim;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let k = 0; k < dim; k++) {
        const x = b[bo + k];
        s0 += a[a0 + k] * x;
        s1 += a[a1 + k] * x;
        s2 += a[a2 + k] * x;
        s3 += a[a3 + k] * x;
      }
      out[i * n + j] = s0;
      out[(i + 1) * n + j] = s1;
      out[(i + 2) * n + j] = s2;
      out[(i + 3) * n + j] = s3;
    }
    for (let i = m4; i < m; i++) {
      const ao = i * dim;
      let s = 0;
      for (let k = 0; k < dim; k++) s += a[ao + k] * b[bo + k];
      out[i * n + j] = s;
    }
  }
  return out;
}

export class JsDotEngine implements DotEngine {
  readonly name = 'js' as const;
  async dotsNT(a: Float32Array, m: number, b: Float32Array, n: number, dim: number): Promise<Float32Array> {
    return dotsNTJs(a, m, b, n, dim);
  }
  async dispose(): Promise<void> {}
}

/** A one-node graph, Gemm(A, B, transB = 1), with every dimension dynamic. */
function gemmModel(): Uint8Array {
  return serializeModel({
    graphName: 'dots_nt',
    nodes: [makeNode('Gemm', ['a', 'b'], ['c'], { transB: 1 })],
    initializers: [],
    inputs: [makeValueInfo('a', DataType.FLOAT, ['m', 'dim']), makeValueInfo('b', DataType.FLOAT, ['n', 'dim'])],
    outputs: [makeValueInfo('c', DataType.FLOAT, ['m', 'n'])],
    opsets: { '': 17 },
  });
}

export class OnnxDotEngine implements DotEngine {
  readonly name = 'onnx' as const;
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(threads = defaultThreads()): Promise<OnnxDotEngine> {
    const session = await ort.InferenceSession.create(gemmModel(), {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
    });
    return new OnnxDotEngine(session);
  }

  async dotsNT(a: Float32Array, m: number, b: Float32Array, n: number, dim: number): Promise<Float32Array> {
    checkShapes(a, m, b, n, dim);
    const result = await this.session.run({
      a: new ort.Tensor('float32', a.length === m * dim ? a : a.subarray(0, m * dim), [m, dim]),
      b: new ort.Tensor('float32', b.length === n * dim ? b : b.subarray(0, n * dim), [n, dim]),
    });
    const c = result.c;
    const data = c.data as Float32Array;
    c.dispose?.();
    return data;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}

export async function createDotEngine(name: DotEngineName = 'js', threads?: number): Promise<DotEngine> {
  if (name === 'js') return new JsDotEngine();
  if (name === 'onnx') return OnnxDotEngine.create(threads);
  throw new InputError(`kernel: expected "js" or "onnx", got ${JSON.stringify(name)}`);
}
