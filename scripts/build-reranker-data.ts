// Builds the built-in reranker's training data under datasets/reranker-train/ from English text in Debian's archive
// that is NOT held out for evaluation (see datasets/beir/README.md): package descriptions, WordNet glosses against
// GCIDE entries, FOLDOC and the Jargon File.
//
//   node --import tsx scripts/build-reranker-data.ts            # with the versions pinned in the manifest
//   node --import tsx scripts/build-reranker-data.ts --repin    # take apt's current candidate versions
//
// Output: corpus/<source>.jsonl.gz (the documents), train.jsonl.gz (the queries), manifest.json.
//
// Each training query has one positive, hard negatives mined with BM25 over its own source's documents, one easy
// negative drawn at random, and teacher signals for every document (BM25 within the source, USE Lite cosine) so that
// distillation recipes need no second pass. Everything is sorted and sampled with seeded PRNGs: two builds with the
// same pinned inputs write byte-identical files. Uses the scratch folder of scripts/build-beir-sets.ts.
import { mkdirSync, readFileSync, existsSync, writeFileSync, renameSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { loadSentenceEncoder } from "../src/models/load-encoder.js";
import { dot } from "../src/models/vectors.js";
import { Bm25Index, Bm25Scorer } from "../src/retrieve/bm25.js";
import type { TrainingTuple } from "../src/train/default-reranker.js";
import {
  aptUpdate,
  cleanGcide,
  cmp,
  collapse,
  cut,
  dropEchoes,
  fetchDeb,
  mulberry32,
  parseTranslationEn,
  readDictd,
  removePhrase,
  sha256,
  shuffled,
  translationEnFile,
  unambiguousGlosses,
  words,
  type Source,
} from "./build-beir-sets.js";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "datasets", "reranker-train");
const MANIFEST = join(OUT, "manifest.json");
const BEIR = join(ROOT, "datasets", "beir");
const SEED = 20261203;
/** About 250 USE Lite tokens: the longest input the recipe trains on, so longer text would be cut anyway. */
const MAX_CHARS = 1000;
const HARD_NEGATIVES = 3;
/** Hard negatives are drawn from this many BM25 candidates (the positive removed). */
const MINING_DEPTH = 30;
const QUERIES: Record<string, number> = { packages: 12000, glossary: 6000, foldoc: 6000, jargon: 1500 };
const PACKAGES = ["wordnet-base", "dict-gcide", "dict-foldoc", "dict-jargon"];

const log = (msg: string) => process.stderr.write(`[reranker-data] ${msg}\n`);

type Doc = { id: string; text: string };
type Pair = { query: string; positive: string };
type SourceSet = { name: string; description: string; docs: Doc[]; pairs: Pair[] };


// ---------------------------------------------------------------------------------------------------------------
// Sources

/** Ids of everything in the dev sets: never a training document, so dev measurements stay held out. */
function devIds(set: string): Set<string> {
  const text = gunzipSync(readFileSync(join(BEIR, set, "corpus.jsonl.gz"))).toString("utf8");
  return new Set(text.split("\n").filter(Boolean).map((l) => (JSON.parse(l) as { _id: string })._id));
}

function evaluationOnlyPackages(): Set<string> {
  const m = JSON.parse(readFileSync(join(BEIR, "manifest.json"), "utf8")) as { evaluationOnlyBinaryPackages: string[]; evaluationOnlySourcePackages: string[] };
  return new Set([...m.evaluationOnlyBinaryPackages, ...m.evaluationOnlySourcePackages]);
}

