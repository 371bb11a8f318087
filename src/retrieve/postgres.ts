import type { Pool, PoolClient, PoolConfig } from 'pg';
import { checkDocuments, checkIds, checkSearch } from './checks.js';
import type { IndexedDocument, RetrievedDocument, Retriever, SearchMode, SearchOptions } from './retriever.js';
import { InputError, requireOptional } from '../errors.js';

const pg = () => requireOptional<typeof import('pg')>('pg', 'PostgresRetriever');

export const DEFAULT_PG_TABLE = 'rankwise_documents';
export const DEFAULT_TEXT_SEARCH_CONFIG = 'english';
/** Rows per INSERT statement (each row is three array elements of one parameter set). */
const INSERT_BATCH = 1000;

/** Columns of a table the caller already has; rankwise reads and writes them but creates and alters nothing. */
export interface ExistingTable {
  idColumn: string;
  textColumn: string;
  /** A json/jsonb column returned as `metadata` and written on add; leave out when there is none. */
  metadataColumn?: string;
}

export interface PostgresRetrieverOptions {
  /** A connection string or pool settings; or give `pool` to share one you own (it is not ended on close). */
  connection?: string | PoolConfig;
  pool?: Pool;
  /** Table name, optionally `schema.table`; each part a plain SQL identifier (default `rankwise_documents`). */
  table?: string;
  /** PostgreSQL text search configuration for stemming and stop words (default `english`). */
  textSearchConfig?: string;
  /** Attach to an existing table instead of creating one. */
  existing?: ExistingTable;
  /**
   * `ts_rank_cd` normalization bitmask (default 0: none). 1 divides by 1 + log(length), 2 by the length, 4 by the
   * mean distance between extents, 8 by unique words, 16 by 1 + log(unique words), 32 maps r to r / (r + 1).
   */
  rankNormalization?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Accepts a plain SQL identifier (letters, digits, `_`; at most 63) and returns it double-quoted. */
export function sqlIdentifier(value: string, field: string): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new InputError(`${field}: expected an SQL identifier (a letter or "_", then letters, digits or "_", at most 63), got ${JSON.stringify(value)}`);
  }
  return pg().escapeIdentifier(value);
}

function qualifiedTable(value: string): string {
  const parts = typeof value === 'string' ? value.split('.') : [];
  if (parts.length < 1 || parts.length > 2) throw new InputError(`table: expected "table" or "schema.table", got ${JSON.stringify(value)}`);
  return parts.map((part) => sqlIdentifier(part, 'table')).join('.');
}

/**
 * A lexical first stage on PostgreSQL's built-in full-text search, for documents that already live in PostgreSQL.
 *
 * Owned table (default): `id text primary key, text text, metadata jsonb`, plus a stored generated `tsvector` column
 * and a GIN index on it, created if missing. Attached table (`existing`): the tsvector is computed from the text
 * column in the query; an expression GIN index on `to_tsvector('<config>'::regconfig, <text column>)` makes it fast.
 *
 * Score (`text` mode only): `ts_rank_cd`, PostgreSQL's cover-density rank: it grows with the number of query-term
 * occurrences and with how close together the terms are; unbounded unless normalization 32 is set.
 * Vector and hybrid modes are not offered: Debian 12 packages no pgvector, so this store keeps no embeddings.
 */
export class PostgresRetriever implements Retriever {
  readonly name: string;
  readonly modes: readonly SearchMode[] = ['text'];
  private closed = false;

  private constructor(
    private readonly pool: Pool,
    private readonly ownsPool: boolean,
    private readonly sql: {
      table: string;
      id: string;
      text: string;
      metadata: string | undefined;
      /** The tsvector expression: the generated column, or to_tsvector over the attached text column. */
      vector: string;
      /** Column types from the catalog (attached tables may key by integer, store json, ...), used in casts. */
      types: { id: string; text: string; metadata: string };
    },
    private readonly config: string,
    private readonly normalization: number,
    tableName: string,
  ) {
    this.name = `postgres:${tableName}`;
  }

