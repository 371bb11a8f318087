import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BackendUnavailableError, InputError, ModelNotFoundError, RankwiseError, type ErrorCode, type RankwiseErrorOptions } from '../errors.js';
import { replaceAtomic, writeFileAtomic } from '../util/atomic-write.js';
import { exists } from '../util/fs.js';

/** A branch, tag or commit id; branches may hold slashes (`refs/pr/1`). */
const REVISION = /[\w.-]+(?:\/[\w.-]+)*/.source;
/** `owner/name`, as the Hugging Face hub spells model ids, optionally pinned: `owner/name@revision`. */
const HUB_ID = new RegExp(`^([A-Za-z0-9][\\w.-]*\\/[\\w.-]+)(?:@(${REVISION}))?$`);
/** A full commit id: the only revision that names one snapshot without going through refs/. */
const COMMIT = /^[0-9a-f]{40}$/;

export function isHubId(spec: string): boolean {
  return HUB_ID.test(spec) && !spec.includes('..');
}

/** A hub id and the revision to use: `@rev` in the id or `options.revision`, `main` when neither is given. */
export function parseHubId(spec: string, revision?: string): { id: string; revision: string } {
  const match = isHubId(spec) ? HUB_ID.exec(spec) : null;
  if (!match) throw new InputError(`model: expected a hub id of the form owner/name or owner/name@revision, got ${JSON.stringify(spec)}`);
  const pinned = match[2];
  if (pinned !== undefined && revision !== undefined && revision !== pinned) {
    throw new InputError(`revision: "${spec}" pins revision "${pinned}" but the revision option says "${revision}"; give one of them`);
  }
  if (revision !== undefined && (!new RegExp(`^${REVISION}$`).test(revision) || revision.includes('..'))) {
    throw new InputError(`revision: expected a branch, tag or commit id, got ${JSON.stringify(revision)}`);
  }
  return { id: match[1], revision: pinned ?? revision ?? 'main' };
}

/** rankwise's own model cache: `RANKWISE_CACHE`, else `$XDG_CACHE_HOME` (or ~/.cache) `/rankwise/models`. */
export function defaultCacheDir(): string {
  return process.env.RANKWISE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'rankwise', 'models');
}

/**
 * The Hugging Face hub cache, found as huggingface_hub finds it: `HF_HUB_CACHE` (or its older name
 * `HUGGINGFACE_HUB_CACHE`), else `$HF_HOME/hub`, where HF_HOME defaults to `$XDG_CACHE_HOME/huggingface`, else
 * `~/.cache/huggingface`.
 */
export function hfHubCacheDir(): string {
  const env = (name: string) => process.env[name] || undefined;
  const hub = env('HF_HUB_CACHE') ?? env('HUGGINGFACE_HUB_CACHE');
  if (hub) return expandHome(hub);
  const home = env('HF_HOME') ?? join(env('XDG_CACHE_HOME') ?? join(homedir(), '.cache'), 'huggingface');
  return join(expandHome(home), 'hub');
}

function expandHome(path: string): string {
  return path === '~' || path.startsWith('~/') ? join(homedir(), path.slice(1)) : path;
}

/** `HF_HUB_OFFLINE` (or `TRANSFORMERS_OFFLINE`) set to 1/on/yes/true, as huggingface_hub reads them. */
export function hubOffline(options: HubOptions = {}): boolean {
  if (options.offline !== undefined) return options.offline;
  const value = process.env.HF_HUB_OFFLINE || process.env.TRANSFORMERS_OFFLINE;
  return value !== undefined && ['1', 'ON', 'YES', 'TRUE'].includes(value.toUpperCase());
}

export interface HubOptions {
  /** rankwise's model cache (default `defaultCacheDir()`): built-in models, and hub downloads from hubs that do not name commits. */
  cacheDir?: string;
  /** The Hugging Face hub cache, read first and written by downloads (default `hfHubCacheDir()`). */
  hubCacheDir?: string;
  /** Git revision on the hub: a branch, tag or commit id; `main` unless pinned (also `owner/name@revision`). */
  revision?: string;
  /** Base URL of the hub; `HF_ENDPOINT` or huggingface.co. Tests point it at a server on loopback. */
  endpoint?: string;
  /** `HF_TOKEN` by default, for gated or private models. */
  token?: string;
  /** Never touch the network, only the caches; `HF_HUB_OFFLINE` by default. */
  offline?: boolean;
}

/** rankwise's own folder for a hub model: `<cacheDir>/owner/name`, `@revision` appended unless it is `main`. */
export function hubCacheFolder(modelId: string, options: HubOptions = {}): string {
  const { id, revision } = parseHubId(modelId, options.revision);
  const base = join(options.cacheDir ?? defaultCacheDir(), ...id.split('/'));
  return revision === 'main' ? base : join(base, `@${revision}`);
}