/** Synopsis -> long description, as the `packages` dev set, minus its documents and the evaluation-only packages. */
function packagesSource(translationEn: string): SourceSet {
  const exclude = devIds("packages");
  const heldOut = evaluationOnlyPackages();
  const pkgs = parseTranslationEn(translationEn).filter((p) => !exclude.has(`pkg:${p.name}`) && !heldOut.has(p.name));
  // Variants (-dev, -doc, lib...) repeat their main package's text: as negatives they would be false ones.
  const variantName = /^lib|-(dev|doc|dbg|dbgsym|data|common|examples|tests?|plugins?|l10n|locale|dictionary)$|^(fonts?|texlive|node|golang|librust|r-cran|r-bioc|php|ruby|python3?-)/;
  const generic = /transitional|dummy|meta-?package|debug(ging)? symbols|documentation|development files|header files|data files|shared librar|common files/i;
  const seenText = new Set<string>();
  const docs: Doc[] = [];
  const pairs: Pair[] = [];
  for (const p of pkgs) {
    if (variantName.test(p.name) || generic.test(p.synopsis) || words(p.synopsis).length < 3) continue;
    const text = cut(p.long.split("\n").map((para) => dropEchoes(removePhrase(para, p.synopsis), p.synopsis)).filter(Boolean).join("\n"), MAX_CHARS);
    const key = text.toLowerCase().slice(0, 200);
    if (words(text).length < 15 || seenText.has(key)) continue;
    seenText.add(key);
    docs.push({ id: `pkg:${p.name}`, text });
    pairs.push({ query: p.synopsis, positive: `pkg:${p.name}` });
  }
  return { name: "packages", description: "package synopsis -> its long description (bookworm main Translation-en)", docs, pairs };
}

/** WordNet gloss -> GCIDE entry of a one-sense word, as the `glossary` dev set, minus its 4,000 documents. */
function glossarySource(sources: Map<string, Source & { dir: string }>): SourceSet {
  const exclude = devIds("glossary");
  const glossOf = unambiguousGlosses(join(sources.get("wordnet-base")!.dir, "usr/share/wordnet"));
  const gcideDir = join(sources.get("dict-gcide")!.dir, "usr/share/dictd");
  const gcide = readDictd(join(gcideDir, "gcide.index"), join(gcideDir, "gcide.dict.dz"));
  const docs: Doc[] = [];
  const pairs: Pair[] = [];
  for (const word of [...gcide.keys()].filter((w) => /^[a-z]{4,}$/.test(w)).sort(cmp)) {
    if (exclude.has(`gcide:${word}`)) continue;
    const def = glossOf(word);
    const text = cut(def ? dropEchoes(removePhrase(cleanGcide(gcide.get(word)!, word), def), def) : cleanGcide(gcide.get(word)!, word), MAX_CHARS);
    if (words(text).length < 8) continue;
    docs.push({ id: `gcide:${word}`, text });
    if (def) pairs.push({ query: def, positive: `gcide:${word}` });
  }
  return { name: "glossary", description: "WordNet 3.0 gloss of a one-sense word -> its GCIDE entry, headword masked", docs, pairs };
}

/** A dictd computing dictionary: headword (a heading-like query) -> its definition, cross-reference braces removed. */
function dictionarySource(name: string, dir: string, description: string): SourceSet {
  const dict = readDictd(join(dir, `usr/share/dictd/${name}.index`), join(dir, `usr/share/dictd/${name}.dict.dz`));
  const docs: Doc[] = [];
  const pairs: Pair[] = [];
  const seenText = new Set<string>();
  for (const key of [...dict.keys()].sort(cmp)) {
    if (key.startsWith("00-database")) continue;
    const [entry] = dict.get(key)!;
    const lines = entry.split("\n");
    const headword = collapse(lines[0]);
    const body = collapse(
      lines.slice(1).join("\n")
        .replace(/<[a-z][^>]*>/gi, " ") // FOLDOC's <category> tags
        .replace(/\{\(?(?:ftp|https?):[^}]*\}/g, " ")
        .replace(/[{}]/g, "")
        .replace(/\(\d{4}-\d{2}-\d{2}\)/g, " ")
        .replace(/^\s*(n|v|adj|adv|vt|vi)\.\s/m, " "),
    );
    const text = cut(body, MAX_CHARS);
    if (!/[a-z]/i.test(headword) || words(text).length < 12 || seenText.has(text.slice(0, 200)) || /^see\b/i.test(text)) continue;
    seenText.add(text.slice(0, 200));
    const id = `${name}:${key}`;
    docs.push({ id, text });
    pairs.push({ query: headword, positive: id });
  }
  return { name, description, docs, pairs };
}

