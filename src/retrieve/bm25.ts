/**
 * Okapi BM25 in memory: an analyser (lower case, letters and digits, English stop words dropped, Porter stems), the
 * collection statistics BM25 needs (document frequencies, average length), and scoring of any (query, text) pair
 * against those statistics.
 *
 * Why another BM25 next to LanceDB's: a reranker that uses lexical evidence scores pairs it is handed, not rows of
 * an index, and must carry the statistics of the collection it was adapted to inside its model folder. The
 * statistics are plain JSON (`Bm25Statistics`), so they can be saved, hashed and loaded without a database.
 */
import { stemmer } from 'stemmer';
import { InputError } from '../errors.js';

/** Robertson et al.'s parameters as Anserini uses them for BEIR (k1 0.9, b 0.4). */
export const DEFAULT_BM25 = { k1: 0.9, b: 0.4 } as const;

export interface Bm25Parameters {
  k1: number;
  b: number;
}

/** Collection statistics: everything needed to score a pair as if the document were in the collection. */
export interface Bm25Statistics {
  format: 'rankwise-bm25/1';
  documents: number;
  averageLength: number;
  /** Document frequency of each analysed term. */
  df: Record<string, number>;
  k1: number;
  b: number;
}

// The usual English stop list (Lucene's, with a few more function words): terms that carry no topic.
const STOP_WORDS = new Set(
  (
    'a an and are as at be been being but by can could did do does doing for from had has have having he her here hers him his how i if in into is it its ' +
    'me more most my no nor not of on or our ours she should so some such than that the their theirs them then there these they this those through to ' +
    'too us very was we were what when where which while who whom why will with would you your yours'
  ).split(' '),
);

const TOKEN = /[\p{L}\p{N}]+/gu;

/** Terms of a text as BM25 counts them. */
export function analyze(text: string): string[] {
  const terms: string[] = [];
  for (const match of text.toLowerCase().matchAll(TOKEN)) {
    const token = match[0];
    if (STOP_WORDS.has(token)) continue;
    terms.push(token.length > 2 && /^[a-z]+$/.test(token) ? stemmer(token) : token);
  }
  return terms;
}

function termCounts(terms: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const term of terms) counts.set(term, (counts.get(term) ?? 0) + 1);
  return counts;
}

/** Statistics of a collection of texts. */
export function bm25Statistics(texts: Iterable<string>, parameters: Bm25Parameters = DEFAULT_BM25): Bm25Statistics {
  return statisticsOf(Array.from(texts, analyze), parameters);
}

function statisticsOf(documents: ReadonlyArray<readonly string[]>, parameters: Bm25Parameters): Bm25Statistics {
  checkParameters(parameters);
  const df = new Map<string, number>();
  let totalLength = 0;
  for (const terms of documents) {
    totalLength += terms.length;
    for (const term of new Set(terms)) df.set(term, (df.get(term) ?? 0) + 1);
  }
  const sorted = [...df].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    format: 'rankwise-bm25/1',
    documents: documents.length,
    averageLength: documents.length === 0 ? 0 : totalLength / documents.length,
    df: Object.fromEntries(sorted),
    k1: parameters.k1,
    b: parameters.b,
  };
}

/** Checks statistics read from a file; `where` names it in errors. */
export function checkBm25Statistics(value: unknown, where: string): Bm25Statistics {
  const v = value as Partial<Bm25Statistics> | null;
  if (typeof v !== 'object' || v === null || v.format !== 'rankwise-bm25/1') throw new InputError(`${where}: expected BM25 statistics with "format": "rankwise-bm25/1"`);
  if (!Number.isInteger(v.documents) || v.documents! < 1) throw new InputError(`${where}: "documents": expected a positive integer`);
  if (typeof v.averageLength !== 'number' || !(v.averageLength > 0)) throw new InputError(`${where}: "averageLength": expected a positive number`);
  if (typeof v.df !== 'object' || v.df === null) throw new InputError(`${where}: "df": expected an object of term counts`);
  checkParameters({ k1: v.k1 as number, b: v.b as number }, where);
  return v as Bm25Statistics;
}

