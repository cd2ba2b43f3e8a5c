import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openKeyvBackend, type KeyvBackendOptions } from './keyv-store.ts';
import { openSqliteBackend } from './sqlite-store.ts';
import type { StoreBackend } from './key-value-store.ts';

export { StoreError, type KeyValueStore, type StoreBackend } from './key-value-store.ts';

export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\//i.test(url);
}

/** `file:///abs/dir`, `file://rel/dir` and plain paths all name a folder. */
export function storeFolder(url: string): string {
  if (/^file:\/\/\//i.test(url)) return fileURLToPath(url);
  return url.replace(/^file:(\/\/)?/i, '');
}

/** Throws {@link StoreError} when the store cannot be opened (unwritable folder, damaged database). */
export function openStoreBackend(url: string, options: KeyvBackendOptions = {}): StoreBackend {
  return isRedisUrl(url) ? openKeyvBackend(url, options) : openSqliteBackend(path.resolve(storeFolder(url)));
}
