/**
 * Checks the JSON Lines data sets under datasets/ (legal, soft-scores, cybersecurity): shapes, field types, counts,
 * seen/unseen splits, duplicates, text hygiene, and that the negatives are hard (they share words with their query and
 * carry no surface cue such as length or first word that gives the label away). What each file is meant to contain is
 * described in datasets/README.md; the README is checked to list every topic used here.
 * Run: node --import tsx --test test/datasets.test.ts
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

const DATASETS = new URL('../datasets/', import.meta.url);

type Kind = 'string' | 'label' | 'score' | 'split';
type Row = Record<string, unknown>;

interface Parsed<T> {
  rows: T[];
  raw: string[];
}

/** Reads a JSON Lines file strictly: UTF-8, `\n` endings, a final newline, no blank lines, one object per line. */
function readStrict(file: string): Parsed<Row> {
  const text = readFileSync(new URL(file, DATASETS), 'utf8');
  assert.ok(!text.startsWith('\uFEFF'), `${file}: starts with a byte order mark`);
  assert.ok(!text.includes('\uFFFD'), `${file}: contains U+FFFD (not valid UTF-8)`);
  assert.ok(!text.includes('\r'), `${file}: contains a carriage return`);
  assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'), `${file}: must end with exactly one newline`);
  const raw = text.slice(0, -1).split('\n');
  const rows = raw.map((line, i) => {
    assert.notEqual(line.trim(), '', `${file}:${i + 1}: blank line`);
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      assert.fail(`${file}:${i + 1}: not valid JSON (${(error as Error).message})`);
    }
    assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `${file}:${i + 1}: expected an object`);
    return value as Row;
  });
  return { rows, raw };
}

/** Every line has exactly these fields, each of the given kind. */
function checkShape(file: string, rows: Row[], schema: Record<string, Kind>): void {
  const expected = Object.keys(schema).sort();
  rows.forEach((row, i) => {
    const where = `${file}:${i + 1}`;
    assert.deepEqual(Object.keys(row).sort(), expected, `${where}: fields`);
    for (const [field, kind] of Object.entries(schema)) {
      const v = row[field];
      switch (kind) {
        case 'string':
          assert.equal(typeof v, 'string', `${where}: "${field}" must be a string`);
          assert.ok((v as string).length > 0, `${where}: "${field}" is empty`);
          assert.equal(v, (v as string).trim(), `${where}: "${field}" has surrounding whitespace`);
          assert.ok(!/\s{2}|[\t\n]/.test(v as string), `${where}: "${field}" has doubled or odd whitespace`);
          break;
        case 'label':
          assert.ok(v === 0 || v === 1, `${where}: "label" must be the number 0 or 1, got ${JSON.stringify(v)}`);
          break;
        case 'score':
          assert.ok(typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 1, `${where}: "score" must be a number in [0, 1], got ${JSON.stringify(v)}`);
          assert.equal(Math.round((v as number) * 100) / 100, v, `${where}: "score" has more than two decimals`);
          break;
        case 'split':
          assert.ok(v === 'seen' || v === 'unseen', `${where}: "split" must be "seen" or "unseen", got ${JSON.stringify(v)}`);
          break;
      }
    }
  });
}

function checkNoDuplicates(file: string, raw: string[], keys: string[][]): void {
  const seen = new Map<string, number>();
  raw.forEach((line, i) => {
    const first = seen.get(line);
    assert.equal(first, undefined, `${file}:${i + 1} duplicates line ${first}`);
    seen.set(line, i + 1);
  });
  keys.forEach((key, i) => {
    const k = JSON.stringify(key);
    const first = seen.get(k);
    assert.equal(first, undefined, `${file}:${i + 1} repeats the pair on line ${first}`);
    seen.set(k, i + 1);
  });
}

/** A query as a person would type it: lower case, no question mark, 2 to 16 words. */
function checkQuery(where: string, query: string): void {
  assert.equal(query, query.toLowerCase(), `${where}: query should be lower case: ${query}`);
  assert.ok(!/[?.!]$/.test(query), `${where}: query should not end with punctuation: ${query}`);
  const words = query.split(' ').length;
  assert.ok(words >= 2 && words <= 16, `${where}: query has ${words} words`);
}

