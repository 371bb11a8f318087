// Builds the BEIR-format retrieval collections under datasets/beir/ from English text in Debian's package archive.
//
//   node --import tsx scripts/build-beir-sets.ts            # rebuild with the versions pinned in manifest.json
//   node --import tsx scripts/build-beir-sets.ts --repin    # take apt's current candidate versions instead
//
// Everything is fetched with apt-get into a scratch folder (BEIR_SCRATCH, default /tmp/rankwise-beir-build), never into
// the repository. apt runs against a private lists/cache folder there so the machine's own apt state is not touched.
// Inputs are sorted and all sampling uses a seeded PRNG, so the same pinned inputs give byte-identical outputs.
// Needs root (apt-get update), apt-get, dpkg-deb, groff and /usr/lib/apt/apt-helper. Progress goes to stderr.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "datasets", "beir");
const MANIFEST = join(OUT, "manifest.json");
export const SCRATCH = resolve(process.env.BEIR_SCRATCH ?? "/tmp/rankwise-beir-build");
const SEED = 20240601;
const MAX_DOC_CHARS = 2000;

// Packages whose man pages make up the `manpages` set. Chosen for many real (non-.so) English pages with a
// descriptive NAME line; all of them become evaluation-only sources.
const MANPAGE_PACKAGES = [
  "apt", "bash", "coreutils", "debhelper", "devscripts", "diffutils", "dpkg", "dpkg-dev", "e2fsprogs", "findutils",
  "gawk", "git-man", "gzip", "iproute2", "iptables", "lvm2", "manpages", "manpages-dev", "mdadm", "openssh-client",
  "openssl", "perl-doc", "postgresql-client-15", "procps", "rsync", "sudo", "systemd", "tar", "util-linux", "xz-utils",
];
// DocBook/Sphinx manuals for the `handbook` set (also evaluation-only).
const HANDBOOK_PACKAGES = ["debian-handbook", "debian-reference-en", "developers-reference", "debian-faq", "debian-policy"];
const GLOSSARY_PACKAGES = ["wordnet-base", "dict-gcide"];

const log = (msg: string) => process.stderr.write(`[beir] ${msg}\n`);

// ---------------------------------------------------------------------------------------------------------------
// Small utilities

/** mulberry32: tiny seeded PRNG, enough for reproducible shuffles. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates on a copy; callers pass sorted input so the result depends only on the seed. */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const rand = mulberry32(seed);
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export const sha256 = (data: Buffer | string) => createHash("sha256").update(data).digest("hex");
export const collapse = (s: string) => s.replace(/\s+/g, " ").trim();
export const words = (s: string) => s.split(/\s+/).filter(Boolean);
export const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Cut at a word boundary so documents stay comparable in length (and the .gz files small). */
export function cut(text: string, max = MAX_DOC_CHARS): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max + 1);
  const sp = head.lastIndexOf(" ");
  return (sp > max * 0.6 ? head.slice(0, sp) : text.slice(0, max)).trim();
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Removes every case-insensitive occurrence of a phrase, so a query is never a verbatim substring of its document. */
export function removePhrase(text: string, phrase: string): string {
  const p = collapse(phrase);
  if (!p) return text;
  const re = new RegExp(escapeRe(p).replace(/ /g, "\\s+"), "gi");
  return collapse(text.replace(re, " "));
}

const STOP = new Set(
  "a an and are as at be by for from in into is it of on or that the this to with without its their your you can".split(" "),
);
const contentTokens = (s: string) => (s.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((t) => !STOP.has(t));

/**
 * Drops every sentence that restates the query: one holding at least 70% of the query's content words (for queries
 * of three or more content words). Exact removal alone leaves near-copies ("Apply or remove an advisory lock on the
 * open file" for "apply or remove an advisory lock on an open file") that make retrieval a string match.
 */
export function dropEchoes(text: string, query: string): string {
  const q = [...new Set(contentTokens(query))];
  if (q.length < 3) return text;
  const sentences = text.split(/(?<=[.;:!?])\s+/);
  const kept = sentences.filter((s) => {
    const have = new Set(contentTokens(s));
    return q.filter((t) => have.has(t)).length / q.length < 0.7;
  });
  return collapse(kept.join(" "));
}

function listFiles(dir: string, followLinks = true): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort(cmp)) {
    const p = join(dir, name);
    const st = followLinks ? statSync(p, { throwIfNoEntry: false }) : lstatSync(p, { throwIfNoEntry: false });
    if (!st || st.isSymbolicLink()) continue; // dangling symlink, or a link we were told not to follow
    if (st.isDirectory()) out.push(...listFiles(p, followLinks));
    else out.push(p);
  }
  return out;
}

