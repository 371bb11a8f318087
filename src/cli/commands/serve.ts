import type { Command } from 'commander';
import { createServer } from '../../serve/server.js';
import { nonNegativeInt, nonNegativeNumber, oneOf, positiveInt } from '../options.js';
import { InputError } from '../../errors.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('Serve reranking (Cohere v2 and TEI APIs) and embeddings over HTTP, batching concurrent requests')
    .option('--model <model>', 'cross-encoder folder, hub id, or "default" (the built-in USE Lite cross-encoder)', 'default')
    .option('--embed-model <model>', 'bi-encoder folder, hub id or "use-lite"; enables /embed and /v1/embeddings')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <n>', 'port to listen on (0 = any free port)', nonNegativeInt('--port'), 8080)
    .option('--api-key <key>', 'require "Authorization: Bearer <key>" (default: $RANKWISE_API_KEY)')
    .option('--max-batch-tokens <n>', 'padded tokens per model call', positiveInt('--max-batch-tokens'), 8192)
    .option('--max-queue <n>', 'requests that may wait before new ones get 429', positiveInt('--max-queue'), 256)
    .option('--batch-wait-ms <n>', 'how long a request waits for others to batch with (0 = no batching)', nonNegativeNumber('--batch-wait-ms'), 5)
    .option('--max-documents <n>', 'documents per request', positiveInt('--max-documents'), 1000)
    .option('--max-chars-per-document <n>', 'characters per document', positiveInt('--max-chars-per-document'), 20000)
    .option('--max-body-bytes <n>', 'request body size', positiveInt('--max-body-bytes'), 2 * 1024 * 1024)
    .option('--request-timeout-ms <n>', 'time a request may take', positiveInt('--request-timeout-ms'), 30000)
    .option('--index <dir>', 'a LanceDB index from `rankwise index add`; enables POST /search (retrieve, then rerank)')
    .option('--cache <url>', 'semantic cache in front of /search: redis://host:port (shared by replicas) or a SQLite file')
    .option('--cache-threshold <x>', 'similarity a cached query needs to be reused', nonNegativeNumber('--cache-threshold'))
    .option('--dtype <dtype>', 'fp32 or int8', oneOf('--dtype', ['fp32', 'int8'] as const), 'fp32')
    .option('--threads <n>', 'inference threads', positiveInt('--threads'))
    .action(async (opts) => {
      if (opts.port > 65535) throw new InputError(`--port expects a port from 0 to 65535, got ${opts.port}`);
      // A key on the command line shows in `ps`; the environment variable avoids that.
      const apiKey: string | undefined = opts.apiKey ?? (process.env.RANKWISE_API_KEY || undefined);
      if (apiKey !== undefined && apiKey.length === 0) throw new InputError('--api-key: expected a non-empty key');
      const server = await createServer({
        model: opts.model,
        embedModel: opts.embedModel,
        host: opts.host,
        port: opts.port,
        apiKey,
        maxBatchTokens: opts.maxBatchTokens,
        maxQueue: opts.maxQueue,
        batchWaitMs: opts.batchWaitMs,
        maxDocuments: opts.maxDocuments,
        maxCharsPerDocument: opts.maxCharsPerDocument,
        maxBodyBytes: opts.maxBodyBytes,
        requestTimeoutMs: opts.requestTimeoutMs,
        index: opts.index,
        cache: opts.cache,
        cacheThreshold: opts.cacheThreshold,
        dtype: opts.dtype,
        threads: opts.threads,
      });
      process.stdout.write(`rankwise serve: listening on ${server.url}\n`);
      await new Promise<void>((resolve, reject) => {
        const stop = (signal: NodeJS.Signals) => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.stderr.write(`rankwise serve: ${signal}, finishing requests in flight\n`);
          server.close().then(resolve, reject);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