/** A document: 1 to 3 sentences, starting with a capital and ending with a full stop. */
function checkDocument(where: string, doc: string): void {
  assert.ok(/^[A-Z0-9]/.test(doc), `${where}: document should start with a capital: ${doc}`);
  assert.ok(/[.!?]$/.test(doc), `${where}: document should end with sentence punctuation: ${doc}`);
  const sentences = doc.split(/(?<=[.!?])\s+(?=[A-Z0-9])/).length;
  assert.ok(sentences >= 1 && sentences <= 3, `${where}: document has ${sentences} sentences: ${doc}`);
  const words = doc.split(' ').length;
  assert.ok(words >= 8 && words <= 60, `${where}: document has ${words} words`);
}

// --- Word overlap: what makes a negative "hard" -------------------------------------------------------------------

const STOPWORDS = new Set(
  `a an the and or but nor if then than so not no of in on at to for from by with about as into onto over under after
  before up down out off again very too just also only own same such some any all each every both few more most other
  there here is are was were be been being am have has had having do does did doing done can could should would
  shall may might must get gets got i me my mine you your yours he him his she her it its we us our they them their
  this that these those what which who whom whose when where why how whether don didn doesn won isn aren wasn can't
  need needs use used using uses one ones someone something thing things way ways make makes made still even yes`
    .split(/\s+/)
    .filter(Boolean),
);

/** A crude stem, enough to match "evicted" with "eviction" or "passwords" with "password". */
function stem(word: string): string {
  if (word.endsWith('ies') && word.length > 4) return `${word.slice(0, -3)}y`;
  const m = /(ings|ing|ions|ion|ers|er|es|ed|s|ly|e)$/.exec(word);
  return m && word.length - m[0].length >= 3 ? word.slice(0, -m[0].length) : word;
}

function contentStems(text: string): Set<string> {
  const words = text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length >= 3 && !STOPWORDS.has(w));
  return new Set(words.map(stem));
}

function shared(query: string, doc: string): string[] {
  const d = contentStems(doc);
  return [...contentStems(query)].filter((w) => d.has(w));
}

function checkHardNegatives(file: string, pairs: Array<{ where: string; query: string; doc: string }>): void {
  assert.ok(pairs.length > 0, `${file}: no negatives to check`);
  for (const { where, query, doc } of pairs) {
    assert.ok(shared(query, doc).length >= 1, `${where}: the negative shares no content word with "${query}": ${doc}`);
  }
}

// --- Surface cues --------------------------------------------------------------------------------------------------

const firstWord = (s: string) => s.split(' ')[0].replace(/[^A-Za-z0-9-]/g, '').toLowerCase();

/** No single first word opens more than a quarter of the documents in a group. */
function checkOpenings(what: string, docs: string[]): void {
  const counts = new Map<string, number>();
  for (const d of docs) counts.set(firstWord(d), (counts.get(firstWord(d)) ?? 0) + 1);
  const [word, n] = [...counts].sort((a, b) => b[1] - a[1])[0];
  assert.ok(n <= Math.max(2, docs.length / 4), `${what}: ${n} of ${docs.length} start with "${word}"`);
}

/** Relevant and non-relevant documents have about the same average length. */
function checkLengths(what: string, positives: string[], negatives: string[]): void {
  const mean = (xs: string[]) => xs.reduce((s, x) => s + x.length, 0) / xs.length;
  const ratio = mean(positives) / mean(negatives);
  assert.ok(ratio >= 0.85 && ratio <= 1.15, `${what}: positives average ${ratio.toFixed(2)}x the length of negatives`);
}

// --- Evaluation files (shared by all three data sets) --------------------------------------------------------------

interface EvalCase {
  query: string;
  relevant: string;
  distractor: string;
  split: 'seen' | 'unseen';
  topic: string;
}

