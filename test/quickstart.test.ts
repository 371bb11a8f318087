/**
 * The quick start without the optional packages: `scripts/quickstart.sh` installs only package.json's
 * `dependencies`, so `rankwise demo` must run on them alone, with its BM25 first stage in memory. The lean install is
 * real here: a copy of the checkout whose node_modules holds exactly the packages package-lock.json does not mark as
 * dev (what `npm ci --omit=dev` installs) plus tsx, so LanceDB is genuinely not there to be loaded.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, symlink } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { demoCorpus } from '../src/cli/commands/demo.js';
import { InputError } from '../src/errors.js';
import { Bm25Index } from '../src/retrieve/bm25.js';
import { MemoryBm25Retriever } from '../src/retrieve/memory-bm25.js';
import { ROOT, type Outcome } from './helpers/cli.js';
import { scratchDir } from './helpers/fixtures.js';

const run = promisify(execFile);

const DOCS = [
  { id: 'a', text: 'Vaccines train the immune system to recognise a pathogen.' },
  { id: 'b', text: 'The immune system fights infections with white blood cells.' },
  { id: 'c', text: 'Sourdough bread needs a starter, flour, water and salt.' },
  { id: 'd', text: 'A train timetable lists departures from each station.', metadata: { topic: 'rail' } },
];

test('MemoryBm25Retriever ranks as Bm25Index does and follows adds, replacements and deletes', async () => {
  const retriever = new MemoryBm25Retriever(DOCS);
  const query = 'how do vaccines train the immune system';
  const expected = new Bm25Index(DOCS).search(query, 10);
  const hits = await retriever.search(query, { k: 10 });
  assert.deepEqual(
    hits.map((h) => [h.id, h.score, h.rank]),
    expected.map((h, i) => [h.id, h.score, i + 1]),
  );
  assert.ok(!hits.some((h) => h.id === 'c'), 'a document sharing no term is left out');
  assert.deepEqual(hits.find((h) => h.id === 'd')?.metadata, { topic: 'rail' }, 'metadata comes back with the hit');
  assert.equal(hits.find((h) => h.id === 'a')?.text, DOCS[0].text);

  // Replacing a document changes what it is found for; the collection statistics follow.
  await retriever.add([{ id: 'c', text: 'Vaccines and the immune system: how a vaccine trains memory cells.' }]);
  assert.equal(await retriever.count(), 4);
  const replaced = await retriever.search('sourdough', { k: 5 });
  assert.deepEqual(replaced, [], 'the old text of "c" is gone');
  const afterAdd = await retriever.search(query, { k: 10 });
  const docsNow = [DOCS[0], DOCS[1], DOCS[3], { id: 'c', text: 'Vaccines and the immune system: how a vaccine trains memory cells.' }];
  assert.deepEqual(
    afterAdd.map((h) => [h.id, h.score]),
    new Bm25Index(docsNow).search(query, 10).map((h) => [h.id, h.score]),
  );

  await retriever.delete(['a', 'missing']);
  assert.equal(await retriever.count(), 3);
  assert.ok(!(await retriever.search(query, { k: 10 })).some((h) => h.id === 'a'));
  assert.equal((await retriever.search(query, { k: 1 })).length, 1, 'k caps the hits');

  await assert.rejects(retriever.search(query, { mode: 'vector' }), (e: unknown) => e instanceof InputError && /mode: vector is not supported/.test((e as Error).message));
  await assert.rejects(retriever.add([{ id: '', text: 'x' }]), (e: unknown) => e instanceof InputError && /documents\[0\]\.id/.test((e as Error).message));
  await retriever.close();
  await assert.rejects(retriever.search(query), (e: unknown) => e instanceof InputError && /closed/.test((e as Error).message));
});

/** A checkout whose node_modules is what `npm ci --omit=dev` installs, plus tsx (which the quick start gets from npx). */
async function leanCheckout(): Promise<string> {
  const dir = join(await scratchDir(), 'checkout');
  await mkdir(join(dir, 'node_modules'), { recursive: true });
  // Source and package.json are copied, not linked: Node resolves a linked file's imports from its real folder,
  // which would find the full node_modules again.
  await cp(join(ROOT, 'src'), join(dir, 'src'), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json']) await cp(join(ROOT, file), join(dir, file));
  for (const data of ['datasets', 'models']) await symlink(join(ROOT, data), join(dir, data));
  const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean; devOptional?: boolean }> };
  const core = Object.entries(lock.packages)
    .filter(([path, entry]) => /^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) && !entry.dev && !entry.devOptional)
    .map(([path]) => path.slice('node_modules/'.length));
  assert.ok(core.includes('onnxruntime-node') && !core.includes('@lancedb/lancedb'), `the core closure: ${core.join(', ')}`);
  for (const name of [...core, 'tsx']) {
    await mkdir(dirname(join(dir, 'node_modules', name)), { recursive: true });
    await symlink(join(ROOT, 'node_modules', name), join(dir, 'node_modules', name));
  }
  return dir;
}