  static async open(options: PostgresRetrieverOptions): Promise<PostgresRetriever> {
    if (!options.pool && !options.connection) throw new InputError('connection: expected a connection string or pool settings (or give pool)');
    const tableName = options.table ?? DEFAULT_PG_TABLE;
    const table = qualifiedTable(tableName);
    const config = options.textSearchConfig ?? DEFAULT_TEXT_SEARCH_CONFIG;
    sqlIdentifier(config, 'textSearchConfig');
    const normalization = options.rankNormalization ?? 0;
    if (!Number.isInteger(normalization) || normalization < 0 || normalization > 63) {
      throw new InputError(`rankNormalization: expected an integer bitmask from 0 to 63, got ${normalization}`);
    }
    const existing = options.existing;
    const columns = existing
      ? {
          id: sqlIdentifier(existing.idColumn, 'idColumn'),
          text: sqlIdentifier(existing.textColumn, 'textColumn'),
          metadata: existing.metadataColumn === undefined ? undefined : sqlIdentifier(existing.metadataColumn, 'metadataColumn'),
        }
      : { id: '"id"', text: '"text"', metadata: '"metadata"' };
    // The config is a validated identifier, inlined as a literal because DDL and index matching need a constant.
    const configLiteral = `${pg().escapeLiteral(config)}::regconfig`;
    const vector = existing ? `to_tsvector(${configLiteral}, ${columns.text})` : '"search_vector"';

    let pool = options.pool;
    if (!pool) {
      pool = new (pg().Pool)(typeof options.connection === 'string' ? { connectionString: options.connection } : options.connection);
      // An idle pooled connection that the server drops (restart, shutdown) emits 'error' on the pool, which would
      // crash the process unhandled; the pool discards that connection and the next query reports any real problem.
      pool.on('error', () => undefined);
    }
    const types = { id: 'text', text: 'text', metadata: 'jsonb' };
    const retriever = new PostgresRetriever(pool, !options.pool, { table, ...columns, vector, types }, config, normalization, tableName);
    try {
      const known = await pool.query('SELECT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = $1) AS ok', [config]);
      if (!known.rows[0].ok) throw new InputError(`textSearchConfig: PostgreSQL has no text search configuration ${JSON.stringify(config)}`);
      if (existing) await retriever.checkExisting(tableName, existing);
      else await retriever.createTable(configLiteral, tableName);
    } catch (error) {
      await retriever.close();
      throw error;
    }
    return retriever;
  }

  async add(documents: readonly IndexedDocument[]): Promise<void> {
    this.checkOpen();
    const batch = checkDocuments(documents);
    if (batch.length === 0) return;
    const { table, id, text, metadata, types } = this.sql;
    const insert = metadata
      ? `INSERT INTO ${table} (${id}, ${text}, ${metadata})
         SELECT u.id::${types.id}, u.text::${types.text}, u.metadata::${types.metadata} FROM unnest($1::text[], $2::text[], $3::jsonb[]) AS u(id, text, metadata)
         ON CONFLICT (${id}) DO UPDATE SET ${text} = EXCLUDED.${text}, ${metadata} = EXCLUDED.${metadata}`
      : `INSERT INTO ${table} (${id}, ${text})
         SELECT u.id::${types.id}, u.text::${types.text} FROM unnest($1::text[], $2::text[]) AS u(id, text)
         ON CONFLICT (${id}) DO UPDATE SET ${text} = EXCLUDED.${text}`;
    await this.transaction(async (client) => {
      for (let i = 0; i < batch.length; i += INSERT_BATCH) {
        const part = batch.slice(i, i + INSERT_BATCH);
        const values: unknown[] = [part.map((d) => d.id), part.map((d) => d.text)];
        if (metadata) values.push(part.map((d) => (d.metadata === undefined ? null : JSON.stringify(d.metadata))));
        await client.query(insert, values);
      }
    });
  }

  async delete(ids: readonly string[]): Promise<void> {
    this.checkOpen();
    const unique = checkIds(ids);
    if (unique.length === 0) return;
    // Cast the ids to the key's own type so that its primary-key index serves the lookup.
    await this.pool.query(`DELETE FROM ${this.sql.table} WHERE ${this.sql.id} = ANY($1::text[]::${this.sql.types.id}[])`, [unique]);
  }

