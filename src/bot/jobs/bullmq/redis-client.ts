import { createClient, type RedisClientType } from '@redis/client';
import type { Logger } from 'pino';

export type RedisClient = RedisClientType;

export interface RedisClientOptions {
  url: string;
  /** Shown in logs and in Redis' CLIENT LIST. */
  name: string;
  logger: Logger;
  /**
   * Commands fail at once while Redis is unreachable instead of waiting for it: for the gateway,
   * which must refuse a job rather than hold the user's interaction open.
   */
  failFast?: boolean;
}

/** Backs off to one attempt every 2 s: a Redis restart is noticed quickly without a storm of retries. */
const RECONNECT_CAP_MS = 2000;

/**
 * A node-redis client that reconnects by itself, forever, and logs (once per outage) instead of
 * crashing on connection errors. `connect` resolves on the first successful connection.
 */
export async function connectRedis(options: RedisClientOptions): Promise<RedisClient> {
  const client: RedisClient = createClient({
    url: options.url,
    name: options.name,
    disableOfflineQueue: options.failFast ?? false,
    socket: { connectTimeout: 5000, reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, RECONNECT_CAP_MS) },
  });
  watchConnection(client, options);
  await client.connect();
  return client;
}

/** Logs an outage once when it starts and once when it ends. */
export function watchConnection(client: RedisClient, options: Pick<RedisClientOptions, 'name' | 'logger'>): void {
  let down = false;
  client.on('error', (error: unknown) => {
    if (down) return;
    down = true;
    options.logger.warn({ redis: options.name, err: error instanceof Error ? error.message : String(error) }, 'Redis unreachable; reconnecting');
  });
  client.on('ready', () => {
    if (!down) return;
    down = false;
    options.logger.info({ redis: options.name }, 'Redis reachable again');
  });
}

export async function closeRedis(client: RedisClient): Promise<void> {
  if (!client.isOpen) return;
  await client.quit().catch(() => client.disconnect().catch(() => undefined));
}
