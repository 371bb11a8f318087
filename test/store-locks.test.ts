/**
 * Single-writer safety across processes: two writers of one store at once serialise through the store's lock file
 * (or fail with "locked by pid N" when it stays held), and upserts of the same ids never leave duplicate rows.
 * Everything here runs real processes against real LanceDB folders and SQLite files.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { SqliteCacheStore } from '../src/cache/sqlite-store.js';
import { TokenIndex } from '../src/rank/late-interaction/token-index.js';
import { LanceDbRetriever, lanceLockPath } from '../src/retrieve/lancedb.js';
import { acquireWriteLock, StoreLockedError, withWriteLock } from '../src/util/write-lock.js';
import { ROOT } from './helpers/cli.js';
import { scratchDir } from './helpers/fixtures.js';

interface Exit {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

function runNode(args: string[], env: NodeJS.ProcessEnv = {}): { pid: number; done: Promise<Exit>; stdout: () => string } {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<Exit>((resolve) => child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { pid: child.pid!, done, stdout: () => stdout };
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}) {
  return runNode(['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], env);
}

const src = (path: string) => JSON.stringify(pathToFileURL(join(ROOT, 'src', path)).href);

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('write lock', { timeout: 120_000 }, () => {
  it('serialises holders in one process and releases on error', async () => {
    const lock = join(await scratchDir(), 'x.lock');
    const order: string[] = [];
    const job = (name: string) => async () => {
      order.push(`${name}:start`);
      await new Promise((r) => setTimeout(r, 30));
      order.push(`${name}:end`);
    };
    await Promise.all([withWriteLock(lock, job('a')), withWriteLock(lock, job('b'))]);
    // Either may take the lock first (both race for it); what matters is that the two never interleave.
    assert.ok(
      ['a:start,a:end,b:start,b:end', 'b:start,b:end,a:start,a:end'].includes(order.join(',')),
      `holders interleaved: ${order.join(', ')}`,
    );
    await assert.rejects(withWriteLock(lock, async () => Promise.reject(new Error('boom'))), /boom/);
    await withWriteLock(lock, async () => undefined, { timeoutMs: 0 }); // released after the failure
  });

  it('fails with "locked by pid N" when another live process holds it past the timeout', async () => {
    const dir = await scratchDir();
    const lock = join(dir, 'x.lock');
    const holder = runNode(['--import', 'tsx', '-e', `import { acquireWriteLock } from ${src('util/write-lock.ts')};
await acquireWriteLock(${JSON.stringify(lock)}); console.log('held'); setTimeout(() => {}, 60_000);`]);
    try {
      await waitFor('holder', () => holder.stdout().includes('held'));
      const started = Date.now();
      const error = await withWriteLock(lock, async () => 'ran', { timeoutMs: 300 }).catch((e: unknown) => e);
      assert.ok(error instanceof StoreLockedError, String(error));
      assert.match(error.message, new RegExp(`${lock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: locked by pid ${holder.pid} `));
      assert.ok(Date.now() - started >= 300, 'it waited the timeout first');
    } finally {
      process.kill(holder.pid, 'SIGKILL');
      await holder.done;
    }
    // The holder died with the lock file in place: the lock is stale and the next writer takes it at once.
    assert.equal(await withWriteLock(lock, async () => 'ran', { timeoutMs: 0 }), 'ran');
    assert.deepEqual((await readdir(dir)).filter((f) => f !== 'x.lock'), [], 'no temporary or stale files are left');
  });

  it('treats a lock whose pid now belongs to another process as stale', async () => {
    const lock = join(await scratchDir(), 'x.lock');
    // Our own pid with a start time that is not ours: the pid was reused after the owner died.
    await writeFile(lock, JSON.stringify({ pid: process.pid, start: '1', host: (await import('node:os')).hostname(), acquiredAt: '2020-01-01T00:00:00Z' }));
    const release = await acquireWriteLock(lock, { timeoutMs: 0 });
    await release();
  });
});

describe('LanceDB index: concurrent writers', { timeout: 600_000 }, () => {
  it('two `index add` runs with the same ids at once leave each id once', async () => {
    const dir = await scratchDir();
    const docs = join(dir, 'docs.jsonl');
    const n = 1500;
    const lines = Array.from({ length: n }, (_, i) => JSON.stringify({ id: `c${i}`, text: `chunk ${i} about topic ${i % 37} with words w${i % 11} and shared filler` }));
    await writeFile(docs, `${lines.join('\n')}\n`);
    const index = join(dir, 'idx');
    // An empty table first (as `index add` leaves it when it is run on a new folder twice at once); then both runs
    // are lined up right before their write, so that the writes overlap: without a lock both merge into the same
    // empty version and the table ends with every row twice.
    await (await LanceDbRetriever.open(index)).close();
    const env = { RANKWISE_RENDEZVOUS: `lancedb:before-write:2:${join(dir, 'rendezvous')}` };
    const runs = [0, 1].map(() => cli(['index', 'add', '--index', index, '--docs', docs, '--model', 'none', '--json'], env));
    const outcomes = await Promise.all(runs.map((r) => r.done));
    for (const o of outcomes) assert.equal(o.code, 0, o.stderr);
    const retriever = await LanceDbRetriever.open(index);
    try {
      assert.equal(await retriever.count(), n, 'the second upsert replaced the rows of the first');
      for (const query of ['shared filler', 'topic 5', 'w3 chunk']) {
        const ids = (await retriever.search(query, { k: 50, mode: 'text' })).map((h) => h.id);
        assert.equal(new Set(ids).size, ids.length, `duplicate ids for "${query}": ${ids.join(', ')}`);
      }
    } finally {
      await retriever.close();
    }
  });

  it('two `index add` runs creating the same new folder at once both succeed, and the table is made once', async () => {
    const dir = await scratchDir();
    const docs = join(dir, 'docs.jsonl');
    await writeFile(docs, `${Array.from({ length: 300 }, (_, i) => JSON.stringify({ id: `c${i}`, text: `chunk ${i}` })).join('\n')}\n`);
    const index = join(dir, 'idx');
    const env = { RANKWISE_RENDEZVOUS: `lancedb:before-open:2:${join(dir, 'rendezvous')}` };
    const runs = [0, 1].map(() => cli(['index', 'add', '--index', index, '--docs', docs, '--model', 'none', '--json'], env));
    for (const o of await Promise.all(runs.map((r) => r.done))) assert.equal(o.code, 0, o.stderr);
    const retriever = await LanceDbRetriever.open(index);
    try {
      assert.equal(await retriever.count(), 300);
    } finally {
      await retriever.close();
    }
  });

  it('a writer that cannot get the lock in time fails naming the pid that holds it', async () => {
    const dir = await scratchDir();
    const docs = join(dir, 'docs.jsonl');
    await writeFile(docs, `${JSON.stringify({ id: 'a', text: 'alpha' })}\n`);
    const index = join(dir, 'idx');
    const created = await LanceDbRetriever.open(index);
    await created.close();
    const lock = lanceLockPath(index);
    const holder = runNode(['--import', 'tsx', '-e', `import { acquireWriteLock } from ${src('util/write-lock.ts')};
await acquireWriteLock(${JSON.stringify(lock)}); console.log('held'); setTimeout(() => {}, 60_000);`]);
    try {
      await waitFor('holder', () => holder.stdout().includes('held'));
      const blocked = await cli(['index', 'add', '--index', index, '--docs', docs, '--model', 'none'], { RANKWISE_LOCK_TIMEOUT_MS: '500' }).done;
      assert.equal(blocked.code, 6, "a locked store is ERROR_KINDS.store_unavailable");
      assert.match(blocked.stderr, new RegExp(`^rankwise: .*documents\\.rankwise\\.lock: locked by pid ${holder.pid} on .*; waiting up to 500 ms for it\n`), 'it says at once that it waits');
      assert.match(blocked.stderr, new RegExp(`documents\\.rankwise\\.lock: locked by pid ${holder.pid} on .* since .*; waited \\d+ ms`));
    } finally {
      process.kill(holder.pid, 'SIGKILL');
      await holder.done;
    }
    const after = await cli(['index', 'add', '--index', index, '--docs', docs, '--model', 'none', '--json'], { RANKWISE_LOCK_TIMEOUT_MS: '500' }).done;
    assert.equal(after.code, 0, `the dead holder's lock is stale: ${after.stderr}`);
    assert.equal(JSON.parse(after.stdout).count, 1);
  });
});

describe('token index: concurrent writers', { timeout: 300_000 }, () => {
  const writer = (dir: string, prefix: string) => `import { TokenIndex } from ${src('rank/late-interaction/token-index.ts')};
const index = await TokenIndex.open(${JSON.stringify(dir)});
const doc = (id, seed) => ({ id, text: id, tokens: { vectors: Float32Array.from({ length: 3 * 4 }, (_, i) => Math.sin(seed * 13 + i)), count: 3, dimension: 4 } });
await index.add([doc('${prefix}1', 1), doc('${prefix}2', 2), doc('shared', ${prefix === 'a' ? 3 : 4})]);
await index.delete(['${prefix}2']);
await index.close();`;

  it('two processes writing one folder at once keep both writes, and a re-added id once', async () => {
    const root = await scratchDir();
    const dir = join(root, 'tokens');
    await (await TokenIndex.create(dir, { dimension: 4 })).close();
    const env = { RANKWISE_RENDEZVOUS: `token-index:before-write:2:${join(root, 'rendezvous')}` };
    const runs = ['a', 'b'].map((prefix) => runNode(['--import', 'tsx', '-e', writer(dir, prefix)], env));
    for (const o of await Promise.all(runs.map((r) => r.done))) assert.equal(o.code, 0, o.stderr);
    const index = await TokenIndex.open(dir);
    try {
      assert.deepEqual(index.ids().sort(), ['a1', 'b1', 'shared'], 'no write was lost, deletes of both applied');
      const { ids } = await index.scoreDocuments({ vectors: new Float32Array(4).fill(1), count: 1, dimension: 4 });
      assert.equal(new Set(ids).size, ids.length, `duplicate ids: ${ids.join(', ')}`);
    } finally {
      await index.close();
    }
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes('lock')), [], 'the lock is released');
  });
});

describe('SQLite cache: concurrent writers', { timeout: 300_000 }, () => {
  it('two processes putting the same keys at once leave each key once', async () => {
    const file = join(await scratchDir(), 'cache.db');
    const writer = `import { SqliteCacheStore } from ${src('cache/sqlite-store.ts')};
const store = await SqliteCacheStore.open(${JSON.stringify(file)});
for (let round = 0; round < 20; round++) {
  const batch = Array.from({ length: 25 }, (_, i) => ({ key: 'k' + i, query: 'q' + i, vector: new Float32Array([i, round, 1]), value: { round, pid: process.pid }, expiresAt: null }));
  await store.put(batch, Date.now());
}
await store.close();`;
    const runs = [0, 1, 2].map(() => runNode(['--import', 'tsx', '-e', writer]));
    for (const o of await Promise.all(runs.map((r) => r.done))) assert.equal(o.code, 0, o.stderr);
    const store = await SqliteCacheStore.open(file);
    try {
      assert.equal(await store.count(Date.now()), 25);
      const keys = (await store.entriesAfter(0, 1000)).map((e) => e.key);
      assert.equal(new Set(keys).size, keys.length);
    } finally {
      await store.close();
    }
  });

  it('a writer blocked past the busy timeout fails naming the file', async () => {
    const file = join(await scratchDir(), 'cache.db');
    await (await SqliteCacheStore.open(file)).close();
    const holder = runNode(['-e', `const Database = require('better-sqlite3'); const db = new Database(${JSON.stringify(file)});
db.exec('BEGIN IMMEDIATE'); db.prepare("INSERT INTO meta (name, value) VALUES ('x', 'y')").run(); console.log('held'); setTimeout(() => {}, 60_000);`]);
    try {
      await waitFor('holder', () => holder.stdout().includes('held'));
      const store = await SqliteCacheStore.open(file);
      try {
        await assert.rejects(
          store.put([{ key: 'k', query: 'q', vector: new Float32Array([1]), value: 1, expiresAt: null }], Date.now()),
          new RegExp(`^StoreError: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: locked by another writer for more than 5000 ms`),
        );
      } finally {
        await store.close();
      }
    } finally {
      process.kill(holder.pid, 'SIGKILL');
      await holder.done;
    }
  });
});
