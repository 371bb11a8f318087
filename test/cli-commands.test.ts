/**
 * Every command and documented option, run as a user runs them: `node bin/rankwise.js ...` after a fresh
 * `npm run build` (the launcher prefers dist/ when it exists, so a stale build would otherwise be what is tested).
 * One table of cases {args, code, stdout, stderr}; each command also gets a bad input that must exit 2 with one line
 * on stderr naming the option. Cases run in order, so later ones use what earlier ones wrote (models, indexes).
 * Long runs are left to their own files: real training (train-cli, distill-learns), the funnel's LLM stage
 * (funnel-llm-e2e), training the default reranker (here build-default-reranker only ships an already trained folder).
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ROOT } from './helpers/cli.js';
import { portOpen } from './helpers/processes.js';
import { syntheticCases, syntheticPairs } from './helpers/synthetic-task.js';

const BIN = join(ROOT, 'bin/rankwise.js');
const W = mkdtempSync(join(tmpdir(), 'rankwise-cli-'));
const CE = join(W, 'ce');
const BI = join(W, 'bi');
const DOCS = join(W, 'docs.txt');
const CORPUS = join(ROOT, 'datasets/funnel/corpus.jsonl');
const QUERY = 'how do I reset my router to factory settings';
const jsonl = (rows: object[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';
const LONG_DOC = `${'The museum opens at nine and closes at five on weekdays. '.repeat(30)}Hold the reset button for ten seconds to restore the router.`;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** `node bin/rankwise.js ARGS`, as a user runs the installed command; never throws. */
function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 32 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

interface Case {
  /** Argument list; a function when it needs something only known at run time (a port). */
  args: string[] | (() => string[]);
  code: number;
  /** A pattern, or a check of the parsed JSON (when the output is JSON) or of the text. */
  stdout?: RegExp | ((out: any) => void);
  stderr?: RegExp;
  env?: NodeJS.ProcessEnv | (() => NodeJS.ProcessEnv);
}

/** Results kept for later cases to compare with, by name. */
const memo: Record<string, any> = {};
const parsed = (out: string) => {
  try {
    return JSON.parse(out);
  } catch {
    return out;
  }
};
const scoresOf = (out: { results: Array<{ index: number; score: number }> }) => [...out.results].sort((a, b) => a.index - b.index).map((r) => r.score);
const sorted = (xs: number[]) => xs.every((x, i) => i === 0 || xs[i - 1] >= x);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** A bad input: exit 2 (ERROR_KINDS.invalid_input), and exactly one line on stderr matching `stderr`. */
const bad = (args: string[], stderr: RegExp): Case => ({ args, code: 2, stderr });

/** A stand-in for the Hugging Face hub on loopback: serves the fixture cross-encoder as acme/tiny-ce, only with the token. */
let hub: Server;
let hubUrl: string;
const hubRequests: Array<{ url: string; auth?: string }> = [];

