// The package as a user gets it: `npm pack`, installed into an empty project with only its own dependencies (none of
// the optional peers), then used from ESM, from CommonJS and from a strict TypeScript project without skipLibCheck.
// Installs come from npm's cache when CI's `npm ci` filled it, so this takes a minute or two, not a download.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { loadRanker } from '../src/index.js';
import { ROOT } from './helpers/cli.js';

const run = promisify(execFile);
const QUERY = 'how do I restart the network service';
const DOCUMENTS = ['systemctl restart networking restarts the network service', 'a recipe for apple pie', 'the kernel boots the system'];

let project: string;
let cache: string;
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL_CUDA: 'skip', npm_config_fund: 'false', npm_config_audit: 'false' };

async function node(args: string[], cwd = project) {
  return run(process.execPath, args, { cwd, env: { ...env, RANKWISE_CACHE: cache }, maxBuffer: 16 << 20 });
}

describe('the packed package, installed into an empty project', { timeout: 900_000 }, () => {
  before(async () => {
    project = await mkdtemp(join(tmpdir(), 'rankwise-install-'));
    cache = join(project, '.model-cache');
    await run('npm', ['run', 'build'], { cwd: ROOT, env, maxBuffer: 16 << 20 });
    const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', project], { cwd: ROOT, env, maxBuffer: 64 << 20 });
    const tarball = join(project, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0].filename);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'user-project', version: '1.0.0', private: true }));
    const typescript = (await import('../package.json', { with: { type: 'json' } })).default.devDependencies;
    await run(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball, `typescript@${typescript.typescript}`, `@types/node@${typescript['@types/node']}`],
      { cwd: project, env, maxBuffer: 64 << 20 },
    );
  });

  after(async () => {
    await rm(project, { recursive: true, force: true });
  });

  test('installs none of the optional backends', async () => {
    const installed = new Set([...(await readdir(join(project, 'node_modules'))), ...(await readdir(join(project, 'node_modules/@lancedb')).catch(() => []))]);
    for (const optional of ['fastify', 'pg', 'redis', 'better-sqlite3', 'hnswlib-node', 'node-llama-cpp', '@lancedb', 'apache-arrow']) {
      assert.ok(!installed.has(optional), `${optional} was installed with the core`);
    }
    assert.ok(installed.has('onnxruntime-node'));
  });

  test('ESM: import and rerank with the built-in model, the same scores as from source', async () => {
    await writeFile(
      join(project, 'rerank.mjs'),
      `import { loadRanker } from 'rankwise';
const ranker = await loadRanker('default');
const ranked = await ranker.rank(${JSON.stringify(QUERY)}, ${JSON.stringify(DOCUMENTS.map((text, i) => ({ id: `doc-${i}`, text })))});
await ranker.dispose();
console.log(JSON.stringify(ranked.results.map((r) => [r.document.id, r.score])));`,
    );
    const { stdout } = await node(['rerank.mjs']);
    const installed = JSON.parse(stdout) as Array<[string, number]>;
    const ranker = await loadRanker('default');
    try {
      const fromSource = (await ranker.rank(QUERY, DOCUMENTS.map((text, i) => ({ id: `doc-${i}`, text })))).results.map((r) => [r.document.id, r.score]);
      assert.deepEqual(installed.map(([id]) => id), fromSource.map(([id]) => id));
      installed.forEach(([, score], i) => assert.ok(Math.abs(score - (fromSource[i][1] as number)) < 1e-6));
      assert.equal(installed[0][0], 'doc-0');
    } finally {
      await ranker.dispose();
    }
  });

  test('CommonJS: require the core and rerank', async () => {
    await writeFile(
      join(project, 'rerank.cjs'),
      `const { loadRanker, InputError } = require('rankwise');
loadRanker('default').then(async (ranker) => {
  const ranked = await ranker.rank(${JSON.stringify(QUERY)}, ${JSON.stringify(DOCUMENTS)});
  let refused = '';
  try { await ranker.rank('', ['x']); } catch (error) { refused = error instanceof InputError ? error.code : String(error); }
  await ranker.dispose();
  console.log(JSON.stringify({ top: ranked.results[0].index, refused }));
});`,
    );
    const { stdout } = await node(['rerank.cjs']);
    assert.deepEqual(JSON.parse(stdout), { top: 0, refused: 'invalid_input' });
  });

  test('the published types check in a strict project without skipLibCheck (ESM and CommonJS files)', async () => {
    await mkdir(join(project, 'src'), { recursive: true });
    await writeFile(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, types: ['node'] }, include: ['src'] }),
    );
    await writeFile(
      join(project, 'src/esm.mts'),
      `import { loadRanker, CrossEncoder, type RankedResults, type DocumentInput } from 'rankwise';
import type { RerankEvaluation } from 'rankwise/eval';
const docs: DocumentInput[] = [{ id: 'a', text: 'x', metadata: { source: 'm' } }, 'y'];
export async function top(query: string): Promise<string | undefined> {
  const ranker = await loadRanker('default');
  const ranked: RankedResults = await ranker.rank(query, docs);
  await ranker.dispose();
  return ranked.results[0]?.document.id;
}
export type Loader = typeof CrossEncoder.load;
export type Evaluation = RerankEvaluation;`,
    );
    await writeFile(
      join(project, 'src/cjs.cts'),
      `import rankwise = require('rankwise');
export async function score(q: string): Promise<number> {
  const ranker = await rankwise.loadRanker('default');
  const ranked = await ranker.rank(q, ['a', 'b']);
  await ranker.dispose();
  return ranked.results[0].score;
}`,
    );
    const tsc = join(project, 'node_modules/typescript/bin/tsc');
    await node([tsc, '-p', 'tsconfig.json']).catch((error: { stdout: string }) => assert.fail(`tsc failed:\n${error.stdout}`));
  });

  test('an optional backend that is not installed names the package to install', async () => {
    await writeFile(
      join(project, 'missing.mjs'),
      `const out = {};
const { createServer } = await import('rankwise/serve');
try { await createServer({ model: 'default', port: 0 }); } catch (error) { out.serve = [error.code, error.message]; }
const { SqliteCacheStore } = await import('rankwise/cache');
try { await SqliteCacheStore.open(':memory:'); } catch (error) { out.cache = [error.code, error.message]; }
const { PostgresRetriever } = await import('rankwise/retrieve');
try { await PostgresRetriever.open({ connection: 'postgres://localhost:1/x' }); } catch (error) { out.retrieve = [error.code, error.message]; }
console.log(JSON.stringify(out));`,
    );
    const out = JSON.parse((await node(['missing.mjs'])).stdout) as Record<string, [string, string]>;
    assert.equal(out.serve?.[0], 'backend_unavailable', JSON.stringify(out.serve));
    assert.match(out.serve[1], /npm install fastify prom-client @fastify\/swagger$/);
    assert.equal(out.cache?.[0], 'backend_unavailable', JSON.stringify(out.cache));
    assert.match(out.cache[1], /npm install (better-sqlite3|hnswlib-node)/);
    assert.equal(out.retrieve?.[0], 'backend_unavailable', JSON.stringify(out.retrieve));
    assert.match(out.retrieve[1], /npm install pg/);
  });
});
