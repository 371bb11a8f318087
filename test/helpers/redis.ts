/** A throwaway redis-server on loopback for one test file: free port, temp dir, no persistence. */
import { freePort, portOpen, startProcess, type ServerProcess } from './processes.js';
import { scratchDir } from './fixtures.js';

export interface RedisServer {
  url: string;
  port: number;
  process: ServerProcess;
}

/**
 * The caller stops it (`after(() => redis.process.stop())` at file level: a hook registered in here would end with the
 * caller's hook). `port` restarts one on the port of an earlier one.
 */
export async function startRedis(port?: number): Promise<RedisServer> {
  port ??= await freePort();
  const dir = await scratchDir();
  const server = await startProcess('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no'], {
    what: `redis-server on port ${port}`,
    ready: () => portOpen(port),
  });
  return { url: `redis://127.0.0.1:${port}`, port, process: server };
}
