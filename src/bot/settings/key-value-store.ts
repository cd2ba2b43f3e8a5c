import type { JobJournal } from '../jobs/job-journal.ts';

/**
 * A named key-value store. Every method rejects when the store cannot do what was asked (a write
 * that did not land, a read that failed): callers fail closed, they never mistake an error for
 * "nothing stored".
 */
export interface KeyValueStore<Value> {
  get(key: string): Promise<Value | undefined>;
  set(key: string, value: Value, ttlMs?: number): Promise<void>;
  delete(key: string): Promise<void>;
}

/**
 * Opens named stores on one backend: Redis for `redis://` URLs (through keyv), else one SQLite
 * database, `<folder>/imagine.db`, which also journals the embedded job queue.
 */
export interface StoreBackend {
  open<Value>(namespace: string): KeyValueStore<Value>;
  /** Waits for every write started so far. */
  flush(): Promise<void>;
  /** Flushes, then releases files and connections. */
  close(): Promise<void>;
  readonly description: string;
  /** Where the embedded queue writes accepted jobs; absent when jobs live elsewhere (Redis). */
  readonly journal?: JobJournal;
}

/** A store that cannot be opened, read or written; the message is one line an operator can act on. */
export class StoreError extends Error {
  override readonly name = 'StoreError';
}

/**
 * Reads one entry of a store whose readers fail closed: a failed read rejects with a {@link StoreError}
 * naming `what` could not be read, never with "nothing stored" (which would mean the defaults).
 */
export async function readFailClosed<Value>(store: KeyValueStore<Value>, key: string, what: string): Promise<Value | undefined> {
  try {
    return await store.get(key);
  } catch (error) {
    throw new StoreError(`could not read ${what}`, { cause: error });
  }
}