const CASES: Array<[string, Case]> = [
  // --- help and the launcher ----------------------------------------------------------------------------------
  ['--help lists the commands', { args: ['--help'], code: 0, stdout: /Commands:[\s\S]*rerank[\s\S]*serve[\s\S]*profile/ }],
  ['an unknown command', bad(['nope'], /unknown command 'nope'/)],
  ['an unknown option', bad(['rerank', '--query', 'q', '--doc', 'd', '--bogus'], /unknown option '--bogus'/)],

  // --- fixture-model ------------------------------------------------------------------------------------------
  ['fixture-model cross-encoder', { args: ['fixture-model', '--out', CE, '--kind', 'cross-encoder', '--seed', '2'], code: 0, stdout: /^wrote .*ce: cross-encoder, 2 layers, hidden 64/ }],
  ['fixture-model bi-encoder with its shape', { args: ['fixture-model', '--out', BI, '--kind', 'bi-encoder', '--layers', '1', '--hidden', '32', '--heads', '2', '--intermediate', '64', '--seed', '3'], code: 0, stdout: /bi-encoder, 1 layers, hidden 32, 2 heads, intermediate 64, seed 3/ }],
  ['fixture-model refuses an existing folder', bad(['fixture-model', '--out', CE, '--kind', 'cross-encoder'], /exists and is not empty/)],
  ['fixture-model --kind', bad(['fixture-model', '--out', join(W, 'x'), '--kind', 'llm'], /--kind expects one of cross-encoder, bi-encoder/)],

  // --- rerank -------------------------------------------------------------------------------------------------
  ['rerank --json, best first', {
    args: ['rerank', '--model', CE, '--query', 'reset router', '--docs', DOCS, '--json'], code: 0,
    stdout: (out) => {
      assert.equal(out.results.length, 4);
      assert.ok(sorted(out.results.map((r: { score: number }) => r.score)));
      memo.sigmoid = scoresOf(out);
    },
  }],
  ['rerank --activation none gives the logits', {
    args: ['rerank', '--model', CE, '--query', 'reset router', '--docs', DOCS, '--activation', 'none', '--json'], code: 0,
    stdout: (out) => {
      const logits = scoresOf(out);
      // The one-logit model's default activation is the sigmoid of exactly these.
      logits.forEach((l, i) => assert.ok(Math.abs(sigmoid(l) - memo.sigmoid[i]) < 1e-6, `sigmoid(${l}) vs ${memo.sigmoid[i]}`));
    },
  }],
  ['rerank --activation sigmoid is the default', { args: ['rerank', '--model', CE, '--query', 'reset router', '--docs', DOCS, '--activation', 'sigmoid', '--json'], code: 0, stdout: (out) => assert.deepEqual(scoresOf(out), memo.sigmoid) }],
  ['rerank --activation softmax', {
    args: ['rerank', '--model', CE, '--query', 'reset router', '--docs', DOCS, '--activation', 'softmax', '--json'], code: 0,
    // A softmax over one logit is 1 for every document (see the report: the option is accepted on one-logit models).
    stdout: (out) => assert.ok(out.results.every((r: { score: number }) => r.score >= 0 && r.score <= 1)),
  }],
  ['rerank --long-documents truncate', {
    args: ['rerank', '--model', CE, '--query', 'reset router', '--doc', LONG_DOC, '--doc', 'cats sleep', '--max-length', '32', '--json'], code: 0,
    stdout: (out) => (memo.truncated = scoresOf(out)),
  }],
  ['rerank --long-documents chunk scores the long document by its best chunk', {
    args: ['rerank', '--model', CE, '--query', 'reset router', '--doc', LONG_DOC, '--doc', 'cats sleep', '--max-length', '32', '--long-documents', 'chunk', '--batch-size', '2', '--json'], code: 0,
    stdout: (out) => {
      const s = scoresOf(out);
      assert.notEqual(s[0], memo.truncated[0], 'the long document is scored on more than its first window');
      assert.ok(Math.abs(s[1] - memo.truncated[1]) < 1e-6, 'a short document is one chunk either way');
    },
  }],
  ['rerank --batch-size and --max-length keep short documents\' scores', {
    args: ['rerank', '--model', CE, '--query', 'reset router', '--docs', DOCS, '--batch-size', '1', '--max-length', '64', '--json'], code: 0,
    stdout: (out) => scoresOf(out).forEach((s, i) => assert.ok(Math.abs(s - memo.sigmoid[i]) < 1e-5)),
  }],
  ['rerank --dtype int8 --top-k 2 --threads 1, as a table', { args: ['rerank', '--model', CE, '--query', 'reset router', '--docs', DOCS, '--dtype', 'int8', '--top-k', '2', '--threads', '1'], code: 0, stdout: /^#1 \(score 0\.\d{4}\) \[was #\d\] .*\n#2 /m }],
  ['rerank with the built-in default model', { args: ['rerank', '--query', QUERY, '--doc', 'Hold the reset button for ten seconds to restore factory settings.', '--doc', 'The museum is closed on Mondays.', '--json'], code: 0, stdout: (out) => assert.equal(out.results[0].index, 0) }],
  ['rerank with use-lite (a bi-encoder)', { args: ['rerank', '--model', 'use-lite', '--query', QUERY, '--docs', DOCS, '--json'], code: 0, stdout: (out) => assert.equal(out.results.length, 4) }],
  ['rerank --long-documents', bad(['rerank', '--model', CE, '--query', 'q', '--doc', 'd', '--long-documents', 'split'], /--long-documents expects one of truncate, chunk/)],
  ['rerank --max-length', bad(['rerank', '--model', CE, '--query', 'q', '--doc', 'd', '--max-length', '2'], /--max-length expects an integer of at least 4, got "2"/)],
  ['rerank --activation', bad(['rerank', '--model', CE, '--query', 'q', '--doc', 'd', '--activation', 'relu'], /--activation expects one of sigmoid, softmax, none/)],
  ['rerank --batch-size', bad(['rerank', '--model', CE, '--query', 'q', '--doc', 'd', '--batch-size', '0'], /--batch-size expects a positive integer/)],
  ['rerank --dtype', bad(['rerank', '--model', CE, '--query', 'q', '--doc', 'd', '--dtype', 'fp16'], /--dtype expects one of fp32, int8/)],

  // --- the hub: HF_ENDPOINT and HF_TOKEN ------------------------------------------------------------------------
  ['a hub id downloads from HF_ENDPOINT with HF_TOKEN', {
    args: ['rerank', '--model', 'acme/tiny-ce', '--query', 'reset router', '--docs', DOCS, '--json'], code: 0,
    env: () => ({ HF_ENDPOINT: hubUrl, HF_TOKEN: 'hf_secret', RANKWISE_CACHE: join(W, 'hub-cache') }),
    stdout: (out) => {
      assert.deepEqual(scoresOf(out), memo.sigmoid, 'the same model as the folder');
      assert.ok(hubRequests.some((r) => r.url === '/acme/tiny-ce/resolve/main/config.json'), JSON.stringify(hubRequests));
      assert.ok(hubRequests.every((r) => r.auth === 'Bearer hf_secret'), 'every request carries the token');
    },
  }],
  ['a hub id without HF_TOKEN where the hub wants one', {
    args: ['rerank', '--model', 'acme/tiny-ce', '--query', 'q', '--doc', 'd'], code: 3,
    env: () => ({ HF_ENDPOINT: hubUrl, HF_TOKEN: '', RANKWISE_CACHE: join(W, 'hub-cache-2') }),
    stderr: /acme\/tiny-ce.*401|401.*acme\/tiny-ce/,
  }],

  // --- tokenize, compare, convert -----------------------------------------------------------------------------
  ['tokenize --json', { args: ['tokenize', '--model', CE, '--query', 'is it safe', '--doc', 'yes it is', '--max-length', '16', '--json'], code: 0, stdout: (out) => assert.deepEqual(Object.keys(out), ['input_ids', 'token_type_ids', 'attention_mask']) }],
  ['tokenize --max-length', bad(['tokenize', '--model', CE, '--query', 'q', '--doc', 'd', '--max-length', '0'], /--max-length expects a positive integer/)],
  ['compare two models', {
    args: ['compare', '--models', `${CE},use-lite`, '--query', QUERY, '--docs', DOCS, '--repeats', '1', '--dtype', 'fp32', '--threads', '1', '--json'], code: 0,
    stdout: (out) => {
      assert.equal(out.models.length, 2);
      assert.equal(out.agreement.length, 1);
      assert.ok(out.agreement[0].kendallTau >= -1 && out.agreement[0].kendallTau <= 1);
    },
  }],
  ['compare --repeats', bad(['compare', '--models', CE, '--query', 'q', '--docs', DOCS, '--repeats', '0'], /--repeats expects a positive integer/)],
  ['convert use-lite', { args: ['convert', 'use-lite', '--out', join(W, 'use-lite')], code: 0, stdout: /^wrote .*use-lite \(use-lite: 2 layers/ }],
  ['convert use-lite --out is required', bad(['convert', 'use-lite'], /required option '--out <dir>' not specified/)],

  // --- demo, eval -----------------------------------------------------------------------------------------------
  ['demo --json', { args: ['demo', '--json'], code: 0, stdout: (out) => assert.deepEqual(out.stages.map((s: { name: string }) => s.name), ['bm25', 'cross-encoder']) }],
  ['demo --stages', bad(['demo', '--stages', 'bm25:10,bogus:3'], /--stages: "bogus:3": NAME must be one of/)],
  ['eval pairwise', {
    args: ['eval', 'pairwise', '--model', CE, '--cases', join(W, 'cases.jsonl'), '--json'], code: 0,
    stdout: (out) => {
      assert.equal(out.total, 8);
      assert.equal(out.seen.total + out.unseen.total, 8);
    },
  }],
  ['eval rerank', {
    args: ['eval', 'rerank', '--model', CE, '--queries', join(W, 'labelled.jsonl'), '--k', '3', '--recall-at', '1,2', '--json'], code: 0,
    stdout: (out) => {
      for (const m of ['ndcg@3', 'mrr@3', 'map', 'recall@1', 'recall@2']) assert.ok(out[m] >= 0 && out[m] <= 1, m);
      assert.equal(out.per_query.length, 2);
    },
  }],
  ['eval beir (bm25 then a reranker)', {
    args: ['eval', 'beir', '--data', join(ROOT, 'datasets/beir/glossary'), '--max-queries', '3', '--depth', '10', '--model', CE, '--json'], code: 0,
    stdout: (out) => {
      assert.equal(out.queries, 3);
      assert.ok(out.first_stage['ndcg@10'] >= 0);
      assert.ok(CE in out.rerankers);
    },
  }],
  ['eval beir --retriever', bad(['eval', 'beir', '--data', join(ROOT, 'datasets/beir/glossary'), '--retriever', 'sparse'], /--retriever expects one of bm25, vector, hybrid/)],
  ['eval rerank --recall-at', bad(['eval', 'rerank', '--model', CE, '--queries', join(W, 'labelled.jsonl'), '--recall-at', '1,x'], /--recall-at/)],

  // --- train, distill -------------------------------------------------------------------------------------------
  ['train cross-encoder --loss mse', { args: ['train', 'cross-encoder', '--base', CE, '--train', join(W, 'scores.jsonl'), '--loss', 'mse', '--out', join(W, 't-mse'), ...quick()], code: 0, stdout: (out) => assert.deepEqual([out.loss, out.steps], ['mse', 2]) }],
  ['train cross-encoder --loss margin-mse', { args: ['train', 'cross-encoder', '--base', CE, '--train', join(W, 'margins.jsonl'), '--loss', 'margin-mse', '--out', join(W, 't-margin'), ...quick()], code: 0, stdout: (out) => assert.deepEqual([out.loss, out.steps], ['margin-mse', 1]) }],
  ['train cross-encoder --loss mse --teacher scores unscored lines', { args: ['train', 'cross-encoder', '--base', CE, '--teacher', CE, '--train', join(W, 'unscored.jsonl'), '--loss', 'mse', '--out', join(W, 't-teacher'), ...quick()], code: 0, stdout: (out) => assert.deepEqual([out.loss, out.steps], ['mse', 2]) }],
  ['train cross-encoder --teacher needs mse', bad(['train', 'cross-encoder', '--base', CE, '--teacher', CE, '--train', join(W, 'unscored.jsonl'), '--loss', 'bce', '--out', join(W, 'never')], /--teacher: only the mse loss learns from a teacher/)],
  ['train cross-encoder refuses a checkpoint of another run', bad(['train', 'cross-encoder', '--base', CE, '--train', join(W, 'scores.jsonl'), '--loss', 'mse', '--out', join(W, 't-ckpt'), ...quick()], /t-ckpt\.checkpoint holds a checkpoint of a different run .*--restart/)],
  ['train cross-encoder --restart ignores it', {
    args: ['train', 'cross-encoder', '--base', CE, '--train', join(W, 'scores.jsonl'), '--loss', 'mse', '--out', join(W, 't-ckpt'), '--restart', ...quick()], code: 0,
    stdout: (out) => assert.deepEqual([out.steps, out.resumed_from_step], [2, 0]),
  }],
  ['train bi-encoder --loss cosine, as text', { args: ['train', 'bi-encoder', '--base', BI, '--train', join(W, 'cosine.jsonl'), '--loss', 'cosine', '--out', join(W, 't-cos'), '--max-length', '32', '--batch-size', '8'], code: 0, stdout: /^trained bi-encoder from .* with cosine: 2 steps/ }],
  ['train cross-encoder --loss', bad(['train', 'cross-encoder', '--base', CE, '--train', join(W, 'scores.jsonl'), '--loss', 'hinge', '--out', join(W, 'never')], /--loss expects one of bce, mse, margin-mse/)],
  ['distill --teacher is required', bad(['distill', '--student', BI, '--train', join(W, 'unscored.jsonl'), '--out', join(W, 'never')], /required option '--teacher <model>' not specified/)],

  // --- cache ----------------------------------------------------------------------------------------------------
  ['cache simulate', { args: ['cache', 'simulate', '--queries', join(W, 'cache-queries.jsonl'), '--json'], code: 0, stdout: (out) => assert.equal(out.hits + out.misses, 16) }],
  ['cache simulate --threshold --strategy scan', {
    args: ['cache', 'simulate', '--queries', join(W, 'cache-queries.jsonl'), '--threshold', '0.5', '--strategy', 'scan', '--json'], code: 0,
    stdout: (out) => {
      assert.equal(out.hits + out.misses, 16);
      assert.ok(out.queries.filter((q: { hit: boolean }) => q.hit).every((q: { score: number }) => q.score >= 0.5), 'every hit clears the threshold');
    },
  }],
  ['cache simulate --verifier', { args: ['cache', 'simulate', '--queries', join(W, 'cache-queries.jsonl'), '--verifier', CE, '--threshold', '0.4', '--json'], code: 0, stdout: (out) => assert.equal(out.queries.length, 16) }],
  ['cache simulate --sweep', { args: ['cache', 'simulate', '--queries', join(W, 'cache-queries.jsonl'), '--sweep'], code: 0, stdout: /0\.50[\s\S]*0\.95/ }],
  ['cache calibrate (maximum F1)', { args: ['cache', 'calibrate', '--pairs', join(ROOT, 'datasets/cache/pairs.jsonl'), '--json'], code: 0, stdout: (out) => (memo.f1 = out) }],
  ['cache calibrate --precision-target', {
    args: ['cache', 'calibrate', '--pairs', join(ROOT, 'datasets/cache/pairs.jsonl'), '--precision-target', '0.95', '--json'], code: 0,
    stdout: (out) => {
      assert.ok(out.precision >= 0.95, `precision ${out.precision}`);
      assert.ok(out.threshold >= memo.f1.threshold, 'a stricter threshold than maximum F1');
    },
  }],
  ['cache stats of a missing SQLite cache (a typo creates nothing)', bad(['cache', 'stats', '--db', join(W, 'no-such-cache.sqlite'), '--json'], /--db .*no-such-cache\.sqlite: no such cache file/)],
  ['cache simulate --strategy', bad(['cache', 'simulate', '--queries', join(W, 'cache-queries.jsonl'), '--strategy', 'fast'], /--strategy expects one of two-step, scan/)],
  ['cache calibrate --precision-target', bad(['cache', 'calibrate', '--pairs', join(ROOT, 'datasets/cache/pairs.jsonl'), '--precision-target', '2'], /--precision-target expects a number from 0 to 1, got "2"/)],
  ['cache calibrate --precision-target below 0', bad(['cache', 'calibrate', '--pairs', join(ROOT, 'datasets/cache/pairs.jsonl'), '--precision-target', '-0.5'], /--precision-target expects a number from 0 to 1, got "-0.5"/)],

  // --- index ----------------------------------------------------------------------------------------------------
  ['index add (with use-lite vectors)', { args: ['index', 'add', '--index', join(W, 'idx'), '--docs', CORPUS, '--json'], code: 0, stdout: (out) => assert.deepEqual([out.added, out.count, out.model], [50, 50, 'use-lite']) }],
  ['index search --mode text', { args: ['index', 'search', '--index', join(W, 'idx'), '--query', QUERY, '--k', '3', '--mode', 'text', '--json'], code: 0, stdout: (out) => assert.deepEqual([out.mode, out.results.length], ['text', 3]) }],
  ['index search --mode vector', { args: ['index', 'search', '--index', join(W, 'idx'), '--query', QUERY, '--k', '3', '--mode', 'vector', '--json'], code: 0, stdout: (out) => assert.deepEqual([out.mode, out.results.length], ['vector', 3]) }],
  ['index search (hybrid by default)', { args: ['index', 'search', '--index', join(W, 'idx'), '--query', QUERY, '--json'], code: 0, stdout: (out) => assert.deepEqual([out.mode, out.results.length], ['hybrid', 10]) }],
  ['index stats', { args: ['index', 'stats', '--index', join(W, 'idx')], code: 0, stdout: /Documents: 50[\s\S]*Modes: +text, vector, hybrid/ }],
  ['index delete', { args: ['index', 'delete', '--index', join(W, 'idx'), '--ids', 'r01,nope'], code: 0, stdout: /Deleted 1 of 2 ids .* it now holds 49/ }],
  ['index search --k', bad(['index', 'search', '--index', join(W, 'idx'), '--query', 'q', '--k', '0'], /--k expects a positive integer/)],

  // --- funnel: vector, hybrid and bi-encoder stages, --index, --fuse ---------------------------------------------
  ['funnel hybrid:10,bi-encoder:5 keeping its index', {
    args: ['funnel', '--corpus', CORPUS, '--query', QUERY, '--stages', 'hybrid:10,bi-encoder:5', '--index', join(W, 'funnel-index'), '--json'], code: 0,
    stdout: (out) => {
      assert.deepEqual(out.stages.map((s: { name: string; kept: unknown[] }) => [s.name, s.kept.length]), [['hybrid', 10], ['bi-encoder', 5]]);
      assert.ok(out.stages[1].tiers.high >= 1, 'the bi-encoder keeps a relevant document');
    },
  }],
  ['funnel vector:5 reuses --index', {
    args: ['funnel', '--corpus', CORPUS, '--query', QUERY, '--stages', 'vector:5', '--index', join(W, 'funnel-index'), '--json'], code: 0,
    stdout: (out) => {
      assert.deepEqual(out.stages.map((s: { name: string }) => s.name), ['vector']);
      assert.equal(out.final.length, 5);
    },
  }],
  ['funnel bi-encoder first (the whole corpus), then a fused cross-encoder', {
    args: ['funnel', '--corpus', CORPUS, '--query', QUERY, '--stages', 'bi-encoder:10,cross-encoder:4', '--model', CE, '--fuse', 'rrf', '--fuse-weight', '0.5', '--json'], code: 0,
    stdout: (out) => assert.deepEqual(out.stages.map((s: { kept: unknown[] }) => s.kept.length), [10, 4]),
  }],
  ['funnel --fuse-weight', bad(['funnel', '--corpus', CORPUS, '--query', QUERY, '--fuse', 'rrf', '--fuse-weight', '2'], /--fuse-weight expects a number from 0 to 1/)],

  // --- simulate-queue, profile ----------------------------------------------------------------------------------
  ['simulate-queue --service-ms-list', {
    args: ['simulate-queue', '--service-ms-list', '10,20,30', '--qps', '5,40', '--requests', '500', '--json'], code: 0,
    stdout: (out) => {
      assert.deepEqual(out.levels.map((l: { qps: number }) => l.qps), [5, 40]);
      assert.ok(out.levels[1].p99 >= out.levels[0].p99, 'more load, no shorter tail');
    },
  }],
  ['simulate-queue --service-ms FILE --arrivals poisson', { args: ['simulate-queue', '--service-ms', join(W, 'service.txt'), '--arrivals', 'poisson', '--seed', '3', '--name', 'svc'], code: 0, stdout: /svc/ }],
  ['simulate-queue --arrivals', bad(['simulate-queue', '--service-ms-list', '10', '--arrivals', 'burst'], /--arrivals expects one of fixed, poisson/)],
  ['profile: service times and the simulation', {
    args: ['profile', '--model', CE, '--queries', join(W, 'queries.txt'), '--docs', DOCS, '--samples', '20', '--qps', '5,10', '--requests', '200', '--save-samples', join(W, 'samples.txt'), '--report', join(W, 'report.html'), '--json'], code: 0,
    stdout: (out) => {
      assert.equal(out.service_times_ms.length, 20);
      assert.deepEqual(Object.keys(out.simulation).sort(), ['fixed', 'poisson']);
    },
  }],
  ['profile --real-load measures real load next to the simulation', {
    args: ['profile', '--model', CE, '--queries', join(W, 'queries.txt'), '--docs', DOCS, '--samples', '10', '--qps', '20', '--requests', '100', '--real-load', '20', '--real-requests', '20', '--real-arrivals', 'fixed', '--json'], code: 0,
    stdout: (out) => {
      assert.equal(out.real_load.length, 1);
      const level = out.real_load[0];
      assert.deepEqual([level.qps, level.requests, level.arrivals], [20, 20, 'fixed']);
      assert.ok(level.measured.p50 > 0 && level.measured.max >= level.measured.p50);
      assert.equal(level.simulated.qps, 20);
    },
  }],
  ['profile --arrivals', bad(['profile', '--model', CE, '--queries', join(W, 'queries.txt'), '--docs', DOCS, '--arrivals', 'weird'], /--arrivals expects one of fixed, poisson, both/)],

  // --- late-interaction ---------------------------------------------------------------------------------------------
  ['late-interaction index', { args: ['late-interaction', 'index', '--docs', join(W, 'li-docs.jsonl'), '--index', join(W, 'li'), '--encoding', 'float16', '--json'], code: 0, stdout: (out) => assert.deepEqual([out.added, out.documents], [12, 12]) }],
  ['late-interaction search', { args: ['late-interaction', 'search', '--index', join(W, 'li'), '--query', 'quantum computer speedup', '--k', '3', '--kernel', 'js', '--json'], code: 0, stdout: (out) => assert.equal(out.results.length, 3) }],
  ['late-interaction delete', { args: ['late-interaction', 'delete', '--index', join(W, 'li'), '--ids', 'qc-1', '--json'], code: 0, stdout: (out) => assert.deepEqual([out.deleted, out.documents], [1, 11]) }],
  ['late-interaction compare', { args: ['late-interaction', 'compare', '--docs', join(W, 'li-docs.jsonl'), '--queries', join(W, 'li-queries.jsonl'), '--json'], code: 0, stdout: (out) => assert.equal(out.queries.length, 2) }],
  ['late-interaction search --kernel', bad(['late-interaction', 'search', '--index', join(W, 'li'), '--query', 'q', '--kernel', 'gpu'], /--kernel expects one of auto, js, onnx/)],

  // --- adapt, mine, build-default-reranker --------------------------------------------------------------------------
  ['adapt --skip-training', { args: ['adapt', '--corpus', CORPUS, '--out', join(W, 'adapted'), '--skip-training', '--json'], code: 0, stdout: (out) => assert.deepEqual([out.documents, out.steps], [50, 0]) }],
  ['adapt --queries', bad(['adapt', '--corpus', CORPUS, '--out', join(W, 'never'), '--queries', 'title,bogus'], /--queries expects a comma-separated list of title, ict, crop/)],
  ['mine hard negatives', {
    args: ['mine', '--pairs', join(W, 'mine-pairs.jsonl'), '--corpus', CORPUS, '--out', join(W, 'mined.jsonl'), '--num-negatives', '2', '--json'], code: 0,
    stdout: (out) => assert.deepEqual([out.pairs, out.records, out.negatives], [2, 4, 4]),
  }],
  ['mine --sampling', bad(['mine', '--pairs', join(W, 'mine-pairs.jsonl'), '--corpus', CORPUS, '--out', join(W, 'never.jsonl'), '--sampling', 'best'], /--sampling expects one of top, random/)],
  ['build-default-reranker --from: ships a trained folder (float16, recipe.json)', {
    args: ['build-default-reranker', '--from', CE, '--out', join(W, 'shipped'), '--json'], code: 0,
    stdout: (out) => {
      assert.deepEqual([out.built, out.steps, out.trained], [false, 0, CE]);
      assert.match(out.files['model.safetensors'].sha256, /^[0-9a-f]{64}$/);
      assert.equal(out.fixedPairs.length, 10);
    },
  }],
  ['build-default-reranker --check: the rebuild is byte-identical', { args: ['build-default-reranker', '--from', CE, '--out', join(W, 'shipped'), '--check', '--json'], code: 0, stdout: (out) => assert.deepEqual([out.sameBytes, out.differingFiles], [true, []]) }],
  ['build-default-reranker as text', { args: ['build-default-reranker', '--from', CE, '--out', join(W, 'shipped-text')], code: 0, stdout: /^using the trained model .*ce\nwrote .*shipped-text: model\.safetensors [\d.]+ MB sha256 [0-9a-f]{64}\n/ }],
  ['build-default-reranker --threads', bad(['build-default-reranker', '--threads', '0'], /--threads expects a positive integer/)],

  // --- serve (started and stopped by the tests below; here the options it refuses) --------------------------------------
  ['serve --port', bad(['serve', '--model', CE, '--port', '70000'], /--port expects a port from 0 to 65535/)],
  ['serve --dtype', bad(['serve', '--model', CE, '--dtype', 'fp16'], /--dtype expects one of fp32, int8/)],
];

/** Short training runs: 2 steps of 8 on 16 lines, 32 tokens. */
function quick(): string[] {
  return ['--batch-size', '8', '--max-length', '32', '--epochs', '1', '--json'];
}

async function writeInputs(): Promise<void> {
  await writeFile(DOCS, ['Hold the reset button for ten seconds.', 'Cats sleep most of the day.', 'Open the router admin page.', 'BM25 is a lexical ranking function.'].join('\n') + '\n');
  await writeFile(join(W, 'queries.txt'), 'reset router\nchange wifi password\n');
  await writeFile(join(W, 'service.txt'), '10\n12\n30\n8\n');
  await writeFile(join(W, 'cases.jsonl'), jsonl(syntheticCases(8, 9, 4).map((c, i) => ({ ...c, split: i < 4 ? 'seen' : 'unseen' }))));
  await writeFile(join(W, 'labelled.jsonl'), jsonl([
    { query: 'reset router', documents: ['Hold the reset button.', 'Cats sleep.', 'Routers forward packets.'], relevant: [0] },
    { query: 'cat sleep', documents: ['Dogs bark.', 'Cats sleep sixteen hours.'], relevance: { '1': 2 } },
  ]));
  const pairs = syntheticPairs(8, 1, 4);
  await writeFile(join(W, 'scores.jsonl'), jsonl(pairs.map(({ query, document, label }) => ({ query, document, score: label }))));
  await writeFile(join(W, 'unscored.jsonl'), jsonl(pairs.map(({ query, document }) => ({ query, document }))));
  await writeFile(join(W, 'cosine.jsonl'), jsonl(pairs.map(({ query, document, label }) => ({ query, document, score: label ? 0.8 : -0.2 }))));
  await writeFile(join(W, 'margins.jsonl'), jsonl(syntheticCases(8, 2, 4).map((c) => ({ query: c.query, positive: c.relevant, negative: c.distractor, margin: 3 }))));
  // A checkpoint an interrupted run of other settings left next to the output folder.
  await mkdir(join(W, 't-ckpt.checkpoint'), { recursive: true });
  await writeFile(join(W, 't-ckpt.checkpoint', 'state.json'), JSON.stringify({ fingerprint: 'another run', step: 1, engineFile: 'engine-1.pt', losses: [1], evaluations: [] }));
  const cacheQueries = (await readFile(join(ROOT, 'datasets/cache/queries.jsonl'), 'utf8')).trim().split('\n').slice(0, 16);
  await writeFile(join(W, 'cache-queries.jsonl'), cacheQueries.join('\n') + '\n');
  const liDocs = (await readFile(join(ROOT, 'datasets/late-interaction/documents.jsonl'), 'utf8')).trim().split('\n').slice(0, 12);
  await writeFile(join(W, 'li-docs.jsonl'), liDocs.join('\n') + '\n');
  const liQueries = (await readFile(join(ROOT, 'datasets/late-interaction/queries.jsonl'), 'utf8')).trim().split('\n').slice(0, 2);
  await writeFile(join(W, 'li-queries.jsonl'), liQueries.join('\n') + '\n');
  await writeFile(join(W, 'mine-pairs.jsonl'), jsonl([
    { query: 'reset router', positive: 'Hold the reset button for ten seconds to restore factory settings.' },
    { query: 'museum opening hours', positive: 'The museum is closed on Mondays, and entry is free on the first Sunday of every month.' },
  ]));
}

function startHub(): Promise<void> {
  hub = createHttpServer(async (req, res) => {
    hubRequests.push({ url: req.url ?? '', auth: req.headers.authorization });
    if (req.headers.authorization !== 'Bearer hf_secret') {
      res.writeHead(401).end('{"error":"Invalid credentials"}');
      return;
    }
    const match = /^\/acme\/tiny-ce\/resolve\/main\/(.+)$/.exec(req.url ?? '');
    try {
      if (!match || match[1].includes('..')) throw new Error('not here');
      const body = await readFile(join(CE, decodeURIComponent(match[1])));
      res.writeHead(200, { 'content-length': body.length }).end(body);
    } catch {
      res.writeHead(404).end('Entry not found');
    }
  });
  return new Promise((resolve) => hub.listen(0, '127.0.0.1', () => {
    hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
    resolve();
  }));
}

// --- serve as a long-running process ---------------------------------------------------------------------------------

interface Served {
  child: ChildProcess;
  url: string;
  port: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr(): string;
}

/**
 * `node bin/rankwise.js serve ARGS --port 0` in its own process group (so that cleanup also reaches a process the
 * launcher re-executes); resolves once it prints its URL.
 */
async function serve(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Served> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args, '--port', '0'], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  served.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      stdout += d;
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
      if (match) resolve(match[1]);
    });
    void exited.then(() => reject(new Error(`serve exited early: ${stderr}`)));
  });
  return { child, url, port: Number(new URL(url).port), exited, stderr: () => stderr };
}
const served: ChildProcess[] = [];

