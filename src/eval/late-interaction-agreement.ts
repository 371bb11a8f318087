/**
 * How closely one ranker (late interaction) follows another (the cross-encoder, taken as ground truth) over many
 * queries: Kendall's tau and top-3 / top-5 overlap per query and on average, as the source article reports them.
 */
import { scoresOf, type Ranker } from '../rank/results.js';
import { readJsonLines, readText } from '../util/jsonl.js';
import { kendallTau, rankingFromScores, topKOverlap } from './agreement.js';
import { InputError } from '../errors.js';

export interface RankingAgreement {
  tau: number;
  top3: number;
  top5: number;
}

export interface AgreementQuery {
  id: string;
  query: string;
}

export interface QueryAgreement extends RankingAgreement {
  id: string;
  query: string;
}

export interface AgreementReport {
  candidate: string;
  reference: string;
  rows: QueryAgreement[];
  average: RankingAgreement;
}

/** Tau over all documents, overlap of the first 3 and 5 (capped at the number of documents). */
export function agreementOfScores(candidate: ArrayLike<number>, reference: ArrayLike<number>): RankingAgreement {
  const a = Array.from(candidate);
  const b = Array.from(reference);
  const rankA = rankingFromScores(a);
  const rankB = rankingFromScores(b);
  const at = (k: number) => topKOverlap(rankA, rankB, Math.min(k, a.length));
  return { tau: kendallTau(a, b), top3: at(3), top5: at(5) };
}

export function averageAgreement(rows: readonly RankingAgreement[]): RankingAgreement {
  if (rows.length === 0) throw new InputError('averageAgreement: no rows');
  const mean = (f: (r: RankingAgreement) => number) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
  return { tau: mean((r) => r.tau), top3: mean((r) => r.top3), top5: mean((r) => r.top5) };
}

export async function compareRankings(
  candidate: Ranker,
  reference: Ranker,
  queries: readonly AgreementQuery[],
  documents: readonly string[],
  onQuery?: (done: number) => void,
): Promise<AgreementReport> {
  if (queries.length === 0) throw new InputError('queries: expected at least one query');
  if (documents.length < 2) throw new InputError(`documents: need at least 2 to compare rankings, got ${documents.length}`);
  const rows: QueryAgreement[] = [];
  for (const q of queries) {
    const a = await scoresOf(candidate, q.query, documents);
    const b = await scoresOf(reference, q.query, documents);
    rows.push({ id: q.id, query: q.query, ...agreementOfScores(a, b) });
    onQuery?.(rows.length);
  }
  return { candidate: candidate.name, reference: reference.name, rows, average: averageAgreement(rows) };
}

/** A query line: `{"query"}` or `{"id","query"}` (other fields, such as "topic", are kept out of the way). */
export function parseAgreementQuery(value: Record<string, unknown>, where: string, fallbackId: string): AgreementQuery {
  if (typeof value.query !== 'string' || value.query.trim() === '') throw new InputError(`${where}: "query": expected a non-empty string`);
  if (value.id !== undefined && typeof value.id !== 'string' && typeof value.id !== 'number') throw new InputError(`${where}: "id": expected a string or a number`);
  return { id: value.id === undefined ? fallbackId : String(value.id), query: value.query };
}

/** Queries from `.jsonl` (`{"query"}` or `{"id","query"}` per line) or `.txt` (one per non-empty line). */
export async function readAgreementQueries(path: string, option: string): Promise<AgreementQuery[]> {
  let queries: AgreementQuery[];
  if (path.toLowerCase().endsWith('.jsonl')) {
    queries = (await readJsonLines(path, option)).map(({ line, value }) => parseAgreementQuery(value, `${path}:${line}`, `q${line}`));
  } else {
    queries = (await readText(path, option))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '')
      .map((query, i) => ({ id: `q${i + 1}`, query }));
  }
  if (queries.length === 0) throw new InputError(`${option} ${path}: no queries in it`);
  return queries;
}