const EVAL_SCHEMA: Record<string, Kind> = { query: 'string', relevant: 'string', distractor: 'string', split: 'split', topic: 'string' };

function checkEval(
  file: string,
  perSplit: number,
  train: { topics: Set<string>; queries: Set<string>; documents: Set<string> },
  extraFields: Record<string, Kind> = {},
): EvalCase[] {
  const { rows, raw } = readStrict(file);
  checkShape(file, rows, { ...EVAL_SCHEMA, ...extraFields });
  const cases = rows as unknown as EvalCase[];
  checkNoDuplicates(file, raw, cases.map((c) => [c.query, c.relevant, c.distractor]));
  assert.equal(cases.length, 2 * perSplit, `${file}: number of cases`);

  const seen = cases.filter((c) => c.split === 'seen');
  const unseen = cases.filter((c) => c.split === 'unseen');
  assert.equal(seen.length, perSplit, `${file}: seen cases`);
  assert.equal(unseen.length, perSplit, `${file}: unseen cases`);
  // One case per topic, so a topic cannot dominate a split.
  assert.equal(new Set(seen.map((c) => c.topic)).size, perSplit, `${file}: seen cases should cover ${perSplit} different topics`);
  assert.equal(new Set(unseen.map((c) => c.topic)).size, perSplit, `${file}: unseen cases should cover ${perSplit} different topics`);
  for (const c of seen) assert.ok(train.topics.has(c.topic), `${file}: seen topic "${c.topic}" is not a training topic`);
  for (const c of unseen) assert.ok(!train.topics.has(c.topic), `${file}: unseen topic "${c.topic}" appears in training`);

  const queries = new Set<string>();
  const docs = new Set<string>();
  cases.forEach((c, i) => {
    const where = `${file}:${i + 1}`;
    checkQuery(where, c.query);
    checkDocument(where, c.relevant);
    checkDocument(where, c.distractor);
    assert.notEqual(c.relevant, c.distractor, `${where}: relevant and distractor are the same text`);
    // New text, not lines taken from the training file (this holds for seen topics too).
    assert.ok(!train.queries.has(c.query), `${where}: query also appears in training: ${c.query}`);
    assert.ok(!train.documents.has(c.relevant), `${where}: relevant document also appears in training`);
    assert.ok(!train.documents.has(c.distractor), `${where}: distractor also appears in training`);
    assert.ok(!queries.has(c.query), `${where}: query repeated`);
    queries.add(c.query);
    for (const d of [c.relevant, c.distractor]) {
      assert.ok(!docs.has(d), `${where}: document repeated`);
      docs.add(d);
    }
  });

  checkHardNegatives(file, cases.map((c, i) => ({ where: `${file}:${i + 1}`, query: c.query, doc: c.distractor })));
  // Word matching alone must not settle the cases: in a good share of them the distractor shares at least as many
  // content words with the query as the relevant document does.
  const tempting = cases.filter((c) => shared(c.query, c.distractor).length >= shared(c.query, c.relevant).length).length;
  assert.ok(tempting >= cases.length * 0.4, `${file}: only ${tempting} of ${cases.length} distractors match the query as well as the relevant document`);
  // Length gives nothing away: distractors are longer in some cases and shorter in others.
  const longer = cases.filter((c) => c.distractor.length > c.relevant.length).length;
  assert.ok(longer >= cases.length * 0.25 && longer <= cases.length * 0.75, `${file}: distractor longer in ${longer} of ${cases.length} cases`);
  checkLengths(file, cases.map((c) => c.relevant), cases.map((c) => c.distractor));
  checkOpenings(`${file} relevant`, cases.map((c) => c.relevant));
  checkOpenings(`${file} distractors`, cases.map((c) => c.distractor));
  return cases;
}

function readme(): string {
  return readFileSync(new URL('README.md', DATASETS), 'utf8');
}

