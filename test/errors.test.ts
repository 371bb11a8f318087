import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BackendUnavailableError,
  ERROR_KINDS,
  InputError,
  ModelNotFoundError,
  ProviderError,
  errorCodeOf,
  exitCodeOf,
  importOptional,
} from '../src/errors.js';

describe('typed errors', () => {
  it('an input error names its field from the message, or the one given', () => {
    assert.equal(new InputError('documents[3].text: expected a string, got number').field, 'documents[3].text');
    assert.equal(new InputError('fuse.firstStageScores: expected one number per document').field, 'fuse.firstStageScores');
    assert.equal(new InputError('expected at least one document').field, undefined);
    assert.equal(new InputError('the query is empty', { field: 'query' }).field, 'query');
    // Prose with a colon is not a field.
    assert.equal(new InputError('could not read the file: no such file').field, undefined);
  });

  it('codes, exit statuses and HTTP statuses come from the one table', () => {
    const input = new InputError('topK: expected a positive integer, got 0');
    assert.equal(input.code, 'invalid_input');
    assert.equal(input.exitCode, ERROR_KINDS.invalid_input.exitCode);
    assert.equal(input.httpStatus, 400);
    assert.equal(input.name, 'InputError');
    assert.ok(input instanceof Error);
    assert.equal(new ModelNotFoundError('model: no such folder').httpStatus, 404);
    const provider = new ProviderError('llm: 503 from the provider', true);
    assert.equal(provider.retryable, true);
    assert.equal(errorCodeOf(provider), 'provider_failed');
    assert.equal(errorCodeOf(new TypeError('x')), 'internal');
    assert.equal(exitCodeOf(new TypeError('x')), 1);
    assert.equal(exitCodeOf(input), 2);
    // Distinct kinds a caller must tell apart get distinct exit statuses.
    const exits = new Set([input, new ModelNotFoundError('m'), new BackendUnavailableError('b'), provider].map(exitCodeOf));
    assert.equal(exits.size, 4);
  });

  it('a missing optional package says which package to install', async () => {
    await assert.rejects(
      importOptional('rankwise-no-such-package', 'the test feature', () => import('rankwise-no-such-package' as string)),
      (error: unknown) => {
        assert.ok(error instanceof BackendUnavailableError);
        assert.match(error.message, /the test feature needs the optional package "rankwise-no-such-package": npm install rankwise-no-such-package/);
        return true;
      },
    );
    const path = await importOptional('node:path', 'paths', () => import('node:path'));
    assert.equal(typeof path.join, 'function');
  });
});

describe('the error table in the README', () => {
  it('lists every code with the exit and HTTP status ERROR_KINDS gives it', async () => {
    const { readFile } = await import('node:fs/promises');
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| [^|]+ \| `(\w+)` \| (\d+) \| (\d+) \|/gm)].map((m) => [m[1], Number(m[2]), Number(m[3])]);
    const expected = Object.entries(ERROR_KINDS).map(([code, kind]) => [code, kind.exitCode, kind.httpStatus]);
    assert.deepEqual(rows.sort(), expected.sort());
  });
});

describe('optional packages', () => {
  it('requireOptional loads an installed package once and names a missing one with its npm install line', async () => {
    const { requireOptional, requireInstalled } = await import('../src/errors.js');
    const commanderA = requireOptional<unknown>('commander', 'test');
    assert.equal(requireOptional<unknown>('commander', 'test'), commanderA);
    assert.throws(() => requireOptional('rankwise-no-such-package', 'The widget'), (error: unknown) => {
      assert.ok(error instanceof BackendUnavailableError);
      assert.equal(error.message, 'The widget needs the optional package "rankwise-no-such-package": npm install rankwise-no-such-package');
      return true;
    });
    assert.doesNotThrow(() => requireInstalled(['commander', 'onnxruntime-node'], 'test'));
    assert.throws(() => requireInstalled(['commander', 'rankwise-nope-a', 'rankwise-nope-b'], 'The server'), {
      message: 'The server needs the optional packages "rankwise-nope-a", "rankwise-nope-b": npm install rankwise-nope-a rankwise-nope-b',
    });
  });
});
