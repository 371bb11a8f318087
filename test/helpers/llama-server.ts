/** llama.cpp's OpenAI-compatible `llama-server`, started by tests on loopback (built by scripts/build-llama-server.sh). */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './cli.js';
import { freePort, startProcess, type ServerProcess } from './processes.js';

/** Where scripts/build-llama-server.sh puts the binary (same cache rule: RANKWISE_CACHE or ~/.cache/rankwise). */
export function llamaServerPath(): string {
  const info = JSON.parse(readFileSync(join(ROOT, 'node_modules/node-llama-cpp/llama/llama.cpp.info.json'), 'utf8')) as { tag: string };
  const cache = process.env.RANKWISE_CACHE ?? join(homedir(), '.cache/rankwise');
  return join(cache, 'llama-server', info.tag, 'bin/llama-server');
}

/** The binary's path, or an error that says how to get it: these tests must fail, not skip, without it. */
export function requireLlamaServer(): string {
  const path = llamaServerPath();
  if (!existsSync(path)) {
    throw new Error(`llama-server is not built (looked for ${path}): run \`bash scripts/build-llama-server.sh\` once (about 16 minutes on 2 cores; CI builds it in setup)`);
  }
  return path;
}

export interface LlamaServer {
  port: number;
  /** The OpenAI-compatible base URL, `http://127.0.0.1:PORT/v1`. */
  baseUrl: string;
  process: ServerProcess;
  stop(): Promise<void>;
}

/**
 * Starts llama-server on a free loopback port with one thread and one slot; ready when GET /health answers 200. The
 * context defaults to 2,048 tokens: with the chat template and our framing, three short documents already take ~900.
 */
export async function startLlamaServer(model: string, options: { contextSize?: number } = {}): Promise<LlamaServer> {
  const binary = requireLlamaServer();
  const port = await freePort();
  const args = ['-m', model, '--host', '127.0.0.1', '--port', String(port), '-t', '1', '-c', String(options.contextSize ?? 2048), '-np', '1'];
  const server = await startProcess(binary, args, {
    what: 'llama-server',
    timeoutMs: 60_000,
    ready: async () => (await fetch(`http://127.0.0.1:${port}/health`)).status === 200,
  });
  return { port, baseUrl: `http://127.0.0.1:${port}/v1`, process: server, stop: () => server.stop() };
}