function checkDocumented(section: string, files: string[], topics: Iterable<string>): void {
  const text = readme();
  for (const file of files) assert.ok(text.includes(`\`${file}\``), `README.md does not mention ${file}`);
  for (const topic of topics) assert.ok(text.includes(`\`${topic}\``), `README.md (${section}) does not list the topic "${topic}"`);
}

// --- Binary training files (legal, cybersecurity) ------------------------------------------------------------------

interface LabelledRow {
  query: string;
  document: string;
  label: 0 | 1;
  topic: string;
}

/**
 * `lexicalNegatives`: `all` — every negative shares a content word with its query; `closest` — at least the closer
 * of a query's negatives does (a set may also hold purely semantic distractors, such as chickpeas for "aquafaba").
 */
function readLabelled(file: string, extraFields: Record<string, Kind> = {}, lexicalNegatives: 'all' | 'closest' = 'all'): LabelledRow[] {
  const { rows, raw } = readStrict(file);
  checkShape(file, rows, { query: 'string', document: 'string', label: 'label', topic: 'string', ...extraFields });
  const labelled = rows as unknown as LabelledRow[];
  checkNoDuplicates(file, raw, labelled.map((r) => [r.query, r.document]));
  labelled.forEach((r, i) => {
    checkQuery(`${file}:${i + 1}`, r.query);
    checkDocument(`${file}:${i + 1}`, r.document);
  });
  // Every query belongs to one topic, and every negative is paired with a positive for the same query.
  const topicOf = new Map<string, string>();
  for (const r of labelled) {
    const t = topicOf.get(r.query);
    assert.ok(t === undefined || t === r.topic, `${file}: query "${r.query}" is in two topics`);
    topicOf.set(r.query, r.topic);
  }
  for (const r of labelled.filter((x) => x.label === 0)) {
    assert.ok(labelled.some((x) => x.query === r.query && x.label === 1), `${file}: "${r.query}" has a negative but no positive`);
  }
  const docs = labelled.map((r) => r.document);
  assert.equal(new Set(docs).size, docs.length, `${file}: a document text is used twice`);
  const negatives = labelled.flatMap((r, i) => (r.label === 0 ? [{ where: `${file}:${i + 1}`, query: r.query, doc: r.document }] : []));
  const closest = [...countBy(negatives, (n) => n.query).values()].map((ns) =>
    ns.reduce((best, n) => (shared(n.query, n.doc).length > shared(best.query, best.doc).length ? n : best)),
  );
  checkHardNegatives(file, lexicalNegatives === 'all' ? negatives : closest);
  const pos = labelled.filter((r) => r.label === 1).map((r) => r.document);
  const neg = labelled.filter((r) => r.label === 0).map((r) => r.document);
  checkLengths(file, pos, neg);
  checkOpenings(`${file} positives`, pos);
  checkOpenings(`${file} negatives`, neg);
  return labelled;
}

function trainIndex(rows: Array<{ query: string; document: string; topic: string }>) {
  return {
    topics: new Set(rows.map((r) => r.topic)),
    queries: new Set(rows.map((r) => r.query)),
    documents: new Set(rows.map((r) => r.document)),
  };
}

function countBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) out.set(key(item), [...(out.get(key(item)) ?? []), item]);
  return out;
}

// --- Legal (binary labels, BCE fine-tuning) ------------------------------------------------------------------------

test('legal/train.jsonl: 12 topics x 6 pairs, 3 queries per topic each with one positive and one hard negative', { timeout: 120_000 }, () => {
  const rows = readLabelled('legal/train.jsonl');
  assert.equal(rows.length, 72);
  const byTopic = countBy(rows, (r) => r.topic);
  assert.equal(byTopic.size, 12, 'topics');
  for (const [topic, lines] of byTopic) {
    assert.equal(lines.length, 6, `${topic}: lines`);
    assert.equal(lines.filter((r) => r.label === 1).length, 3, `${topic}: positives`);
    const byQuery = countBy(lines, (r) => r.query);
    assert.equal(byQuery.size, 3, `${topic}: queries`);
    for (const [query, pair] of byQuery) {
      assert.deepEqual(pair.map((r) => r.label).sort(), [0, 1], `${topic}: "${query}" should have one positive and one negative`);
    }
  }
});