function checkParameters(p: Bm25Parameters, where = 'bm25'): void {
  if (typeof p.k1 !== 'number' || !(p.k1 >= 0)) throw new InputError(`${where}: "k1": expected a number >= 0, got ${p.k1}`);
  if (typeof p.b !== 'number' || !(p.b >= 0 && p.b <= 1)) throw new InputError(`${where}: "b": expected a number from 0 to 1, got ${p.b}`);
}

/**
 * Scores (query, text) pairs with one collection's statistics. A term the collection never saw gets the IDF of a
 * term in one document: it is rare there, which is what a new word in a query most often is.
 */
export class Bm25Scorer {
  constructor(readonly statistics: Bm25Statistics) {}

  /** Lucene's IDF, log(1 + (N - df + 0.5) / (df + 0.5)): never negative, unlike Robertson's original. */
  idf(term: string): number {
    const n = this.statistics.documents;
    const df = Math.min(this.statistics.df[term] ?? 1, n);
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** One term's share of a document's score: idf x saturated term frequency, normalised by document length. */
  termScore(idf: number, tf: number, documentLength: number): number {
    const { k1, b, averageLength } = this.statistics;
    return (idf * tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * documentLength) / averageLength));
  }

  /** BM25 of each text for the query. Repeated query terms count once per repetition, as in Lucene. */
  score(query: string, texts: readonly string[]): number[] {
    const queryTerms = analyze(query);
    const idf = new Map(queryTerms.map((t) => [t, this.idf(t)]));
    return texts.map((text) => {
      const terms = analyze(text);
      const counts = termCounts(terms);
      let sum = 0;
      for (const term of queryTerms) {
        const tf = counts.get(term);
        if (tf) sum += this.termScore(idf.get(term)!, tf, terms.length);
      }
      return sum;
    });
  }
}

/** An in-memory BM25 index over a fixed set of documents: for mining and evaluation on collections that fit in memory. */
export class Bm25Index {
  private readonly postings = new Map<string, Array<[number, number]>>();
  private readonly lengths: Int32Array;
  readonly statistics: Bm25Statistics;
  private readonly scorer: Bm25Scorer;

  constructor(
    readonly documents: ReadonlyArray<{ id: string; text: string }>,
    parameters: Bm25Parameters = DEFAULT_BM25,
  ) {
    const analysed = documents.map((document) => analyze(document.text));
    this.lengths = Int32Array.from(analysed, (terms) => terms.length);
    analysed.forEach((terms, index) => {
      for (const [term, tf] of termCounts(terms)) {
        let list = this.postings.get(term);
        if (!list) this.postings.set(term, (list = []));
        list.push([index, tf]);
      }
    });
    this.statistics = statisticsOf(analysed, parameters);
    this.scorer = new Bm25Scorer(this.statistics);
  }

  /** The best `k` documents for the query, best first; ties by document position. Documents sharing no term are left out. */
  search(query: string, k: number): Array<{ index: number; id: string; score: number }> {
    if (!Number.isInteger(k) || k < 1) throw new InputError(`k: expected a positive integer, got ${k}`);
    const scores = new Map<number, number>();
    for (const term of analyze(query)) {
      const list = this.postings.get(term);
      if (!list) continue;
      const idf = this.scorer.idf(term);
      for (const [index, tf] of list) scores.set(index, (scores.get(index) ?? 0) + this.scorer.termScore(idf, tf, this.lengths[index]));
    }
    return [...scores]
      .sort((x, y) => y[1] - x[1] || x[0] - y[0])
      .slice(0, k)
      .map(([index, score]) => ({ index, id: this.documents[index].id, score }));
  }
}