const HTML_ENTITIES: Record<string, string> = {
  amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " ", mdash: "—", ndash: "–", hellip: "…", rsquo: "’",
  lsquo: "‘", rdquo: "”", ldquo: "“", copy: "©", reg: "®", trade: "™", laquo: "«", raquo: "»", para: "¶",
};
function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (m, e: string) => {
    if (e[0] === "#") {
      const code = e[1] === "x" || e[1] === "X" ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : m;
    }
    return HTML_ENTITIES[e.toLowerCase()] ?? m;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// apt: private index, pinned downloads, extraction, licences

const APT_OPTS = [
  "-o", "APT::Sandbox::User=root",
  "-o", `Dir::State::Lists=${join(SCRATCH, "apt", "lists")}`,
  "-o", `Dir::Cache=${join(SCRATCH, "apt", "cache")}`,
  "-o", "Acquire::Languages=en", // the English long descriptions live only in Translation-en
];

export type Source = { name: string; version: string; sourcePackage: string; file: string; sha256: string; licenses: string[]; copyright: string };

export function aptUpdate(): void {
  for (const d of ["lists/partial", "cache/archives/partial"]) mkdirSync(join(SCRATCH, "apt", d), { recursive: true });
  log("apt-get update (private lists folder)");
  execFileSync("apt-get", ["-qq", ...APT_OPTS, "update"], { stdio: ["ignore", "ignore", "inherit"] });
}

function candidateVersion(name: string): string {
  const out = execFileSync("apt-cache", [...APT_OPTS, "policy", name], { encoding: "utf8" });
  const m = /Candidate:\s*(\S+)/.exec(out);
  if (!m || m[1] === "(none)") throw new Error(`apt has no candidate for ${name}`);
  return m[1];
}

/** Downloads NAME=VERSION (checking the pinned sha256) and extracts it; returns the source record. */
export function fetchDeb(name: string, pin: { version: string; sha256?: string } | undefined): Source & { dir: string } {
  const version = pin?.version ?? candidateVersion(name);
  const debDir = join(SCRATCH, "debs");
  mkdirSync(debDir, { recursive: true });
  const fileVersion = version.replace(/:/g, "%3a");
  let file = readdirSync(debDir).find((f) => f.startsWith(`${name}_${fileVersion}_`) && f.endsWith(".deb"));
  if (!file) {
    log(`download ${name}=${version}`);
    try {
      execFileSync("apt-get", ["-q", ...APT_OPTS, "download", `${name}=${version}`], { cwd: debDir, stdio: ["ignore", "ignore", "pipe"] });
    } catch (e) {
      const stderr = (e as { stderr?: Buffer }).stderr?.toString() ?? "";
      throw new Error(
        `Pinned package ${name}=${version} can no longer be downloaded from the configured archive.\n` +
          `apt said: ${stderr.trim()}\nRerun with --repin to take the current version (outputs will change).`,
      );
    }
    file = readdirSync(debDir).find((f) => f.startsWith(`${name}_${fileVersion}_`) && f.endsWith(".deb"));
    if (!file) throw new Error(`apt-get download ${name}=${version} left no .deb in ${debDir}`);
  }
  const hash = sha256(readFileSync(join(debDir, file)));
  if (pin?.sha256 && pin.sha256 !== hash) {
    throw new Error(`${file}: sha256 ${hash} differs from the pinned ${pin.sha256}; rerun with --repin if intended`);
  }
  const dir = join(SCRATCH, "x", name);
  if (!existsSync(join(dir, ".done"))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    execFileSync("dpkg-deb", ["-x", join(debDir, file), dir]);
    writeFileSync(join(dir, ".done"), hash);
  }
  const { licenses, copyright } = readLicenses(name, dir);
  // The source package is what a training-data filter has to exclude ("Source: git" for git-man, "perl" for perl-doc).
  const src = execFileSync("dpkg-deb", ["-f", join(debDir, file), "Source"], { encoding: "utf8" }).trim();
  const sourcePackage = src ? src.split(" ")[0] : name;
  return { name, version, sourcePackage, file, sha256: hash, licenses, copyright, dir };
}

/** Licence names from the package's copyright file: DEP-5 "License:" fields, else a few well-known phrases. */
function readLicenses(name: string, dir: string): { licenses: string[]; copyright: string } {
  const docDir = join(dir, "usr/share/doc", name);
  const link = lstatSync(docDir, { throwIfNoEntry: false });
  if (link?.isSymbolicLink()) {
    // manpages-dev's doc folder is a link to its sibling's (same source package, same copyright file).
    const target = readlinkSync(docDir);
    return { licenses: [`same copyright file as ${target} (usr/share/doc/${name} links to it)`], copyright: relative(dir, docDir) };
  }
  let path = join(docDir, "copyright");
  if (!existsSync(path)) {
    // Some packages (manpages-dev) ship their doc folder as a symlink to a sibling package's folder.
    const found = listFiles(join(dir, "usr/share/doc")).find((p) => p.endsWith("/copyright"));
    if (!found) return { licenses: ["(no copyright file in the .deb; see the source package's debian/copyright)"], copyright: "" };
    path = found;
  }
  const text = readFileSync(path, "utf8");
  const dep5 = [...text.matchAll(/^License:[ \t]*(\S[^\n]*)$/gm)].map((m) => m[1].trim());
  let licenses = [...new Set(dep5)].sort(cmp);
  if (licenses.length === 0) {
    const known: [RegExp, string][] = [
      [/GNU General Public License[\s\S]{0,200}?version 3/i, "GPL-3+"],
      [/GNU General Public License[\s\S]{0,200}?version 2/i, "GPL-2+"],
      [/GNU Free Documentation License/i, "GFDL"],
      [/Creative Commons/i, "CC"],
      [/public domain/i, "public-domain"],
      [/Permission is granted to make and distribute verbatim copies/i, "permissive (verbatim and modified copies allowed)"],
    ];
    licenses = known.filter(([re]) => re.test(text)).map(([, n]) => n);
    if (licenses.length === 0) licenses = ["(free-form; see copyright file)"];
  }
  return { licenses, copyright: relative(dir, path) };
}

// ---------------------------------------------------------------------------------------------------------------
// Output

type Doc = { _id: string; title: string; text: string };
type Query = { _id: string; text: string };
type Qrel = { qid: string; did: string; score: number };
type BuiltSet = {
  name: string;
  evaluationOnly: boolean;
  sources: string[];
  docs: Doc[];
  queries: Query[];
  qrels: Qrel[];
  construction: string;
};

function writeSet(set: BuiltSet): Record<string, unknown> {
  const dir = join(OUT, set.name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, "qrels"), { recursive: true });
  const docs = set.docs.slice().sort((a, b) => cmp(a._id, b._id));
  const queries = set.queries.slice().sort((a, b) => cmp(a._id, b._id));
  const qrels = set.qrels.slice().sort((a, b) => cmp(a.qid, b.qid) || cmp(a.did, b.did));
  const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join("\n") + "\n";
  // gzipSync writes no file name and a zero mtime, so the bytes depend only on the content.
  const files: Record<string, Buffer> = {
    "corpus.jsonl.gz": gzipSync(jsonl(docs.map((d) => ({ _id: d._id, title: d.title, text: d.text }))), { level: 9 }),
    "queries.jsonl.gz": gzipSync(jsonl(queries.map((q) => ({ _id: q._id, text: q.text }))), { level: 9 }),
    "qrels/test.tsv": Buffer.from("query-id\tcorpus-id\tscore\n" + qrels.map((r) => `${r.qid}\t${r.did}\t${r.score}\n`).join("")),
  };
  const hashes: Record<string, string> = {};
  for (const [rel, data] of Object.entries(files)) {
    writeFileSync(join(dir, rel), data);
    hashes[`${set.name}/${rel}`] = sha256(data);
  }
  const mean = (xs: number[]) => Math.round((xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)) * 10) / 10;
  const counts = {
    documents: docs.length,
    queries: queries.length,
    judgedPairs: qrels.length,
    meanQueryWords: mean(queries.map((q) => words(q.text).length)),
    meanDocumentWords: mean(docs.map((d) => words(`${d.title} ${d.text}`).length)),
  };
  log(`${set.name}: ${JSON.stringify(counts)}`);
  const firstQ = queries[0];
  const firstRel = qrels.filter((r) => r.qid === firstQ._id).sort((a, b) => b.score - a.score)[0];
  return {
    evaluationOnly: set.evaluationOnly,
    role: set.evaluationOnly ? "evaluation-only" : "dev",
    sources: set.sources,
    construction: set.construction,
    counts,
    example: { query: firstQ, relevant: docs.find((d) => d._id === firstRel.did) },
    files: hashes,
  };
}