test('legal/eval.jsonl: 10 seen + 10 unseen cases, new text, hard distractors', { timeout: 120_000 }, () => {
  const train = readLabelled('legal/train.jsonl');
  const cases = checkEval('legal/eval.jsonl', 10, trainIndex(train));
  checkDocumented('legal', ['legal/train.jsonl', 'legal/eval.jsonl'], [...trainIndex(train).topics, ...cases.map((c) => c.topic)]);
});

// --- Soft scores (graded relevance, MSE distillation) -------------------------------------------------------------

interface ScoredRow {
  query: string;
  document: string;
  score: number;
  topic: string;
}

function readScored(): ScoredRow[] {
  const file = 'soft-scores/train.jsonl';
  const { rows, raw } = readStrict(file);
  checkShape(file, rows, { query: 'string', document: 'string', score: 'score', topic: 'string' });
  const scored = rows as unknown as ScoredRow[];
  checkNoDuplicates(file, raw, scored.map((r) => [r.query, r.document]));
  scored.forEach((r, i) => {
    checkQuery(`${file}:${i + 1}`, r.query);
    checkDocument(`${file}:${i + 1}`, r.document);
  });
  return scored;
}

test('soft-scores/train.jsonl: 60-80 graded pairs, 10+ queries, each spanning the documented scale', { timeout: 120_000 }, () => {
  const file = 'soft-scores/train.jsonl';
  const rows = readScored();
  assert.ok(rows.length >= 60 && rows.length <= 80, `${rows.length} lines`);
  const byQuery = countBy(rows, (r) => r.query);
  assert.ok(byQuery.size >= 10, `${byQuery.size} queries`);
  assert.equal(new Set(rows.map((r) => r.topic)).size, byQuery.size, 'one query per topic');
  for (const [query, docs] of byQuery) {
    assert.equal(new Set(docs.map((r) => r.topic)).size, 1, `"${query}" is in two topics`);
    const has = (lo: number, hi: number) => docs.some((r) => r.score >= lo && r.score <= hi);
    // 1.0 fully answers, ~0.7 mostly, ~0.4 partly, ~0.1 same words but a different need, 0.0 unrelated.
    assert.ok(has(0.9, 1), `"${query}": no document near 1.0`);
    assert.ok(has(0.55, 0.8), `"${query}": no document near 0.7`);
    assert.ok(has(0.3, 0.5), `"${query}": no document near 0.4`);
    assert.ok(has(0.01, 0.2), `"${query}": no document near 0.1`);
    assert.ok(has(0, 0), `"${query}": no unrelated document at 0.0`);
  }
  const docs = rows.map((r) => r.document);
  assert.equal(new Set(docs).size, docs.length, 'a document text is used twice');
  // The low but non-zero grades are the "same words, different need" documents: they must share words with the query.
  checkHardNegatives(
    file,
    rows.flatMap((r, i) => (r.score > 0 && r.score <= 0.2 ? [{ where: `${file}:${i + 1}`, query: r.query, doc: r.document }] : [])),
  );
  checkLengths(file, rows.filter((r) => r.score >= 0.5).map((r) => r.document), rows.filter((r) => r.score < 0.5).map((r) => r.document));
  checkOpenings(`${file} documents`, docs);
});

test('soft-scores/eval.jsonl: 10 seen + 10 unseen cases, new text, hard distractors', { timeout: 120_000 }, () => {
  const train = readScored();
  const cases = checkEval('soft-scores/eval.jsonl', 10, trainIndex(train));
  checkDocumented('soft scores', ['soft-scores/train.jsonl', 'soft-scores/eval.jsonl'], [...trainIndex(train).topics, ...cases.map((c) => c.topic)]);
});

// --- Cybersecurity (cross-encoder -> bi-encoder distillation) ------------------------------------------------------

