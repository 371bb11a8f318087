/**
 * Real ColBERT checkpoints (colbert-ir/colbertv2.0 layout): a BERT encoder, then `linear.weight` [dim, hidden] with
 * no bias, then L2 normalisation. Queries are `[CLS] [Q] tokens [SEP]` padded with [MASK] to `query_maxlen` (query
 * augmentation: the masks' outputs take part in MaxSim); documents are `[CLS] [D] tokens [SEP]`, with padding and
 * punctuation dropped from their output. [Q] and [D] are the vocabulary's [unused0] and [unused1], put right after
 * [CLS] as ColBERT does. Settings come from the checkpoint's `artifact.metadata`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TokenEmbeddings } from '../../models/bi-encoder.js';
import { loadBertModel, runBertBatch, type BertModelLoadOptions } from '../../models/bert-model.js';
import { readSafetensorsFile } from '../../models/safetensors.js';
import type { ort } from '../../models/session.js';
import { PairTokenizer } from '../../models/tokenizer/index.js';
import { exists } from '../../util/fs.js';
import { dotsNTJs } from './dot-engine.js';
import type { DisposableResource } from '../../util/disposable.js';
import { InputError, ModelInvalidError } from '../../errors.js';

/** Python's string.punctuation, which ColBERT's skiplist is built from. */
export const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

export interface ColBertSettings {
  queryMaxLength: number;
  docMaxLength: number;
  /** Output dimension (rows of linear.weight). */
  dim: number;
  queryMarker: string;
  docMarker: string;
  maskPunctuation: boolean;
  /** Whether the [MASK] padding of a query is attended to. ColBERT v1 did; v2 records the choice here. */
  attendToMaskTokens: boolean;
}

/** colbertv2.0's values, used for any field artifact.metadata leaves out. */
export const COLBERT_DEFAULTS: ColBertSettings = {
  queryMaxLength: 32,
  docMaxLength: 180,
  dim: 128,
  queryMarker: '[unused0]',
  docMarker: '[unused1]',
  maskPunctuation: true,
  attendToMaskTokens: true,
};

function setting<T>(meta: Record<string, unknown>, key: string, fallback: T, check: (v: unknown) => boolean, source: string, expected: string): T {
  const v = meta[key];
  if (v === undefined) return fallback;
  if (!check(v)) throw new InputError(`${source}: "${key}": expected ${expected}, got ${JSON.stringify(v)}`);
  return v as T;
}

export async function readColBertSettings(dir: string): Promise<ColBertSettings> {
  const path = join(dir, 'artifact.metadata');
  if (!(await exists(path))) return { ...COLBERT_DEFAULTS };
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
  } catch (error) {
    throw new ModelInvalidError(`${path}: not valid JSON (${(error as Error).message})`);
  }
  const int = (v: unknown) => Number.isInteger(v) && (v as number) > 0;
  const str = (v: unknown) => typeof v === 'string' && v !== '';
  const bool = (v: unknown) => typeof v === 'boolean';
  const d = COLBERT_DEFAULTS;
  return {
    queryMaxLength: setting(meta, 'query_maxlen', d.queryMaxLength, int, path, 'a positive integer'),
    docMaxLength: setting(meta, 'doc_maxlen', d.docMaxLength, int, path, 'a positive integer'),
    dim: setting(meta, 'dim', d.dim, int, path, 'a positive integer'),
    queryMarker: setting(meta, 'query_token_id', d.queryMarker, str, path, 'a token such as "[unused0]"'),
    docMarker: setting(meta, 'doc_token_id', d.docMarker, str, path, 'a token such as "[unused1]"'),
    maskPunctuation: setting(meta, 'mask_punctuation', d.maskPunctuation, bool, path, 'true or false'),
    attendToMaskTokens: setting(meta, 'attend_to_mask_tokens', d.attendToMaskTokens, bool, path, 'true or false'),
  };
}

/** Vocabulary lookup by token text, as `convert_tokens_to_ids` does (no tokenization: "[unused0]" is one entry). */
async function vocabularyIds(dir: string, names: string[]): Promise<number[]> {
  const path = join(dir, 'tokenizer.json');
  const json = JSON.parse(await readFile(path, 'utf8')) as { model?: { vocab?: Record<string, number> }; added_tokens?: Array<{ content: string; id: number }> };
  return names.map((name) => {
    const id = json.added_tokens?.find((t) => t.content === name)?.id ?? json.model?.vocab?.[name];
    if (!Number.isInteger(id)) throw new InputError(`${path}: the vocabulary has no token ${JSON.stringify(name)} (needed as a ColBERT marker)`);
    return id as number;
  });
}

/** Ids and attention mask of one input sequence. */
export interface ColBertInput {
  ids: number[];
  mask: number[];
}

export class ColBertEncoder implements DisposableResource {
  readonly dimension: number;
  private constructor(
    readonly name: string,
    readonly settings: ColBertSettings,
    readonly tokenizer: PairTokenizer,
    private readonly session: ort.InferenceSession,
    /** [dim, hidden], row-major, as stored. */
    private readonly projection: Float32Array,
    readonly hidden: number,
    readonly markers: { query: number; doc: number; mask: number },
    readonly skiplist: ReadonlySet<number>,
  ) {
    this.dimension = settings.dim;
  }

