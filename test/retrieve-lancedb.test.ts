import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import type { SentenceEncoder } from '../src/models/sentence-encoder.js';
import { cosineSimilarity } from '../src/models/vectors.js';
import { LanceDbRetriever, lanceManifestPath, sqlString } from '../src/retrieve/lancedb.js';
import type { IndexedDocument, RetrievedDocument } from '../src/retrieve/retriever.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';

/**
 * A corpus whose BM25 order is forced: "heron" is rare (1 document), "pond" common (4 of 6); the two heron documents
 * differ only in term frequency and length.
 */
const LEXICAL: IndexedDocument[] = [
  { id: 'heron-twice', text: 'heron heron pond' },
  { id: 'heron-long', text: 'a heron waded across the pond while ducks, frogs, reeds and lilies crowded every muddy shallow bank' },
  { id: 'pond-1', text: 'pond water' },
  { id: 'pond-2', text: 'pond weed' },
  { id: 'meadow', text: 'meadow grass sways', metadata: { tier: 'gold', year: 2024 } },
  { id: 'forest', text: 'forest canopy shade' },
];

/*
 * LanceDB's text score, found by experiment (scores of the queries below on this corpus, and after adding a row): the
 * Lucene form of BM25, summed over query terms,
 *   idf(t) = ln(1 + (N - n_t + 0.5) / (n_t + 0.5)),  tf(t) * (k1 + 1) / (tf(t) + k1 * (1 - b + b * len / avglen)),
 * k1 = 1.2, b = 0.75, over the tokens its default analyzer keeps: lower-cased, ASCII-folded ("héron" finds heron),
 * stemmed ("herons" finds heron) and without English stop words ("a", "the", "and": searching for them finds nothing).
 * Analysed lengths and the term counts the tests query, by hand:
 */
const ANALYZED: Record<string, { length: number; tf: Record<string, number> }> = {
  'heron-twice': { length: 3, tf: { heron: 2, pond: 1 } },
  // 17 words less the stop words "a", "the", "and".
  'heron-long': { length: 14, tf: { heron: 1, pond: 1 } },
  'pond-1': { length: 2, tf: { pond: 1 } },
  'pond-2': { length: 2, tf: { pond: 1 } },
  meadow: { length: 3, tf: { meadow: 1, grass: 1 } },
  forest: { length: 3, tf: {} },
};
interface Bm25Variant { k1: number; b: number; idf: (N: number, n: number) => number }
const LUCENE_BM25: Bm25Variant = { k1: 1.2, b: 0.75, idf: (N, n) => Math.log(1 + (N - n + 0.5) / (n + 0.5)) };
function bm25(id: string, terms: string[], variant: Bm25Variant = LUCENE_BM25): number {
  const docs = Object.values(ANALYZED);
  const avg = docs.reduce((sum, d) => sum + d.length, 0) / docs.length;
  const { length, tf } = ANALYZED[id];
  let score = 0;
  for (const term of terms) {
    const f = tf[term] ?? 0;
    if (f === 0) continue;
    const n = docs.filter((d) => (d.tf[term] ?? 0) > 0).length;
    score += variant.idf(docs.length, n) * (f * (variant.k1 + 1)) / (f + variant.k1 * (1 - variant.b + variant.b * length / avg));
  }
  return score;
}
/*
 * LanceDB returns float32 scores: measured relative difference from the float64 formula up to 9.4e-8, bound 1e-6
 * (about 10x).
 * The nearest slips of the formula differ by far more (checked in the first test): no length normalisation (b = 0),
 * k1 = 2, or the classic idf ln((N - n + 0.5) / (n + 0.5)).
 */
