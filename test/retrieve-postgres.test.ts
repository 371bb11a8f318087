import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg, { type Pool } from 'pg';
import { PostgresRetriever } from '../src/retrieve/postgres.js';
import type { RetrievedDocument } from '../src/retrieve/retriever.js';
import { startPostgres, type TestPostgres } from './helpers/postgres.js';

let server: TestPostgres;
let admin: Pool;
const open: PostgresRetriever[] = [];
before(async () => {
  server = await startPostgres();
  admin = new pg.Pool({ connectionString: server.url });
  admin.on('error', () => undefined);
}, { timeout: 60_000 });
after(async () => {
  for (const r of open) await r.close();
  await admin?.end();
  await server?.stop();
});

async function retriever(options: Omit<Parameters<typeof PostgresRetriever.open>[0], 'pool' | 'connection'> = {}): Promise<PostgresRetriever> {
  const r = await PostgresRetriever.open({ connection: server.url, ...options });
  open.push(r);
  return r;
}
const ids = (hits: RetrievedDocument[]) => hits.map((h) => h.id);
// ts_rank_cd returns float4: 0.1 comes back as 0.10000000149; 1e-6 is far below the smallest score step tested (0.025).
const close = (actual: number, expected: number) => assert.ok(Math.abs(actual - expected) < 1e-6, `${actual} vs ${expected}`);
/**
 * ts_rank_cd computed by PostgreSQL on literal values (no table, index or retriever involved), with the english
 * configuration and normalization 0 the retriever uses by default.
 */
async function literalRank(text: string, query: string): Promise<number> {
  const result = await admin.query<{ score: number }>(
    "SELECT ts_rank_cd(to_tsvector('english'::regconfig, $1), websearch_to_tsquery('english'::regconfig, $2), 0)::float8 AS score",
    [text, query],
  );
  return result.rows[0].score;
}

test('ts_rank_cd scores: 0.1 per occurrence of a single term, and 0.1 / (1 + words between) for two terms (hand-computed)', { timeout: 20_000 }, async () => {
  const r = await retriever({ table: 'rank_cases' });
  await r.add([
    { id: 'twice', text: 'otter otter river' },
    { id: 'adjacent', text: 'river otter' },
    { id: 'one-apart', text: 'river brown otter' },
    { id: 'three-apart', text: 'river swims past quiet otter' },
    { id: 'river-only', text: 'river bank' },
  ]);
  // Single term: each occurrence is a cover of one word weighted 0.1 (the default weight of unlabelled words).
  const otter = await r.search('otter', { k: 10 });
  assert.equal(otter[0].id, 'twice');
  close(otter[0].score, 0.2);
  for (const hit of otter.slice(1)) close(hit.score, 0.1);
  assert.ok(!ids(otter).includes('river-only'));
  // Two terms (AND-ed by websearch_to_tsquery): the shortest cover scores 2 / (10 + 10) = 0.1, divided by 1 + the
  // words inside it that are not query terms.
  const both = await r.search('otter river', { k: 10 });
  assert.deepEqual(ids(both), ['adjacent', 'twice', 'one-apart', 'three-apart']);
  close(both[0].score, 0.1);
  close(both[1].score, 0.1);
  close(both[2].score, 0.05);
  close(both[3].score, 0.025);
  assert.deepEqual(both.map((h) => h.rank), [1, 2, 3, 4]);
  // Stemming and stop words come from the english configuration: "otters" finds "otter", "the" is ignored.
  assert.equal((await r.search('the otters', { k: 1 }))[0].id, 'twice');
  // Web-search syntax: a quoted phrase and an excluded word.
  assert.deepEqual(ids(await r.search('"river otter"')), ['adjacent']);
  assert.deepEqual(new Set(ids(await r.search('river -otter'))), new Set(['river-only']));
});