async function post(url: string, body: unknown, key?: string): Promise<{ status: number; json: any }> {
  const reply = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) }, body: JSON.stringify(body) });
  const text = await reply.text();
  return { status: reply.status, json: parsed(text) };
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

// --- the tests ---------------------------------------------------------------------------------------------------------

let built = false;
before(async () => {
  const started = Date.now();
  // A fresh build: bin/rankwise.js runs dist/ whenever it exists, stale or not.
  await new Promise<void>((resolve, reject) =>
    execFile('npm', ['run', 'build'], { cwd: ROOT, maxBuffer: 16 << 20 }, (error, stdout, stderr) => (error ? reject(new Error(`npm run build failed:\n${stdout}${stderr}`)) : resolve())),
  );
  const main = await stat(join(ROOT, 'dist/cli/main.js'));
  assert.ok(main.mtimeMs >= started - 1000, 'dist/cli/main.js was just written');
  built = true;
  await writeInputs();
  await startHub();
});

after(async () => {
  for (const child of served) await stopGroup(child);
  await new Promise<void>((resolve) => (hub ? hub.close(() => resolve()) : resolve()));
  await rm(W, { recursive: true, force: true });
});

describe('rankwise, every command from a fresh build of the package', { timeout: 600_000 }, () => {
  for (const [name, c] of CASES) {
    test(name, async () => {
      assert.ok(built, 'the build ran');
      const args = typeof c.args === 'function' ? c.args() : c.args;
      const env = typeof c.env === 'function' ? c.env() : c.env;
      const out = await cli(args, env);
      const where = `rankwise ${args.join(' ')}\nstdout: ${out.stdout.slice(0, 500)}\nstderr: ${out.stderr.slice(-1500)}`;
      assert.equal(out.code, c.code, where);
      if (c.code !== 0) {
        assert.equal(out.stderr.trim().split('\n').length, 1, `one line on stderr: ${where}`);
        assert.equal(out.stdout, '', `nothing on stdout: ${where}`);
      }
      if (c.stderr) assert.match(out.stderr, c.stderr, where);
      if (c.stdout instanceof RegExp) assert.match(out.stdout, c.stdout, where);
      else if (c.stdout) c.stdout(parsed(out.stdout));
    });
  }

  test('every command that --help lists has a case here', async () => {
    const help = (await cli(['--help'])).stdout;
    const commands = [...help.split('Commands:')[1].matchAll(/^ {2}([a-z-]+)/gm)].map((m) => m[1]).filter((c) => c !== 'help');
    assert.ok(commands.length >= 18, commands.join(', '));
    const covered = new Set(CASES.map(([, c]) => (typeof c.args === 'function' ? 'serve' : c.args[0])));
    covered.add('serve');
    assert.deepEqual(commands.filter((c) => !covered.has(c)), []);
  });

  test('the package entry points: `import ... from "rankwise"` and its subpaths resolve to the build, and it ranks', async () => {
    const script = [
      "import { loadRanker, CrossEncoder } from 'rankwise';",
      "import { Funnel, RankerStage } from 'rankwise/pipeline';",
      "import { createServer } from 'rankwise/serve';",
      "import { OpenAICompatibleProvider } from 'rankwise/llm';",
      "for (const [name, value] of Object.entries({ loadRanker, Funnel, RankerStage, createServer, CrossEncoder, OpenAICompatibleProvider })) if (typeof value !== 'function') throw new Error(name);",
      `const ranker = await loadRanker(${JSON.stringify(CE)});`,
      "const ranked = await ranker.rank('reset router', ['hold the reset button', 'cats sleep']);",
      "await ranker.dispose?.();",
      "console.log(JSON.stringify({ url: import.meta.resolve('rankwise'), serve: import.meta.resolve('rankwise/serve'), n: ranked.results.length }));",
    ].join('\n');
    const out = await new Promise<Outcome>((resolve) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr })),
    );
    assert.equal(out.code, 0, out.stderr);
    const result = JSON.parse(out.stdout);
    assert.ok(result.url.endsWith('/dist/index.js'), result.url);
    assert.ok(result.serve.endsWith('/dist/serve/index.js'), result.serve);
    assert.equal(result.n, 2);
  });

  test('serve --index --cache FILE with RANKWISE_API_KEY: /search, its fields, validation and the cache', async () => {
    const s = await serve(['--model', CE, '--index', join(W, 'idx'), '--cache', join(W, 'serve-cache.sqlite'), '--threads', '1'], { RANKWISE_API_KEY: 'k3y' });
    try {
      const health = await fetch(`${s.url}/health`);
      assert.equal(health.status, 200);
      assert.equal((await post(`${s.url}/search`, { query: QUERY })).status, 401, 'RANKWISE_API_KEY is required');
      assert.equal((await post(`${s.url}/search`, { query: QUERY }, 'wrong')).status, 401);
      const first = await post(`${s.url}/search`, { query: QUERY, k: 3, candidates: 10, mode: 'text' }, 'k3y');
      assert.equal(first.status, 200, JSON.stringify(first.json));
      assert.equal(first.json.query, QUERY);
      assert.equal(first.json.results.length, 3);
      for (const hit of first.json.results) {
        assert.equal(typeof hit.id, 'string');
        assert.equal(typeof hit.text, 'string');
        assert.ok(hit.score >= 0 && hit.score <= 1, 'the cross-encoder\'s relevance in [0, 1]');
        assert.equal(typeof hit.retrieval_score, 'number');
      }
      assert.deepEqual(first.json.cache, { hit: false, matched_query: null, score: null });
      const again = await post(`${s.url}/search`, { query: QUERY, k: 3, candidates: 10, mode: 'text' }, 'k3y');
      assert.equal(again.status, 200);
      assert.equal(again.json.cache.hit, true, 'the same query again comes from the cache');
      assert.equal(again.json.cache.matched_query, QUERY);
      assert.deepEqual(again.json.results.map((r: { id: string }) => r.id), first.json.results.map((r: { id: string }) => r.id));
      for (const body of [{ query: QUERY, k: 0 }, { query: QUERY, mode: 'sparse' }, { k: 3 }, { query: QUERY, fuse_weight: 2 }]) {
        const res = await post(`${s.url}/search`, body, 'k3y');
        assert.equal(res.status, 400, `${JSON.stringify(body)} -> ${res.status}`);
      }
    } finally {
      s.child.kill('SIGTERM');
      await Promise.race([s.exited, sleep(10_000)]);
      await stopGroup(s.child);
    }
    // The cache file outlives the server, and `cache stats` reads it.
    const stats = await cli(['cache', 'stats', '--db', join(W, 'serve-cache.sqlite'), '--json']);
    assert.equal(stats.code, 0, stats.stderr);
    const counts = JSON.parse(stats.stdout);
    assert.equal(counts.entries, 1);
    assert.equal(counts.hits, 1);
  });

  test('serve --dtype int8: /v2/rerank with the quantized model', async () => {
    const s = await serve(['--model', CE, '--dtype', 'int8', '--threads', '1']);
    try {
      const res = await post(`${s.url}/v2/rerank`, { query: QUERY, documents: ['Hold the reset button.', 'Cats sleep.', 'Open the admin page.'], top_n: 2 });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.results.length, 2);
      assert.ok(res.json.results.every((r: { index: number; relevance_score: number }) => r.index >= 0 && r.index < 3 && r.relevance_score >= 0 && r.relevance_score <= 1), JSON.stringify(res.json));
    } finally {
      await stopGroup(s.child);
    }
  });

  test(
    'serve --index --dtype int8 opens an index that `index add` built',
    { timeout: 60_000 },
    async () => {
      const s = await serve(['--model', CE, '--index', join(W, 'idx'), '--dtype', 'int8', '--threads', '1']);
      try {
        const res = await post(`${s.url}/search`, { query: QUERY, k: 2 });
        assert.equal(res.status, 200, JSON.stringify(res.json));
        assert.equal(res.json.results.length, 2);
      } finally {
        await stopGroup(s.child);
      }
    },
  );

  test('serve --index without --cache: /search answers with "cache": null', async () => {
    const s = await serve(['--model', CE, '--index', join(W, 'idx'), '--threads', '1']);
    try {
      const res = await post(`${s.url}/search`, { query: QUERY, k: 2 });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.cache, null);
      assert.equal(res.json.results.length, 2);
    } finally {
      await stopGroup(s.child);
    }
  });

  test(
    'serve: SIGTERM to the rankwise process while a request is in flight: the request completes, the process exits 0, the port is freed',
    { timeout: 60_000 },
    async () => {
      // Requests wait up to 4 s for company: a request is surely in flight when the signal comes 1 s later.
      const s = await serve(['--model', CE, '--threads', '1', '--batch-wait-ms', '4000']);
      try {
        const inFlight = post(`${s.url}/v2/rerank`, { query: QUERY, documents: ['Hold the reset button.', 'Cats sleep.'] });
        await sleep(1000);
        s.child.kill('SIGTERM');
        const reply = await inFlight;
        assert.equal(reply.status, 200, JSON.stringify(reply.json));
        assert.equal(reply.json.results.length, 2);
        const exit = await Promise.race([s.exited, sleep(10_000).then(() => 'still running')]);
        assert.deepEqual(exit, { code: 0, signal: null }, s.stderr());
        assert.match(s.stderr(), /SIGTERM, finishing requests in flight/);
        assert.equal(await portOpen(s.port), false, 'nothing listens on the port any more');
      } finally {
        await stopGroup(s.child);
      }
    },
  );
});