  static async load(dir: string, options: BertModelLoadOptions = {}): Promise<ColBertEncoder> {
    const settings = await readColBertSettings(dir);
    const maxLength = Math.max(settings.queryMaxLength, settings.docMaxLength);
    const { folder, tokenizer, session } = await loadBertModel(dir, 'none', { ...options, maxLength });
    if (!(tokenizer instanceof PairTokenizer)) throw new InputError(`${folder.dir}: a ColBERT checkpoint needs a BERT WordPiece tokenizer`);
    const weightsPath = join(folder.dir, 'model.safetensors');
    if (!(await exists(weightsPath))) throw new InputError(`${folder.dir}: model.safetensors is missing (ColBERT's linear.weight is read from it)`);
    const { tensors } = await readSafetensorsFile(weightsPath);
    const linear = tensors.get('linear.weight');
    const hidden = folder.config.hidden_size;
    if (!linear) throw new InputError(`${weightsPath}: no tensor "linear.weight" (a ColBERT checkpoint stores its projection there)`);
    if (linear.shape.length !== 2 || linear.shape[1] !== hidden) {
      throw new InputError(`${weightsPath}: "linear.weight" has shape [${linear.shape}], expected [dim, ${hidden}]`);
    }
    if (linear.shape[0] !== settings.dim) {
      throw new InputError(`${weightsPath}: "linear.weight" has ${linear.shape[0]} rows but artifact.metadata says dim ${settings.dim}`);
    }
    const [query, doc] = await vocabularyIds(folder.dir, [settings.queryMarker, settings.docMarker]);
    const mask = tokenizer.maskId;
    if (mask === undefined) throw new InputError(`${folder.dir}: the tokenizer has no [MASK] token (ColBERT pads queries with it)`);
    const skiplist = new Set<number>();
    if (settings.maskPunctuation) for (const symbol of PUNCTUATION) skiplist.add(tokenizer.tokenIds(symbol)[0]);
    return new ColBertEncoder(folder.name, settings, tokenizer, session, linear.data, hidden, { query, doc, mask }, skiplist);
  }

  /** `[CLS] [Q] tokens [SEP] [MASK]...` of exactly query_maxlen tokens. */
  queryInput(text: string): ColBertInput {
    const { queryMaxLength } = this.settings;
    const tokens = this.tokenizer.tokenIds(text).slice(0, Math.max(0, queryMaxLength - 3));
    const ids = [this.tokenizer.clsId, this.markers.query, ...tokens, this.tokenizer.sepId];
    const mask = ids.map(() => 1);
    while (ids.length < queryMaxLength) {
      ids.push(this.markers.mask);
      mask.push(this.settings.attendToMaskTokens ? 1 : 0);
    }
    return { ids, mask };
  }

  /** `[CLS] [D] tokens [SEP]`, cut to doc_maxlen. */
  documentInput(text: string): ColBertInput {
    const tokens = this.tokenizer.tokenIds(text).slice(0, Math.max(0, this.settings.docMaxLength - 3));
    const ids = [this.tokenizer.clsId, this.markers.doc, ...tokens, this.tokenizer.sepId];
    return { ids, mask: ids.map(() => 1) };
  }

  /** Every query position is kept, [MASK] padding included. */
  async encodeQueries(texts: readonly string[]): Promise<TokenEmbeddings[]> {
    return this.encode(texts.map((t) => this.queryInput(t)), () => true);
  }

  /** Punctuation (when the checkpoint masks it) is dropped from documents. */
  async encodeDocuments(texts: readonly string[]): Promise<TokenEmbeddings[]> {
    return this.encode(texts.map((t) => this.documentInput(t)), (id) => !this.skiplist.has(id));
  }

  private async encode(inputs: ColBertInput[], keep: (id: number) => boolean, batchSize = 32): Promise<TokenEmbeddings[]> {
    const out: TokenEmbeddings[] = [];
    const H = this.hidden;
    const D = this.dimension;
    for (let from = 0; from < inputs.length; from += batchSize) {
      const batch = inputs.slice(from, from + batchSize);
      const T = Math.max(...batch.map((b) => b.ids.length));
      const size = batch.length * T;
      const inputIds = new BigInt64Array(size).fill(BigInt(this.tokenizer.padId));
      const attentionMask = new BigInt64Array(size);
      batch.forEach((b, row) => {
        b.ids.forEach((id, t) => {
          inputIds[row * T + t] = BigInt(id);
          attentionMask[row * T + t] = BigInt(b.mask[t]);
        });
      });
      const result = await runBertBatch(this.session, {
        inputIds,
        attentionMask,
        tokenTypeIds: new BigInt64Array(size),
        batchSize: batch.length,
        sequenceLength: T,
      });
      const states = result.last_hidden_state.data as Float32Array;
      batch.forEach((b, row) => {
        const positions = b.ids.map((id, t) => (keep(id) ? t : -1)).filter((t) => t >= 0);
        const rows = new Float32Array(positions.length * H);
        positions.forEach((t, k) => rows.set(states.subarray((row * T + t) * H, (row * T + t + 1) * H), k * H));
        const vectors = dotsNTJs(rows, positions.length, this.projection, D, H);
        for (let k = 0; k < positions.length; k++) {
          let n = 0;
          for (let j = 0; j < D; j++) n += vectors[k * D + j] ** 2;
          n = Math.sqrt(n);
          if (n > 0) for (let j = 0; j < D; j++) vectors[k * D + j] /= n;
        }
        out.push({ ids: positions.map((t) => b.ids[t]), vectors, count: positions.length, dimension: D });
      });
      for (const value of Object.values(result)) value.dispose?.();
    }
    return out;
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
