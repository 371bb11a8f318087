import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command } from 'commander';
import { registerMine } from '../src/cli/commands/mine.js';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import type { SentenceEncoder } from '../src/models/sentence-encoder.js';
import { dot } from '../src/models/vectors.js';
import { EncoderRanker } from '../src/rank/encoder-ranker.js';
import { LanceDbRetriever } from '../src/retrieve/lancedb.js';
import type { IndexedDocument } from '../src/retrieve/retriever.js';
import { BinaryCrossEntropyLoss } from '../src/train/losses/binary-cross-entropy.js';
import { MultipleNegativesRankingLoss } from '../src/train/losses/multiple-negatives-ranking.js';
import {
  mineHardNegatives,
  type LabeledPairRecord,
  type MineHardNegativesOptions,
  type MiningPair,
  type NTupleRecord,
  type TripletRecord,
} from '../src/train/mine-hard-negatives.js';
import { scratchDir } from './helpers/fixtures.js';

/**
 * Short sentences on six topics. LanceDB's BM25 lower-cases, drops English stop words and stems, so "bicycle tube
 * patch" matches bike-patch (and its copy) on all three terms, bike-valve on two, and jeans-patch, hose-tube,
 * bike-chain and bike-brake on one each; nothing else.
 */
const CORPUS: IndexedDocument[] = [
  { id: 'bike-patch', text: 'Roughen the rubber around the hole, spread glue, and press a patch onto the bicycle tube.' },
  { id: 'bike-patch-copy', text: 'Roughen the rubber around the hole, spread glue, and press a patch onto the bicycle tube.' },
  { id: 'bike-valve', text: 'A bent valve lets air leak out of a bicycle tube overnight.' },
  { id: 'bike-chain', text: 'Oil the bicycle chain after every wet ride.' },
  { id: 'bike-brake', text: 'Worn brake pads make a bicycle slow to stop in the rain.' },
  { id: 'jeans-patch', text: 'Sew a denim patch over the worn knee of old jeans.' },
  { id: 'hose-tube', text: 'A garden hose is a long rubber tube that cracks in frost.' },
  { id: 'espresso-grind', text: 'A fine grind gives espresso its thick crema.' },
  { id: 'espresso-beans', text: 'Keep espresso beans in an airtight jar away from sunlight.' },
  { id: 'pour-over', text: 'Pour-over coffee needs a medium grind and water just off the boil.' },
  { id: 'grain-size', text: 'Beach sand has a grain size between silt and gravel.' },
  { id: 'shoe-size', text: 'Shoe size charts differ between Europe and America.' },
  { id: 'tea-steep', text: 'Green tea turns bitter when steeped in boiling water.' },
  { id: 'magma-rise', text: 'Magma rises through cracks until gas pressure blasts it out of the crater.' },
  { id: 'lava-cool', text: 'Lava cools into black basalt on the flanks of the volcano.' },
  { id: 'quake-plates', text: 'Earthquakes shake the ground when tectonic plates slip past each other.' },
  { id: 'ash-cloud', text: 'An ash cloud from an eruption can ground flights for days.' },
  { id: 'volcano-island', text: 'Many islands are the worn tops of old volcanoes.' },
  { id: 'geyser', text: 'Geysers spout hot water heated by rock deep underground.' },
  { id: 'tomato-ripe', text: 'Pick them when the fruit turns deep red and gives slightly under your thumb.' },
  { id: 'tomato-stake', text: 'Tie tomato stems to a stake so the heavy trusses do not snap.' },
  { id: 'tomato-water', text: 'Water tomato plants at the base in the morning to avoid blight.' },
  { id: 'compost', text: 'A compost heap needs green clippings, brown leaves, and air.' },
  { id: 'seed-sow', text: 'Sow lettuce seed thinly in shallow drills in early spring.' },
  { id: 'bread-knead', text: 'Knead the dough until it stretches thin without tearing.' },
  { id: 'bread-rise', text: 'Dough rises faster in a warm kitchen than in a cold pantry.' },
  { id: 'pasta-salt', text: 'Salt the pasta water until it tastes like the sea.' },
  { id: 'rice-rinse', text: 'Rinse rice until the water runs clear to keep the grains apart.' },
  { id: 'knife-sharp', text: 'A sharp knife slips less than a dull one and is safer.' },
  { id: 'star-light', text: 'Starlight takes years to cross the gap between stars.' },
  { id: 'owl-night', text: 'Owls hunt mice at night by listening for rustles in the grass.' },
];

