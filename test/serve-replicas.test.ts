/**
 * Scaling out, for real on loopback: two `rankwise serve` processes over one LanceDB index folder and one Redis
 * semantic cache, behind nginx (round robin). Both replicas must compute the same answers, a query answered by one
 * must be a cache hit on the other, and nginx must keep answering when a replica dies.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { demoCorpus } from '../src/cli/commands/demo.js';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import { LanceDbRetriever } from '../src/retrieve/lancedb.js';
import { builtInModelFolder } from '../src/models/shipped-model.js';
import { ROOT } from './helpers/cli.js';
import { scratchDir } from './helpers/fixtures.js';
import { freePort, startProcess, type ServerProcess } from './helpers/processes.js';
import { startRedis } from './helpers/redis.js';

const processes: ServerProcess[] = [];
let replicas: string[] = [];
let balancer = '';

interface SearchAnswer {
  query: string;
  results: Array<{ id: string; score: number; retrieval_score: number }>;
  cache: { hit: boolean; matched_query: string | null } | null;
}

async function healthy(url: string): Promise<boolean> {
  return (await fetch(`${url}/health`)).ok;
}

async function search(url: string, body: object): Promise<{ answer: SearchAnswer; upstream: string | null }> {
  const response = await fetch(`${url}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(response.status, 200, await response.clone().text());
  return { answer: (await response.json()) as SearchAnswer, upstream: response.headers.get('x-upstream') };
}

before(async () => {
  const work = await scratchDir();
  // Made runnable before the replicas start, so that neither start-up includes it.
  await builtInModelFolder('default');

  const index = join(work, 'index');
  const encoder = await loadSentenceEncoder('use-lite');
  const retriever = await LanceDbRetriever.open(index, { encoder });
  await retriever.add((await demoCorpus()).corpus);
  await retriever.close();
  await encoder.dispose?.();

  const redis = await startRedis();
  processes.push(redis.process);

  for (let i = 0; i < 2; i++) {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const args = ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve', '--index', index, '--cache', redis.url, '--port', String(port), '--threads', '1'];
    processes.push(await startProcess(process.execPath, args, { what: `replica ${i + 1}`, ready: () => healthy(url), timeoutMs: 120_000, cwd: ROOT }));
    replicas.push(url);
  }

  const nginxPort = await freePort();
  const conf = join(work, 'nginx.conf');
  await writeFile(
    conf,
    `daemon off;
user root;
pid ${work}/nginx.pid;
error_log ${work}/nginx-error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${work}/nginx-body;
  proxy_temp_path ${work}/nginx-proxy;
  fastcgi_temp_path ${work}/nginx-fastcgi;
  uwsgi_temp_path ${work}/nginx-uwsgi;
  scgi_temp_path ${work}/nginx-scgi;
  upstream rankwise { ${replicas.map((u) => `server ${u.slice('http://'.length)} max_fails=1 fail_timeout=30s;`).join(' ')} }
  server {
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass http://rankwise;
      proxy_next_upstream error timeout http_503 non_idempotent;
      add_header X-Upstream $upstream_addr always;
    }
  }
}
`,
  );
  balancer = `http://127.0.0.1:${nginxPort}`;
  processes.push(await startProcess('nginx', ['-c', conf, '-p', work], { what: 'nginx', ready: () => healthy(balancer) }));
});

after(async () => {
  for (const p of processes.reverse()) await p.stop();
});

test('two replicas compute the same ranking for the same query', async () => {
  // Different k per replica, so that neither answer can come from the other's cache entry.
  const a = await search(replicas[0], { query: 'how do vaccines train the immune system', k: 5 });
  const b = await search(replicas[1], { query: 'how do vaccines train the immune system', k: 4 });
  assert.equal(a.answer.cache?.hit, false);
  assert.equal(b.answer.cache?.hit, false);
  assert.deepEqual(b.answer.results, a.answer.results.slice(0, 4));
  assert.ok(a.answer.results.every((r, i) => i === 0 || a.answer.results[i - 1].score >= r.score), 'best first');
});

test('behind nginx, what one replica computed is a cache hit on the other', async () => {
  const first = await search(balancer, { query: 'what does a qubit in superposition mean' });
  const second = await search(balancer, { query: 'what does a qubit in superposition mean' });
  assert.ok(first.upstream && second.upstream && first.upstream !== second.upstream, `round robin: ${first.upstream} then ${second.upstream}`);
  assert.equal(first.answer.cache?.hit, false);
  assert.equal(second.answer.cache?.hit, true, 'the second replica found the first one\'s answer in Redis');
  assert.deepEqual(second.answer.results, first.answer.results);

  const paraphrase = await search(balancer, { query: 'What does it mean for a qubit to be in superposition?' });
  assert.equal(paraphrase.answer.cache?.hit, true, 'a paraphrase reuses the answer');
  assert.equal(paraphrase.answer.cache?.matched_query, 'what does a qubit in superposition mean');
});

test('nginx keeps answering when a replica goes away', async () => {
  await processes[1].stop(); // replica 1
  for (let i = 0; i < 3; i++) {
    const { answer, upstream } = await search(balancer, { query: `how does entanglement work ${i}`, k: 3 });
    assert.equal(answer.results.length, 3);
    assert.ok(upstream?.endsWith(replicas[1].split(':').pop()!), `served by the surviving replica, got ${upstream}`);
  }
});