test('add upserts by id with metadata; delete removes; a second retriever on the same table sees it all', { timeout: 20_000 }, async () => {
  const r = await retriever({ table: 'lifecycle' });
  await r.add([
    { id: 'a', text: 'salmon leap upstream', metadata: { tier: 'gold', n: 1 } },
    { id: 'b', text: 'trout rest in pools' },
    { id: 'b', text: 'trout hide under stones' },
  ]);
  assert.equal(await r.count(), 2);
  // One occurrence of one term: 0.1 by hand, and what ts_rank_cd gives on the literal text.
  const trout = await r.search('trout');
  assert.deepEqual(trout, [{ id: 'b', text: 'trout hide under stones', score: await literalRank('trout hide under stones', 'trout'), rank: 1 }]);
  close(trout[0].score, 0.1);
  assert.deepEqual((await r.search('salmon'))[0].metadata, { tier: 'gold', n: 1 });
  await r.add([{ id: 'a', text: 'salmon spawn in gravel' }]);
  assert.equal(await r.count(), 2);
  assert.deepEqual(ids(await r.search('upstream')), [], 'the old text no longer matches');
  assert.equal((await r.search('gravel'))[0].metadata, undefined, 'replacing drops the old metadata');
  await r.delete(['a', 'missing']);
  assert.equal(await r.count(), 1);
  const other = await retriever({ table: 'lifecycle' });
  assert.deepEqual(ids(await other.search('trout')), ['b']);
  const many = Array.from({ length: 2500 }, (_, i) => ({ id: `m${i}`, text: `pike number ${i}` }));
  await other.add(many);
  assert.equal(await r.count(), 2501, 'batches over the insert size all land');
});

test('ids and queries that look like SQL injection are stored and searched as plain data', { timeout: 20_000 }, async () => {
  const r = await retriever({ table: 'hostile' });
  const hostile = ["o'brien", "x'); DROP TABLE hostile; --", 'a"b', 'back\\slash', '$1'];
  await r.add(hostile.map((id) => ({ id, text: `heron ${id}` })));
  // What websearch_to_tsquery makes of each query decides what it finds; each hit scores what ts_rank_cd gives on
  // the literal text (one cover of adjacent query words: 0.1).
  const cases: Array<[string, string[]]> = [
    ["'; DROP TABLE hostile; --", ["x'); DROP TABLE hostile; --"]], // 'drop' & 'tabl' & 'hostil': only that row's text has them
    ['heron & | ! (', hostile], // the operators are dropped: 'heron', in every row
    ['"unclosed', []], // 'unclos'
    ['OR 1=1 --', []], // '1' <-> '1': no digits anywhere
    [':*', []], // empty query
    ['\\', []], // empty query
    ['東京 🙂', []], // '東京'
  ];
  for (const [query, expected] of cases) {
    const hits = await r.search(query, { k: 10 });
    assert.deepEqual(new Set(ids(hits)), new Set(expected), `query ${JSON.stringify(query)}`);
    assert.equal(hits.length, expected.length, `query ${JSON.stringify(query)}`);
    for (const hit of hits) {
      assert.equal(hit.text, `heron ${hit.id}`);
      assert.equal(hit.score, await literalRank(hit.text, query), `${hit.id} for ${JSON.stringify(query)}`);
      close(hit.score, 0.1);
    }
  }
  assert.equal(await r.count(), hostile.length);
  await r.delete(["x'); DROP TABLE hostile; --"]);
  assert.deepEqual(new Set(ids(await r.search('heron', { k: 10 }))), new Set(hostile.filter((id) => !id.startsWith('x'))));
  const tables = await admin.query("SELECT count(*)::int AS n FROM pg_tables WHERE tablename = 'hostile'");
  assert.equal(tables.rows[0].n, 1);
});