test('cybersecurity/train.jsonl: 90-120 pairs over 15 confusable topics, positives and neighbour negatives in each', { timeout: 120_000 }, () => {
  const rows = readLabelled('cybersecurity/train.jsonl');
  assert.ok(rows.length >= 90 && rows.length <= 120, `${rows.length} lines`);
  const byTopic = countBy(rows, (r) => r.topic);
  assert.equal(byTopic.size, 15, 'topics');
  for (const [topic, lines] of byTopic) {
    assert.ok(topic.includes(' vs '), `topic "${topic}" should name the confusable pair ("a vs b")`);
    assert.ok(lines.filter((r) => r.label === 1).length >= 3, `${topic}: positives`);
    assert.ok(lines.filter((r) => r.label === 0).length >= 3, `${topic}: negatives`);
  }
});

test('cybersecurity/eval.jsonl: 15 seen (one per training topic) + 15 unseen cases, new text, hard distractors', { timeout: 120_000 }, () => {
  const train = readLabelled('cybersecurity/train.jsonl');
  const index = trainIndex(train);
  const cases = checkEval('cybersecurity/eval.jsonl', 15, index);
  assert.deepEqual(new Set(cases.filter((c) => c.split === 'seen').map((c) => c.topic)), index.topics, 'every training topic has a seen case');
  for (const c of cases) assert.ok(c.topic.includes(' vs '), `topic "${c.topic}" should name the confusable pair`);
  checkDocumented('cybersecurity', ['cybersecurity/train.jsonl', 'cybersecurity/eval.jsonl'], [...index.topics, ...cases.map((c) => c.topic)]);
});

// --- The built-in reranker's data (several domains, BCE) ------------------------------------------------------------

const RERANKER_DOMAINS = ['health', 'cooking', 'travel', 'personal-finance', 'software', 'home-and-diy', 'science-and-nature', 'consumer-tech-support'];

test('reranker/train.jsonl: 8 domains x 8 topics x 3 queries, each query one answer and two hard distractors', { timeout: 120_000 }, () => {
  const rows = readLabelled('reranker/train.jsonl', { domain: 'string' }, 'closest') as Array<LabelledRow & { domain: string }>;
  assert.equal(rows.length, 576);
  assert.deepEqual(new Set(rows.map((r) => r.domain)), new Set(RERANKER_DOMAINS));
  const byQuery = countBy(rows, (r) => r.query);
  assert.equal(byQuery.size, 192, 'queries');
  for (const [query, lines] of byQuery) {
    assert.deepEqual(lines.map((r) => r.label).sort(), [0, 0, 1], `"${query}": one relevant document and two distractors`);
  }
  for (const [domain, lines] of countBy(rows, (r) => r.domain)) assert.equal(new Set(lines.map((r) => r.topic)).size, 8, `${domain}: topics`);
});

test('reranker/eval.jsonl: 32 seen + 32 unseen cases, 4 each per domain, new text, hard distractors', { timeout: 120_000 }, () => {
  const train = readLabelled('reranker/train.jsonl', { domain: 'string' }, 'closest');
  const cases = checkEval('reranker/eval.jsonl', 32, trainIndex(train), { domain: 'string' }) as Array<EvalCase & { domain: string }>;
  for (const [domain, inDomain] of countBy(cases, (c) => c.domain)) {
    assert.ok(RERANKER_DOMAINS.includes(domain), `unknown domain ${domain}`);
    assert.equal(inDomain.filter((c) => c.split === 'unseen').length, 4, `${domain}: unseen cases`);
  }
  checkDocumented('reranker', ['reranker/train.jsonl', 'reranker/eval.jsonl'], []);
});

// --- The check itself ----------------------------------------------------------------------------------------------

test('word-overlap helper: stems and stop words behave as the checks above assume', { timeout: 120_000 }, () => {
  assert.deepEqual(shared('can i be evicted for complaining', 'Eviction rules differ.'), ['evict']);
  assert.deepEqual(shared('how long does probate take', 'Probation is shorter.'), ['probat']);
  assert.deepEqual(shared('what is the best way to do it', 'It is the way.'), []);
});
