import { SeededRandom } from '../../src/models/random.js';

/**
 * A relevance task that cannot be solved without reading query and document together: a document is relevant when
 * it contains the query's rare "key" word. Distractors repeat the query's common words and carry another key, so
 * word overlap alone points the wrong way.
 */
const COMMON = 'house water river table window garden paper music school market bridge forest letter dinner winter road'.split(' ');
const KEYS = (
  'apple tiger violin copper saturn pepper falcon marble cactus walnut lemon pirate rocket velvet dragon harbor ' +
  'comet banana wizard candle'
).split(' ');

export interface SyntheticPair {
  query: string;
  document: string;
  label: number;
}

export interface SyntheticCase {
  query: string;
  relevant: string;
  distractor: string;
}

function sample<T>(rng: SeededRandom, items: readonly T[], n: number): T[] {
  return rng.shuffle([...items]).slice(0, n);
}

function makeCase(rng: SeededRandom, keys: readonly string[]): SyntheticCase {
  const [key, otherKey] = sample(rng, keys, 2);
  const [c1, c2, ...rest] = sample(rng, COMMON, 6);
  const query = rng.shuffle([c1, c2, key]).join(' ');
  const relevant = rng.shuffle([key, c1, rest[0], rest[1]]).join(' ');
  const distractor = rng.shuffle([otherKey, c1, c2, rest[2]]).join(' ');
  return { query, relevant, distractor };
}

/** `keyCount` bounds how many distinct key words appear: fewer keys make the task quicker to learn. */
export function syntheticCases(count: number, seed: number, keyCount = KEYS.length): SyntheticCase[] {
  const rng = new SeededRandom(seed);
  const keys = KEYS.slice(0, keyCount);
  return Array.from({ length: count }, () => makeCase(rng, keys));
}

/** Each case as two labelled pairs: (query, relevant, 1) and (query, distractor, 0). */
export function syntheticPairs(count: number, seed: number, keyCount?: number): SyntheticPair[] {
  return syntheticCases(count, seed, keyCount).flatMap((c) => [
    { query: c.query, document: c.relevant, label: 1 },
    { query: c.query, document: c.distractor, label: 0 },
  ]);
}
