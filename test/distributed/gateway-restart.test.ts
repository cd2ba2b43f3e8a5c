import { describe, expect, it } from 'vitest';
import { waitForResult } from '../bot/e2e/harness.ts';
import { useCluster } from './cluster.ts';

describe('distributed mode: the gateway dies', () => {
  const scene = useCluster();

  it('kill -9 of the gateway with jobs running and queued: after a restart every job is delivered once', async () => {
    const { cluster } = scene;
    const { world } = cluster;
    await cluster.startWorker('w1');
    await cluster.startWorker('w2');
    const gateway = await cluster.startGateway();

    const running = [
      await cluster.submit(world.alice, { prompt: 'first', seed: 1, steps: 12 }),
      await cluster.submit(world.bob, { prompt: 'second', seed: 2, steps: 12 }),
    ];
    const queued = await cluster.submit(world.moderator, { prompt: 'third', seed: 3, steps: 5 });
    for (const { interaction } of running) {
      await world.fake.waitFor(() => (interaction.original()?.content ?? '').includes('Generating') || undefined, { timeoutMs: 60_000 });
    }
    await world.fake.waitFor(() => (queued.interaction.original()?.content ?? '').startsWith('⏳ Queued') || undefined, { timeoutMs: 30_000 });

    await gateway.kill('SIGKILL');
    await cluster.startGateway('gateway-2');

    const all = [...running, queued];
    const results = await Promise.all(all.map(({ interaction }) => waitForResult(world, interaction, 180_000)));
    expect(cluster.results().map((message) => message.id).sort()).toEqual(results.map((message) => message.id).sort());
    expect(await cluster.deliveries(all.map(({ jobId }) => jobId))).toEqual([1, 1, 1]);
  }, 480_000);
});
