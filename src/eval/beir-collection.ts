/**
 * Reads a test collection in BEIR's layout (Thakur et al. 2021), the format most public retrieval benchmarks ship in:
 *
 * ```
 * corpus.jsonl        {"_id": "d1", "title": "...", "text": "..."}      (or corpus.jsonl.gz)
 * queries.jsonl       {"_id": "q1", "text": "..."}                      (or queries.jsonl.gz)
 * qrels/test.tsv      query-id <TAB> corpus-id <TAB> score, after a header line; also dev.tsv, train.tsv
 * ```
 */
import { join } from 'node:path';
import { exists } from '../util/fs.js';
import { readJsonLines, readText } from '../util/jsonl.js';
import { readCorpus } from '../retrieve/corpus.js';
import type { IndexedDocument } from '../retrieve/retriever.js';
import { InputError } from '../errors.js';

export interface BeirQuery {
  id: string;
  text: string;
}

export interface BeirCollection {
  dir: string;
  split: string;
  /** Documents with `title` put in front of `text` (kept in `metadata.title`), as BEIR's baselines index them. */
  corpus: IndexedDocument[];
  /** The queries that the split judges, in the order of queries.jsonl. */
  queries: BeirQuery[];
  /** Grades by query id, then document id. A grade <= 0 marks a document judged not relevant. */
  qrels: Map<string, Map<string, number>>;
}

/** The file itself or its `.gz`; the error names both when neither is there. */
async function findFile(dir: string, name: string): Promise<string> {
  for (const candidate of [join(dir, name), join(dir, `${name}.gz`)]) if (await exists(candidate)) return candidate;
  throw new InputError(`${dir}: no ${name} (or ${name}.gz); a BEIR folder holds corpus.jsonl, queries.jsonl and qrels/<split>.tsv`);
}

export async function readBeirQrels(path: string): Promise<Map<string, Map<string, number>>> {
  const qrels = new Map<string, Map<string, number>>();
  const lines = (await readText(path, 'qrels')).split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    // BEIR: query-id, corpus-id, score after a header line; TREC qrels (qid 0 docid grade) are read too.
    const fields = line.split(/\s+/);
    if (i === 0 && !/^-?\d+$/.test(fields.at(-1) ?? '')) return;
    if (fields.length !== 3 && fields.length !== 4) {
      throw new InputError(`${path}:${i + 1}: expected "query-id<TAB>corpus-id<TAB>score", got ${JSON.stringify(line.slice(0, 80))}`);
    }
    const [query, document, grade] = fields.length === 3 ? fields : [fields[0], fields[2], fields[3]];
    const value = Number(grade);
    if (!Number.isInteger(value)) throw new InputError(`${path}:${i + 1}: score: expected an integer grade, got ${JSON.stringify(grade)}`);
    let judged = qrels.get(query);
    if (!judged) qrels.set(query, (judged = new Map()));
    judged.set(document, value);
  });
  if (qrels.size === 0) throw new InputError(`${path}: no judgments in it`);
  return qrels;
}

/**
 * Reads corpus, queries and the split's judgments. Judgments of unknown queries or documents are errors (they
 * would silently lower every score); queries without judgments in the split are left out.
 */
export async function readBeirCollection(dir: string, options: { split?: string } = {}): Promise<BeirCollection> {
  const split = options.split ?? 'test';
  if (!/^[\w.-]+$/.test(split)) throw new InputError(`split: expected a name such as test or dev, got ${JSON.stringify(split)}`);
  const qrelsPath = join(dir, 'qrels', `${split}.tsv`);
  if (!(await exists(qrelsPath))) throw new InputError(`${dir}: no qrels/${split}.tsv (the judgments of split "${split}")`);
  const [corpus, queryLines, qrels] = await Promise.all([
    findFile(dir, 'corpus.jsonl').then(readCorpus),
    findFile(dir, 'queries.jsonl').then(async (path) => ({ path, rows: await readJsonLines(path, 'queries') })),
    readBeirQrels(qrelsPath),
  ]);
  const queries: BeirQuery[] = [];
  const seen = new Set<string>();
  for (const { line, value } of queryLines.rows) {
    const id = value._id ?? value.id;
    if (typeof id !== 'string' && typeof id !== 'number') throw new InputError(`${queryLines.path}:${line}: "_id": expected a string or a number`);
    if (typeof value.text !== 'string' || value.text.trim() === '') throw new InputError(`${queryLines.path}:${line}: "text": expected a non-empty string`);
    const key = String(id);
    if (seen.has(key)) throw new InputError(`${queryLines.path}:${line}: "_id": ${JSON.stringify(key)} used twice`);
    seen.add(key);
    if (qrels.has(key)) queries.push({ id: key, text: value.text });
  }
  const documentIds = new Set(corpus.map((d) => d.id));
  for (const [query, judged] of qrels) {
    if (!seen.has(query)) throw new InputError(`${qrelsPath}: query ${JSON.stringify(query)} is judged but not in queries.jsonl`);
    for (const document of judged.keys()) {
      if (!documentIds.has(document)) throw new InputError(`${qrelsPath}: query ${JSON.stringify(query)} judges document ${JSON.stringify(document)}, which is not in the corpus`);
    }
  }
  return { dir, split, corpus, queries, qrels };
}
