import type { SequenceTokenizer } from '../../models/tokenizer/index.js';
import { InputError } from '../../errors.js';

/** Which model a loss trains: a cross-encoder (one logit per pair) or a bi-encoder (one vector per text). */
export type LossTarget = 'cross-encoder' | 'bi-encoder';

/** What a training line gives the loss to learn from. */
export type LossSupervision = 'binary labels' | 'teacher scores' | 'margins' | 'similarities' | 'positive pairs';

/** What every engine request carries: the id of the loss, which the native addon's loss table also knows. */
export interface LossRequest {
  loss: string;
}

/**
 * A loss turns a batch of training examples into one engine request. It owns the example format: parsing checks a
 * raw JSON line and names the field that is wrong, so a training file's errors point at a line and a field.
 * Its name, target and description are what the registry (registry.ts) lists for the CLI and the docs.
 */
export interface Loss<Example, Request extends LossRequest = LossRequest> {
  readonly name: Request['loss'];
  readonly target: LossTarget;
  readonly learnsFrom: LossSupervision;
  /** One line for help texts and the docs. */
  readonly description: string;
  /** The fields a training line must have, for help texts and errors. */
  readonly fields: readonly string[];
  /** The inputs the engine's raw `evaluateLoss` takes for this loss (gradient checks). */
  readonly evaluationInputs: readonly string[];
  parseExample(raw: Record<string, unknown>, where: string): Example;
  request(examples: readonly Example[], tokenizer: SequenceTokenizer, maxLength: number): Request;
}

export function stringField(raw: Record<string, unknown>, field: string, where: string): string {
  const value = raw[field];
  if (typeof value !== 'string') throw new InputError(`${where}: field "${field}" must be a string`);
  return value;
}

export function numberField(raw: Record<string, unknown>, field: string, where: string, min: number, max: number): number {
  const value = raw[field];
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new InputError(`${where}: field "${field}" must be a number in [${min}, ${max}], got ${JSON.stringify(value)}`);
  }
  return value;
}

export function encodePairs(tokenizer: SequenceTokenizer, pairs: ReadonlyArray<readonly [string, string]>, maxLength: number) {
  return tokenizer.pad(pairs.map(([q, d]) => tokenizer.encodePair(q, d, { maxLength })));
}

export function encodeTexts(tokenizer: SequenceTokenizer, texts: readonly string[], maxLength: number) {
  return tokenizer.pad(texts.map((t) => tokenizer.encodeSingle(t, { maxLength })));
}
