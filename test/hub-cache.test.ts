import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, relative } from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { BackendUnavailableError, InputError, ModelNotFoundError } from '../src/errors.js';
import { hfHubCacheDir } from '../src/models/hub.js';
import { resolveModel } from '../src/models/model-folder.js';
import { loadRanker } from '../src/rank/load-ranker.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';

const QUERY = 'what is a reranker';
const DOCUMENTS = ['A reranker reorders retrieved documents.', 'Tomatoes grow best in warm weather.', 'Rerankers score query-document pairs.'];
const COMMIT_A = createHash('sha1').update('commit a').digest('hex');
const COMMIT_B = createHash('sha1').update('commit b').digest('hex');
const COMMIT_C = createHash('sha1').update('commit c').digest('hex');
const COMMIT_D = createHash('sha1').update('commit d').digest('hex');
/** Files the hub stores in LFS: their etag is the content's sha256; other files' is their git blob id. */
const LFS = /\.(onnx|safetensors)$/;
const ENV = ['HF_HUB_CACHE', 'HUGGINGFACE_HUB_CACHE', 'HF_HOME', 'XDG_CACHE_HOME', 'HF_HUB_OFFLINE', 'TRANSFORMERS_OFFLINE', 'HF_ENDPOINT'];

let modelA: string;
let modelB: string;
let server: Server;
let endpoint: string;
const requests: string[] = [];
/** What the loopback hub serves: repository → commit → folder, and its branches. */
const hub = new Map<string, { commits: Map<string, string>; refs: Map<string, string>; corruptCdn?: boolean }>();
const savedEnv = new Map(ENV.map((name) => [name, process.env[name]]));

function etagOf(file: string, body: Buffer): string {
  if (LFS.test(file)) return createHash('sha256').update(body).digest('hex');
  return createHash('sha1').update(`blob ${body.length}\0`).update(body).digest('hex');
}

async function filesOf(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await filesOf(dir, path)));
    else out.push(path);
  }
  return out;
}

/**
 * A model's folder in a Hugging Face hub cache, laid out as huggingface_hub writes it: blobs/<etag> holds the bytes,
 * snapshots/<commit>/<file> is a relative link to the blob, refs/<branch> holds the commit (no newline).
 */
async function writeHfCache(cache: string, id: string, commit: string, source: string, options: { refs?: string[]; only?: string[] } = {}): Promise<string> {
  const repo = join(cache, `models--${id.replace('/', '--')}`);
  for (const file of options.only ?? (await filesOf(source))) {
    const body = await readFile(join(source, file));
    const blob = join(repo, 'blobs', etagOf(file, body));
    await mkdir(dirname(blob), { recursive: true });
    await writeFile(blob, body);
    const pointer = join(repo, 'snapshots', commit, file);
    await mkdir(dirname(pointer), { recursive: true });
    await symlink(relative(dirname(pointer), blob), pointer);
  }
  for (const ref of options.refs ?? ['main']) {
    await mkdir(join(repo, 'refs'), { recursive: true });
    await writeFile(join(repo, 'refs', ref), commit);
  }
  return repo;
}

function setEnv(values: Record<string, string | undefined>): void {
  for (const name of ENV) delete process.env[name];
  for (const [name, value] of Object.entries(values)) if (value !== undefined) process.env[name] = value;
}

async function scoresOf(model: string, options: Parameters<typeof loadRanker>[1] = {}): Promise<number[]> {
  const ranker = await loadRanker(model, { threads: 1, ...options });
  try {
    const { results } = await ranker.rank(QUERY, DOCUMENTS);
    return results.sort((a, b) => a.index - b.index).map((r) => r.score);
  } finally {
    await ranker.dispose?.();
  }
}

