import assert from 'node:assert/strict';
import { test } from 'node:test';
import { augmentPairs, type TopicalPair } from '../src/train/augment-pairs.js';

const PAIRS: TopicalPair[] = [
  { query: 'q1', document: 'a1', label: 1, topic: 'A' },
  { query: 'q1', document: 'a1-hard', label: 0, topic: 'A' },
  { query: 'q2', document: 'a2', label: 1, topic: 'A' },
  { query: 'q3', document: 'b3', label: 1, topic: 'B' },
  { query: 'q3', document: 'b3-hard', label: 0, topic: 'B' },
];

test('augmentPairs: easy negatives come from other topics, positives repeat, siblings get the weak label', { timeout: 30_000 }, () => {
  const out = augmentPairs(PAIRS, { easyNegativesPerQuery: 3, positiveCopies: 2, siblingLabel: 0.6, seed: 1 });
  assert.deepEqual(out.slice(0, PAIRS.length), PAIRS.map(({ query, document, label }) => ({ query, document, label })), 'the given pairs first, unchanged');
  const topicOf = new Map(PAIRS.map((p) => [p.document, p.topic]));
  const queryTopic = new Map(PAIRS.map((p) => [p.query, p.topic]));
  const added = out.slice(PAIRS.length);
  assert.equal(added.filter((p) => p.label === 1).length, 3, 'each positive once more');
  const easy = added.filter((p) => p.label === 0);
  assert.equal(easy.length, 3 * 3, '3 per query');
  for (const e of easy) assert.notEqual(topicOf.get(e.document), queryTopic.get(e.query), `${e.query} got ${e.document} from its own topic`);
  assert.deepEqual(
    added.filter((p) => p.label === 0.6).map((p) => `${p.query}:${p.document}`).sort(),
    ['q1:a2', 'q2:a1'],
    'answers of sibling queries on the same topic only',
  );
  assert.deepEqual(augmentPairs(PAIRS, { easyNegativesPerQuery: 3, positiveCopies: 2, siblingLabel: 0.6, seed: 1 }), out, 'seeded');
});

test('augmentPairs: bad options name the field', { timeout: 30_000 }, () => {
  assert.throws(() => augmentPairs(PAIRS, { easyNegativesPerQuery: -1, positiveCopies: 1, siblingLabel: null, seed: 1 }), /easyNegativesPerQuery/);
  assert.throws(() => augmentPairs(PAIRS, { easyNegativesPerQuery: 0, positiveCopies: 0, siblingLabel: null, seed: 1 }), /positiveCopies/);
  assert.throws(() => augmentPairs(PAIRS, { easyNegativesPerQuery: 0, positiveCopies: 1, siblingLabel: 2, seed: 1 }), /siblingLabel/);
  assert.throws(() => augmentPairs(PAIRS.slice(0, 3), { easyNegativesPerQuery: 1, positiveCopies: 1, siblingLabel: null, seed: 1 }), /two topics/);
});
