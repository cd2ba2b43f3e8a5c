import { describe, expect, it } from 'vitest';
import { privateReplies, waitForResult } from '../bot/e2e/harness.ts';
import type { InteractionHandle } from '../discord/fake-discord.ts';
import { useCluster } from './cluster.ts';

const shown = (interaction: InteractionHandle, text: string) => interaction.edits.some((edit) => edit.ok && String(edit.body?.content ?? '').includes(text));

describe('distributed mode: fairness across the cluster', () => {
  const scene = useCluster({ maxQueuedPerUser: 2 });

  it('a burst from several users runs them interleaved across workers, shows positions, and the cap refuses clearly', async () => {
    const { cluster } = scene;
    const { world } = cluster;
    await cluster.startWorker('w1');
    await cluster.startWorker('w2');
    await cluster.startGateway();

    // Both workers busy, so that the burst below has to wait in the queue.
    const busy = [
      (await cluster.submit(world.moderator, { prompt: 'M1', steps: 20 })).interaction,
      (await cluster.submit(world.moderator, { prompt: 'M2', steps: 20 })).interaction,
    ];
    for (const interaction of busy) {
      await world.fake.waitFor(() => (interaction.original()?.content ?? '').includes('Generating') || undefined, { timeoutMs: 60_000 });
    }

    const a1 = await cluster.submit(world.alice, { prompt: 'A1', steps: 3 });
    const a2 = await cluster.submit(world.alice, { prompt: 'A2', steps: 3 });
    const a3 = await cluster.imagine(world.alice, { prompt: 'A3', steps: 3 });
    const b1 = await cluster.submit(world.bob, { prompt: 'B1', steps: 3 });
    const b2 = await cluster.submit(world.bob, { prompt: 'B2', steps: 3 });

    // Alice's third: two of hers already wait (across the cluster) → refused, privately, and never queued.
    await a3.waitForResponse();
    await world.fake.waitFor(() => privateReplies(a3).length > 0 || undefined);
    expect(privateReplies(a3).join()).toMatch(/You already have 2 jobs waiting/);

    // Positions follow the fair order A1, B1, A2, B2 (A2 moved from 2nd to 3rd when B1 arrived).
    await world.fake.waitFor(() => shown(a1.interaction, 'next in line') && shown(b1.interaction, 'position 2') && shown(a2.interaction, 'position 3') && shown(b2.interaction, 'position 4'), {
      timeoutMs: 30_000,
      message: 'positions A1 next, B1 2, A2 3, B2 4',
    });

    const burst = [a1, b1, a2, b2];
    const ids = burst.map(({ jobId }) => jobId);

    const queueView = await world.fake.sendCommand({ userId: world.bob, guildId: world.guild.id, channelId: world.channel.id, name: 'queue' });
    const fields = ((await queueView.waitForResponse()).data?.embeds as Array<{ fields: Array<{ name: string; value: string }> }>)[0]?.fields ?? [];
    expect(fields.find((field) => field.name === 'Workers online (2)')?.value).toMatch(/tiny-sd/);

    await Promise.all([...busy, ...burst.map(({ interaction }) => interaction)].map((interaction) => waitForResult(world, interaction, 240_000)));

    // First start of each job (a job may run twice if a loaded worker is late renewing its lock).
    const started = [...new Set(cluster.logged('job started').map((line) => line.jobId ?? ''))].filter((id) => ids.includes(id));
    // Two workers may take the first two (and the last two) at the same moment; pairs, not exact order.
    expect(new Set(started.slice(0, 2))).toEqual(new Set([ids[0], ids[1]]));
    expect(new Set(started.slice(2))).toEqual(new Set([ids[2], ids[3]]));
    expect(new Set(cluster.logged('job taken').map((line) => line.jobId)).size).toBe(6);
  }, 480_000);
});