const LOAF = 'Let the shaped loaf rise once more before baking.';
const BIKE: MiningPair = { query: 'bicycle tube patch', positive: { id: 'bike-patch' } };
/** Positive given by text, equal to espresso-grind's; espresso-beans and grain-size tie in BM25 for this query. */
const ESPRESSO: MiningPair = { query: 'espresso grind size', positive: 'A fine grind gives espresso its thick crema.' };
/** The positive shares no word with the query (BM25 0, never retrieved); only two documents share a word with it. */
const TOMATO: MiningPair = { query: 'ripe tomato', positive: { id: 'tomato-ripe' } };
/** The positive is fourth in BM25, below ash-cloud and the tied lava-cool and volcano-island. */
const VOLCANO: MiningPair = { query: 'volcano eruption crater', positive: { id: 'magma-rise' } };
/** A positive by text that the corpus lacks, and a query that retrieves it for another pair. */
const DOUGH: MiningPair = { query: 'bread dough rise', positive: LOAF };
const BAKING: MiningPair = { query: 'baking a loaf of bread', positive: { id: 'bread-knead' } };
const ALL = [BIKE, ESPRESSO, TOMATO, VOLCANO, DOUGH, BAKING];

const triplets = (records: unknown[]) => records as TripletRecord[];
/** Negative ids per query, in output order. */
function negativesByQuery(records: unknown[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const r of triplets(records)) (out[r.query] ??= []).push(r.negative_id ?? `text:${r.negative}`);
  return out;
}
async function mine(pairs: MiningPair[], options: MineHardNegativesOptions = {}) {
  return mineHardNegatives(pairs, CORPUS, options);
}

let reference: LanceDbRetriever;
/** BM25 scores of every matching document, from a separate index over the same corpus. */
async function bm25(query: string): Promise<Map<string, number>> {
  return new Map((await reference.search(query, { k: 100, mode: 'text' })).map((h) => [h.id, h.score]));
}