/** The model's folder in the Hugging Face hub cache: `models--owner--name`, holding refs/, snapshots/ and blobs/. */
export function hfRepoFolder(modelId: string, options: HubOptions = {}): string {
  const { id } = parseHubId(modelId, options.revision);
  return join(options.hubCacheDir ?? hfHubCacheDir(), `models--${id.replace('/', '--')}`);
}

/** The snapshot a revision names in the hub cache: a commit id directly, a branch or tag through refs/<revision>. */
export async function hfSnapshot(modelId: string, options: HubOptions = {}): Promise<{ repo: string; commit?: string; dir?: string }> {
  const { revision } = parseHubId(modelId, options.revision);
  const repo = hfRepoFolder(modelId, options);
  let commit: string | undefined = COMMIT.test(revision) ? revision : undefined;
  if (!commit) {
    try {
      const ref = (await readFile(join(repo, 'refs', revision), 'utf8')).trim();
      if (COMMIT.test(ref)) commit = ref;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw error;
    }
  }
  return { repo, commit, dir: commit ? join(repo, 'snapshots', commit) : undefined };
}

/** `…/models--owner--name/snapshots/<commit>` for a folder inside the hub cache (files there must stay the hub's). */
export function hfSnapshotOf(dir: string): { repo: string; commit: string } | undefined {
  const parts = resolve(dir).split(sep);
  const [repo, snapshots, commit] = parts.slice(-3);
  if (parts.length < 3 || snapshots !== 'snapshots' || !repo.startsWith('models--') || !COMMIT.test(commit)) return undefined;
  return { repo, commit };
}

/**
 * The hub's answers for a model it will not give: absent (404), or private or gated without the right token (401,
 * 403; the hub also answers 401 for a missing repository when no token is sent).
 */
const REFUSED = [401, 403, 404];

/**
 * A failed download. A hub that refuses (404, 401, 403) means the model, or a file it needs, is not found; anything
 * else (no connection, 5xx, a corrupt download) is a service that is unavailable.
 */
export class HubDownloadError extends RankwiseError {
  readonly code: ErrorCode;

  constructor(
    message: string,
    readonly status?: number,
    options: RankwiseErrorOptions = {},
  ) {
    super(message, options);
    this.code = status !== undefined && REFUSED.includes(status) ? 'model_not_found' : 'backend_unavailable';
  }
}

/**
 * The files a model folder needs, as the caller knows them: every `required` (the first one at the folder's top, as
 * config.json), the first of `oneOf` the hub has, any `optional`.
 */
export interface HubModelFiles {
  required: string[];
  oneOf: string[];
  optional: string[];
}

/**
 * The folder holding a hub model, downloading what is missing. Lookup order: the Hugging Face hub cache (a model any
 * HF tool downloaded is reused as is, with no request), then rankwise's own cache, then the hub. Offline, a model
 * in neither cache is a ModelNotFoundError naming both places.
 *
 * Downloads go into the hub cache in huggingface_hub's layout (blobs/, snapshots/<commit>/ links, refs/), so Python
 * tools reuse them too; every file of one model is fetched at the commit the first file came from, so the snapshot
 * is one consistent revision. A hub that names no commit (no X-Repo-Commit header, as some mirrors) cannot be
 * stored in that layout; its files go to rankwise's cache folder, as before.
 */
