/**
 * The loss registry is the one list of training losses: the native addon's table, the engine's request checks, the
 * CLI's `--loss` choices and the README's table must all agree with it.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { lossTableMarkdown } from '../src/present/loss-table.js';
import { engineAvailable, evaluateLoss, nativeLossNames, type LossKind } from '../src/train/engine.js';
import { createLoss, describeLoss, describeLosses, lossNames } from '../src/train/losses/registry.js';

const ROOT = new URL('../', import.meta.url);

test('the C++ loss table (native/src/losses.cpp) holds exactly the registry names, in order', async () => {
  const source = await readFile(new URL('native/src/losses.cpp', ROOT), 'utf8');
  const table = /const LossId kLossIds\[\] = \{([\s\S]*?)\};/.exec(source);
  assert.ok(table, 'kLossIds not found in losses.cpp');
  const names = [...table[1].matchAll(/\{LossKind::\w+, "([^"]+)"\}/g)].map((m) => m[1]);
  assert.deepEqual(names, lossNames());
});

test('the built addon accepts exactly the registry names', { skip: !engineAvailable() && 'native addon not built' }, () => {
  assert.deepEqual(nativeLossNames(), lossNames());
  // Every registered loss reaches its native implementation (no "unknown loss" for any of them).
  for (const loss of describeLosses()) {
    assert.throws(() => evaluateLoss(loss.name as LossKind, {}), (e: Error) => !/unknown loss/.test(e.message), loss.name);
  }
});

test('the registry splits losses by target and makes each one by name', () => {
  assert.deepEqual(lossNames('cross-encoder'), ['bce', 'mse', 'margin-mse']);
  assert.deepEqual(lossNames('bi-encoder'), ['cosine', 'mnrl']);
  for (const name of lossNames()) {
    const loss = createLoss(name);
    assert.equal(loss.name, name);
    assert.equal(loss.target, describeLoss(name).target);
  }
  assert.throws(() => createLoss('hinge', '--loss'), /--loss: unknown loss "hinge" \(expected bce, mse, margin-mse, cosine, mnrl\)/);
});

test("the README's loss table and `--loss` synopses are the registry's", async () => {
  const readme = await readFile(new URL('README.md', ROOT), 'utf8');
  const block = /<!-- losses:begin -->\n([\s\S]*?)\n<!-- losses:end -->/.exec(readme);
  assert.ok(block, 'README.md has no <!-- losses:begin --> ... <!-- losses:end --> block');
  assert.equal(block[1], lossTableMarkdown(describeLosses()), 'README.md loss table is stale; replace it with lossTableMarkdown(describeLosses())');
  for (const target of ['cross-encoder', 'bi-encoder'] as const) {
    assert.ok(readme.includes(`rankwise train ${target}`) && readme.includes(`--loss ${lossNames(target).join('|')}`), `README synopsis of ${target}`);
  }
});
