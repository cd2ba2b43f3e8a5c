import { accessSync, constants, existsSync, mkdirSync, renameSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { SqliteJobJournal } from '../jobs/job-journal.ts';
import { StoreError, type KeyValueStore, type StoreBackend } from './key-value-store.ts';
import { importLegacyJsonStores } from './legacy-json-import.ts';

export const DATABASE_FILE = 'imagine.db';

/** SQLite's result codes for a file that is not (or no longer) a readable database. */
const DAMAGED_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB']);

function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function prepareFolder(folder: string): void {
  try {
    mkdirSync(folder, { recursive: true });
    accessSync(folder, constants.W_OK);
  } catch (error) {
    throw new StoreError(
      `the data folder ${folder} is not writable (${errorCode(error) ?? reasonOf(error)}); set IMAGINE_STORE_URL to a folder the bot may write to`,
      { cause: error },
    );
  }
}

/** Moves a damaged database (and its WAL files) aside, so that nothing ever writes over it. */
function moveAside(file: string): string {
  const aside = `${file}.damaged-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix);
  return aside;
}

/**
 * Opens `<folder>/imagine.db` in WAL mode with `synchronous=FULL`: a write that returned is on disk
 * and survives a crash or power loss. A damaged file is moved aside and reported; the bot then refuses
 * to start rather than run with its settings silently gone.
 */
export function openDatabase(folder: string): Database.Database {
  prepareFolder(folder);
  const file = path.join(folder, DATABASE_FILE);
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { timeout: 5000 });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw Object.assign(new Error(`integrity check failed: ${String(check)}`), { code: 'SQLITE_CORRUPT' });
    db.exec(`CREATE TABLE IF NOT EXISTS kv (
      namespace TEXT NOT NULL,
      key TEXT NOT NULL,
      value TEXT NOT NULL,
      expires_at INTEGER,
      PRIMARY KEY (namespace, key)
    ) WITHOUT ROWID`);
    return db;
  } catch (error) {
    db?.close();
    const code = errorCode(error);
    if (code !== undefined && DAMAGED_CODES.has(code)) {
      const aside = moveAside(file);
      throw new StoreError(
        `${file} is damaged (${reasonOf(error)}); it was moved to ${aside} and nothing was overwritten. ` +
          `Restore a backup to ${file}, or start again to begin with empty settings and results.`,
        { cause: error },
      );
    }
    throw new StoreError(`cannot open ${file}: ${reasonOf(error)}`, { cause: error });
  }
}

/** A namespace of the `kv` table; values are JSON. Each call is one synchronous, durable statement. */
class SqliteKeyValueStore<Value> implements KeyValueStore<Value> {
  readonly #select;
  readonly #upsert;
  readonly #remove;

  constructor(
    db: Database.Database,
    private readonly namespace: string,
    private readonly now: () => number,
  ) {
    this.#select = db.prepare('SELECT value, expires_at AS expiresAt FROM kv WHERE namespace = ? AND key = ?');
    this.#upsert = db.prepare('INSERT OR REPLACE INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?)');
    this.#remove = db.prepare('DELETE FROM kv WHERE namespace = ? AND key = ?');
  }

  async get(key: string): Promise<Value | undefined> {
    const row = this.#guard('read', () => this.#select.get(this.namespace, key)) as { value: string; expiresAt: number | null } | undefined;
    if (!row) return undefined;
    if (row.expiresAt !== null && row.expiresAt <= this.now()) {
      this.#guard('write', () => this.#remove.run(this.namespace, key));
      return undefined;
    }
    return JSON.parse(row.value) as Value;
  }

  async set(key: string, value: Value, ttlMs?: number): Promise<void> {
    const expiresAt = ttlMs === undefined ? null : this.now() + ttlMs;
    this.#guard('write', () => this.#upsert.run(this.namespace, key, JSON.stringify(value), expiresAt));
  }

  async delete(key: string): Promise<void> {
    this.#guard('write', () => this.#remove.run(this.namespace, key));
  }

  #guard<T>(what: 'read' | 'write', action: () => T): T {
    try {
      return action();
    } catch (error) {
      throw new StoreError(`could not ${what} the ${this.namespace} store: ${reasonOf(error)}`, { cause: error });
    }
  }
}

export function openSqliteBackend(folder: string, now: () => number = Date.now): StoreBackend {
  const db = openDatabase(folder);
  let journal: SqliteJobJournal;
  try {
    importLegacyJsonStores(db, folder);
    // Results expire (see RESULT_RETENTION_MS); sweeping at start keeps the file from growing forever.
    db.prepare('DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?').run(now());
    journal = new SqliteJobJournal(db);
  } catch (error) {
    db.close();
    throw error instanceof StoreError ? error : new StoreError(`cannot prepare ${db.name}: ${reasonOf(error)}`, { cause: error });
  }
  return {
    description: `SQLite database ${path.join(folder, DATABASE_FILE)}`,
    journal,
    open: <Value>(namespace: string) => new SqliteKeyValueStore<Value>(db, namespace, now),
    // Every write is synchronous and durable when it returns: nothing is ever pending.
    flush: async () => undefined,
    close: async () => {
      if (db.open) db.close();
    },
  };
}