export async function ensureHubModel(spec: string, files: HubModelFiles, options: HubOptions = {}): Promise<string> {
  const { id, revision } = parseHubId(spec, options.revision);
  const at: HubOptions = { ...options, revision };
  const hf = await hfSnapshot(id, at);
  if (hf.dir && (await hasFiles(hf.dir, files))) return hf.dir;
  const legacy = hubCacheFolder(id, at);
  if (await hasFiles(legacy, files)) return legacy;
  const expected = [...files.required, files.oneOf.join(' or ')].join(', ');
  const places = `the Hugging Face cache (${hf.dir ?? hf.repo}) nor in the cache folder ${legacy}`;
  if (hubOffline(options)) {
    throw new ModelNotFoundError(
      `model "${spec}" is not (completely) in ${places}, and offline mode is on (HF_HUB_OFFLINE), so it was not downloaded. ` +
        `Expected files: ${expected}. Download it where the hub can be reached, unset HF_HUB_OFFLINE, or pass a local model folder.`,
      { field: 'model' },
    );
  }
  try {
    // A partial folder in rankwise's cache (an old interrupted download) is not continued: config.json comes from
    // the hub cache or the hub, and wherever it lands decides where the rest goes.
    const [config, ...rest] = files.required;
    const first = await fetchFile(id, config, at, false);
    if (!first.path) throw new HubDownloadError(`the hub has no ${config} for it`, 404);
    const pinned: HubOptions = { ...at, revision: first.commit ?? revision };
    for (const file of rest) {
      if (!(await fetchHubFile(id, file, pinned))) throw new HubDownloadError(`the hub has no ${file} for it`, 404);
    }
    for (const file of files.optional) await fetchHubFile(id, file, pinned);
    let found = false;
    for (const file of files.oneOf) if (!found) found = (await fetchHubFile(id, file, pinned)) !== null;
    if (!found) throw new HubDownloadError(`the hub has none of ${files.oneOf.join(', ')} for it`, 404);
    return dirname(first.path);
  } catch (error) {
    if (!(error instanceof HubDownloadError)) throw error;
    const message =
      `model "${spec}" is not (completely) in ${places} and could not be downloaded: ${error.message}. ` +
      `Expected files: ${expected}. Put them there or pass a local model folder.`;
    const Kind = error.code === 'model_not_found' ? ModelNotFoundError : BackendUnavailableError;
    throw new Kind(message, { field: 'model', cause: error });
  }
}

async function hasFiles(dir: string, files: HubModelFiles): Promise<boolean> {
  for (const file of files.required) if (!(await exists(join(dir, file)))) return false;
  for (const file of files.oneOf) if (await exists(join(dir, file))) return true;
  return false;
}

/**
 * Makes sure `file` of a hub model is cached, downloading it once if needed. Returns its path, or null when the hub
 * answers 404 (optional files). The hub cache's snapshot is looked at first; rankwise's cache folder only when the hub
 * cache has no commit for the revision, so one model's files never come from both.
 */
export async function fetchHubFile(modelId: string, file: string, options: HubOptions = {}): Promise<string | null> {
  return (await fetchFile(modelId, file, options, true)).path;
}