describe('mineHardNegatives and rankwise mine', { timeout: 120_000 }, () => {
  let useLite: SentenceEncoder;
  before(async () => {
    reference = await LanceDbRetriever.open(await scratchDir());
    await reference.add(CORPUS);
    useLite = await loadSentenceEncoder('use-lite');
  });
  after(async () => {
    await reference?.close();
    await useLite?.dispose?.();
  });

  test('mines the top lexical neighbours, hardest first, with their BM25 scores; never the positive or a copy of its text', async () => {
    const { records, stats } = await mine([BIKE, ESPRESSO], { outputScores: true });
    assert.deepEqual(negativesByQuery(records), {
      'bicycle tube patch': ['bike-valve', 'jeans-patch', 'hose-tube'],
      // espresso-beans and grain-size tie: corpus order decides, whatever order LanceDB returns them in.
      'espresso grind size': ['shoe-size', 'espresso-beans', 'grain-size'],
    });
    const bike = await bm25(BIKE.query);
    for (const r of triplets(records).filter((r) => r.query === BIKE.query)) {
      assert.deepEqual(r.scores, [bike.get('bike-patch'), bike.get(r.negative_id!)], 'scores are the BM25 scores of an ordinary search');
      assert.equal(r.positive_id, 'bike-patch');
    }
    const espresso = triplets(records).find((r) => r.query === ESPRESSO.query)!;
    assert.equal(espresso.positive_id, undefined, 'a positive given by text has no id');

    const all = await mine([BIKE], { numNegatives: 5 });
    assert.deepEqual(negativesByQuery(all.records)[BIKE.query], ['bike-valve', 'jeans-patch', 'hose-tube', 'bike-chain', 'bike-brake']);
    assert.deepEqual(all.stats.short, { pairs: 0, noCandidates: 0, filtered: 0 });
    const six = await mine([BIKE], { numNegatives: 6 });
    assert.equal(six.records.length, 5, 'only five documents share a word with the query once the positive and its copy are out');
    assert.deepEqual(six.stats.short, { pairs: 1, noCandidates: 1, filtered: 0 });

    assert.deepEqual({ ...stats, seconds: typeof stats.seconds }, {
      pairs: 2,
      queries: 2,
      documents: CORPUS.length,
      records: 6,
      negatives: 6,
      retriever: 'bm25',
      scoredBy: 'bm25',
      short: { pairs: 0, noCandidates: 0, filtered: 0 },
      skipped: { margin: 0, relativeMargin: 0, maxScore: 0 },
      // bike-patch ties with its copy and comes first in corpus order; espresso-grind is first too.
      positive: { retrieved: 2, notRetrieved: 0, meanRank: 1 },
      meanPositiveScore: (bike.get('bike-patch')! + (await bm25(ESPRESSO.query)).get('espresso-grind')!) / 2,
      meanNegativeScore: stats.meanNegativeScore,
      seconds: 'number',
    });
  });

  test('a positive by text that the corpus lacks joins the pool: never its own negative, a negative of other queries (without an id)', async () => {
    const { records, stats } = await mine([DOUGH, BAKING], { numNegatives: 2, outputScores: true });
    assert.equal(stats.documents, CORPUS.length + 1);
    assert.deepEqual(negativesByQuery(records), {
      'bread dough rise': ['bread-rise', 'bread-knead'],
      'baking a loaf of bread': [`text:${LOAF}`],
    });
    const baking = triplets(records).find((r) => r.query === BAKING.query)!;
    assert.equal(baking.negative_id, undefined);
    assert.equal(baking.scores![0], 0, 'bread-knead shares no word with its query: BM25 0');
    assert.deepEqual(stats.short, { pairs: 1, noCandidates: 1, filtered: 0 });
    // The same positive by id and text (not in the corpus) keeps the caller's id.
    const byId = await mine([{ query: DOUGH.query, positive: { id: 'loaf', text: LOAF } }], { numNegatives: 2 });
    assert.deepEqual(triplets(byId.records).map((r) => [r.positive_id, r.negative_id]), [['loaf', 'bread-rise'], ['loaf', 'bread-knead']]);
  });

  test('rangeMin, rangeMax and numNegatives cut the candidate list (positives removed) as defined', async () => {
    const ids = async (options: MineHardNegativesOptions, pair = BIKE) => negativesByQuery((await mine([pair], options)).records)[pair.query] ?? [];
    // Candidates for BIKE: bike-valve, jeans-patch, hose-tube, bike-chain, bike-brake.
    assert.deepEqual(await ids({ rangeMin: 1, rangeMax: 4 }), ['jeans-patch', 'hose-tube', 'bike-chain']);
    assert.deepEqual(await ids({ rangeMin: 3, rangeMax: 100, numNegatives: 3 }), ['bike-chain', 'bike-brake']);
    assert.deepEqual(await ids({ rangeMax: 2, numNegatives: 2 }), ['bike-valve', 'jeans-patch']);
    assert.deepEqual(await ids({ numNegatives: 1 }), ['bike-valve']);
    // A tie at the cut: corpus order again.
    assert.deepEqual(await ids({ rangeMax: 2, numNegatives: 2 }, ESPRESSO), ['shoe-size', 'espresso-beans']);
    const short = await mine([BIKE], { rangeMin: 3 });
    assert.deepEqual(short.stats.short, { pairs: 1, noCandidates: 1, filtered: 0 });
  });

  test('margin, relativeMargin and maxScore drop candidates on the BM25 scale, against the positive\'s own BM25 score', async () => {
    const scores = await bm25(BIKE.query);
    const positive = scores.get('bike-patch')!;
    // The cases below sit well clear of the limits.
    assert.ok(scores.get('bike-valve')! > positive - 2 && scores.get('jeans-patch')! < positive - 2 && scores.get('jeans-patch')! > positive - 3);
    const run = async (options: MineHardNegativesOptions) => {
      const { records, stats } = await mine([BIKE], options);
      return { ids: negativesByQuery(records)[BIKE.query] ?? [], stats };
    };
    let r = await run({ margin: 2 });
    assert.deepEqual(r.ids, ['jeans-patch', 'hose-tube', 'bike-chain']);
    assert.deepEqual(r.stats.skipped, { margin: 1, relativeMargin: 0, maxScore: 0 });
    r = await run({ margin: 3 });
    assert.deepEqual(r.ids, ['hose-tube', 'bike-chain', 'bike-brake']);
    r = await run({ relativeMargin: 0.5 }); // positive * 0.5
    assert.deepEqual(r.ids, ['jeans-patch', 'hose-tube', 'bike-chain']);
    assert.ok(scores.get('hose-tube')! > positive * 0.4 && scores.get('bike-chain')! < positive * 0.4);
    r = await run({ relativeMargin: 0.6 });
    assert.deepEqual(r.ids, ['bike-chain', 'bike-brake']);
    assert.deepEqual(r.stats.skipped, { margin: 0, relativeMargin: 3, maxScore: 0 });
    assert.deepEqual(r.stats.short, { pairs: 1, noCandidates: 0, filtered: 1 });
    assert.ok(scores.get('jeans-patch')! > 2.2 && scores.get('hose-tube')! < 2.2);
    r = await run({ maxScore: 2.2 });
    assert.deepEqual(r.ids, ['hose-tube', 'bike-chain', 'bike-brake']);
    assert.deepEqual(r.stats.skipped, { margin: 0, relativeMargin: 0, maxScore: 2 });

    // The positive below the searched depth: its BM25 score comes from a search restricted to it, equal to what an
    // ordinary search gives it; every candidate then scores above it, so margin 0 leaves none.
    const volcano = await bm25(VOLCANO.query);
    const deep = await mine([VOLCANO, TOMATO], { rangeMax: 1, numNegatives: 1, outputScores: true });
    assert.deepEqual(triplets(deep.records).map((t) => [t.negative_id, t.scores]), [
      ['ash-cloud', [volcano.get('magma-rise'), volcano.get('ash-cloud')]],
      ['tomato-water', [0, (await bm25(TOMATO.query)).get('tomato-water')]],
    ]);
    assert.deepEqual(deep.stats.positive, { retrieved: 0, notRetrieved: 2, meanRank: null });
    const none = await mine([VOLCANO], { margin: 0 });
    assert.equal(none.records.length, 0);
    assert.deepEqual(none.stats.short, { pairs: 1, noCandidates: 0, filtered: 1 });
    assert.equal(none.stats.skipped.margin, 3);
  });

  test('random sampling is seeded: the same seed gives the same negatives, another seed others, all from the window', async () => {
    const options: MineHardNegativesOptions = { samplingStrategy: 'random', rangeMax: 5, numNegatives: 2 };
    const a = await mine(ALL, { ...options, seed: 7 });
    const b = await mine(ALL, { ...options, seed: 7 });
    const c = await mine(ALL, { ...options, seed: 8 });
    assert.deepEqual(a.records, b.records);
    assert.notDeepEqual(a.records, c.records);
    const top5 = negativesByQuery((await mine(ALL, { rangeMax: 5, numNegatives: 5 })).records);
    for (const [query, ids] of Object.entries(negativesByQuery(a.records))) {
      assert.ok(ids.every((id) => top5[query].includes(id)), `${query}: ${ids} within ${top5[query]}`);
      // Sampled negatives are written hardest first, like top ones.
      assert.deepEqual(ids, top5[query].filter((id) => ids.includes(id)));
    }
    // With no more survivors than asked, random equals top.
    assert.deepEqual((await mine([TOMATO], { samplingStrategy: 'random' })).records, (await mine([TOMATO])).records);
  });

  test('formats: triplet, n-tuple and labeled-pair records have the documented shapes and the trainer reads them', async () => {
    const triplet = (await mine([BIKE, TOMATO], { numNegatives: 3 })).records as TripletRecord[];
    assert.deepEqual(triplet[0], {
      query: BIKE.query,
      positive: CORPUS[0].text,
      negative: CORPUS[2].text,
      positive_id: 'bike-patch',
      negative_id: 'bike-valve',
    });
    assert.equal(triplet.length, 5, 'one line per negative: 3 + 2');

    const tuples = await mine([BIKE, TOMATO], { format: 'n-tuple', outputScores: true });
    assert.equal(tuples.records.length, 1, 'TOMATO got 2 of 3 negatives: no fixed-size tuple for it');
    const tuple = tuples.records[0] as NTupleRecord;
    assert.deepEqual(Object.keys(tuple), ['query', 'positive', 'negatives', 'positive_id', 'negative_ids', 'scores']);
    assert.deepEqual(tuple.negative_ids, ['bike-valve', 'jeans-patch', 'hose-tube']);
    assert.deepEqual(tuple.negatives, ['bike-valve', 'jeans-patch', 'hose-tube'].map((id) => CORPUS.find((d) => d.id === id)!.text));
    assert.equal(tuple.scores!.length, 4);
    assert.ok(tuple.scores!.every((s, i) => i === 0 || s <= tuple.scores![i - 1]), 'positive first, then negatives hardest first');

    const labeled = (await mine([BIKE, TOMATO], { format: 'labeled-pair' })).records as LabeledPairRecord[];
    assert.deepEqual(
      labeled.map((r) => [r.query, r.document_id, r.label]),
      [
        [BIKE.query, 'bike-patch', 1],
        [BIKE.query, 'bike-valve', 0],
        [BIKE.query, 'jeans-patch', 0],
        [BIKE.query, 'hose-tube', 0],
        [TOMATO.query, 'tomato-ripe', 1],
        [TOMATO.query, 'tomato-water', 0],
        [TOMATO.query, 'tomato-stake', 0],
      ],
    );
    assert.deepEqual(Object.keys(labeled[0]), ['query', 'document', 'label', 'document_id']);
    const scored = (await mine([BIKE], { format: 'labeled-pair', outputScores: true })).records as LabeledPairRecord[];
    assert.equal(scored[0].score, (await bm25(BIKE.query)).get('bike-patch'));

    // What the trainer's own parsers accept: BCE reads labeled pairs, MNRL reads (query, positive) from the others.
    const bce = new BinaryCrossEntropyLoss();
    labeled.forEach((r, i) => assert.deepEqual(bce.parseExample(r as unknown as Record<string, unknown>, `line ${i}`), { query: r.query, document: r.document, label: r.label }));
    const mnrl = new MultipleNegativesRankingLoss();
    for (const r of [...triplet, tuple]) assert.deepEqual(mnrl.parseExample(r as unknown as Record<string, unknown>, 'line'), { query: r.query, positive: r.positive });
  });

  test('bad inputs and options are refused with errors that name the field', async () => {
    const cases: Array<[MiningPair[] | unknown, IndexedDocument[] | unknown, MineHardNegativesOptions | unknown, RegExp]> = [
      [[], CORPUS, {}, /^InputError: pairs: expected at least one/],
      [[BIKE, BIKE, BIKE, { query: ' ', positive: 'x' }], CORPUS, {}, /^InputError: pairs\[3\]\.query: expected a non-empty string, got " "/],
      [[{ query: 'q', positive: '' }], CORPUS, {}, /^InputError: pairs\[0\]\.positive: expected a non-empty string/],
      [[{ query: 'q', positive: { id: 'nope' } }], CORPUS, {}, /^InputError: pairs\[0\]\.positive\.id: "nope" is not in the corpus; give its text too/],
      [[{ query: 'q', positive: { id: 'bike-patch', text: 'other' } }], CORPUS, {}, /^InputError: pairs\[0\]\.positive\.text: differs from the text of corpus document "bike-patch"/],
      [[BIKE], [], {}, /^InputError: corpus: expected at least one document/],
      [[BIKE], [{ id: 'a', text: 'x' }, { id: 'a', text: 'y' }], {}, /^InputError: corpus\[1\]\.id: "a" is already used by corpus\[0\]/],
      [[BIKE], [{ id: '', text: 'x' }], {}, /^InputError: corpus\[0\]\.id: expected a non-empty string/],
      [[BIKE], CORPUS, { numNegatives: 0 }, /^InputError: numNegatives: expected a positive integer, got 0$/],
      [[BIKE], CORPUS, { rangeMin: -1 }, /^InputError: rangeMin: expected a non-negative integer, got -1$/],
      [[BIKE], CORPUS, { rangeMax: 2.5 }, /^InputError: rangeMax: expected a positive integer, got 2.5$/],
      [[BIKE], CORPUS, { rangeMin: 5, rangeMax: 5 }, /^InputError: rangeMin: expected less than rangeMax \(5\), got 5$/],
      [[BIKE], CORPUS, { rangeMin: 2, rangeMax: 4, numNegatives: 3 }, /^InputError: numNegatives: 3 do not fit in the candidate window/],
      [[BIKE], CORPUS, { margin: -1 }, /^InputError: margin: expected a non-negative number, got -1$/],
      [[BIKE], CORPUS, { relativeMargin: 1.5 }, /^InputError: relativeMargin: expected a number in \[0, 1\], got 1.5$/],
      [[BIKE], CORPUS, { maxScore: Number.NaN }, /^InputError: maxScore: expected a finite number, got NaN$/],
      [[BIKE], CORPUS, { samplingStrategy: 'best' }, /^InputError: samplingStrategy: expected one of top, random, got "best"$/],
      [[BIKE], CORPUS, { seed: 1.5 }, /^InputError: seed: expected an integer, got 1.5$/],
      [[BIKE], CORPUS, { format: 'csv' }, /^InputError: format: expected one of triplet, n-tuple, labeled-pair, got "csv"$/],
      [[BIKE], CORPUS, { retriever: 'dense' }, /^InputError: retriever: expected one of bm25, vector, hybrid, got "dense"$/],
      [[BIKE], CORPUS, { retriever: 'vector', index: reference }, /^InputError: retriever: vector needs vector search, which index lancedb:documents does not support/],
      [[BIKE], CORPUS, { scorer: {} }, /^InputError: scorer: expected a Ranker/],
    ];
    for (const [pairs, corpus, options, expected] of cases) {
      await assert.rejects(mineHardNegatives(pairs as MiningPair[], corpus as IndexedDocument[], options as MineHardNegativesOptions), expected);
    }
  });

  test('an open index is searched as it is, with the same results as the temporary one', async () => {
    const pairs = [BIKE, ESPRESSO, VOLCANO, TOMATO];
    const options: MineHardNegativesOptions = { numNegatives: 2, outputScores: true };
    const own = await mine(pairs, options);
    const progress: Array<[number, number]> = [];
    const given = await mineHardNegatives(pairs, CORPUS, { ...options, index: reference, onProgress: (done, total) => progress.push([done, total]) });
    assert.deepEqual(given.records, own.records);
    assert.deepEqual(progress, [[1, 4], [2, 4], [3, 4], [4, 4]]);
    assert.equal(given.stats.retriever, 'lancedb:documents (text)');
    assert.equal(await reference.count(), CORPUS.length, 'nothing was added to it');
  });

  test('vector (real use-lite encoder) mines by meaning with exact cosines; hybrid fuses both lists; a scorer rescores', async () => {
    const tyre: MiningPair = { query: 'fixing a flat bike tyre', positive: { id: 'bike-patch' } };
    const volcano: MiningPair = { query: 'how do volcanoes erupt', positive: { id: 'magma-rise' } };
    const vector = await mine([tyre, volcano], { retriever: 'vector', encoder: useLite, outputScores: true });
    const ids = negativesByQuery(vector.records);
    // No shared words with "fixing a flat bike tyre", yet the bicycle sentences come first.
    assert.deepEqual(ids[tyre.query], ['bike-brake', 'bike-chain', 'bike-valve']);
    const geology = ['lava-cool', 'ash-cloud', 'quake-plates', 'geyser', 'volcano-island'];
    assert.ok(ids[volcano.query].every((id) => geology.includes(id)), String(ids[volcano.query]));
    const vectors = await useLite.encode([tyre.query, ...CORPUS.map((d) => d.text)], { normalize: true });
    const cosine = (id: string) => dot(vectors[0], vectors[1 + CORPUS.findIndex((d) => d.id === id)]);
    for (const t of triplets(vector.records).filter((r) => r.query === tyre.query)) {
      assert.ok(Math.abs(t.scores![0] - cosine('bike-patch')) < 1e-5 && Math.abs(t.scores![1] - cosine(t.negative_id!)) < 1e-5);
    }
    assert.equal(vector.stats.retriever, 'vector:use-lite');

    const hybrid = await mine([tyre, BIKE], { retriever: 'hybrid', encoder: useLite, outputScores: true, numNegatives: 4 });
    const hybridIds = negativesByQuery(hybrid.records);
    assert.equal(hybrid.stats.scoredBy, 'cosine:use-lite');
    assert.ok(hybridIds[BIKE.query].includes('jeans-patch') && hybridIds[BIKE.query].includes('bike-brake'), 'lexical and semantic neighbours');
    assert.ok(!hybridIds[tyre.query].includes('bike-patch-copy'));
    for (const t of triplets(hybrid.records).filter((r) => r.query === tyre.query)) assert.ok(Math.abs(t.scores![1] - cosine(t.negative_id!)) < 1e-5);

    // A scorer (here the encoder as a Ranker): its scores, its order, and margins on its scale.
    const scorer = new EncoderRanker(useLite);
    const scored = await mine([BIKE], { scorer, numNegatives: 5, outputScores: true });
    assert.equal(scored.stats.scoredBy, 'use-lite');
    const ranked = await scorer.rank(BIKE.query, [CORPUS[0].text, ...['bike-valve', 'jeans-patch', 'hose-tube', 'bike-chain', 'bike-brake'].map((id) => CORPUS.find((d) => d.id === id)!.text)]);
    const byText = new Map(ranked.results.map((r) => [r.document.text!, r.score]));
    const negs = triplets(scored.records);
    assert.deepEqual(negs.map((t) => t.scores), negs.map((t) => [byText.get(t.positive), byText.get(t.negative)]));
    assert.deepEqual(negs.map((t) => t.scores![1]), negs.map((t) => t.scores![1]).sort((a, b) => b - a), 'hardest by the scorer first');
    const margin = 0.05;
    const limited = triplets((await mine([BIKE], { scorer, numNegatives: 5, margin, outputScores: true })).records);
    const positive = byText.get(CORPUS[0].text)!;
    assert.deepEqual(limited.map((t) => t.negative_id), negs.filter((t) => t.scores![1] <= positive - margin).map((t) => t.negative_id));
  });

  test('rankwise mine: pairs by text and by id, a BEIR corpus line, atomic JSONL out, stats as JSON', async () => {
    const dir = await scratchDir();
    const pairsFile = join(dir, 'pairs.jsonl');
    const corpusFile = join(dir, 'corpus.jsonl');
    const out = join(dir, 'out', 'mined.jsonl');
    await writeFile(pairsFile, [{ query: BIKE.query, positive_id: 'bike-patch' }, { query: ESPRESSO.query, positive: ESPRESSO.positive }, { query: 'glue for a bicycle tire', positive_id: 'beir-1' }].map((l) => JSON.stringify(l)).join('\n'));
    const lines = [...CORPUS.map((d) => ({ id: d.id, text: d.text })), { _id: 'beir-1', title: 'Tyre glue', text: 'Vulcanising solution bonds a patch to the tube.' }];
    await writeFile(corpusFile, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');

    const program = new Command().exitOverride();
    registerMine(program);
    const printed: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => printed.push(String(chunk)) > 0) as typeof process.stdout.write;
    try {
      await program.parseAsync(['mine', '--pairs', pairsFile, '--corpus', corpusFile, '--out', out, '--format', 'labeled-pair', '--num-negatives', '2', '--json'], { from: 'user' });
    } finally {
      process.stdout.write = write;
    }
    const stats = JSON.parse(printed.join(''));
    assert.deepEqual({ ...stats, seconds: typeof stats.seconds, mean_positive_score: typeof stats.mean_positive_score, mean_negative_score: typeof stats.mean_negative_score }, {
      out,
      format: 'labeled-pair',
      pairs: 3,
      queries: 3,
      documents: CORPUS.length + 1,
      records: 9,
      negatives: 6,
      retriever: 'bm25',
      scored_by: 'bm25',
      short: { pairs: 0, no_candidates: 0, filtered: 0 },
      skipped: { margin: 0, relative_margin: 0, max_score: 0 },
      positive: stats.positive,
      mean_positive_score: 'number',
      mean_negative_score: 'number',
      seconds: 'number',
    });
    const written = (await readFile(out, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as LabeledPairRecord);
    assert.equal(written.length, 9);
    // The BEIR document (title "Tyre glue") shares "patch" and "tube" with the first query: its hardest negative.
    assert.deepEqual(written.slice(0, 3).map((r) => [r.document_id, r.label]), [['bike-patch', 1], ['beir-1', 0], ['bike-valve', 0]]);
    const beir = written.filter((r) => r.query === 'glue for a bicycle tire');
    assert.deepEqual(beir[0], { query: 'glue for a bicycle tire', document: 'Tyre glue Vulcanising solution bonds a patch to the tube.', label: 1, document_id: 'beir-1' });
    assert.ok(!beir.slice(1).some((r) => r.document_id === 'beir-1'));

    const bad = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
    registerMine(bad);
    await assert.rejects(bad.parseAsync(['mine', '--pairs', pairsFile, '--corpus', corpusFile, '--out', out, '--relative-margin', '2'], { from: 'user' }), /--relative-margin expects a number from 0 to 1, got "2"/);
    await writeFile(pairsFile, JSON.stringify({ query: 'q', positive_id: 'missing' }));
    await assert.rejects(registerAndRun(['mine', '--pairs', pairsFile, '--corpus', corpusFile, '--out', out, '--json']), /pairs\.jsonl:1: "positive_id": "missing" is not in the corpus; give its text too/);
  });
});

async function registerAndRun(args: string[]): Promise<void> {
  const program = new Command().exitOverride();
  registerMine(program);
  await program.parseAsync(args, { from: 'user' });
}