const BM25_TOLERANCE = 1e-6;
const WRONG_BM25: Array<[string, Bm25Variant]> = [
  ['b = 0', { ...LUCENE_BM25, b: 0 }],
  ['k1 = 2', { ...LUCENE_BM25, k1: 2 }],
  ['classic idf', { ...LUCENE_BM25, idf: (N, n) => Math.log((N - n + 0.5) / (n + 0.5)) }],
];
const relativeError = (actual: number, expected: number) => Math.abs(actual - expected) / Math.abs(expected);
/** Hits are exactly `expected` (as a set: equal scores may come in either order), scored by the hand BM25. */
function assertBm25(hits: RetrievedDocument[], terms: string[], expected: string[]): number {
  assert.deepEqual(new Set(hits.map((h) => h.id)), new Set(expected));
  assert.equal(hits.length, expected.length);
  let worst = 0;
  for (const hit of hits) {
    const err = relativeError(hit.score, bm25(hit.id, terms));
    worst = Math.max(worst, err);
    assert.ok(err <= BM25_TOLERANCE, `${hit.id} for ${terms.join(' ')}: ${hit.score} vs ${bm25(hit.id, terms)}`);
  }
  for (let i = 1; i < hits.length; i++) assert.ok(hits[i - 1].score >= hits[i].score);
  return worst;
}

const ids = (hits: RetrievedDocument[]) => hits.map((h) => h.id);
const open: LanceDbRetriever[] = [];
async function openIndex(dir: string, options: Parameters<typeof LanceDbRetriever.open>[1] = {}): Promise<LanceDbRetriever> {
  const retriever = await LanceDbRetriever.open(dir, options);
  open.push(retriever);
  return retriever;
}

let fixture: SentenceEncoder;
let fixtureSmall: SentenceEncoder;
let useLite: SentenceEncoder;
before(async () => {
  fixture = await loadSentenceEncoder(await fixtureModel({ kind: 'bi-encoder', seed: 3, hidden: 32, heads: 2, intermediate: 64 }), { threads: 1 });
  fixtureSmall = await loadSentenceEncoder(await fixtureModel({ kind: 'bi-encoder', seed: 4, hidden: 16, heads: 2, intermediate: 32 }), { threads: 1 });
  useLite = await loadSentenceEncoder('use-lite');
}, { timeout: 60_000 });
after(async () => {
  for (const r of open) await r.close();
  for (const e of [fixture, fixtureSmall, useLite]) await e?.dispose?.();
});

test('text search ranks by BM25: rare terms, term frequency and short documents win; non-matching documents are absent', { timeout: 20_000 }, async (t) => {
  const index = await openIndex(await scratchDir());
  assert.deepEqual(index.modes, ['text']);
  await index.add(LEXICAL);
  const heron = await index.search('heron');
  assert.deepEqual(ids(heron), ['heron-twice', 'heron-long'], 'tf 2 in 3 words beats tf 1 in 17 words');
  assert.deepEqual(heron.map((h) => h.rank), [1, 2]);
  let worst = assertBm25(heron, ['heron'], ['heron-twice', 'heron-long']);
  // One rare term outweighs one common term in documents of equal length; scores add over the terms.
  const mixed = await index.search('heron pond', { k: 10 });
  assert.equal(mixed[0].id, 'heron-twice');
  worst = Math.max(worst, assertBm25(mixed, ['heron', 'pond'], ['heron-twice', 'heron-long', 'pond-1', 'pond-2']));
  // Short documents outrank the long one for the common term; all pond documents are found.
  const pond = await index.search('pond', { k: 10 });
  worst = Math.max(worst, assertBm25(pond, ['pond'], ['heron-twice', 'heron-long', 'pond-1', 'pond-2']));
  assert.equal(pond.at(-1)!.id, 'heron-long');
  assert.deepEqual(ids(await index.search('pond', { k: 2 })).length, 2);
  // The analyzer: stemmed, ASCII-folded, stop words dropped.
  assertBm25(await index.search('herons'), ['heron'], ['heron-twice', 'heron-long']);
  assertBm25(await index.search('Héron'), ['heron'], ['heron-twice', 'heron-long']);
  assert.deepEqual(await index.search('the a and'), []);
  // Metadata comes back as it went in.
  const [meadow, ...rest] = await index.search('meadow');
  assert.deepEqual(rest, []);
  const { score, ...fields } = meadow;
  assert.deepEqual(fields, { id: 'meadow', text: 'meadow grass sways', metadata: { tier: 'gold', year: 2024 }, rank: 1 });
  worst = Math.max(worst, relativeError(score, bm25('meadow', ['meadow'])));
  assert.ok(relativeError(score, bm25('meadow', ['meadow'])) <= BM25_TOLERANCE, `meadow: ${score} vs ${bm25('meadow', ['meadow'])}`);
  assert.equal(await index.count(), 6);

  // Each slip of the formula misses the tolerance on some hit of these queries (relative to LanceDB's score).
  const checked: Array<[RetrievedDocument[], string[]]> = [[heron, ['heron']], [mixed, ['heron', 'pond']], [pond, ['pond']]];
  const effects = WRONG_BM25.map(([label, variant]) => {
    const effect = Math.max(...checked.flatMap(([hits, terms]) => hits.map((h) => Math.abs(h.score - bm25(h.id, terms, variant)) / h.score)));
    assert.ok(effect > BM25_TOLERANCE, `${label} is within the tolerance: ${effect}`);
    return `${label}: ${effect.toExponential(2)}`;
  });
  t.diagnostic(`LanceDB vs hand BM25: max relative difference ${worst.toExponential(2)}; ${effects.join('; ')}`);
});