async function fetchFile(modelId: string, file: string, options: HubOptions, readLegacy: boolean): Promise<{ path: string | null; commit?: string }> {
  const { id, revision } = parseHubId(modelId, options.revision);
  const hf = await hfSnapshot(id, { ...options, revision });
  // A 404 is remembered (.no_exist/, as the Python hub client does) so that optional files cost no request on later loads.
  if (hf.commit) {
    if (await exists(join(hf.dir!, file))) return { path: join(hf.dir!, file), commit: hf.commit };
    if (await exists(join(hf.repo, '.no_exist', hf.commit, file))) return { path: null, commit: hf.commit };
  }
  const legacy = hubCacheFolder(id, { ...options, revision });
  if (!hf.commit && readLegacy) {
    if (await exists(join(legacy, file))) return { path: join(legacy, file) };
    if (await exists(join(legacy, '.no_exist', file))) return { path: null };
  }
  if (hubOffline(options)) {
    throw new HubDownloadError(`${file} is not cached and offline mode is on (HF_HUB_OFFLINE), so it was not downloaded`, 404);
  }

  const endpoint = (options.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  // Once the hub cache knows the revision's commit, files are asked for at that commit: one snapshot, one revision.
  const url = `${endpoint}/${id}/resolve/${encodeURIComponent(hf.commit ?? revision)}/${file}`;
  const { response, commit: answered, etag } = await hubGet(url, endpoint, options.token ?? process.env.HF_TOKEN);
  const commit = answered ?? hf.commit ?? (COMMIT.test(revision) ? revision : undefined);

  if (response.status === 404) {
    await response.body?.cancel();
    // Only a 404 that names the commit says the file is absent from it; one without may be a missing repository.
    const absent = answered ? join(hf.repo, '.no_exist', answered, file) : join(legacy, '.no_exist', file);
    await mkdir(dirname(absent), { recursive: true });
    await writeFile(absent, '');
    if (answered) await writeRef(hf.repo, revision, answered);
    return { path: null, commit };
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    const hint = response.status === 401 || response.status === 403 ? ' (a private or gated model needs HF_TOKEN)' : '';
    throw new HubDownloadError(`${url} answered HTTP ${response.status}${hint}`, response.status);
  }
  if (!commit) {
    await download(response, url, join(legacy, file));
    return { path: join(legacy, file) };
  }
  const pointer = join(hf.repo, 'snapshots', commit, file);
  await storeBlob(hf.repo, response, url, etag, pointer);
  await writeRef(hf.repo, revision, commit);
  return { path: pointer, commit };
}

/**
 * GET with redirects followed by hand: the hub's own answer carries the commit (X-Repo-Commit) and the file's etag
 * (X-Linked-Etag for large files, which redirect to a CDN whose headers say nothing of the repository). The token
 * is not sent to another host, as the CDN's URLs are signed.
 */
async function hubGet(url: string, endpoint: string, token: string | undefined): Promise<{ response: Response; commit?: string; etag?: string }> {
  let commit: string | undefined;
  let etag: string | undefined;
  let current = url;
  const origin = new URL(url).host;
  for (let hop = 0; hop <= 10; hop++) {
    let response: Response;
    try {
      const headers: Record<string, string> = new URL(current).host === origin && token ? { authorization: `Bearer ${token}` } : {};
      response = await fetch(current, { headers, redirect: 'manual' });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new HubDownloadError(`cannot reach ${endpoint} (${cause?.code ?? cause?.message ?? (error as Error).message})`);
    }
    const repoCommit = response.headers.get('x-repo-commit')?.trim();
    if (commit === undefined && repoCommit && COMMIT.test(repoCommit)) {
      commit = repoCommit;
      etag = normalizeEtag(response.headers.get('x-linked-etag') ?? response.headers.get('etag'));
    }
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return { response, commit, etag };
    await response.body?.cancel();
    current = new URL(location, current).toString();
  }
  throw new HubDownloadError(`${url}: more than 10 redirects`);
}

/** `W/"abc"` → `abc`; anything that cannot be a blob's file name is dropped (the content's sha256 names it then). */
function normalizeEtag(etag: string | null): string | undefined {
  const value = etag?.replace(/^W\//, '').replace(/"/g, '').trim();
  return value && /^[\w-]{8,128}$/.test(value) ? value : undefined;
}

/**
 * Stores a download as huggingface_hub does: the content in blobs/<etag> (written to a temporary name, then renamed,
 * so a blob is whole or absent), and snapshots/<commit>/<file> a relative link to it (made under a temporary name
 * and renamed over, so readers never see a missing or dangling link). A large file's etag is its sha256, which is
 * checked.
 */
async function storeBlob(repo: string, response: Response, url: string, etag: string | undefined, pointer: string): Promise<void> {
  const blobs = join(repo, 'blobs');
  await mkdir(blobs, { recursive: true });
  if (etag && (await exists(join(blobs, etag)))) {
    // Another revision already brought these bytes: only the link is new.
    await response.body?.cancel();
    await linkBlob(join(blobs, etag), pointer);
    return;
  }
  const temp = join(blobs, `${etag ?? 'download'}.${process.pid}.${randomBytes(4).toString('hex')}.incomplete`);
  let blob: string;
  try {
    const sha256 = await download(response, url, temp, true);
    if (etag && /^[0-9a-f]{64}$/.test(etag) && etag !== sha256) {
      throw new HubDownloadError(`download of ${url} is corrupt: its sha256 is ${sha256}, the hub's etag says ${etag}`);
    }
    blob = join(blobs, etag ?? sha256);
    await rename(temp, blob);
  } finally {
    await rm(temp, { force: true });
  }
  await linkBlob(blob, pointer);
}

async function linkBlob(blob: string, pointer: string): Promise<void> {
  await mkdir(dirname(pointer), { recursive: true });
  const target = relative(dirname(pointer), blob);
  try {
    await replaceAtomic(pointer, (link) => symlink(target, link));
  } catch (error) {
    // Where links cannot be made (some Windows setups), huggingface_hub copies the blob; so does this.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') throw error;
    await writeFileAtomic(pointer, await readFile(blob));
  }
}

/** refs/<revision> holds the commit a branch or tag resolved to; a commit id needs none. Rewritten only when it changed. */
async function writeRef(repo: string, revision: string, commit: string): Promise<void> {
  if (revision === commit) return;
  const ref = join(repo, 'refs', revision);
  try {
    if ((await readFile(ref, 'utf8')) === commit) return;
  } catch {
    // absent: written below
  }
  await mkdir(dirname(ref), { recursive: true });
  await writeFileAtomic(ref, commit);
}

/**
 * Streams a response body to `target` through a temporary name renamed into place, so an interrupted download never
 * leaves a truncated file that a later run would trust. With `inPlace`, `target` is itself the temporary name and is
 * left for the caller to rename. Returns the content's sha256.
 */
async function download(response: Response, url: string, target: string, inPlace = false): Promise<string> {
  await mkdir(dirname(target), { recursive: true });
  const partial = inPlace ? target : `${target}.${process.pid}.partial`;
  const hash = createHash('sha256');
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), hashing, createWriteStream(partial));
    if (!inPlace) await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw new HubDownloadError(`download of ${url} failed: ${(error as Error).message}`, undefined, { cause: error });
  }
  return hash.digest('hex');
}