before(async () => {
  modelA = await fixtureModel({ kind: 'cross-encoder', seed: 11 });
  modelB = await fixtureModel({ kind: 'cross-encoder', seed: 12 });
  // The hub's file API as huggingface_hub sees it: every answer names the commit (X-Repo-Commit); a large file
  // answers 302 to a CDN with its sha256 in X-Linked-Etag; a small one answers 200 with its git blob id as ETag;
  // a missing file is a 404 that still names the commit.
  server = createServer(async (req, res) => {
    const url = req.url ?? '';
    requests.push(url);
    const cdn = /^\/cdn\/([^/]+)\/([0-9a-f]{40})\/(.+)$/.exec(url);
    if (cdn) {
      const repo = hub.get(decodeURIComponent(cdn[1]))!;
      const body = await readFile(join(repo.commits.get(cdn[2])!, cdn[3]));
      if (repo.corruptCdn) body[body.length >> 1] ^= 0xff;
      res.writeHead(200, { 'content-length': body.length, etag: '"cdn-object-etag"' }).end(body);
      return;
    }
    const match = /^\/([\w.-]+\/[\w.-]+)\/resolve\/([^/]+)\/(.+)$/.exec(url);
    const repo = match ? hub.get(match[1]) : undefined;
    const revision = match ? decodeURIComponent(match[2]) : '';
    const commit = repo?.refs.get(revision) ?? (repo?.commits.has(revision) ? revision : undefined);
    if (!match || !repo || !commit) {
      res.writeHead(404).end('Repository or revision not found');
      return;
    }
    const file = match[3];
    let body: Buffer;
    try {
      body = await readFile(join(repo.commits.get(commit)!, file));
    } catch {
      res.writeHead(404, { 'x-repo-commit': commit, 'x-error-code': 'EntryNotFound' }).end('Entry not found');
      return;
    }
    const etag = etagOf(file, body);
    if (LFS.test(file)) {
      const location = `${endpoint}/cdn/${encodeURIComponent(match[1])}/${commit}/${file}`;
      res.writeHead(302, { location, 'x-repo-commit': commit, 'x-linked-etag': `"${etag}"`, 'x-linked-size': body.length }).end();
    } else {
      res.writeHead(200, { 'x-repo-commit': commit, etag: `"${etag}"`, 'content-length': body.length }).end(body);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => server.close());
afterEach(() => {
  for (const [name, value] of savedEnv) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  hub.clear();
  requests.length = 0;
});

test('HF_HUB_CACHE: a model another tool downloaded is loaded by hub id from its snapshot, with no request', { timeout: 120_000 }, async () => {
  const cache = await scratchDir();
  const repo = await writeHfCache(cache, 'acme/tiny-reranker', COMMIT_A, modelA);
  setEnv({ HF_HUB_CACHE: cache });
  const ours = await scratchDir();
  const folder = await resolveModel('acme/tiny-reranker', { endpoint, cacheDir: ours });
  assert.equal(folder.dir, join(repo, 'snapshots', COMMIT_A));
  assert.ok((await lstat(join(folder.dir, 'onnx', 'model.onnx'))).isSymbolicLink(), 'the snapshot file read is the link into blobs/');
  const scores = await scoresOf('acme/tiny-reranker', { endpoint, cacheDir: ours });
  assert.deepEqual(scores, await scoresOf(modelA));
  assert.deepEqual(requests, [], 'a cached model costs no request');
  assert.deepEqual(await readdir(ours), [], "nothing is written to rankwise's cache");
});

test('HF_HOME and XDG_CACHE_HOME locate the hub cache as huggingface_hub does', { timeout: 120_000 }, async () => {
  const home = await scratchDir();
  await writeHfCache(join(home, 'hub'), 'acme/tiny-reranker', COMMIT_A, modelA);
  setEnv({ HF_HOME: home });
  assert.equal(hfHubCacheDir(), join(home, 'hub'));
  assert.deepEqual(await scoresOf('acme/tiny-reranker', { endpoint, cacheDir: await scratchDir() }), await scoresOf(modelA));

  const xdg = await scratchDir();
  await writeHfCache(join(xdg, 'huggingface', 'hub'), 'acme/other-reranker', COMMIT_B, modelB);
  setEnv({ XDG_CACHE_HOME: xdg });
  assert.equal(hfHubCacheDir(), join(xdg, 'huggingface', 'hub'));
  assert.deepEqual(await scoresOf('acme/other-reranker', { endpoint, cacheDir: await scratchDir() }), await scoresOf(modelB));
  assert.deepEqual(requests, []);

  // HF_HUB_CACHE wins over HF_HOME, which wins over XDG_CACHE_HOME.
  setEnv({ HF_HUB_CACHE: '/x/hub-cache', HF_HOME: '/x/home', XDG_CACHE_HOME: '/x/xdg' });
  assert.equal(hfHubCacheDir(), '/x/hub-cache');
  setEnv({ HF_HOME: '/x/home', XDG_CACHE_HOME: '/x/xdg' });
  assert.equal(hfHubCacheDir(), join('/x/home', 'hub'));
});

test('HF_HUB_OFFLINE=1: a cached model loads, a missing one is a ModelNotFoundError and no request is made', { timeout: 120_000 }, async () => {
  const cache = await scratchDir();
  await writeHfCache(cache, 'acme/tiny-reranker', COMMIT_A, modelA);
  // The hub has the missing model: only offline mode keeps it from being downloaded.
  hub.set('acme/not-cached', { commits: new Map([[COMMIT_B, modelB]]), refs: new Map([['main', COMMIT_B]]) });
  setEnv({ HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' });
  const ours = await scratchDir();
  assert.deepEqual(await scoresOf('acme/tiny-reranker', { endpoint, cacheDir: ours }), await scoresOf(modelA));
  await assert.rejects(loadRanker('acme/not-cached', { endpoint, cacheDir: ours }), (error: Error) => {
    assert.ok(error instanceof ModelNotFoundError, `${error.name}: ${error.message}`);
    assert.equal(error.code, 'model_not_found');
    assert.match(error.message, /model "acme\/not-cached"/);
    assert.ok(error.message.includes(join(cache, 'models--acme--not-cached')), error.message);
    assert.ok(error.message.includes(join(ours, 'acme', 'not-cached')), error.message);
    assert.match(error.message, /offline mode is on \(HF_HUB_OFFLINE\)/);
    assert.match(error.message, /config\.json, tokenizer\.json, onnx\/model\.onnx or model\.safetensors/);
    return true;
  });
  assert.deepEqual(requests, [], 'offline mode makes no request');

  // Without it, the same call downloads the model: the server above really serves it.
  setEnv({ HF_HUB_CACHE: cache });
  assert.deepEqual(await scoresOf('acme/not-cached', { endpoint, cacheDir: ours }), await scoresOf(modelB));
  assert.ok(requests.length > 0);
});

test('a revision picks the snapshot: a commit id directly, a branch or tag through refs/', { timeout: 120_000 }, async () => {
  const cache = await scratchDir();
  // Two commits of one repository: main is at B, the tag v1 at A.
  await writeHfCache(cache, 'acme/tiny-reranker', COMMIT_A, modelA, { refs: ['v1'] });
  await writeHfCache(cache, 'acme/tiny-reranker', COMMIT_B, modelB, { refs: ['main'] });
  setEnv({ HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' });
  const options = { endpoint, cacheDir: await scratchDir() };
  const [a, b] = [await scoresOf(modelA), await scoresOf(modelB)];
  assert.notDeepEqual(a, b, 'the two commits score differently');
  assert.deepEqual(await scoresOf('acme/tiny-reranker', options), b);
  assert.deepEqual(await scoresOf(`acme/tiny-reranker@${COMMIT_A}`, options), a);
  assert.deepEqual(await scoresOf('acme/tiny-reranker', { ...options, revision: COMMIT_A }), a);
  assert.deepEqual(await scoresOf('acme/tiny-reranker@v1', options), a);
  assert.equal((await resolveModel(`acme/tiny-reranker@${COMMIT_B}`, options)).dir, join(cache, 'models--acme--tiny-reranker', 'snapshots', COMMIT_B));
  await assert.rejects(resolveModel('acme/tiny-reranker@v1', { ...options, revision: 'main' }), InputError);
  await assert.rejects(resolveModel(`acme/tiny-reranker@${COMMIT_C}`, options), ModelNotFoundError);
  assert.deepEqual(requests, []);
});

test('a download is written in the hub cache layout, pinned to one commit, and reused with no request', { timeout: 120_000 }, async () => {
  const cache = await scratchDir();
  hub.set('acme/tiny-reranker', { commits: new Map([[COMMIT_C, modelA]]), refs: new Map([['main', COMMIT_C]]) });
  setEnv({ HF_HUB_CACHE: cache });
  const ours = await scratchDir();
  const folder = await resolveModel('acme/tiny-reranker', { endpoint, cacheDir: ours });
  const repo = join(cache, 'models--acme--tiny-reranker');
  assert.equal(folder.dir, join(repo, 'snapshots', COMMIT_C));
  assert.equal(await readFile(join(repo, 'refs', 'main'), 'utf8'), COMMIT_C);
  for (const file of ['config.json', 'tokenizer.json', 'onnx/model.onnx']) {
    const body = await readFile(join(modelA, file));
    const link = await readlink(join(folder.dir, file));
    assert.equal(link, relative(dirname(join(folder.dir, file)), join(repo, 'blobs', etagOf(file, body))), `${file} links to its blob`);
    assert.ok(link.startsWith('../../'), `${file}: a relative link (${link})`);
    assert.deepEqual(await readFile(join(folder.dir, file)), body);
  }
  assert.ok(!(await readdir(join(repo, 'blobs'))).some((name) => !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(name)), 'no temporary file is left in blobs/');
  assert.ok(await lstat(join(repo, '.no_exist', COMMIT_C, 'modules.json')), "the hub's 404 for an optional file is remembered");
  assert.ok(!requests.some((r) => r.includes('model.safetensors')), 'weights are not fetched when the ONNX file exists');
  assert.ok(requests.some((r) => r.startsWith('/cdn/')), 'the large file came through the redirect');
  assert.deepEqual(await scoresOf('acme/tiny-reranker', { endpoint, cacheDir: ours }), await scoresOf(modelA));
  assert.deepEqual(await readdir(ours), [], "nothing is written to rankwise's cache");

  requests.length = 0;
  await resolveModel('acme/tiny-reranker', { endpoint, cacheDir: ours });
  assert.deepEqual([...requests], [], 'the second load makes no request');

  // main moves on at the hub; a file the snapshot lacks is still fetched at the commit it holds.
  hub.get('acme/tiny-reranker')!.commits.set(COMMIT_D, modelB);
  hub.get('acme/tiny-reranker')!.refs.set('main', COMMIT_D);
  const int8 = await resolveModel('acme/tiny-reranker', { endpoint, cacheDir: ours, dtype: 'int8' });
  assert.equal(int8.dir, folder.dir);
  assert.ok(requests.length > 0 && requests.filter((r) => r.includes('/resolve/')).every((r) => r.includes(`/resolve/${COMMIT_C}/`)), requests.join(' '));
  assert.deepEqual(await readFile(int8.onnxPath), await readFile(join(modelA, 'onnx', 'model_quantized.onnx')));
});

test('a snapshot with only safetensors weights gets its ONNX file written to rankwise\'s cache, not into the snapshot', { timeout: 120_000 }, async () => {
  const cache = await scratchDir();
  const files = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors'];
  const repo = await writeHfCache(cache, 'acme/weights-only', COMMIT_A, modelA, { only: files });
  setEnv({ HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' });
  const ours = await scratchDir();
  const folder = await resolveModel('acme/weights-only', { cacheDir: ours });
  assert.equal(folder.onnxPath, join(ours, 'hf-onnx', 'models--acme--weights-only', COMMIT_A, 'onnx', 'model.onnx'));
  assert.deepEqual((await filesOf(join(repo, 'snapshots', COMMIT_A))).sort(), [...files].sort(), 'the snapshot holds only what the hub served');
  const built = await scoresOf('acme/weights-only', { cacheDir: ours });
  const original = await scoresOf(modelA);
  built.forEach((s, i) => assert.ok(Math.abs(s - original[i]) < 1e-5, `${s} vs ${original[i]}`));
});

test('a download whose bytes do not match the sha256 the hub announced is refused and leaves nothing behind', { timeout: 120_000 }, async () => {
  const cache = await scratchDir();
  hub.set('acme/corrupt', { commits: new Map([[COMMIT_C, modelA]]), refs: new Map([['main', COMMIT_C]]), corruptCdn: true });
  setEnv({ HF_HUB_CACHE: cache });
  await assert.rejects(resolveModel('acme/corrupt', { endpoint, cacheDir: await scratchDir() }), (error: Error) => {
    assert.ok(error instanceof BackendUnavailableError, `${error.name}: ${error.message}`);
    assert.match(error.message, /onnx\/model\.onnx is corrupt: its sha256 is [0-9a-f]{64}, the hub's etag says [0-9a-f]{64}/);
    return true;
  });
  const repo = join(cache, 'models--acme--corrupt');
  const blobs = await readdir(join(repo, 'blobs'));
  assert.ok(blobs.length > 0 && blobs.every((name) => /^[0-9a-f]{40}$/.test(name)), `only the small files' blobs, nothing partial: ${blobs.join(' ')}`);
  await assert.rejects(lstat(join(repo, 'snapshots', COMMIT_C, 'onnx', 'model.onnx')), { code: 'ENOENT' });
});
