import assert from 'node:assert/strict';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { bertFamily } from '../src/models/bert/family.js';
import { familyFor, knownModelTypes, MODEL_FAMILIES } from '../src/models/families.js';
import { loadSentenceEncoder } from '../src/models/load-encoder.js';
import { resolveModel } from '../src/models/model-folder.js';
import { writeModelFolder } from '../src/models/model-writer.js';
import { useLiteFamily } from '../src/models/use-lite/family.js';
import { CrossEncoder } from '../src/rank/cross-encoder.js';
import { EncoderRanker } from '../src/rank/encoder-ranker.js';
import { loadRanker } from '../src/rank/load-ranker.js';
import { fixtureModel, scratchDir } from './helpers/fixtures.js';

test('familyFor picks the family by model_type; a config without one is BERT', () => {
  assert.equal(familyFor({ model_type: 'bert' }), bertFamily);
  assert.equal(familyFor('use-lite'), useLiteFamily);
  assert.equal(familyFor({}), bertFamily);
  // Every model_type is served by exactly one family.
  assert.equal(new Set(knownModelTypes()).size, MODEL_FAMILIES.flatMap((f) => f.modelTypes).length);
});

test('an unknown model_type names the config file, the model_type and the known ones', () => {
  assert.throws(() => familyFor({ model_type: 'deberta-v2' }, '/models/x/config.json'), (error: Error) => {
    assert.match(error.message, /^\/models\/x\/config\.json: /);
    assert.match(error.message, /model_type "deberta-v2" is not supported/);
    assert.match(error.message, /known model types: bert, use-lite/);
    return true;
  });
});

test('resolveModel reads a folder through its family, and rejects an unknown model_type naming the file', async () => {
  const fixture = await fixtureModel({ kind: 'cross-encoder', seed: 5 });
  const folder = await resolveModel(fixture);
  assert.equal(folder.family, bertFamily);
  assert.equal(folder.head, 'sequence-classification');

  const dir = join(await scratchDir(), 'model');
  await cp(fixture, dir, { recursive: true });
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8'));
  await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, model_type: 'deberta-v2' }));
  await assert.rejects(resolveModel(dir), (error: Error) => {
    assert.ok(error.message.includes(join(dir, 'config.json')), error.message);
    assert.match(error.message, /model_type "deberta-v2" is not supported; known model types: bert, use-lite/);
    return true;
  });
  await assert.rejects(
    writeModelFolder(join(dir, 'out'), { config: { ...config, model_type: 'deberta-v2' }, head: 'none', weights: new Map(), writeTokenizer: async () => {} }),
    /model_type "deberta-v2" is not supported/,
  );
});

test('one loader for every family: the built-in use-lite and a BERT folder resolve once and load by their family', async () => {
  const cacheDir = await scratchDir();
  const useLite = await resolveModel('use-lite', { cacheDir });
  assert.equal(useLite.family, useLiteFamily);
  assert.equal(useLite.name, 'use-lite');
  assert.ok(useLite.builtIn, 'a built-in name keeps its built-in entry');

  const encoder = await loadSentenceEncoder(useLite);
  try {
    assert.equal(encoder.name, 'use-lite');
    const [a, b] = await encoder.encode(['a reranker reorders documents', 'a reranker reorders documents']);
    assert.equal(a.length, 512);
    assert.deepEqual(a, b);
  } finally {
    await encoder.dispose();
  }

  const crossEncoder = await loadRanker(await fixtureModel({ kind: 'cross-encoder', seed: 6 }), { threads: 1 });
  const biEncoder = await loadRanker(await fixtureModel({ kind: 'bi-encoder', seed: 7 }), { threads: 1 });
  try {
    assert.ok(crossEncoder instanceof CrossEncoder);
    assert.ok(biEncoder instanceof EncoderRanker);
  } finally {
    await crossEncoder.dispose();
    await biEncoder.dispose();
  }
});