test('adds after the first are searchable at once; add upserts by id; delete removes; reopening sees it all', { timeout: 20_000 }, async () => {
  const dir = await scratchDir();
  const index = await openIndex(dir);
  await index.add(LEXICAL);
  await index.add([{ id: 'late', text: 'a kingfisher dives' }]);
  assert.deepEqual(ids(await index.search('kingfisher')), ['late'], 'rows added after the FTS index was built are found');
  await index.add([{ id: 'meadow', text: 'a kingfisher perches on the meadow fence' }]);
  assert.equal(await index.count(), 7, 'replacing an id does not add a row');
  assert.deepEqual(ids(await index.search('grass')), [], 'the old text of a replaced document no longer matches');
  assert.deepEqual(new Set(ids(await index.search('kingfisher'))), new Set(['late', 'meadow']));
  assert.equal((await index.search('fence'))[0].metadata, undefined, 'the replacement has no metadata');
  // Repeated ids in one batch: the last wins.
  await index.add([
    { id: 'dup', text: 'first version otter' },
    { id: 'dup', text: 'second version beaver' },
  ]);
  assert.deepEqual(ids(await index.search('otter')), []);
  assert.deepEqual(ids(await index.search('beaver')), ['dup']);
  await index.delete(['late', 'heron-twice', 'never-there']);
  assert.equal(await index.count(), 6);
  assert.deepEqual(ids(await index.search('heron')), ['heron-long']);
  assert.deepEqual(ids(await index.search('kingfisher')), ['meadow']);
  await index.close();
  const again = await openIndex(dir);
  assert.equal(await again.count(), 6);
  assert.deepEqual(ids(await again.search('kingfisher')), ['meadow']);
  assert.deepEqual(ids(await again.search('beaver')), ['dup']);
  await again.add([{ id: 'after-reopen', text: 'heron again' }]);
  assert.deepEqual(new Set(ids(await again.search('heron'))), new Set(['heron-long', 'after-reopen']));
});

test('ids with quotes, backslashes and SQL in them are stored, found and deleted exactly', { timeout: 20_000 }, async () => {
  const index = await openIndex(await scratchDir());
  const nasty = ["o'brien", 'say "hi"', "x') OR ('1'='1", 'back\\slash', "''", 'percent%_'];
  await index.add(nasty.map((id, i) => ({ id, text: `walrus number${i}` })));
  await index.add([{ id: 'keep', text: 'walrus keeper' }]);
  assert.equal(sqlString("x') OR ('1'='1"), "'x'') OR (''1''=''1'"); // stays one literal
  await index.delete(["x') OR ('1'='1"]);
  assert.equal(await index.count(), 6, 'only the one row went');
  assert.deepEqual(new Set(ids(await index.search('walrus', { k: 10 }))), new Set([...nasty.filter((id) => id !== "x') OR ('1'='1"), 'keep']));
  await index.delete(nasty.filter((id) => id !== "x') OR ('1'='1"));
  assert.deepEqual(ids(await index.search('walrus')), ['keep']);
  await index.add([{ id: "o'brien", text: 'walrus returns' }]);
  await index.add([{ id: "o'brien", text: 'walrus returns twice' }]);
  assert.equal(await index.count(), 2);
});

