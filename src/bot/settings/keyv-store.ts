import Keyv from 'keyv';
import KeyvRedis from '@keyv/redis';
import { StoreError, type KeyValueStore, type StoreBackend } from './key-value-store.ts';

export interface KeyvBackendOptions {
  /** Connection errors (Redis going away, reconnect attempts); operations fail on their own as well. */
  onConnectionError?: (error: unknown) => void;
}

/**
 * Stores on Redis through keyv, one connection per namespace. keyv swallows store errors by default (a
 * failed read looks like a missing key, a failed write resolves `false`): `throwOnErrors` and the
 * checks below turn both into rejections. With the offline queue off, a command while Redis is away
 * fails at once instead of waiting for a reconnect that may never come; the client keeps
 * reconnecting in the background, and its connection errors are reported, never thrown at the process.
 */
export function openKeyvBackend(url: string, options: KeyvBackendOptions = {}): StoreBackend {
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
      const store = new KeyvRedis(
        { url, disableOfflineQueue: true, socket: { reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 5000) } },
        { throwOnConnectError: true, throwErrors: true },
      );
      store.client.on('error', (error: unknown) => options.onConnectionError?.(error));
      const keyv = new Keyv<Value>({ store, namespace, throwOnErrors: true });
      // Without a listener keyv's emitter would throw its errors at the process; callers get them as rejections.
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
