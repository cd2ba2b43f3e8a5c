import type { RedisClient } from './redis-client.ts';
import { RedisKeys } from './keys.ts';

/** How long a worker may take to send a final message before another may try in its place. */
export const DELIVERY_CLAIM_MS = 60_000;
/** How long "delivered" is remembered: far longer than any job can be rerun. */
const DELIVERED_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export type ClaimOutcome = 'claimed' | 'delivered' | 'claimed-elsewhere';

/**
 * The idempotent delivery marker that makes final delivery exactly-once while execution is
 * at-least-once: a worker claims the job's final message (SET NX with an expiry), sends it, then marks
 * it done. A rerun of a delivered job finds "done" and sends nothing; a claim whose worker died
 * expires, and the job's next attempt delivers (editing the same reply, so still one message).
 */
export class DeliveryMarker {
  constructor(
    private readonly redis: RedisClient,
    private readonly workerId: string,
  ) {}

  async claim(jobId: string): Promise<ClaimOutcome> {
    const key = RedisKeys.delivery(jobId);
    const mine = `claim:${this.workerId}`;
    if ((await this.redis.set(key, mine, { PX: DELIVERY_CLAIM_MS, NX: true })) === 'OK') return 'claimed';
    const current = await this.redis.get(key);
    if (current?.startsWith('done:')) return 'delivered';
    // Our own claim from an attempt that failed before finishing: carry on with it.
    return current === mine ? 'claimed' : 'claimed-elsewhere';
  }

  async isDelivered(jobId: string): Promise<boolean> {
    return (await this.redis.get(RedisKeys.delivery(jobId)))?.startsWith('done:') ?? false;
  }

  async markDelivered(jobId: string, outcome: string): Promise<void> {
    await this.redis.set(RedisKeys.delivery(jobId), `done:${outcome}`, { PX: DELIVERED_TTL_MS });
  }
}
