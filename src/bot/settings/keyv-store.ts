import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { StoreError, type KeyValueStore, type StoreBackend } from './key-value-store.ts';

/**
 * Stores on Redis through keyv. keyv swallows store errors by default (a failed read looks like a
 * missing key, a failed write resolves `false`): `throwOnErrors` and the checks below turn both into
 * rejections.
 */
export function openKeyvBackend(url: string): StoreBackend {
  const opened: Keyv[] = [];
  const pending = new Set<Promise<unknown>>();

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
    description: 'redis',
    open<Value>(namespace: string): KeyValueStore<Value> {
      const keyv = new Keyv<Value>({ store: new KeyvRedis(url), namespace, throwOnErrors: true });
      // Without a listener keyv's emitter would throw its errors at the process.
      keyv.on('error', () => undefined);
      opened.push(keyv as Keyv);
      return {
        get: (key) => keyv.get(key),
        set: (key, value, ttlMs) =>
          track(
            keyv.set(key, value, ttlMs).then((written) => {
              if (!written) throw new StoreError(`the ${namespace} store did not accept a write`);
            }),
          ),
        delete: (key) => track(keyv.delete(key).then(() => undefined)),
      };
    },
    flush,
    async close() {
      await flush();
      await Promise.allSettled(opened.map((keyv) => keyv.disconnect()));
    },
  };
}