/** Fails the build on broken references, empty texts or duplicate ids. */
function check(set: BuiltSet): void {
  const fail = (msg: string) => {
    throw new Error(`${set.name}: ${msg}`);
  };
  const docIds = new Set<string>();
  for (const d of set.docs) {
    if (docIds.has(d._id)) fail(`duplicate document id ${d._id}`);
    if (!d.text.trim()) fail(`empty document ${d._id}`);
    docIds.add(d._id);
  }
  const qIds = new Set<string>();
  for (const q of set.queries) {
    if (qIds.has(q._id)) fail(`duplicate query id ${q._id}`);
    if (!q.text.trim()) fail(`empty query ${q._id}`);
    qIds.add(q._id);
  }
  const judged = new Set<string>();
  for (const r of set.qrels) {
    if (!docIds.has(r.did)) fail(`qrel to unknown document ${r.did}`);
    if (!qIds.has(r.qid)) fail(`qrel for unknown query ${r.qid}`);
    judged.add(r.qid);
  }
  for (const q of qIds) if (!judged.has(q)) fail(`query ${q} has no relevant document`);
}

// ---------------------------------------------------------------------------------------------------------------
// Set 1: manpages — NAME-line description -> the rest of the page

/** Runs groff on every page with at most two processes (the build machines have two cores); caches the text. */
async function renderPages(pages: { src: string; cache: string }[]): Promise<void> {
  const todo = pages.filter((p) => !existsSync(p.cache));
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < todo.length) {
      const p = todo[next++];
      const roff = p.src.endsWith(".gz") ? gunzipSync(readFileSync(p.src)) : readFileSync(p.src);
      // -P-cbou: no overstrike, bold or underline; LL=200n and HY=0: long lines, no hyphenation, so words stay whole.
      const text = await new Promise<string>((res) => {
        const child = spawn("groff", ["-t", "-man", "-Tutf8", "-P-cbou", "-rLL=200n", "-rHY=0"], { stdio: ["pipe", "pipe", "ignore"] });
        const chunks: Buffer[] = [];
        child.stdout.on("data", (c: Buffer) => chunks.push(c));
        child.on("close", () => res(Buffer.concat(chunks).toString("utf8")));
        child.stdin.on("error", () => {});
        child.stdin.end(roff);
      });
      mkdirSync(dirname(p.cache), { recursive: true });
      writeFileSync(p.cache, text);
      if (++done % 500 === 0) log(`rendered ${done}/${todo.length} man pages`);
    }
  };
  await Promise.all([worker(), worker()]);
}

