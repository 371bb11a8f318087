/** A throwaway PostgreSQL cluster on loopback at a free port in a temp dir, for tests and benchmarks. */
import { execFile } from 'node:child_process';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort, startProcess, type ServerProcess } from './processes.js';

const run = promisify(execFile);
const PG_BIN = process.env.RANKWISE_PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  port: number;
  /** `postgres://postgres@127.0.0.1:PORT/postgres` (trust authentication). */
  url: string;
  /** Stops the server (fast shutdown) and removes its folder. */
  stop(): Promise<void>;
}

/**
 * PostgreSQL refuses to run as root, so as root every command runs as the `postgres` user through setpriv, which
 * execs in place: the process we signal is the server itself.
 */
async function asPostgres(): Promise<{ prefix: string[]; owner?: { uid: number; gid: number } }> {
  if (process.getuid?.() !== 0) return { prefix: [] };
  const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
  return { prefix: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--init-groups', '--'], owner: { uid, gid } };
}

export async function startPostgres(): Promise<TestPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'rankwise-pg-'));
  let server: ServerProcess | undefined;
  try {
    const { prefix, owner } = await asPostgres();
    if (owner) await chown(dir, owner.uid, owner.gid);
    const command = (binary: string, args: string[]): [string, string[]] =>
      prefix.length > 0 ? [prefix[0], [...prefix.slice(1), join(PG_BIN, binary), ...args]] : [join(PG_BIN, binary), args];
    const data = join(dir, 'data');
    const [initdb, initArgs] = command('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions']);
    try {
      await run(initdb, initArgs, { cwd: dir });
    } catch (error) {
      throw new Error(`initdb failed (is PostgreSQL 15 installed in ${PG_BIN}?): ${(error as { stderr?: string }).stderr ?? (error as Error).message}`);
    }
    const port = await freePort();
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const [postgres, args] = command('postgres', ['-D', data, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-k', dir, '-c', 'fsync=off']);
    server = await startProcess(postgres, args, {
      what: 'postgres',
      cwd: dir,
      ready: async () => {
        const client = new pg.Client(url);
        try {
          await client.connect();
          await client.query('SELECT 1');
          return true;
        } finally {
          await client.end().catch(() => undefined);
        }
      },
    });
    const running = server;
    return {
      port,
      url,
      async stop() {
        // SIGINT is PostgreSQL's fast shutdown (SIGTERM would wait for every client to disconnect).
        running.child.kill('SIGINT');
        await running.stop(10_000);
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