test('query text that looks like a query language or SQL is just words', { timeout: 20_000 }, async () => {
  const index = await openIndex(await scratchDir());
  await index.add(LEXICAL);
  // Operators and punctuation are just text to the analyzer: what each query finds follows from its words alone.
  const heronDocs = ['heron-twice', 'heron-long'];
  const cases: Array<[string, string[], string[]]> = [
    ['"; DROP TABLE documents; --', [], []], // none of drop, table, documents is in the corpus
    ['heron AND (pond', ['heron', 'pond'], [...heronDocs, 'pond-1', 'pond-2']], // "and" is a stop word; terms are OR-ed
    ["text:heron OR 1=1'", ['heron'], heronDocs],
    ['*', [], []],
    ['héron ñ 東京 🙂', ['heron'], heronDocs], // ASCII folding
  ];
  for (const [query, terms, expected] of cases) assertBm25(await index.search(query, { k: 10 }), terms, expected);
  assert.equal(ids(await index.search('"; DROP TABLE documents; -- heron'))[0], 'heron-twice');
  assert.equal(await index.count(), 6);
});

test('bad input is rejected with the field named', { timeout: 20_000 }, async () => {
  const dir = await scratchDir();
  const index = await openIndex(dir);
  await assert.rejects(index.add([{ id: 'ok', text: 'fine' }, { id: '', text: 'x' }]), /documents\[1\]\.id: expected a non-empty string, got ""/);
  await assert.rejects(index.add([{ id: 'x', text: 3 as unknown as string }]), /documents\[0\]\.text: expected a string, got number/);
  await assert.rejects(index.add([{ id: 'x', text: 't', metadata: [] as unknown as Record<string, unknown> }]), /documents\[0\]\.metadata: expected an object/);
  await assert.rejects(index.search('q', { k: 0 }), /k: expected a positive integer, got 0/);
  await assert.rejects(index.search('  '), /query: expected non-empty text for text search/);
  await assert.rejects(index.search('q', { mode: 'vector' }), /mode: vector is not supported here \(supported: text\): the index was built without an encoder/);
  await assert.rejects(index.search('q', { mode: 'fuzzy' as 'text' }), /mode: expected text, vector or hybrid, got "fuzzy"/);
  await assert.rejects(index.delete([7 as unknown as string]), /ids\[0\]: expected a non-empty string, got 7/);
  await assert.rejects(LanceDbRetriever.open(dir, { table: '../escape' }), /table: expected letters, digits/);
  const foreign = await scratchDir();
  await writeFile(lanceManifestPath(foreign), '{"format":2,"table":"documents","encoder":null}');
  await assert.rejects(LanceDbRetriever.open(foreign), /documents\.rankwise\.json: "format": expected 1, got 2/);
  assert.deepEqual(await index.search('anything'), [], 'an empty index finds nothing');
  await index.close();
  await assert.rejects(index.search('q'), /the retriever is closed/);
});

