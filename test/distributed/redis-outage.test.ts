import { describe, expect, it } from 'vitest';
import { QUEUE_UNAVAILABLE } from '../../src/bot/interactions/interaction-replies.ts';
import { privateReplies, waitForResult } from '../bot/e2e/harness.ts';
import type { Cluster, Proc } from './cluster.ts';
import { useCluster } from './cluster.ts';

/** Waits until `proc` logs that its connection `name` is down (or back, with `back`). */
function redisState(cluster: Cluster, proc: Proc, name: string, back: boolean) {
  const msg = back ? 'Redis reachable again' : 'Redis unreachable; reconnecting';
  return cluster.world.fake.waitFor(() => proc.lines.find((line) => line.msg === msg && line.redis === name), {
    timeoutMs: 60_000,
    message: `${proc.name}: ${msg} (${name})`,
  });
}

describe('distributed mode: Redis goes away', () => {
  const scene = useCluster();

  it('a Redis restart mid-queue loses no job: running and waiting ones are all delivered, once', async () => {
    const { cluster } = scene;
    const { world } = cluster;
    await cluster.startWorker('w1');
    await cluster.startWorker('w2');
    await cluster.startGateway();

    const running = [
      await cluster.submit(world.alice, { prompt: 'running A', seed: 11, steps: 12 }),
      await cluster.submit(world.bob, { prompt: 'running B', seed: 12, steps: 12 }),
    ];
    const waiting = [
      await cluster.submit(world.alice, { prompt: 'waiting A', seed: 13, steps: 5 }),
      await cluster.submit(world.bob, { prompt: 'waiting B', seed: 14, steps: 5 }),
    ];
    for (const { interaction } of running) {
      await world.fake.waitFor(() => (interaction.original()?.content ?? '').includes('Generating') || undefined, { timeoutMs: 60_000 });
    }
    for (const { interaction } of waiting) {
      await world.fake.waitFor(() => (interaction.original()?.content ?? '').startsWith('⏳ Queued') || undefined, { timeoutMs: 30_000 });
    }

    await cluster.redis.kill();
    await cluster.redis.start();

    const all = [...running, ...waiting];
    const results = await Promise.all(all.map(({ interaction }) => waitForResult(world, interaction, 240_000)));
    expect(cluster.results().map((message) => message.id).sort()).toEqual(results.map((message) => message.id).sort());
    // A delivery cut off by the restart is finished by a rerun that edits the same message.
    expect(await cluster.deliveries(all.map(({ jobId }) => jobId))).toEqual([1, 1, 1, 1]);
    expect(cluster.results().map((message) => message.id).sort()).toEqual(results.map((message) => message.id).sort());
  }, 480_000);

  it('with Redis down, /imagine is refused clearly and nothing is queued; both processes reconnect by themselves', async () => {
    const { cluster } = scene;
    const { world } = cluster;
    const worker = await cluster.startWorker('w1');
    const gateway = await cluster.startGateway();

    await cluster.redis.kill();
    await redisState(cluster, gateway, 'imagine-gateway', false);
    const refused = await cluster.imagine(world.alice, { prompt: 'while down', steps: 2 });
    await refused.waitForResponse();
    await world.fake.waitFor(() => privateReplies(refused).length > 0 || undefined);
    expect(privateReplies(refused)).toEqual([QUEUE_UNAVAILABLE]);

    await cluster.redis.start();
    await redisState(cluster, gateway, 'imagine-gateway', true);
    await redisState(cluster, worker, 'imagine-worker-w1', true);
    const accepted = await cluster.imagine(world.alice, { prompt: 'after recovery', seed: 5, steps: 4 });
    await waitForResult(world, accepted, 120_000);

    expect(gateway.alive && worker.alive).toBe(true);
    // The refused job was never put anywhere: only the second one was ever taken by a worker.
    expect(cluster.logged('job taken')).toHaveLength(1);
    expect(cluster.results()).toHaveLength(1);
  }, 480_000);
});
