import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { exists } from '../util/fs.js';

/** `owner/name`, as the Hugging Face hub spells model ids. */
const HUB_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export function isHubId(spec: string): boolean {
  return HUB_ID.test(spec) && !spec.includes('..');
}

export function defaultCacheDir(): string {
  return process.env.RANKWISE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'rankwise', 'models');
}

export interface HubOptions {
  cacheDir?: string;
  /** Git revision on the hub; `main` unless pinned. */
  revision?: string;
  /** Base URL of the hub; `HF_ENDPOINT` or huggingface.co. Tests point it at a server on loopback. */
  endpoint?: string;
  /** `HF_TOKEN` by default, for gated or private models. */
  token?: string;
}

export function hubCacheFolder(modelId: string, options: HubOptions = {}): string {
  const revision = options.revision ?? 'main';
  const base = join(options.cacheDir ?? defaultCacheDir(), ...modelId.split('/'));
  return revision === 'main' ? base : join(base, `@${revision}`);
}

export class HubDownloadError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'HubDownloadError';
  }
}

/**
 * Makes sure `file` of `modelId` is in the cache folder, downloading it once if needed. Returns its path, or null when
 * the hub answers 404 (optional files). Downloads go to a temporary name and are renamed into place, so an
 * interrupted download never leaves a truncated file that a later run would trust.
 */
export async function fetchHubFile(modelId: string, file: string, options: HubOptions = {}): Promise<string | null> {
  const folder = hubCacheFolder(modelId, options);
  const target = join(folder, file);
  // A 404 is remembered (as the Python hub client does) so that optional files cost no request on later loads.
  const absent = join(folder, '.no_exist', file);
  if (await exists(target)) return target;
  if (await exists(absent)) return null;
  const endpoint = (options.endpoint ?? process.env.HF_ENDPOINT ?? 'https://huggingface.co').replace(/\/+$/, '');
  const url = `${endpoint}/${modelId}/resolve/${encodeURIComponent(options.revision ?? 'main')}/${file}`;
  const token = options.token ?? process.env.HF_TOKEN;
  let response: Response;
  try {
    response = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, redirect: 'follow' });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new HubDownloadError(`cannot reach ${endpoint} (${cause?.code ?? cause?.message ?? (error as Error).message})`);
  }
  if (response.status === 404) {
    await mkdir(dirname(absent), { recursive: true });
    await writeFile(absent, '');
    return null;
  }
  if (!response.ok || !response.body) {
    throw new HubDownloadError(`${url} answered HTTP ${response.status}`, response.status);
  }
  await mkdir(dirname(target), { recursive: true });
  const partial = `${target}.${process.pid}.partial`;
  try {
    await pipeline(Readable.fromWeb(response.body as import('node:stream/web').ReadableStream), createWriteStream(partial));
    await rename(partial, target);
  } catch (error) {
    await rm(partial, { force: true });
    throw new HubDownloadError(`download of ${url} failed: ${(error as Error).message}`);
  }
  return target;
}