test('the folder records its encoder, and opening with another one fails naming both', { timeout: 20_000 }, async () => {
  const dir = await scratchDir();
  const index = await openIndex(dir, { encoder: fixture });
  assert.deepEqual(index.modes, ['text', 'vector', 'hybrid']);
  await index.add(LEXICAL.slice(0, 2));
  const manifest = JSON.parse(await readFile(lanceManifestPath(dir), 'utf8'));
  assert.deepEqual(manifest.encoder, { name: fixture.name, dimension: 32 });
  await index.close();
  await assert.rejects(
    LanceDbRetriever.open(dir, { encoder: fixtureSmall }),
    (error: Error) => error.message.includes(`built with encoder ${fixture.name} (32-d)`) && error.message.includes(`cannot open it with encoder ${fixtureSmall.name} (16-d)`),
  );
  const lexicalDir = await scratchDir();
  await (await openIndex(lexicalDir)).close();
  await assert.rejects(LanceDbRetriever.open(lexicalDir, { encoder: fixture }), /was built without an encoder \(lexical only\); cannot open it with encoder/);
  // Without an encoder the vector index is still searchable by text and by a given vector, but not writable.
  const bare = await openIndex(dir);
  assert.equal((await bare.search('heron', { mode: 'text' }))[0].id, 'heron-twice');
  const [v] = await fixture.encode([LEXICAL[1].text]);
  assert.equal((await bare.search('', { mode: 'vector', vector: v }))[0].id, 'heron-long');
  await assert.rejects(bare.search('heron', { mode: 'vector' }), /opened without an encoder; pass options\.vector/);
  await assert.rejects(bare.add([{ id: 'n', text: 'new' }]), new RegExp(`stores ${fixture.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} vectors: open it with that encoder`));
  await assert.rejects(bare.search('', { mode: 'vector', vector: new Float32Array(5) }), /vector: expected 32 numbers \(the index's dimension\), got 5/);
});

test('vector scores are cosine similarities of the encoder vectors; hybrid scores are RRF over the text and vector lists', { timeout: 20_000 }, async () => {
  const index = await openIndex(await scratchDir(), { encoder: fixture });
  await index.add(LEXICAL);
  const query = 'heron pond';
  const [q] = await fixture.encode([query]);
  const docVectors = await fixture.encode(LEXICAL.map((d) => d.text));
  const vectorHits = await index.search(query, { mode: 'vector', k: 6 });
  assert.equal(vectorHits.length, 6);
  for (const hit of vectorHits) {
    const expected = cosineSimilarity(q, docVectors[LEXICAL.findIndex((d) => d.id === hit.id)]);
    assert.ok(Math.abs(hit.score - expected) < 1e-5, `${hit.id}: ${hit.score} vs ${expected}`);
  }
  for (let i = 1; i < vectorHits.length; i++) assert.ok(vectorHits[i - 1].score >= vectorHits[i].score);
  // A document's own vector, at any length, finds it first with similarity 1.
  const self = await index.search('', { mode: 'vector', vector: docVectors[4].map((x) => 3 * x), k: 1 });
  assert.equal(self[0].id, 'meadow');
  assert.ok(Math.abs(self[0].score - 1) < 1e-5);

  const textHits = await index.search(query, { mode: 'text', k: 6 });
  const hybrid = await index.search(query, { mode: 'hybrid', k: 6 });
  assert.equal(hybrid.length, 6, 'hybrid includes documents only the vector list found');
  const rankIn = (hits: RetrievedDocument[], id: string) => hits.findIndex((h) => h.id === id) + 1;
  for (const hit of hybrid) {
    const t = rankIn(textHits, hit.id);
    const v = rankIn(vectorHits, hit.id);
    const expected = (t ? 1 / (60 + t) : 0) + (v ? 1 / (60 + v) : 0);
    assert.ok(Math.abs(hit.score - expected) < 1e-12, `${hit.id}: ${hit.score} vs ${expected}`);
  }
  for (let i = 1; i < hybrid.length; i++) assert.ok(hybrid[i - 1].score >= hybrid[i].score);
  assert.deepEqual((await index.search(query)).map((h) => h.score), hybrid.map((h) => h.score), 'hybrid is the default with an encoder');
});

test('with USE Lite, vector search finds the paraphrase that shares no words with the query, and hybrid keeps both kinds', { timeout: 20_000 }, async () => {
  const index = await openIndex(await scratchDir(), { encoder: useLite });
  await index.add([
    { id: 'photosynthesis', text: 'Green leaves capture solar radiation and store it as sugar' },
    { id: 'food-trucks', text: 'Food trucks turn the plaza into a busy market at night' },
    { id: 'stocks', text: 'The stock exchange dropped sharply after interest rates rose' },
    { id: 'kittens', text: 'Kittens nap all afternoon on warm windowsills' },
    { id: 'football', text: 'Football supporters celebrated the championship downtown' },
  ]);
  const query = 'how do plants turn sunlight into food';
  const vector = await index.search(query, { mode: 'vector', k: 5 });
  assert.equal(vector[0].id, 'photosynthesis');
  const text = await index.search(query, { mode: 'text', k: 5 });
  assert.deepEqual(ids(text), ['food-trucks'], 'only the document sharing words matches lexically');
  const hybrid = await index.search(query, { mode: 'hybrid', k: 2 });
  assert.deepEqual(new Set(ids(hybrid)), new Set(['photosynthesis', 'food-trucks']));
});