// ---------------------------------------------------------------------------------------------------------------
// Mining and teacher signals

function mine(set: SourceSet, seed: number): Omit<TrainingTuple, "cosine">[] {
  const index = new Bm25Index(set.docs);
  const scorer = new Bm25Scorer(index.statistics);
  const text = new Map(set.docs.map((d) => [d.id, d.text]));
  const rand = mulberry32(seed);
  const tuples: Omit<TrainingTuple, "cosine">[] = [];
  for (const pair of shuffled(set.pairs, seed).slice(0, QUERIES[set.name])) {
    const candidates = index.search(pair.query, MINING_DEPTH + 1).filter((c) => c.id !== pair.positive && text.get(c.id) !== text.get(pair.positive));
    if (candidates.length < HARD_NEGATIVES) continue;
    const picked = shuffled(candidates.slice(0, MINING_DEPTH).map((c) => c.id), Math.floor(rand() * 2 ** 31)).slice(0, HARD_NEGATIVES);
    const rank = new Map(candidates.map((c, i) => [c.id, i]));
    picked.sort((a, b) => rank.get(a)! - rank.get(b)!);
    let easy: string;
    do easy = set.docs[Math.floor(rand() * set.docs.length)].id;
    while (easy === pair.positive || picked.includes(easy));
    const negatives = [...picked, easy];
    const bm25 = scorer.score(pair.query, [pair.positive, ...negatives].map((id) => text.get(id)!));
    tuples.push({ qid: `${set.name}-${String(tuples.length + 1).padStart(5, "0")}`, source: set.name, query: pair.query, positive: pair.positive, negatives, bm25: bm25.map(round) });
  }
  return tuples;
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;

async function addCosines(tuples: Omit<TrainingTuple, "cosine">[], docs: Map<string, string>): Promise<TrainingTuple[]> {
  const encoder = await loadSentenceEncoder("use-lite", { threads: 2 });
  try {
    const ids = [...new Set(tuples.flatMap((t) => [t.positive, ...t.negatives]))].sort(cmp);
    const vectors = new Map<string, Float32Array>();
    const started = Date.now();
    for (let i = 0; i < ids.length; i += 256) {
      const batch = ids.slice(i, i + 256);
      const embedded = await encoder.encode(batch.map((id) => docs.get(id)!));
      batch.forEach((id, j) => vectors.set(id, embedded[j]));
      if (process.stderr.isTTY) process.stderr.write(`\r[reranker-data] embedded ${i + batch.length}/${ids.length} documents (${((i + batch.length) / ((Date.now() - started) / 1000)).toFixed(0)}/s)`);
    }
    if (process.stderr.isTTY) process.stderr.write("\n");
    const queries = await encoder.encode(tuples.map((t) => t.query));
    return tuples.map((t, i) => ({ ...t, cosine: [t.positive, ...t.negatives].map((id) => round(dot(queries[i], vectors.get(id)!))) }));
  } finally {
    await encoder.dispose?.();
  }
}

// ---------------------------------------------------------------------------------------------------------------

function writeAtomic(path: string, data: Buffer | string): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

async function main(): Promise<void> {
  const repin = process.argv.includes("--repin");
  const old = existsSync(MANIFEST) ? (JSON.parse(readFileSync(MANIFEST, "utf8")) as { sources?: Source[] }) : {};
  const pins = new Map((repin ? [] : (old.sources ?? [])).map((s) => [s.name, s]));
  aptUpdate();
  const sources = new Map<string, Source & { dir: string }>();
  for (const name of PACKAGES) sources.set(name, fetchDeb(name, pins.get(name)));
  const tr = translationEnFile();

  const sets = [
    packagesSource(tr.text),
    glossarySource(sources),
    dictionarySource("foldoc", sources.get("dict-foldoc")!.dir, "FOLDOC headword -> its definition"),
    dictionarySource("jargon", sources.get("dict-jargon")!.dir, "Jargon File headword -> its entry"),
  ];
  const mined: Omit<TrainingTuple, "cosine">[] = [];
  sets.forEach((set, i) => {
    log(`${set.name}: ${set.docs.length} documents, ${set.pairs.length} candidate queries; mining`);
    mined.push(...mine(set, SEED + i));
  });
  const docs = new Map(sets.flatMap((s) => s.docs.map((d) => [d.id, d.text] as const)));
  const tuples = await addCosines(mined, docs);
  const used = [...new Set(tuples.flatMap((t) => [t.positive, ...t.negatives]))].sort(cmp);

  // One corpus file per source keeps each file small; ids are unique across sources (their prefix names the source).
  mkdirSync(join(OUT, "corpus"), { recursive: true });
  const sourceOf = new Map(sets.flatMap((s) => s.docs.map((d) => [d.id, s.name] as const)));
  const corpusFiles: Record<string, { documents: number; sha256: string }> = {};
  let corpusBytes = 0;
  for (const set of sets) {
    const own = used.filter((id) => sourceOf.get(id) === set.name);
    const data = gzipSync(own.map((id) => JSON.stringify({ _id: id, text: docs.get(id) })).join("\n") + "\n", { level: 9 });
    writeAtomic(join(OUT, "corpus", `${set.name}.jsonl.gz`), data);
    corpusFiles[`corpus/${set.name}.jsonl.gz`] = { documents: own.length, sha256: sha256(data) };
    corpusBytes += data.length;
  }
  const train = gzipSync(tuples.map((t) => JSON.stringify(t)).join("\n") + "\n", { level: 9 });
  writeAtomic(join(OUT, "train.jsonl.gz"), train);
  const perSource = Object.fromEntries(
    sets.map((s) => {
      const own = tuples.filter((t) => t.source === s.name);
      return [s.name, { construction: s.description, documentsInSource: s.docs.length, queries: own.length, pairs: { positive: own.length, hardNegative: own.length * HARD_NEGATIVES, easyNegative: own.length } }];
    }),
  );
  const manifest = {
    description: "Training data of the built-in reranker, built by scripts/build-reranker-data.ts from Debian text that is not held out for evaluation",
    seed: SEED,
    maxDocumentChars: MAX_CHARS,
    mining: { retriever: "BM25 (k1 0.9, b 0.4) over the query's own source", depth: MINING_DEPTH, hardNegatives: HARD_NEGATIVES, easyNegatives: 1, sampling: "seeded uniform sample of the window, kept in rank order" },
    teacher: { bm25: "BM25 of each document against its source's statistics", cosine: "USE Lite (use-lite) cosine of query and document" },
    heldOut: "no document of the packages or glossary dev sets and no text of an evaluation-only source package (datasets/beir/manifest.json)",
    packageIndex: { file: "dists/bookworm/main/i18n/Translation-en", translationEnSha256: tr.sha256, release: tr.release, license: "each description is part of its own package's control data, under that package's licence" },
    sources: [...sources.values()].map(({ dir: _dir, ...s }) => s),
    sets: perSource,
    files: {
      ...corpusFiles,
      "train.jsonl.gz": { queries: tuples.length, sha256: sha256(train) },
    },
  };
  writeAtomic(MANIFEST, JSON.stringify(manifest, null, 2) + "\n");
  log(`wrote ${tuples.length} queries over ${used.length} documents (${(corpusBytes / 1e6).toFixed(1)} + ${(train.length / 1e6).toFixed(1)} MB)`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main().catch((e: unknown) => {
  process.stderr.write(`[reranker-data] FAILED: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