/** Splits rendered man text into [heading, body] sections; headings are the unindented lines. */
function manSections(rendered: string): [string, string][] {
  // Strip any escape sequences groff may still emit, and the running header/footer lines.
  const lines = rendered.replace(/\x1b\[[0-9;]*m/g, "").replace(/.\x08/g, "").split("\n");
  const content = lines.filter((l) => l.trim());
  if (content.length < 3) return [];
  const body = content.slice(1, -1);
  const out: [string, string][] = [];
  for (const line of body) {
    if (/^\S/.test(line)) out.push([line.trim(), ""]);
    else if (out.length) out[out.length - 1][1] += " " + line.trim();
  }
  return out.map(([h, b]) => [h, collapse(b)]);
}

async function buildManpages(sources: Map<string, Source & { dir: string }>): Promise<BuiltSet> {
  type Page = { id: string; src: string; cache: string };
  const pages: Page[] = [];
  for (const pkg of MANPAGE_PACKAGES) {
    const dir = sources.get(pkg)!.dir;
    // Symlinks are aliases of pages listed anyway, so they are not followed.
    for (const f of listFiles(dir, false)) {
      // Only untranslated pages (…/man/manN/…).
      const m = /\/man\/(man[0-9][^/]*)\/([^/]+?)(\.gz)?$/.exec(f);
      if (!m) continue;
      const raw = f.endsWith(".gz") ? gunzipSync(readFileSync(f)) : readFileSync(f);
      if (/^\s*\.so\s/.test(raw.subarray(0, 300).toString("latin1"))) continue; // alias page: only an include
      pages.push({ id: `${pkg}:${m[2]}`, src: f, cache: join(SCRATCH, "render", pkg, m[1], m[2] + ".txt") });
    }
  }
  log(`manpages: ${pages.length} pages to render`);
  await renderPages(pages);

  const byDesc = new Map<string, string[]>();
  const docs: Doc[] = [];
  const descOf = new Map<string, string>();
  const seenText = new Set<string>();
  for (const p of pages.sort((a, b) => cmp(a.id, b.id))) {
    const secs = manSections(readFileSync(p.cache, "utf8"));
    const nameIdx = secs.findIndex(([h]) => h === "NAME");
    if (nameIdx < 0) continue;
    // "ls - list directory contents": the description is everything after the first dash separator.
    const nm = /^(.*?)\s+[-‐−–—]+\s+(.+)$/.exec(secs[nameIdx][1]);
    if (!nm) continue;
    const desc = collapse(nm[2]).replace(/\.$/, "");
    // Drop NAME and SYNOPSIS (the synopsis is mostly the command's own name and flags); keep the prose sections.
    // LIBRARY is the same "Standard C library (libc, -lc)" line on most section 2/3 pages.
    const rest = secs.filter((_, i) => i > nameIdx).filter(([h]) => h !== "SYNOPSIS" && h !== "LIBRARY");
    let text = collapse(rest.map(([h, b]) => (h === "DESCRIPTION" ? b : `${h}: ${b}`)).join(" "));
    text = cut(dropEchoes(removePhrase(text, desc), desc));
    if (words(text).length < 20 || seenText.has(text)) continue; // same page shipped twice, or a stub
    seenText.add(text);
    docs.push({ _id: p.id, title: "", text });
    descOf.set(p.id, desc);
    const key = desc.toLowerCase();
    byDesc.set(key, [...(byDesc.get(key) ?? []), p.id]);
  }

  // A query is a description of 3-16 words; a description shared by 2-3 pages makes all of them relevant, one shared
  // more widely ("perl module", "SQL command") says too little and is skipped.
  const candidates = [...byDesc.entries()]
    .filter(([d, ids]) => ids.length <= 3 && words(d).length >= 3 && words(d).length <= 16)
    .map(([, ids]) => ids)
    .sort((a, b) => cmp(a[0], b[0]));
  const chosen = shuffled(candidates, SEED + 1).slice(0, 300);
  const queries: Query[] = [];
  const qrels: Qrel[] = [];
  chosen.forEach((ids, i) => {
    const qid = `man-q${String(i + 1).padStart(4, "0")}`;
    queries.push({ _id: qid, text: descOf.get(ids[0])! });
    for (const did of ids) qrels.push({ qid, did, score: 1 });
  });
  return {
    name: "manpages",
    evaluationOnly: true,
    sources: MANPAGE_PACKAGES,
    docs,
    queries,
    qrels,
    construction:
      "Every real (non-alias) English man page of the source packages is rendered with groff. Query: the description " +
      "after the dash on the NAME line. Document: the page's sections after NAME, without SYNOPSIS, whitespace-collapsed, " +
      "with any verbatim occurrence of the query removed, cut to about 2,000 characters; title is empty because the " +
      "command name alone often identifies the page. 300 queries sampled with a fixed seed; a description shared by 2-3 " +
      "pages makes all of them relevant, one shared by more is never a query. All pages are in the corpus.",
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Set 2: packages — synopsis -> long description (from the archive's Translation-en)

/** Every package of a Translation-en file, sorted by name: synopsis, and long description with paragraphs as lines. */
export function parseTranslationEn(translationEn: string): { name: string; synopsis: string; long: string }[] {
  const pkgs: { name: string; synopsis: string; long: string }[] = [];
  for (const stanza of translationEn.split(/\n\n+/)) {
    const name = /^Package: (\S+)$/m.exec(stanza)?.[1];
    const d = /^Description-en: ([^\n]*)((?:\n [^\n]*)*)/m.exec(stanza);
    if (!name || !d) continue;
    const long = d[2]
      .split("\n")
      .map((l) => l.slice(1))
      .map((l) => (l.trim() === "." ? "\n" : l))
      .join(" ");
    pkgs.push({ name, synopsis: collapse(d[1]), long: long.split("\n").map(collapse).filter(Boolean).join("\n") });
  }
  return pkgs.sort((a, b) => cmp(a.name, b.name));
}

function buildPackages(translationEn: string): BuiltSet {
  const pkgs = parseTranslationEn(translationEn);

  // Library, -dev, -doc, -dbg, data and transitional packages repeat their main package's text almost word for word.
  const variantName = /^lib|-(dev|doc|dbg|dbgsym|data|common|examples|tests?|plugins?|l10n|locale|dictionary)$|^(fonts?|texlive|node|golang|librust|r-cran|r-bioc|php|ruby|python3?-)/;
  const genericSynopsis =
    /transitional|dummy|meta-?package|debug(ging)? symbols|documentation|development files|header files|data files|shared librar|common files|^(binaries|tools|utilities)$/i;
  const familyKey = (s: string) => s.toLowerCase().replace(/\s*\([^)]*\)\s*/g, " ").replace(/\s+[-–—]+\s+.*$/, "").replace(/[^a-z0-9]+/g, " ").trim();
  const firstPara = (long: string) => long.split("\n")[0].toLowerCase().replace(/[^a-z0-9]+/g, " ").trim();

  const families = new Map<string, number>();
  const paras = new Map<string, number>();
  for (const p of pkgs) {
    families.set(familyKey(p.synopsis), (families.get(familyKey(p.synopsis)) ?? 0) + 1);
    paras.set(firstPara(p.long), (paras.get(firstPara(p.long)) ?? 0) + 1);
  }
  // Keep a package only when no other package in the whole archive shares its synopsis family or its opening
  // paragraph: such near-twins would be unjudged relevant documents.
  const usable = pkgs.filter(
    (p) =>
      !variantName.test(p.name) &&
      !genericSynopsis.test(p.synopsis) &&
      families.get(familyKey(p.synopsis)) === 1 &&
      paras.get(firstPara(p.long)) === 1 &&
      words(p.long).length >= 25,
  );
  // Cleaned paragraph by paragraph so the description keeps its paragraph breaks.
  const paragraphs = (long: string, synopsis: string) =>
    long.split("\n").map((para) => dropEchoes(removePhrase(para, synopsis), synopsis)).filter(Boolean).join("\n");
  const sampled = shuffled(
    usable.map((p) => ({ ...p, text: cut(paragraphs(p.long, p.synopsis)) })).filter((p) => words(p.text).length >= 20),
    SEED + 2,
  ).slice(0, 4000);
  const docs: Doc[] = [];
  const queries: Query[] = [];
  const qrels: Qrel[] = [];
  sampled.forEach((p, i) => {
    const did = `pkg:${p.name}`;
    docs.push({ _id: did, title: "", text: p.text });
    // The first 300 shuffled packages with a synopsis of 3+ words are queried; the rest are distractors.
    if (queries.length < 300 && words(p.synopsis).length >= 3) {
      const qid = `pkg-q${String(queries.length + 1).padStart(4, "0")}`;
      queries.push({ _id: qid, text: p.synopsis });
      qrels.push({ qid, did, score: 1 });
    }
  });
  return {
    name: "packages",
    evaluationOnly: false,
    sources: ["Translation-en of Debian bookworm main"],
    docs,
    queries,
    qrels,
    construction:
      "From the archive's English package descriptions (bookworm main Translation-en). Query: a package's one-line " +
      "synopsis. Document: its long description (\" .\" paragraph markers turned into newlines, any verbatim copy of the " +
      "synopsis removed), title empty. Library/-dev/-doc/-dbg/-data/language-binding packages, generic synopses " +
      "(transitional, dummy, documentation, development files, ...) and every package whose synopsis family or first " +
      "paragraph is shared with another package in the archive are left out, so no near-duplicate document exists. " +
      "4,000 packages sampled with a fixed seed; the first 300 (in sampled order) whose synopsis has 3+ words are queried, the rest are distractors.",
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Set 3: handbook — section heading -> that section's own text

type Section = { id: string; heading: string; text: string };

/**
 * Splits a DocBook or Sphinx HTML page into sections: each h1-h5 heading owns the text up to the next heading.
 * A handbook sidebar ("TIP ...", "CULTURE ...") becomes a section of its own so it does not pad its parent.
 * Navigation, tables of contents, code listings and tables are skipped: they are lists, not prose.
 */
export function htmlSections(html: string, idPrefix: string): Section[] {
  const body = html.replace(/<!--[\s\S]*?-->/g, "").replace(/<(script|style|head)\b[\s\S]*?<\/\1>/gi, "");
  const skipClass = /\b(toc|sphinxsidebar|related|footer|navheader|navfooter|table|informaltable|headerlink|screen|programlisting|literallayout|indexterm)\b/;
  const out: { heading: string; text: string[]; anchor: string }[] = [];
  const stack: { tag: string; skip: boolean; sidebar: boolean; saved?: number }[] = [];
  let current = -1; // index into out
  let headingBuf: string[] | null = null;
  let sidebarTitle: { buf: string[]; depth: number } | null = null;
  let lastAnchor = "";
  const re = /<(\/?)([a-zA-Z0-9]+)((?:[^>"']|"[^"]*"|'[^']*')*?)(\/?)>|([^<]+)/g;
  for (let m: RegExpExecArray | null; (m = re.exec(body)); ) {
    const [, close, rawTag, attrs, selfClose, textPart] = m;
    const skipping = stack.some((s) => s.skip);
    if (textPart !== undefined) {
      if (skipping) continue;
      const t = decodeEntities(textPart);
      if (headingBuf) headingBuf.push(t);
      else if (sidebarTitle) sidebarTitle.buf.push(t);
      else if (current >= 0) out[current].text.push(t);
      continue;
    }
    const tag = rawTag.toLowerCase();
    const voidTag = /^(br|img|hr|meta|link|input|col|area|base|wbr)$/.test(tag) || selfClose === "/";
    if (!close) {
      const id = /\bid="([^"]+)"/.exec(attrs)?.[1];
      if (id) lastAnchor = id;
      if (voidTag) {
        if (tag === "br" && current >= 0 && !skipping) out[current].text.push(" ");
        continue;
      }
      const cls = /\bclass="([^"]*)"/.exec(attrs)?.[1] ?? "";
      const isPre = tag === "pre" || tag === "table" || tag === "nav";
      const sidebar = tag === "div" && /\bsidebar\b/.test(cls) && !/sphinxsidebar/.test(cls);
      const entry: { tag: string; skip: boolean; sidebar: boolean; saved?: number } = { tag, skip: isPre || skipClass.test(cls), sidebar };
      stack.push(entry);
      if (skipping || entry.skip) continue;
      if (/^h[1-5]$/.test(tag)) headingBuf = [];
      else if (sidebar) {
        entry.saved = current;
        sidebarTitle = { buf: [], depth: stack.length };
      } else if (tag === "p" || tag === "div" || tag === "li" || tag === "dd" || tag === "dt") {
        if (current >= 0) out[current].text.push(" ");
      }
      continue;
    }
    // Closing tag: pop to the matching opener (tolerates the odd unclosed <p>).
    let idx = stack.length - 1;
    while (idx >= 0 && stack[idx].tag !== tag) idx--;
    if (idx < 0) continue;
    const popped = stack.splice(idx);
    const opener = popped[0];
    if (/^h[1-5]$/.test(tag) && headingBuf) {
      out.push({ heading: collapse(headingBuf.join("")), text: [], anchor: lastAnchor });
      current = out.length - 1;
      headingBuf = null;
    } else if (tag === "p" && sidebarTitle && stack.length >= sidebarTitle.depth) {
      // The first paragraph of a sidebar's titlepage is its title: open the sidebar's own section.
      out.push({ heading: collapse(sidebarTitle.buf.join("")), text: [], anchor: lastAnchor });
      current = out.length - 1;
      sidebarTitle = null;
    }
    if (opener.sidebar && opener.saved !== undefined) {
      sidebarTitle = null;
      current = opener.saved; // text after the sidebar belongs to the enclosing section again
    }
  }
  const merged: Section[] = out.map((s) => ({ id: `${idPrefix}#${s.anchor}`, heading: s.heading, text: collapse(s.text.join("")) }));
  return merged;
}

const SIDEBAR_CATEGORY =
  /^(BACK TO BASICS|TIP|GOING FURTHER|CULTURE|NOTE|CAUTION|VOCABULARY|ALTERNATIVE|SECURITY|IN PRACTICE|TOOLS?|COMMUNITY|QUICK LOOK|DEBIAN POLICY|DOCUMENTATION|EXTRA|SPECIFIC CASE|PERSPECTIVE|BEWARE|HISTORY|HARDWARE|DISCOVERY|COMPLEMENTS)\s+/;

export function buildHandbook(sources: Map<string, Source & { dir: string }>): BuiltSet {
  const sections: (Section & { pkg: string })[] = [];
  for (const pkg of HANDBOOK_PACKAGES) {
    const dir = sources.get(pkg)!.dir;
    const files = listFiles(dir).filter((f) => {
      if (!f.endsWith(".html")) return false;
      if (pkg === "debian-handbook") return f.includes("/html/en-US/");
      if (pkg === "debian-faq") return f.endsWith(".en.html") && !f.endsWith("/index.en.html");
      if (pkg === "debian-policy") return !/\/(index|genindex|search)\.html$/.test(f) && !/policy\.html$|-policy\.html$/.test(f);
      return !/\/(index|genindex|search)(\.en)?\.html$/.test(f);
    });
    for (const f of files) {
      const rel = relative(dir, f).replace(/^usr\/share\/(doc\/)?/, "");
      for (const s of htmlSections(readFileSync(f, "utf8"), `${pkg}:${rel}`)) sections.push({ ...s, pkg });
    }
  }
  // Headings carry their number ("6.3.1. The apt-cache policy Command") and handbook sidebars their category word
  // ("VOCABULARY Cache"): neither is how anybody would ask.
  const cleanHeading = (h: string) =>
    collapse(
      h
        .replace(/^(Chapter|Appendix|Section)\s+[0-9A-Z]+\.?\s*/i, "")
        .replace(/^([0-9A-Z]+\.)+([0-9]+\.?)?\s+/, "")
        .replace(SIDEBAR_CATEGORY, "")
        .replace(/[¶#]$/, ""),
    );
  const docs: Doc[] = [];
  const headOf = new Map<string, string>();
  const seen = new Set<string>();
  for (const s of sections.sort((a, b) => cmp(a.id, b.id))) {
    const heading = cleanHeading(s.heading);
    const text = cut(dropEchoes(removePhrase(s.text, heading), heading));
    if (words(text).length < 30 || seen.has(s.id) || seen.has(text)) continue;
    seen.add(s.id);
    seen.add(text);
    docs.push({ _id: s.id, title: "", text });
    headOf.set(s.id, heading);
  }
  const headingCount = new Map<string, number>();
  for (const h of headOf.values()) headingCount.set(h.toLowerCase(), (headingCount.get(h.toLowerCase()) ?? 0) + 1);
  const generic = /^(introduction|summary|overview|conclusion|going further|references?|examples?|usage|notes?|see also|installation|configuration|background|description|basic principles|general|other|miscellaneous|tips?|caution|warning|rationale|history|copyright|preface|foreword)\b/i;
  const candidates = docs
    .map((d) => ({ id: d._id, heading: headOf.get(d._id)! }))
    .filter(({ heading }) => {
      const n = words(heading).length;
      return n >= 2 && n <= 14 && headingCount.get(heading.toLowerCase()) === 1 && !generic.test(heading) && /[a-z]/.test(heading);
    });
  const chosen = shuffled(candidates, SEED + 3).slice(0, 300);
  const queries: Query[] = [];
  const qrels: Qrel[] = [];
  chosen.forEach(({ id, heading }, i) => {
    const qid = `hb-q${String(i + 1).padStart(4, "0")}`;
    queries.push({ _id: qid, text: heading });
    qrels.push({ qid, did: id, score: 1 });
  });
  return {
    name: "handbook",
    evaluationOnly: true,
    sources: HANDBOOK_PACKAGES,
    docs,
    queries,
    qrels,
    construction:
      "The English HTML of the Debian Administrator's Handbook, Debian Reference, Developer's Reference, Debian FAQ " +
      "and Debian Policy is split at every heading; each heading owns the prose up to the next heading (handbook " +
      "sidebars are their own sections; code listings, tables and navigation are dropped). Query: a section heading " +
      "with its number and sidebar category word removed, 2-14 words, unique across all manuals and not generic " +
      "(Introduction, Summary, Going Further, ...). Document: that section's own text with the heading phrase " +
      "removed, cut to about 2,000 characters, title empty. Sections under 30 words are dropped. 300 queries sampled " +
      "with a fixed seed; all sections are in the corpus.",
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Set 4: glossary — WordNet gloss -> the GCIDE dictionary entry of the same word

/** Reads a dictd database (.index with base64 offsets + gzip-compatible .dict.dz) as headword -> entry chunks. */
export function readDictd(indexPath: string, dictPath: string): Map<string, string[]> {
  const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const num = (s: string) => [...s].reduce((n, c) => n * 64 + b64.indexOf(c), 0);
  const data = gunzipSync(readFileSync(dictPath));
  const out = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const line of readFileSync(indexPath, "utf8").split("\n")) {
    const [word, off, len] = line.split("\t");
    if (!len) continue;
    const key = word.toLowerCase();
    const span = `${key}\u0000${off}`;
    if (seen.has(span)) continue;
    seen.add(span);
    const start = num(off);
    out.set(key, [...(out.get(key) ?? []), data.subarray(start, start + num(len)).toString("utf8")]);
  }
  return out;
}

/** Plain text of a GCIDE entry without the headword, pronunciation, source tags or any WordNet-derived paragraph. */
export function cleanGcide(chunks: string[], headword: string): string {
  const blocks: string[] = [];
  for (const chunk of chunks) {
    for (const block of chunk.split(/\n[ \t]*\n/)) {
      // GCIDE folds in WordNet 1.5 glosses; those would make the query (a WordNet gloss) a verbatim match.
      if (/WordNet|\[WN/.test(block)) continue;
      blocks.push(block);
    }
  }
  let t = blocks.join("\n");
  t = t.replace(/^\S[^\n\\]*\\[^\\\n]*\\/gm, " "); // "Accretion \Ac*cre"tion\": headword and its syllabified form
  t = t.replace(/\([^()\n]*[*"`\[][^()\n]*\)/g, " "); // "([a^]k*kr[e^]s)" pronunciations
  t = t.replace(/\[(?:1913 Webster|Webster 1913 Suppl\.|PJC|Century Dict\.|Chambers 1908|Webster 1828)[^\]]*\]/g, " ");
  t = t.replace(/\[([=.'`"^~])?([a-z]{1,2})([=.'`"^~])?\]/gi, (m, a, l, b) => (a || b || /^(ae|oe)$/i.test(l) ? l : m));
  t = t.replace(/[{}]/g, "").replace(/--\s*\w[\w. ]*\.\s*$/gm, "");
  const hw = new RegExp(`\\b${escapeRe(headword)}(s|es|ed|d|ing|er|ers|ly)?\\b`, "gi");
  return cut(collapse(t.replace(hw, "~")).replace(/^[\s.,;:]+/, ""));
}

/**
 * The WordNet 3.0 gloss of a word that has a single sense in all of WordNet and is alone in its synset (definition
 * only, usage examples dropped; at least 4 words; never containing the word), or undefined: only such a gloss is
 * unambiguously "its" meaning, so the word's dictionary entry is the right answer to it.
 */
export function unambiguousGlosses(wordnetDir: string): (word: string) => string | undefined {
  const pos = ["noun", "verb", "adj", "adv"];
  const senses = new Map<string, { n: number; pos: string; offset: string }>();
  for (const p of pos) {
    for (const line of readFileSync(join(wordnetDir, `index.${p}`), "utf8").split("\n")) {
      if (!line || line.startsWith(" ")) continue;
      const f = line.trim().split(" ");
      const cnt = Number(f[2]);
      const prev = senses.get(f[0]);
      senses.set(f[0], { n: (prev?.n ?? 0) + cnt, pos: p, offset: f[f.length - 1] });
    }
  }
  const dataFiles = new Map(pos.map((p) => [p, readFileSync(join(wordnetDir, `data.${p}`), "latin1")]));
  return (word) => {
    const s = senses.get(word);
    if (!s || s.n !== 1) return undefined;
    const data = dataFiles.get(s.pos)!;
    const start = Number(s.offset);
    const line = data.slice(start, data.indexOf("\n", start));
    const wCnt = parseInt(line.split(" ")[3], 16);
    // Keep the definition, not the quoted usage examples (they usually contain the word itself).
    const def = collapse(line.slice(line.indexOf(" | ") + 3).split(/;\s*"/)[0].replace(/;\s*$/, ""));
    if (wCnt !== 1 || words(def).length < 4 || new RegExp(`\\b${word}`, "i").test(def)) return undefined;
    return def;
  };
}

function buildGlossary(sources: Map<string, Source & { dir: string }>): BuiltSet {
  const glossOf = unambiguousGlosses(join(sources.get("wordnet-base")!.dir, "usr/share/wordnet"));
  const gcideDir = join(sources.get("dict-gcide")!.dir, "usr/share/dictd");
  const gcide = readDictd(join(gcideDir, "gcide.index"), join(gcideDir, "gcide.dict.dz"));
  const headwords = [...gcide.keys()].filter((w) => /^[a-z]{4,}$/.test(w)).sort(cmp);

  const candidates: { word: string; def: string }[] = [];
  for (const word of headwords) {
    const def = glossOf(word);
    if (def !== undefined) candidates.push({ word, def });
  }
  const docs: Doc[] = [];
  const queries: Query[] = [];
  const qrels: Qrel[] = [];
  const inCorpus = new Set<string>();
  for (const { word, def } of shuffled(candidates, SEED + 4)) {
    if (queries.length >= 300) break;
    // GCIDE's own editors also copied some WordNet glosses without a tag ("kleenex"): drop those sentences too.
    const text = dropEchoes(removePhrase(cleanGcide(gcide.get(word)!, word), def), def);
    if (words(text).length < 8) continue; // entry was only a WordNet gloss or a bare cross-reference
    const did = `gcide:${word}`;
    docs.push({ _id: did, title: "", text });
    inCorpus.add(word);
    const qid = `gl-q${String(queries.length + 1).padStart(4, "0")}`;
    queries.push({ _id: qid, text: def });
    qrels.push({ qid, did, score: 1 });
  }
  // Distractors: other single-word GCIDE entries, the same cleaning.
  for (const word of shuffled(headwords, SEED + 5)) {
    if (docs.length >= 4000) break;
    if (inCorpus.has(word)) continue;
    const text = cleanGcide(gcide.get(word)!, word);
    if (words(text).length < 8) continue;
    docs.push({ _id: `gcide:${word}`, title: "", text });
    inCorpus.add(word);
  }
  return {
    name: "glossary",
    evaluationOnly: false,
    sources: GLOSSARY_PACKAGES,
    docs,
    queries,
    qrels,
    construction:
      "Query and document come from two independently written dictionaries. Query: the WordNet 3.0 gloss (definition " +
      "only, no usage examples) of a single-word lemma that has exactly one sense in all of WordNet and is alone in " +
      "its synset. Document: that word's entry in GCIDE (mostly Webster 1913), with the headword and its inflections " +
      "replaced by \"~\", pronunciation, source tags and every paragraph GCIDE took from WordNet removed, cut to about " +
      "2,000 characters, title empty. 300 queries; the corpus is filled to 4,000 entries with other GCIDE words " +
      "sampled with a fixed seed.",
  };
}

// ---------------------------------------------------------------------------------------------------------------

export function translationEnFile(): { text: string; sha256: string; release: Record<string, string> } {
  const lists = join(SCRATCH, "apt", "lists");
  const file = readdirSync(lists).find((f) => /_dists_bookworm_main_i18n_Translation-en(\.[a-z0-9]+)?$/.test(f));
  if (!file) throw new Error("no bookworm main Translation-en in the private apt lists");
  const text = execFileSync("/usr/lib/apt/apt-helper", ["cat-file", join(lists, file)], { maxBuffer: 1 << 30 });
  const inRelease = readFileSync(join(lists, readdirSync(lists).find((f) => f.endsWith("_dists_bookworm_InRelease"))!), "utf8");
  const release: Record<string, string> = {};
  for (const k of ["Origin", "Suite", "Codename", "Version", "Date"]) release[k] = /^(\w+): (.*)$/m.exec(inRelease.split("\n").filter((l) => l.startsWith(`${k}:`))[0] ?? "")?.[2] ?? "";
  return { text: text.toString("utf8"), sha256: sha256(text), release };
}

async function main(): Promise<void> {
  const repin = process.argv.includes("--repin");
  const old = existsSync(MANIFEST) ? (JSON.parse(readFileSync(MANIFEST, "utf8")) as { sources?: Source[]; packageIndex?: { translationEnSha256: string } }) : {};
  const pins = new Map((repin ? [] : (old.sources ?? [])).map((s) => [s.name, s]));
  mkdirSync(SCRATCH, { recursive: true });
  aptUpdate();

  const sources = new Map<string, Source & { dir: string }>();
  for (const name of [...new Set([...MANPAGE_PACKAGES, ...HANDBOOK_PACKAGES, ...GLOSSARY_PACKAGES])].sort(cmp)) {
    sources.set(name, fetchDeb(name, pins.get(name)));
  }
  const tr = translationEnFile();
  if (!repin && old.packageIndex && old.packageIndex.translationEnSha256 !== tr.sha256) {
    log("WARNING: the archive's Translation-en changed since the manifest was written; the packages set will differ");
  }

  const sets: BuiltSet[] = [];
  log("building manpages");
  sets.push(await buildManpages(sources));
  log("building packages");
  sets.push(buildPackages(tr.text));
  log("building handbook");
  sets.push(buildHandbook(sources));
  log("building glossary");
  sets.push(buildGlossary(sources));

  mkdirSync(OUT, { recursive: true });
  const setInfo: Record<string, Record<string, unknown>> = {};
  for (const s of sets) {
    check(s);
    setInfo[s.name] = writeSet(s);
  }
  const manifest = {
    description: "BEIR-format retrieval sets built from English text in Debian's archive by scripts/build-beir-sets.ts",
    seed: SEED,
    maxDocumentChars: MAX_DOC_CHARS,
    evaluationOnlyBinaryPackages: [...new Set(sets.filter((s) => s.evaluationOnly).flatMap((s) => s.sources))].sort(cmp),
    evaluationOnlySourcePackages: [
      ...new Set(sets.filter((s) => s.evaluationOnly).flatMap((s) => s.sources).map((n) => sources.get(n)!.sourcePackage)),
    ].sort(cmp),
    packageIndex: {
      file: "dists/bookworm/main/i18n/Translation-en",
      translationEnSha256: tr.sha256,
      release: tr.release,
      license: "each description is part of its own package's control data, under that package's licence",
    },
    sources: [...sources.values()].map(({ dir: _dir, ...s }) => s),
    sets: setInfo,
  };
  writeFileSync(MANIFEST, JSON.stringify(manifest, null, 2) + "\n");
  log(`wrote ${relative(ROOT, MANIFEST)}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main().catch((e: unknown) => {
  process.stderr.write(`[beir] FAILED: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
