import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { InputError, ModelInvalidError } from '../errors.js';

/**
 * Checks that an ONNX file is a graph the cross-encoder runtime can use, before anything is served from it: the
 * inputs it feeds (input_ids, attention_mask, token_type_ids) cover what the graph needs, and a `logits` output is
 * there. A feature-extraction export (outputs `last_hidden_state`) loads without complaint and fails only at the first
 * request with "Cannot read properties of undefined (reading 'data')"; this names the file and what it has instead.
 *
 * Only the graph's input and output names are read, straight from the protobuf wire format: the weights are skipped
 * over by their lengths, never read, so a large model costs a few small reads.
 */

/** The names the cross-encoder runtime feeds (src/models/bert-model.ts, runBertBatch). */
export const CROSS_ENCODER_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids'] as const;
const REQUIRED_INPUTS = ['input_ids', 'attention_mask'];

export interface OnnxGraphSignature {
  inputs: string[];
  outputs: string[];
}

/** Reads bytes of a file on demand, so that fields can be skipped without reading them. */
class FileBytes {
  private readonly fd: number;
  readonly size: number;
  private chunk = Buffer.alloc(0);
  private chunkStart = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'r');
    this.size = fstatSync(this.fd).size;
  }

  byte(at: number): number {
    if (at < this.chunkStart || at >= this.chunkStart + this.chunk.length) {
      if (at >= this.size) throw new InputError('truncated');
      this.chunk = Buffer.alloc(Math.min(64 * 1024, this.size - at));
      readSync(this.fd, this.chunk, 0, this.chunk.length, at);
      this.chunkStart = at;
    }
    return this.chunk[at - this.chunkStart];
  }

  bytes(at: number, length: number): Buffer {
    if (at + length > this.size) throw new InputError('truncated');
    const out = Buffer.alloc(length);
    readSync(this.fd, out, 0, length, at);
    return out;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** A varint at `at`: its value and the position after it. */
function varint(file: FileBytes, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = file.byte(at + i);
    value += (b & 0x7f) * scale;
    scale *= 128;
    if ((b & 0x80) === 0) return [value, at + i + 1];
  }
  throw new InputError('bad varint');
}

/** Calls `visit(field, start, end)` for each length-delimited field in [from, to); other wire types are skipped. */
function fields(file: FileBytes, from: number, to: number, visit: (field: number, start: number, end: number) => void): void {
  let at = from;
  while (at < to) {
    const [key, next] = varint(file, at);
    const field = Math.floor(key / 8);
    const wire = key % 8;
    at = next;
    if (wire === 0) at = varint(file, at)[1];
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else if (wire === 2) {
      const [length, start] = varint(file, at);
      at = start + length;
      if (at > to) throw new InputError('truncated');
      visit(field, start, at);
    } else throw new InputError(`unsupported wire type ${wire}`);
  }
}

/** The graph input and output names of an ONNX model file; an error naming the file when it is not ONNX. */
export function readOnnxSignature(path: string): OnnxGraphSignature {
  let file: FileBytes;
  try {
    file = new FileBytes(path);
  } catch (error) {
    throw new ModelInvalidError(`${path}: cannot read the ONNX file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    if (file.size === 0) throw new ModelInvalidError('the file is empty');
    const signature: OnnxGraphSignature = { inputs: [], outputs: [] };
    let graphs = 0;
    const nameOf = (start: number, end: number): string => {
      let name = '';
      fields(file, start, end, (field, s, e) => {
        if (field === 1) name = file.bytes(s, e - s).toString('utf8');
      });
      return name;
    };
    // ModelProto.graph = 7; GraphProto.input = 11, output = 12; ValueInfoProto.name = 1.
    fields(file, 0, file.size, (field, start, end) => {
      if (field !== 7) return;
      graphs++;
      fields(file, start, end, (f, s, e) => {
        if (f === 11) signature.inputs.push(nameOf(s, e));
        else if (f === 12) signature.outputs.push(nameOf(s, e));
      });
    });
    if (graphs !== 1 || signature.outputs.length === 0) throw new ModelInvalidError('no graph with outputs in it');
    return signature;
  } catch (error) {
    throw new ModelInvalidError(`${path}: not a usable ONNX model (${(error as Error).message})`);
  } finally {
    file.close();
  }
}

/**
 * Refuses an ONNX file the cross-encoder runtime cannot run: inputs it does not feed, or no `logits` output. The
 * error names the file, what it has and what was expected.
 */
export function checkCrossEncoderOnnx(path: string): OnnxGraphSignature {
  const signature = readOnnxSignature(path);
  const list = (names: readonly string[]) => names.map((n) => JSON.stringify(n)).join(', ') || 'none';
  if (!signature.outputs.includes('logits')) {
    throw new ModelInvalidError(
      `${path}: a cross-encoder needs a "logits" output; this graph's outputs are ${list(signature.outputs)} ` +
        `(a feature-extraction export? export it for sequence classification)`,
    );
  }
  const unknown = signature.inputs.filter((name) => !(CROSS_ENCODER_INPUTS as readonly string[]).includes(name));
  const missing = REQUIRED_INPUTS.filter((name) => !signature.inputs.includes(name));
  if (unknown.length > 0 || missing.length > 0) {
    throw new InputError(
      `${path}: a cross-encoder's inputs must be input_ids, attention_mask and optionally token_type_ids; this graph's inputs are ${list(signature.inputs)}`,
    );
  }
  return signature;
}