  async search(query: string, options: SearchOptions = {}): Promise<RetrievedDocument[]> {
    this.checkOpen();
    const { k } = checkSearch(query, options, this.modes, 'text', () =>
      'PostgreSQL here has no pgvector (Debian 12 does not package it), so no embeddings are stored; use LanceDbRetriever for vector or hybrid search',
    );
    const { table, id, text, metadata, vector } = this.sql;
    // websearch_to_tsquery accepts any user text (quotes for phrases, "or", "-word") and never raises a syntax error,
    // unlike to_tsquery; terms are AND-ed by default, so every hit contains every (non-stop) query word.
    const result = await this.pool.query<{ id: string; text: string; metadata: unknown; score: number }>(
      `SELECT ${id}::text AS id, ${text} AS text, ${metadata ? `${metadata}::jsonb` : 'NULL::jsonb'} AS metadata,
              ts_rank_cd(${vector}, q, $3)::float8 AS score
         FROM ${table}, websearch_to_tsquery($1::regconfig, $2) AS q
        WHERE ${vector} @@ q
        ORDER BY score DESC, ${id}
        LIMIT $4`,
      [this.config, query, this.normalization, k],
    );
    return result.rows.map((row, i) => ({
      id: row.id,
      text: row.text,
      ...(row.metadata !== null && typeof row.metadata === 'object' && !Array.isArray(row.metadata) ? { metadata: row.metadata as Record<string, unknown> } : {}),
      score: row.score,
      rank: i + 1,
    }));
  }

  async count(): Promise<number> {
    this.checkOpen();
    const result = await this.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${this.sql.table}`);
    return Number(result.rows[0].n);
  }

  /** Ends the pool when this retriever created it; a pool passed in stays open for its owner. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }

  /** The same as close(), for code that disposes any resource (and `await using`). */
  dispose(): Promise<void> {
    return this.close();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async createTable(configLiteral: string, tableName: string): Promise<void> {
    const { table } = this.sql;
    const indexName = sqlIdentifier(`${tableName.split('.').at(-1)!.slice(0, 50)}_search_gin`, 'table');
    await this.transaction(async (client) => {
      // Two processes opening the same new table at once would race on CREATE ... IF NOT EXISTS; a lock on a key
      // derived from the table name serialises them for this transaction.
      await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`rankwise:${tableName}`]);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${table} (
           "id" text PRIMARY KEY,
           "text" text NOT NULL,
           "metadata" jsonb,
           "search_vector" tsvector GENERATED ALWAYS AS (to_tsvector(${configLiteral}, "text")) STORED
         )`,
      );
      await client.query(`CREATE INDEX IF NOT EXISTS ${indexName} ON ${table} USING GIN ("search_vector")`);
    });
    // An existing table must have been made with the same configuration, or queries would stem differently.
    const generated = await this.pool.query<{ expression: string | null }>(
      `SELECT pg_get_expr(d.adbin, d.adrelid) AS expression
         FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE a.attrelid = $1::regclass AND a.attname = 'search_vector'`,
      [table],
    );
    const expression = generated.rows[0]?.expression ?? '';
    if (!expression.includes(configLiteral)) {
      throw new InputError(`table ${tableName}: its search_vector column is ${expression || 'missing'}, not built with text search config ${this.config}`);
    }
  }

  private async checkExisting(tableName: string, existing: ExistingTable): Promise<void> {
    const found = await this.pool.query<{ attname: string; type: string }>(
      `SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute
        WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`,
      [this.sql.table],
    );
    if (found.rows.length === 0) throw new InputError(`table: ${tableName} does not exist (attaching to an existing table creates nothing)`);
    const types = new Map(found.rows.map((r) => [r.attname, r.type]));
    const wanted: Array<[string, string | undefined]> = [
      ['idColumn', existing.idColumn],
      ['textColumn', existing.textColumn],
      ['metadataColumn', existing.metadataColumn],
    ];
    for (const [field, column] of wanted) {
      if (column !== undefined && !types.has(column)) throw new InputError(`${field}: table ${tableName} has no column ${JSON.stringify(column)} (it has ${[...types.keys()].join(', ')})`);
    }
    if (existing.metadataColumn !== undefined && !['json', 'jsonb'].includes(types.get(existing.metadataColumn)!)) {
      throw new InputError(`metadataColumn: expected a json or jsonb column, ${existing.metadataColumn} is ${types.get(existing.metadataColumn)}`);
    }
    // Type names come from PostgreSQL's own catalog (format_type), so they are safe to splice into casts.
    this.sql.types.id = types.get(existing.idColumn)!;
    this.sql.types.text = types.get(existing.textColumn)!;
    if (existing.metadataColumn !== undefined) this.sql.types.metadata = types.get(existing.metadataColumn)!;
  }

  private async transaction(work: (client: PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new InputError(`${this.name}: the retriever is closed`);
  }
}
