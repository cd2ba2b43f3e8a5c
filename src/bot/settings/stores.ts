import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { KeyvFile } from 'keyv-file';

/**
 * Opens named key-value stores on one backend: Redis for `redis://` URLs, else JSON files in a folder
 * (one file per namespace, so two stores never rewrite each other's file). Writes are tracked so that
 * `flush()` can wait until everything set so far is on disk or in Redis.
 */
export interface StoreBackend {
  open<Value>(namespace: string): Keyv<Value>;
  /** Waits for every write started so far. */
  flush(): Promise<void>;
  /** Flushes, then releases files and connections. */
  close(): Promise<void>;
  readonly description: string;
}

export function isRedisUrl(url: string): boolean {
  return /^rediss?:\/\//i.test(url);
}

/** `file:///abs/dir`, `file://rel/dir` and plain paths all name a folder. */
export function storeFolder(url: string): string {
  if (/^file:\/\/\//i.test(url)) return fileURLToPath(url);
  return url.replace(/^file:(\/\/)?/i, '');
}

export function openStoreBackend(url: string): StoreBackend {
  const opened: Keyv[] = [];
  const pending = new Set<Promise<unknown>>();
  const redis = isRedisUrl(url);
  const folder = redis ? '' : path.resolve(storeFolder(url));

  const track = <T>(write: Promise<T>): Promise<T> => {
    pending.add(write);
    const forget = () => pending.delete(write);
    write.then(forget, forget);
    return write;
  };

  const flush = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };

  return {
    description: redis ? 'redis' : `file store in ${folder}`,
    open<Value>(namespace: string): Keyv<Value> {
      const store = redis
        ? new KeyvRedis(url)
        : // A short write delay batches bursts of writes into one file write without holding data back for long.
          new KeyvFile({ filename: path.join(folder, `${namespace}.json`), writeDelay: 50 });
      const keyv = new Keyv<Value>({ store, namespace });
      const set = keyv.set.bind(keyv);
      const remove = keyv.delete.bind(keyv);
      keyv.set = ((...args: Parameters<typeof set>) => track(set(...args))) as typeof keyv.set;
      keyv.delete = ((...args: Parameters<typeof remove>) => track(remove(...args))) as typeof keyv.delete;
      opened.push(keyv as Keyv);
      return keyv;
    },
    flush,
    async close() {
      await flush();
      await Promise.allSettled(opened.map((keyv) => keyv.disconnect()));
    },
  };
}