test('attaches to an existing table and columns without creating anything', { timeout: 20_000 }, async () => {
  await admin.query(`CREATE TABLE articles (article_id integer PRIMARY KEY, body text NOT NULL, info jsonb, extra text)`);
  await admin.query(`INSERT INTO articles VALUES (1, 'Glaciers carve deep valleys', '{"tier":"gold"}', 'x'), (2, 'Deserts bloom after rain', NULL, 'y')`);
  await admin.query(`CREATE INDEX articles_body_fts ON articles USING GIN (to_tsvector('english'::regconfig, body))`);
  const before = await admin.query(`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'rankwise%' OR relname LIKE 'articles%'`);
  const r = await retriever({ table: 'public.articles', existing: { idColumn: 'article_id', textColumn: 'body', metadataColumn: 'info' } });
  // The cover glacier..valley holds two words that are not query terms: 0.1 / (1 + 2), as ts_rank_cd gives on the literals.
  const glacier = await r.search('glacier valley');
  assert.deepEqual(glacier, [{ id: '1', text: 'Glaciers carve deep valleys', metadata: { tier: 'gold' }, score: await literalRank('Glaciers carve deep valleys', 'glacier valley'), rank: 1 }]);
  close(glacier[0].score, 0.1 / 3);
  assert.equal(await r.count(), 2);
  const afterOpen = await admin.query(`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'rankwise%' OR relname LIKE 'articles%'`);
  assert.equal(afterOpen.rows[0].n, before.rows[0].n, 'no table or index was created');
  // Writes go to the caller's columns (the id is cast by PostgreSQL from text).
  await r.add([{ id: '3', text: 'Volcanoes build islands', metadata: { tier: 'silver' } }]);
  assert.deepEqual((await admin.query('SELECT body, info FROM articles WHERE article_id = 3')).rows, [{ body: 'Volcanoes build islands', info: { tier: 'silver' } }]);
  await r.delete(['2']);
  assert.equal(await r.count(), 2);
  await assert.rejects(retriever({ table: 'articles', existing: { idColumn: 'article_id', textColumn: 'content' } }), /textColumn: table articles has no column "content" \(it has article_id, body, info, extra\)/);
  await assert.rejects(retriever({ table: 'articles', existing: { idColumn: 'article_id', textColumn: 'body', metadataColumn: 'extra' } }), /metadataColumn: expected a json or jsonb column, extra is text/);
  await assert.rejects(retriever({ table: 'nowhere', existing: { idColumn: 'id', textColumn: 'body' } }), /table: nowhere does not exist \(attaching to an existing table creates nothing\)/);
});

test('bad options and unsupported modes are rejected with the field named', { timeout: 20_000 }, async () => {
  await assert.rejects(retriever({ table: 'docs; DROP TABLE x' }), /table: expected an SQL identifier .* got "docs; DROP TABLE x"/);
  await assert.rejects(retriever({ table: 'a.b.c' }), /table: expected "table" or "schema.table"/);
  await assert.rejects(retriever({ existing: { idColumn: 'id"', textColumn: 'text' } }), /idColumn: expected an SQL identifier/);
  await assert.rejects(retriever({ textSearchConfig: 'klingon' }), /textSearchConfig: PostgreSQL has no text search configuration "klingon"/);
  await assert.rejects(retriever({ rankNormalization: 64 }), /rankNormalization: expected an integer bitmask from 0 to 63, got 64/);
  await assert.rejects(PostgresRetriever.open({}), /connection: expected a connection string/);
  const r = await retriever({ table: 'modes' });
  assert.deepEqual(r.modes, ['text']);
  await assert.rejects(r.search('x', { mode: 'vector' }), /mode: vector is not supported here \(supported: text\): PostgreSQL here has no pgvector/);
  await assert.rejects(r.search('x', { mode: 'hybrid' }), /no pgvector \(Debian 12 does not package it\)/);
  await assert.rejects(r.search('x', { k: 1.5 }), /k: expected a positive integer, got 1.5/);
  await assert.rejects(r.add([{ id: 'ok', text: 'x' }, { text: 'y' } as never]), /documents\[1\]\.id: expected a non-empty string, got nothing/);
  // A table made with one configuration is not reopened with another.
  await assert.rejects(retriever({ table: 'modes', textSearchConfig: 'simple' }), /not built with text search config simple/);
  // The simple configuration does no stemming: "otters" no longer finds "otter".
  const simple = await retriever({ table: 'simple_docs', textSearchConfig: 'simple' });
  await simple.add([{ id: 's', text: 'otter' }]);
  assert.deepEqual(ids(await simple.search('otters')), []);
  assert.deepEqual(ids(await simple.search('otter')), ['s']);
});
