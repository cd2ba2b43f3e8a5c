import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryMarker } from '../../src/bot/jobs/bullmq/delivery-marker.ts';
import { RedisKeys } from '../../src/bot/jobs/bullmq/keys.ts';
import { closeRedis, connectRedis, type RedisClient } from '../../src/bot/jobs/bullmq/redis-client.ts';
import { STALE_ENTRY_MS, UserLedger } from '../../src/bot/jobs/bullmq/user-ledger.ts';
import { startRedis, type TestRedis } from './redis-server.ts';

describe('distributed admission and delivery marker (real redis-server)', () => {
  let redis: TestRedis;
  let client: RedisClient;
  beforeAll(async () => {
    redis = await startRedis();
    client = await connectRedis({ url: redis.url, name: 'ledger-test', logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    if (client) await closeRedis(client);
    await redis?.stop();
  });

  it("priority is 1 + the user's jobs in the system, and the cap counts waiting jobs only", async () => {
    const ledger = new UserLedger(client);
    // A sends three, B one: A's get 1, 2, 3; B's gets 1, so it runs before A's second and third.
    expect(await ledger.admit('A', 'a1', 5)).toEqual({ admitted: true, priority: 1 });
    expect(await ledger.admit('A', 'a2', 5)).toEqual({ admitted: true, priority: 2 });
    expect(await ledger.admit('A', 'a3', 5)).toEqual({ admitted: true, priority: 3 });
    expect(await ledger.admit('B', 'b1', 5)).toEqual({ admitted: true, priority: 1 });

    // Cap 2: C has two waiting → refused; once one runs, a new one is let in (running still counts for priority).
    expect((await ledger.admit('C', 'c1', 2)).admitted).toBe(true);
    expect((await ledger.admit('C', 'c2', 2)).admitted).toBe(true);
    expect(await ledger.admit('C', 'c3', 2)).toEqual({ admitted: false });
    expect(await ledger.waitingCount('C')).toBe(2);
    await ledger.markRunning('C', 'c1');
    expect(await ledger.admit('C', 'c3', 2)).toEqual({ admitted: true, priority: 3 });
    await ledger.forget('C', 'c1');
    expect(await ledger.admit('C', 'c4', 3)).toEqual({ admitted: true, priority: 3 });
    // Marking a job that is no longer there does not bring it back.
    await ledger.markRunning('C', 'c1');
    expect(await client.hExists(RedisKeys.userJobs('C'), 'c1')).toBe(false);
  });

  it('an entry left behind by a process that died long ago stops counting', async () => {
    const ledger = new UserLedger(client);
    await client.hSet(RedisKeys.userJobs('D'), 'ghost', `waiting:${Date.now() - STALE_ENTRY_MS - 1000}`);
    await client.hSet(RedisKeys.userJobs('D'), 'garbage', 'not-a-state');
    expect(await ledger.admit('D', 'd1', 1)).toEqual({ admitted: true, priority: 1 });
    expect(await client.hKeys(RedisKeys.userJobs('D'))).toEqual(['d1']);
  });

  it('two gateways admitting at once cannot pass the cap together', async () => {
    const ledger = new UserLedger(client);
    const secondClient = await connectRedis({ url: redis.url, name: 'ledger-test-2', logger: pino({ level: 'silent' }) });
    const other = new UserLedger(secondClient);
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? ledger : other).admit('E', `e${i}`, 3)));
    await closeRedis(secondClient);
    expect(outcomes.filter((outcome) => outcome.admitted)).toHaveLength(3);
  });

  it('the delivery marker lets one worker deliver, tells reruns it was delivered, and lets a worker resume its own claim', async () => {
    const first = new DeliveryMarker(client, 'w1');
    const second = new DeliveryMarker(client, 'w2');
    expect(await first.claim('j1')).toBe('claimed');
    expect(await second.claim('j1')).toBe('claimed-elsewhere');
    expect(await first.claim('j1')).toBe('claimed');
    expect(await second.isDelivered('j1')).toBe(false);
    await first.markDelivered('j1', 'c/m');
    expect(await second.claim('j1')).toBe('delivered');
    expect(await first.claim('j1')).toBe('delivered');
    expect(await second.isDelivered('j1')).toBe(true);
  });
});