function cli(cwd: string, cache: string, ...args: string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd, env: { ...process.env, RANKWISE_CACHE: cache }, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test('the demo runs on the core dependencies alone: BM25 in memory, then the built-in reranker', { timeout: 300_000 }, async () => {
  const checkout = await leanCheckout();
  const cache = join(await scratchDir(), 'models');

  // LanceDB really is missing there: the funnel command's LanceDB first stage says which package to install.
  const funnel = await cli(checkout, cache, 'funnel', '--corpus', 'datasets/funnel/corpus.jsonl', '--query', 'vaccines', '--stages', 'bm25:5');
  assert.notEqual(funnel.code, 0, 'the funnel command still indexes in LanceDB');
  assert.match(funnel.stderr, /needs the optional package "@lancedb\/lancedb"/);

  const demo = await cli(checkout, cache, 'demo', '--json');
  assert.equal(demo.code, 0, `demo failed without the optional packages: ${demo.stderr}`);
  assert.ok((await readdir(join(cache, 'rankwise'))).some((name) => name.startsWith('default-')), 'the shipped weights were prepared into the empty model cache');
  const json = JSON.parse(demo.stdout);
  const { query, corpus } = await demoCorpus();
  const expected = new Bm25Index(corpus).search(query, 20);
  assert.deepEqual(
    json.stages[0].kept.map((c: { id: string }) => c.id),
    expected.map((h) => h.id),
    'the first stage is the in-memory BM25 over the demo corpus',
  );
  const firstIds = new Set(expected.map((h) => h.id));
  assert.ok(json.final.every((id: string) => firstIds.has(id)), 'the reranker only reorders what BM25 found');
  assert.ok(json.relevantInFinal > json.relevantInFirstStageTop, `reranked ${json.relevantInFinal} vs BM25's own top 5 ${json.relevantInFirstStageTop}`);
});

test('scripts/quickstart.sh from a copy of the checkout: installs the core alone, then prints the demo', { timeout: 600_000 }, async () => {
  // What a fresh clone holds: the tracked files (and new ones git does not ignore), no node_modules, no dist/.
  const clone = join(await scratchDir(), 'clone');
  await mkdir(clone, { recursive: true });
  const listed = await run('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, maxBuffer: 64 << 20 }).catch(() => undefined);
  if (listed) {
    for (const file of listed.stdout.split('\0').filter(Boolean)) {
      if (!existsSync(join(ROOT, file))) continue; // deleted in the working tree, not yet in the index
      await mkdir(dirname(join(clone, file)), { recursive: true });
      await cp(join(ROOT, file), join(clone, file));
    }
  } else {
    // Not a git checkout (a source archive): everything but what installs and builds make.
    const made = /^(node_modules|dist|\.git|\.cache|native\/build)(\/|$)/;
    await cp(ROOT, clone, { recursive: true, filter: (source) => !made.test(relative(ROOT, source)) });
  }
  const cache = join(await scratchDir(), 'models');
  // npm's cache is warm wherever `npm ci` ran (CI, a developer machine): prefer it to the network.
  const env = { ...process.env, RANKWISE_CACHE: cache, npm_config_prefer_offline: 'true' };
  const { stdout } = await run('bash', ['scripts/quickstart.sh', '--json'], { cwd: clone, env, maxBuffer: 16 << 20 });
  const json = JSON.parse(stdout);
  assert.equal(json.stages[0].name, 'bm25');
  assert.ok(json.relevantInFinal > json.relevantInFirstStageTop, `reranked ${json.relevantInFinal} vs BM25's own top 5 ${json.relevantInFirstStageTop}`);
  const installed = await readdir(join(clone, 'node_modules'));
  assert.ok(installed.includes('onnxruntime-node'));
  for (const optional of ['@lancedb', 'fastify', 'typescript', 'hnswlib-node', 'node-llama-cpp']) assert.ok(!installed.includes(optional), `${optional} was installed`);
  assert.ok(!existsSync(join(clone, 'dist')), 'nothing was compiled');
});
