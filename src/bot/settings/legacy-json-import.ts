import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { StoreError } from './key-value-store.ts';

/** The namespaces earlier versions kept as keyv-file JSON files in the data folder. */
const LEGACY_NAMESPACES = ['settings', 'results'] as const;

/** keyv-file's layout: `{ cache: [[ "<namespace>:<key>", { value: "<keyv JSON>", expire? } ], …] }`. */
const legacyFile = z.object({
  cache: z.array(z.tuple([z.string(), z.object({ value: z.string(), expire: z.number().optional() })])),
});
const keyvValue = z.object({ value: z.unknown(), expires: z.number().nullable().optional() });

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * Moves settings and results from an earlier version's `settings.json` / `results.json` into the
 * database once, then renames each file to `*.imported` so that it is kept but never read again.
 * A file that cannot be read is an error: starting without it would silently drop moderators'
 * settings.
 */
export function importLegacyJsonStores(db: Database.Database, folder: string, now: number = Date.now()): void {
  const insert = db.prepare('INSERT OR IGNORE INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?)');
  for (const namespace of LEGACY_NAMESPACES) {
    const file = path.join(folder, `${namespace}.json`);
    if (!existsSync(file)) continue;
    let entries: z.infer<typeof legacyFile>['cache'];
    try {
      entries = legacyFile.parse(JSON.parse(readFileSync(file, 'utf8'))).cache;
    } catch (error) {
      throw new StoreError(
        `${file} (from an earlier version) could not be read, so it was not imported: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}. ` +
          'Fix or remove it, then start again.',
        { cause: error },
      );
    }
    const prefix = `${namespace}:`;
    db.transaction(() => {
      for (const [fullKey, stored] of entries) {
        if (!fullKey.startsWith(prefix)) continue;
        const parsed = keyvValue.safeParse(parseJson(stored.value));
        if (!parsed.success) continue;
        const expiresAt = parsed.data.expires ?? stored.expire ?? null;
        if (expiresAt !== null && expiresAt <= now) continue;
        insert.run(namespace, fullKey.slice(prefix.length), JSON.stringify(parsed.data.value), expiresAt);
      }
    })();
    renameSync(file, `${file}.imported`);
  }
}
