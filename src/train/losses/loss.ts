import type { SequenceTokenizer } from '../../models/tokenizer.js';
import type { TrainRequest } from '../engine.js';

/** Which model a loss trains: a cross-encoder (one logit per pair) or a bi-encoder (one vector per text). */
export type LossTarget = 'cross-encoder' | 'bi-encoder';

/**
 * A loss turns a batch of training examples into one engine request. It owns the example format: parsing checks a
 * raw JSON line and names the field that is wrong, so a training file's errors point at a line and a field.
 */
export interface Loss<Example> {
  readonly name: TrainRequest['loss'];
  readonly target: LossTarget;
  /** The fields a training line must have, for help texts and errors. */
  readonly fields: readonly string[];
  parseExample(raw: Record<string, unknown>, where: string): Example;
  request(examples: readonly Example[], tokenizer: SequenceTokenizer, maxLength: number): TrainRequest;
}

export function stringField(raw: Record<string, unknown>, field: string, where: string): string {
  const value = raw[field];
  if (typeof value !== 'string') throw new Error(`${where}: field "${field}" must be a string`);
  return value;
}

export function numberField(raw: Record<string, unknown>, field: string, where: string, min: number, max: number): number {
  const value = raw[field];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new Error(`${where}: field "${field}" must be a number in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

export function encodePairs(tokenizer: SequenceTokenizer, pairs: ReadonlyArray<readonly [string, string]>, maxLength: number) {
  return tokenizer.pad(pairs.map(([q, d]) => tokenizer.encodePair(q, d, { maxLength })));
}

export function encodeTexts(tokenizer: SequenceTokenizer, texts: readonly string[], maxLength: number) {
  return tokenizer.pad(texts.map((t) => tokenizer.encodeSingle(t, { maxLength })));
}
