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
